"""Checks of the bash ramdisk's callbacks (``pass_deploy_info``,
``pass_bootloader_install_info``) to nodes deployed by the ``iscsi`` deploy interface.

Run by the vendor passthru endpoint **before** it casts: a node that is not in
``wait call-back``, a missing or wrong deploy key (compared with the salted hash the conductor
stored, never the key itself) or a malformed body is refused with 400 and the node is left
untouched. The conductor checks the key again under the node's lock.
"""
from __future__ import annotations

from typing import Any

from aiohttp import web
from oslo_utils import netutils

from ironic_lite.api.controllers import drivers
from ironic_lite.common import deploy_key, exception, states

METHODS = ('pass_deploy_info', 'pass_bootloader_install_info')
ISCSI = 'iscsi'
_PORT_FIELDS = ('port', 'notify_port')
_FIELDS = {
    'pass_deploy_info': {'address', 'key', 'iqn', 'error', 'port', 'lun', 'notify_port'},
    'pass_bootloader_install_info': {'address', 'key', 'status', 'error', 'notify_port'},
}


async def handles(request: web.Request, node, method: str) -> bool:
    """True when ``method`` is a bash ramdisk callback for the node's iscsi deploy."""
    if method not in METHODS:
        return False
    deploy = node.deploy_interface
    if not deploy:
        hw = await drivers.get_hardware_type(request, node.driver)
        deploy = hw['interfaces'].get('deploy', {}).get('default')
    return deploy == ISCSI


def _invalid(method: str, what: str) -> exception.InvalidParameterValue:
    return exception.InvalidParameterValue(err=f'{method}: {what}')


def _check_int(method: str, data: dict, field: str, low: int, high: int) -> None:
    value = data.get(field)
    if value is None:
        return
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise _invalid(method, f'"{field}" must be an integer from {low} to {high}, '
                               f'not {data.get(field)!r}')


def check(node, method: str, http_method: str, data: Any) -> None:
    """Raise a 400 error unless the callback may be cast to the conductor."""
    if http_method != 'POST':
        raise _invalid(method, 'only POST is supported')
    if not isinstance(data, dict):
        raise _invalid(method, 'the body must be a JSON object')
    unknown = set(data) - _FIELDS[method]
    if unknown:
        raise _invalid(method, f'unknown field(s) {", ".join(sorted(unknown))}')
    if node.provision_state != states.DEPLOYWAIT:
        raise exception.InvalidStateRequested(
            action=method, node=node.uuid, state=node.provision_state)
    stored = (node.driver_internal_info or {}).get(deploy_key.HASH_FIELD)
    if not deploy_key.verify(data.get('key'), stored):
        raise exception.InvalidDeployKey()
    error = data.get('error')
    if error is not None and not isinstance(error, str):
        raise _invalid(method, '"error" must be a string')
    for field in _PORT_FIELDS:
        _check_int(method, data, field, 1, 65535)
    _check_int(method, data, 'lun', 0, 16383)
    if method == 'pass_bootloader_install_info' and \
            data.get('status') not in ('SUCCEEDED', 'FAILED'):
        raise _invalid(method, '"status" must be "SUCCEEDED" or "FAILED"')
    if error:
        return  # the ramdisk failed: nothing else is needed to fail the deploy
    address = data.get('address')
    if not isinstance(address, str) or not netutils.is_valid_ip(address):
        raise _invalid(method, f'"address" must be the IP address of the ramdisk, '
                               f'not {address!r}')
    if method == 'pass_deploy_info':
        iqn = data.get('iqn')
        if not isinstance(iqn, str) or not iqn.startswith('iqn.') or \
                any(c.isspace() or c in ',/' for c in iqn):
            raise _invalid(method, f'"iqn" must be an iSCSI qualified name, not {iqn!r}')
