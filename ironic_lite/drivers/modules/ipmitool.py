"""IPMI power and management interfaces, named ``ipmitool`` as upstream, built on pyghmi.

No ipmitool binary is used: requests go through :mod:`ironic_lite.drivers.modules.ipmi_client`
(one pyghmi thread, one reused session per BMC, per-BMC pacing, bounded time-outs). Power
changes are sent without waiting and then polled until the BMC reports the target state.
"""
from __future__ import annotations

from typing import Any

import tenacity
from oslo_utils import strutils
from pyghmi.ipmi import command as pyghmi_command

from ironic_lite.common import boot_devices, exception, states
from ironic_lite.conf import CONF
from ironic_lite.drivers import base
from ironic_lite.drivers.modules.ipmi_client import IPMIInfo, call

REQUIRED_PROPERTIES = {
    'ipmi_address': 'IP address or hostname of the node (its BMC). Required.',
}
OPTIONAL_PROPERTIES = {
    'ipmi_port': 'UDP port of the BMC. Optional, default 623.',
    'ipmi_username': 'User name (at most 16 bytes). Optional, default: the null user.',
    'ipmi_password': 'Password (at most 20 bytes). Optional, default: empty.',
    'ipmi_priv_level': 'Privilege level: ADMINISTRATOR (default), OPERATOR, USER or CALLBACK.',
    'ipmi_cipher_suite': 'IPMI 2.0 cipher suite: 3 or 17. Optional, default: negotiated '
                         '(17, else 3) within [ipmi]cipher_suite_versions.',
    'ipmi_hex_kg_key': 'BMC key (Kg) as a hexadecimal string. Optional.',
    'ipmi_disable_boot_timeout': 'Whether to disable the BMC\'s 60 s boot override timeout '
                                 'before setting a boot device. Optional, default '
                                 '[ipmi]disable_boot_timeout.',
    'ipmi_protocol_version': 'IPMI protocol version; only 2.0 is supported. Optional.',
}
COMMON_PROPERTIES = {**REQUIRED_PROPERTIES, **OPTIONAL_PROPERTIES}

PRIV_LEVELS = {'CALLBACK': 1, 'USER': 2, 'OPERATOR': 3, 'ADMINISTRATOR': 4}
CIPHER_SUITES = (3, 17)  # what pyghmi implements
# Ironic boot device -> pyghmi's name for it (pyghmi_command.boot_devices gives the selector).
BOOT_DEVICE_TO_PYGHMI = {boot_devices.PXE: 'network', boot_devices.DISK: 'hd',
                         boot_devices.CDROM: 'optical', boot_devices.BIOS: 'setup',
                         boot_devices.SAFE: 'safe'}
PYGHMI_TO_BOOT_DEVICE = {v: k for k, v in BOOT_DEVICE_TO_PYGHMI.items()}
PYGHMI_TO_BOOT_DEVICE['floppy'] = boot_devices.FLOPPY

# IPMI requests as (netfn, command, data).
_GET_CHASSIS_STATUS = (0x00, 0x01, ())
_GET_BOOT_FLAGS = (0x00, 0x09, (0x05, 0x00, 0x00))
_DISABLE_BOOT_TIMEOUT = (0x00, 0x08, (0x03, 0x08))
_POWER_OFF, _POWER_ON, _NMI, _SOFT_OFF = 0, 1, 4, 5       # chassis control directives
_POLL_MIN = 0.1       # power state polls are at least this far apart


def parse_driver_info(node: Any) -> IPMIInfo:
    """Check a node's IPMI driver_info; raise Missing/InvalidParameterValue naming the key."""
    info = node.driver_info or {}
    address = info.get('ipmi_address')
    if not address or not isinstance(address, str) or not address.strip():
        raise exception.MissingParameterValue(
            err="Missing the following IPMI credentials in node's driver_info: ipmi_address.")

    def invalid(key: str, why: str) -> exception.InvalidParameterValue:
        return exception.InvalidParameterValue(
            err=f"Invalid {key} {info.get(key)!r} in node {node.uuid}'s driver_info: {why}.")

    try:
        port = int(info.get('ipmi_port', 623))
    except (TypeError, ValueError):
        raise invalid('ipmi_port', 'must be an integer between 1 and 65535') from None
    if not 0 < port < 65536:
        raise invalid('ipmi_port', 'must be an integer between 1 and 65535')
    username, password = info.get('ipmi_username') or '', info.get('ipmi_password') or ''
    if not isinstance(username, str) or len(username.encode()) > 16:
        raise invalid('ipmi_username', 'must be a string of at most 16 bytes')
    if not isinstance(password, str) or len(password.encode()) > 20:
        raise exception.InvalidParameterValue(
            err=f"Invalid ipmi_password in node {node.uuid}'s driver_info: must be a string of "
                "at most 20 bytes.")
    priv = info.get('ipmi_priv_level', 'ADMINISTRATOR')
    if priv not in PRIV_LEVELS:
        raise invalid('ipmi_priv_level', f'must be one of {", ".join(PRIV_LEVELS)}')
    if str(info.get('ipmi_protocol_version', '2.0')) != '2.0':
        raise invalid('ipmi_protocol_version', 'only IPMI 2.0 is supported')
    if info.get('ipmi_bridging', 'no') != 'no':
        raise invalid('ipmi_bridging', 'bridging is not supported')
    kg = info.get('ipmi_hex_kg_key')
    if kg:
        try:
            kg = bytes.fromhex(kg)
        except (TypeError, ValueError):
            raise invalid('ipmi_hex_kg_key', 'must be a hexadecimal string') from None
    suite = info.get('ipmi_cipher_suite')
    if suite is not None:
        try:
            suites = frozenset({int(suite)})
        except (TypeError, ValueError):
            suites = frozenset({None})
        if not suites <= set(CIPHER_SUITES):
            raise invalid('ipmi_cipher_suite', 'pyghmi supports cipher suites 3 and 17')
    else:
        suites = frozenset(CONF.ipmi.cipher_suite_versions or CIPHER_SUITES)
        if not suites <= set(CIPHER_SUITES):
            raise exception.InvalidParameterValue(
                err=f'[ipmi]cipher_suite_versions {sorted(suites)}: pyghmi supports 3 and 17.')
    disable = info.get('ipmi_disable_boot_timeout')
    try:
        disable = CONF.ipmi.disable_boot_timeout if disable is None else \
            strutils.bool_from_string(disable, strict=True)
    except ValueError:
        raise invalid('ipmi_disable_boot_timeout', 'must be a boolean') from None
    return IPMIInfo(address.strip(), port, username, password, PRIV_LEVELS[priv], kg or None,
                    suites, disable)


def _conductor_timeout(name: str) -> int:
    """``[conductor]power_state_change_timeout`` or ``soft_power_off_timeout``."""
    return int(getattr(CONF.conductor, name))


async def _get_power(info: IPMIInfo) -> str:
    data = (await call(info, [_GET_CHASSIS_STATUS], 'get power state'))[0]
    return states.POWER_ON if data and data[0] & 0x01 else states.POWER_OFF


async def _power(info: IPMIInfo, directive: int, what: str) -> None:
    await call(info, [(0x00, 0x02, (directive,))], what)


async def _wait_for(info: IPMIInfo, node: Any, target: str, timeout: float) -> None:
    """Poll until the BMC reports ``target``: at min_command_interval, at least _POLL_MIN."""
    retrying = tenacity.AsyncRetrying(
        retry=tenacity.retry_if_result(lambda state: state != target),
        stop=tenacity.stop_after_delay(timeout),
        wait=tenacity.wait_fixed(max(0.0, _POLL_MIN - CONF.ipmi.min_command_interval)))
    try:
        await retrying(_get_power, info)
    except tenacity.RetryError as e:
        raise exception.PowerStateFailure(
            f'Node {node.uuid} did not reach "{target}" within {timeout} s; the BMC '
            f'at {info.bmc} still reports "{e.last_attempt.result()}".') from None


class IPMIPower(base.PowerInterface):
    """Power through IPMI chassis control; every change waits until the BMC reports it."""

    def get_properties(self) -> dict[str, str]:
        return dict(COMMON_PROPERTIES)

    async def validate(self, task: Any) -> None:
        parse_driver_info(task.node)

    async def get_power_state(self, task: Any) -> str:
        return await _get_power(parse_driver_info(task.node))

    def get_supported_power_states(self, task: Any) -> list[str]:
        return [states.POWER_ON, states.POWER_OFF, states.REBOOT, states.SOFT_REBOOT,
                states.SOFT_POWER_OFF]

    async def set_power_state(self, task: Any, power_state: str,
                              timeout: int | None = None) -> None:
        info = parse_driver_info(task.node)
        hard = timeout or _conductor_timeout('power_state_change_timeout')
        soft = timeout or _conductor_timeout('soft_power_off_timeout')
        if power_state == states.POWER_ON:
            await _power(info, _POWER_ON, 'power on')
            await _wait_for(info, task.node, states.POWER_ON, hard)
        elif power_state == states.POWER_OFF:
            await _power(info, _POWER_OFF, 'power off')
            await _wait_for(info, task.node, states.POWER_OFF, hard)
        elif power_state == states.SOFT_POWER_OFF:
            await _power(info, _SOFT_OFF, 'soft power off')
            await _wait_for(info, task.node, states.POWER_OFF, soft)
        elif power_state == states.REBOOT:
            await self.reboot(task, timeout)
        elif power_state == states.SOFT_REBOOT:
            if await _get_power(info) == states.POWER_ON:
                await _power(info, _SOFT_OFF, 'soft power off')
                await _wait_for(info, task.node, states.POWER_OFF, soft)
            await _power(info, _POWER_ON, 'power on')
            await _wait_for(info, task.node, states.POWER_ON, hard)
        else:
            raise exception.InvalidParameterValue(
                err=f'set_power_state called with an invalid power state: {power_state}.')

    async def reboot(self, task: Any, timeout: int | None = None) -> None:
        """Off (if on), then on: unlike a reset, this always goes through the firmware's
        boot device selection, and ends on whatever the state was."""
        info = parse_driver_info(task.node)
        hard = timeout or _conductor_timeout('power_state_change_timeout')
        if await _get_power(info) == states.POWER_ON:
            await _power(info, _POWER_OFF, 'power off')
            await _wait_for(info, task.node, states.POWER_OFF, hard)
        await _power(info, _POWER_ON, 'power on')
        await _wait_for(info, task.node, states.POWER_ON, hard)


class IPMIManagement(base.ManagementInterface):
    """Boot device (IPMI system boot options, parameter 5) and NMI."""

    def get_properties(self) -> dict[str, str]:
        return dict(COMMON_PROPERTIES)

    async def validate(self, task: Any) -> None:
        parse_driver_info(task.node)

    def get_supported_boot_devices(self, task: Any) -> list[str]:
        return list(BOOT_DEVICE_TO_PYGHMI)

    async def set_boot_device(self, task: Any, device: str, persistent: bool = False) -> None:
        if device not in BOOT_DEVICE_TO_PYGHMI:
            raise exception.InvalidParameterValue(
                err=f'Invalid boot device {device} specified; supported: '
                    f'{", ".join(BOOT_DEVICE_TO_PYGHMI)}.')
        info = parse_driver_info(task.node)
        selector = pyghmi_command.boot_devices[BOOT_DEVICE_TO_PYGHMI[device]]
        flags = 0x80 | (0x40 if persistent else 0)       # valid, persistent
        steps = [_DISABLE_BOOT_TIMEOUT] if info.disable_boot_timeout else []
        steps.append((0x00, 0x08, (0x05, flags, selector, 0, 0, 0)))
        await call(info, steps, f'set boot device {device}')

    async def get_boot_device(self, task: Any) -> dict[str, Any]:
        info = parse_driver_info(task.node)
        data = (await call(info, [_GET_BOOT_FLAGS], 'get boot device'))[0]
        # data: parameter version, parameter 5 (bit 7: invalid), flags (bit 7: valid), device
        if len(data) < 4 or data[1] & 0x80 or not data[2] & 0x80:
            return {'boot_device': None, 'persistent': None}
        device = PYGHMI_TO_BOOT_DEVICE.get(pyghmi_command.boot_devices.get((data[3] >> 2) & 0xF))
        return {'boot_device': device, 'persistent': bool(data[2] & 0x40) if device else None}

    async def inject_nmi(self, task: Any) -> None:
        await _power(parse_driver_info(task.node), _NMI, 'inject NMI')
