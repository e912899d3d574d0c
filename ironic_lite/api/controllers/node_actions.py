"""Node sub-resources that act: states (provision, power), maintenance, validate, boot device,
vendor passthru.

State changes are accepted with a compare-and-set on the node
(``common/intent_acceptance.py``) and then cast to the node's conductor: 202 means the request
is durably recorded.
"""
from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import tenacity
from aiohttp import web
from oslo_utils import strutils

from ironic_lite.api import deploy_callback, keys, utils, views
from ironic_lite.api import microversion as mv
from ironic_lite.api.controllers import drivers
from ironic_lite.api.route import NODE, BodyFields, Route
from ironic_lite.api.schemas import nodes as schemas
from ironic_lite.api.schemas import validate as validate_schema
from ironic_lite.common import exception, intent_acceptance, lock_wait, states

LOG = logging.getLogger(__name__)

_POWER_TARGETS = {states.POWER_ON: (1, 1), states.POWER_OFF: (1, 1), states.REBOOT: (1, 1),
                  states.SOFT_POWER_OFF: mv.SOFT_POWER, states.SOFT_REBOOT: mv.SOFT_POWER}
# Provision actions allowed while a node is in maintenance (upstream allows these).
_MAINTENANCE_OK = {'delete', 'abort', 'manage'}


async def get_states(request: web.Request) -> web.Response:
    node = await utils.get_node(request)
    body = {
        'console_enabled': node.console_enabled, 'last_error': node.last_error,
        'power_state': node.power_state,
        'provision_state': views.provision_state_for_version(utils.version(request),
                                                             node.provision_state),
        'provision_updated_at': node.provision_updated_at and
        node.provision_updated_at.isoformat() + '+00:00',
        'target_power_state': node.target_power_state,
        'target_provision_state': node.target_provision_state,
    }
    if utils.version(request) >= mv.NODE_FIELD_VERSIONS['raid_config']:
        body['raid_config'] = node.raid_config
        body['target_raid_config'] = node.target_raid_config
    return web.json_response(body)


async def _accept(request: web.Request, node, intent: str, args: dict[str, Any],
                  check: Callable[[Any], None] | None = None, **expected: Any):
    """Record the intent with a compare-and-set; translate a lost race into 409.

    The compare-and-set makes the request's first state transition
    (``common/intent_acceptance.py``), so the answer and every later read show the operation
    under way. A node locked by a
    finishing worker, or changed between the read and the write, is re-read and tried again
    within the conductor's bounded lock-retry policy; ``check`` re-validates the request
    against each fresh read, so a node that moved on gets upstream's answer for its new
    state. ``expected`` adds columns the compare-and-set must still find.
    """
    db = request.app[keys.DB]

    async def accept():
        nonlocal node
        node = await utils.settled_node(request, node)
        if check is not None:
            check(node)
        values, cas = intent_acceptance.acceptance(node, intent, args)
        cas.update(expected)
        try:
            return await db.update_node(node.id, values, cas)
        except exception.NodeStateChanged:
            node = await db.get_node(node.id)
            raise

    # A lost compare-and-set is tried again at once (settled_node does the waiting), as many
    # times as the lock-retry policy allows.
    try:
        return await lock_wait.retrying(
            request.app[keys.CONF], tenacity.retry_if_exception_type(exception.NodeStateChanged),
            wait=tenacity.wait_none())(accept)
    except exception.NodeStateChanged:
        if node.reservation:
            raise exception.NodeLocked(node=node.uuid, host=node.reservation) from None
        if check is not None:
            check(node)
        raise


async def _settled(request: web.Request, node, check: Callable[[Any], None]):
    """Check a request against the node. One that a running or accepted request makes
    invalid (``provide`` right after ``inspect``) waits for that request within the bounded
    lock-retry policy and is checked against the state it leaves; while the node is still
    busy the answer is 409, as upstream's API answers for a locked node."""
    try:
        check(node)
        return node
    except exception.InvalidStateRequested:
        if not (node.reservation or node.intent):
            raise
    node = await utils.settled_node(request, node)
    check(node)
    return node


def _accepted(request: web.Request, node) -> web.Response:
    location = f'{utils.base_url(request)}/v1/nodes/{node.uuid}/states'
    return web.Response(status=202, headers={'Location': location})


async def set_provision_state(request: web.Request) -> web.Response:
    # (no docstring: the OpenAPI summary comes from it.) The body's shape, its ``target``
    # verb and its fields' versions are checked by the route's declaration (PROVISION
    # below); here: what depends on the verb and on the node.
    body = await utils.json_body(request)
    target = body['target']
    event = states.VERBS[target]
    ver = utils.version(request)
    args = _provision_args(body, target, event, ver)
    check = functools.partial(_check_provision, target, event, ver)
    node = await _settled(request, await utils.get_node(request), check)
    await utils.check_provision_request(request, node, event)
    rpcapi = request.app[keys.RPCAPI]
    await rpcapi.host_for(node)  # 503 before accepting when no conductor can take it
    node = await _accept(request, node, event, args, check, **_still(event))
    await _cast_recorded(node, event, rpcapi.run_intent(node))
    return _accepted(request, node)


def _provision_args(body: dict[str, Any], target: str, event: str,
                    ver: mv.Version) -> dict[str, Any]:
    """The arguments of ``event``: fields that only one verb takes, and must take."""
    args: dict[str, Any] = {}
    configdrive = body.get('configdrive')
    if configdrive is not None:
        # by target name, as upstream: not with 1.73's alias "deploy"
        if target not in (states.ACTIVE, states.REBUILD) or (
                target == states.REBUILD and ver < mv.REBUILD_CONFIGDRIVE):
            raise exception.InvalidParameterValue(
                err=f'Adding a config drive is only supported when setting provision state '
                    f'to active or rebuild, not "{target}".')
        args['configdrive'] = _check_configdrive(ver, configdrive)
    disable_ramdisk = body.get('disable_ramdisk')
    if disable_ramdisk is not None:  # 1.70 (its version is the route's)
        if event != 'clean':
            raise exception.InvalidParameterValue(
                err='disable_ramdisk is supported only with manual cleaning')
        args['disable_ramdisk'] = disable_ramdisk
    deploy_steps = body.get('deploy_steps')
    if deploy_steps:  # 1.69 (its version is the route's); empty means none, as upstream
        if target not in _DEPLOY_STEPS_TARGETS:
            raise exception.InvalidParameterValue(
                err='"deploy_steps" is only valid when setting target provision state to '
                    'active or rebuild')
        args['deploy_steps'] = _check_deploy_steps(deploy_steps)
    if event == 'clean':
        steps = body.get('clean_steps')
        if not isinstance(steps, list) or not all(
                isinstance(s, dict) and 'interface' in s and 'step' in s for s in steps):
            raise exception.InvalidParameterValue(
                err='"clean_steps" is required when setting target provision state to clean: '
                    'a list of {"interface": ..., "step": ...} objects.')
        args['clean_steps'] = steps
    elif body.get('clean_steps') is not None:
        raise exception.InvalidParameterValue(
            err='"clean_steps" is only valid when setting target provision state to clean.')
    if event == 'rescue':
        password = body.get('rescue_password')
        if not isinstance(password, str) or not password.strip():
            raise exception.MissingParameterValue(
                err='A non-empty "rescue_password" is required when setting target provision '
                    'state to rescue.')
        args['rescue_password'] = password
    elif body.get('rescue_password') is not None:
        raise exception.InvalidParameterValue(
            err='"rescue_password" is only valid when setting target provision state to '
                'rescue.')
    return args


# Upstream accepts deploy_steps with these targets only (not with 1.73's alias "deploy").
_DEPLOY_STEPS_TARGETS = (states.ACTIVE, states.REBUILD)


def _check_deploy_steps(deploy_steps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Upstream's deploy step schema (interface, step, args and priority, nothing else),
    checked only once the version allows the field (406 first, as upstream); a priority
    given as a string of digits becomes its number."""
    try:
        validate_schema(schemas.DEPLOY_STEPS, deploy_steps)
    except exception.InvalidParameterValue as e:
        raise exception.InvalidParameterValue(err=f'Invalid deploy_steps: {e}') from None
    return [{**step, 'priority': int(step['priority'])} for step in deploy_steps]


def _check_provision(target: str, event: str, ver: mv.Version, node) -> None:
    """May ``node``, as read now, take ``event``? (Re-checked on every fresh read.)"""
    if node.maintenance and event not in _MAINTENANCE_OK:
        raise exception.NodeInMaintenance(op=f'provisioning action "{target}"',
                                          node=node.uuid)
    if not states.is_valid_event(node.provision_state, event) or (
            event == 'abort' and node.provision_state == states.INSPECTWAIT
            and ver < mv.INSPECT_ABORT):
        raise exception.InvalidStateRequested(action=target, node=node.uuid,
                                              state=node.provision_state)
    if node.protected and event in ('rebuild', 'delete'):
        raise exception.NodeProtected(node=node.uuid)
    if node.retired and event == 'provide':
        raise exception.NodeIsRetired(op='providing', node=node.uuid)


def _still(event: str) -> dict[str, Any]:
    """Columns the compare-and-set must still find: maintenance, protected and retired must
    not change between the check and the write."""
    extra: dict[str, Any] = {} if event in _MAINTENANCE_OK else {'maintenance': False}
    if event in ('rebuild', 'delete'):
        extra['protected'] = False
    if event == 'provide':
        extra['retired'] = False
    return extra


async def _cast_recorded(node, what: str, cast: Awaitable[None]) -> None:
    """Send the cast of a request already recorded on the node (its intent).

    Once the intent is in the database the request is accepted: a cast that fails (broker
    unreachable, no conductor alive any more) is logged and answered 202 anyway, because a
    conductor re-drives recorded intents (``conductor/periodics.py`` ``redrive_intents``, and
    at start-up) — answering 503 would make the client retry a request that will run.
    """
    try:
        await cast
    except (exception.ConductorUnavailable, exception.ConductorTimeout, exception.NoValidHost,
            exception.TemporaryFailure) as e:
        LOG.warning('Could not send %s for node %s to a conductor (%s: %s); the request is '
                    'recorded and will be started by a conductor\'s intent re-drive.',
                    what, node.uuid, e.__class__.__name__, e)


# Keys of a configdrive given as JSON (1.56), and the version each appeared in.
_CONFIGDRIVE_KEYS = {'meta_data': (1, 56), 'network_data': (1, 56), 'user_data': (1, 56),
                     'vendor_data': (1, 59)}


def _check_configdrive(ver: mv.Version, configdrive: Any) -> str | dict:
    """A string (base64 gzipped ISO or URL) always; a JSON object from 1.56, with
    ``meta_data``/``network_data``/``user_data`` and (1.59) ``vendor_data``, as upstream."""
    if isinstance(configdrive, str):
        return configdrive
    if not isinstance(configdrive, dict) or ver < mv.CONFIGDRIVE_JSON:
        raise exception.InvalidParameterValue(
            err='configdrive must be a base64-encoded gzipped ISO9660 image or a URL '
                f'at API version {mv.fmt(ver)}' + ('' if ver < mv.CONFIGDRIVE_JSON else
                                                   ', or a JSON object') + '.')
    for key in configdrive:
        since = _CONFIGDRIVE_KEYS.get(key)
        if since is None:
            raise exception.InvalidParameterValue(
                err=f'Unknown configdrive key {key!r}: expected one of '
                    f'{", ".join(sorted(_CONFIGDRIVE_KEYS))}.')
        if ver < since:
            raise exception.NotAcceptable(
                f'configdrive {key} requires API version {mv.fmt(since)}.')
    for key in ('meta_data', 'network_data', 'vendor_data'):
        if configdrive.get(key) is not None and not isinstance(configdrive[key], dict):
            raise exception.InvalidParameterValue(err=f'configdrive {key} must be a JSON '
                                                      'object.')
    user_data = configdrive.get('user_data')
    if user_data is not None and not isinstance(user_data, (str, dict, list)):
        raise exception.InvalidParameterValue(
            err='configdrive user_data must be a string, a JSON object or a list.')
    return configdrive


async def set_power_state(request: web.Request) -> web.Response:
    body = await utils.json_body(request)
    target = body.get('target')
    ver = utils.version(request)
    if not isinstance(target, str) or target not in _POWER_TARGETS or \
            ver < _POWER_TARGETS[target]:
        raise exception.InvalidParameterValue(
            err=f'"{target}" is not a valid power state target at API version {mv.fmt(ver)}.')
    timeout = body.get('timeout')
    if timeout is not None:
        if ver < mv.SOFT_POWER:
            raise exception.NotAcceptable('timeout requires API version 1.27.')
        if not isinstance(timeout, int) or isinstance(timeout, bool) or timeout < 1:
            raise exception.InvalidParameterValue(err='timeout must be a positive integer.')
    unknown = set(body) - {'target', 'timeout'}
    if unknown:
        raise exception.InvalidParameterValue(
            err=f'Unknown field(s) in power request: {", ".join(sorted(unknown))}')
    node = await utils.get_node(request)

    def check(node) -> None:
        if node.provision_state in states.WORKING_STATES_FAIL_EVENT:
            raise exception.InvalidStateRequested(action=f'power {target}', node=node.uuid,
                                                  state=node.provision_state)

    node = await _settled(request, node, check)
    rpcapi = request.app[keys.RPCAPI]
    await rpcapi.host_for(node)
    node = await _accept(request, node, intent_acceptance.POWER,
                         {'power_state': target, 'timeout': timeout}, check)
    await _cast_recorded(node, f'power {target}', rpcapi.run_intent(node))
    return _accepted(request, node)


async def _set_maintenance(request: web.Request, mode: bool) -> web.Response:
    node = await utils.get_node(request)
    reason = None
    if mode and request.body_exists:  # (the schema middleware read it: shape and types)
        body = await utils.json_body(request)
        # after the node look-up, as upstream: an unknown node is 404 whatever the body
        unknown = set(body) - {'reason'}
        if unknown:
            raise exception.InvalidParameterValue(
                err=f'Unknown field(s) in maintenance request: {", ".join(sorted(unknown))}')
        reason = body.get('reason')
    values = {'maintenance': mode, 'maintenance_reason': reason}
    if not mode:
        values['fault'] = None
    try:
        await request.app[keys.DB].update_node(node.id, values, {'reservation': None})
    except exception.NodeStateChanged:
        fresh = await request.app[keys.DB].get_node(node.id)
        raise exception.NodeLocked(node=fresh.uuid, host=fresh.reservation) from None
    return web.Response(status=202)


async def set_maintenance(request: web.Request) -> web.Response:
    return await _set_maintenance(request, True)


async def unset_maintenance(request: web.Request) -> web.Response:
    return await _set_maintenance(request, False)


# Interfaces shown by validate only from the version that introduced them.
_VALIDATE_GATES = {'storage': (1, 33), 'rescue': (1, 38), 'bios': (1, 40),
                   'firmware': (1, 86)}
_ALL_INTERFACES = ('bios', 'boot', 'console', 'deploy', 'firmware', 'inspect', 'management',
                   'network', 'power', 'raid', 'rescue', 'storage', 'vendor')


async def validate(request: web.Request) -> web.Response:
    node = await utils.get_node(request)
    results = await request.app[keys.RPCAPI].validate_driver_interfaces(node)
    ver = utils.version(request)
    body = {}
    for iface in _ALL_INTERFACES:
        gated = _VALIDATE_GATES.get(iface)
        if gated and ver < gated:
            continue
        body[iface] = results.get(iface, {'result': None, 'reason': 'not supported'})
    return web.json_response(body)


async def get_boot_device(request: web.Request) -> web.Response:
    node = await utils.get_node(request)
    return web.json_response(await request.app[keys.RPCAPI].get_boot_device(node))


async def set_boot_device(request: web.Request) -> web.Response:
    body = await utils.json_body(request)   # checked by the route's declaration
    device = body['boot_device']
    persistent = utils.get_bool(request, 'persistent')  # the query wins, as upstream
    if persistent is None:
        persistent = body.get('persistent', False)
        if isinstance(persistent, str):
            try:
                persistent = strutils.bool_from_string(persistent, strict=True)
            except ValueError:
                persistent = None
        if not isinstance(persistent, bool):
            raise exception.InvalidParameterValue(
                err=f'Invalid value for persistent: {body.get("persistent")!r}; '
                    'expected a boolean.')
    node = await utils.get_node(request)
    await request.app[keys.RPCAPI].set_boot_device(node, device, persistent)
    return web.Response(status=204)


async def get_supported_boot_devices(request: web.Request) -> web.Response:
    node = await utils.get_node(request)
    devices = await request.app[keys.RPCAPI].get_supported_boot_devices(node)
    return web.json_response({'supported_boot_devices': devices})


async def _vendor_methods(request: web.Request, node) -> dict:
    hw = await drivers.get_hardware_type(request, node.driver)
    vendor = hw['interfaces'].get('vendor', {})
    return vendor.get('methods', {}).get(node.vendor_interface or vendor.get('default'), {})


async def vendor_passthru(request: web.Request) -> web.Response:
    method = request.match_info.get('method') or request.query.get('method')
    if not method:
        raise exception.MissingParameterValue(err="Method not specified when calling vendor "
                                                  "extension.")
    data = await utils.json_body(request) if request.can_read_body else {}
    node = await utils.get_node(request)
    ramdisk_callback = await deploy_callback.handles(request, node, method)
    methods = {} if ramdisk_callback else await _vendor_methods(request, node)
    if not ramdisk_callback and (
            method not in methods or request.method not in methods[method]['http_methods']):
        raise exception.InvalidParameterValue(
            err=f'Unsupported method ({method}) passed through to vendor extension '
                f'({node.vendor_interface}) of node {node.uuid}.')
    # Upstream answers 409 to a locked node (its passthru is a call); a cast to a node that
    # stays locked would be dropped by the conductor after its retries, and a ramdisk's
    # pass_deploy_info lost that way would leave the deploy to time out.
    node = await utils.wait_unlocked(request, node, pending_intent=False)
    if node.reservation:
        raise exception.NodeLocked(node=node.uuid, host=node.reservation)
    if ramdisk_callback:  # iscsi deploy: state, deploy key and body checked before the cast
        deploy_callback.check(node, method, request.method, data)
    await request.app[keys.RPCAPI].vendor_passthru(node, method, request.method, data)
    return web.json_response(None, status=202)


async def vendor_passthru_methods(request: web.Request) -> web.Response:
    node = await utils.get_node(request)
    return web.json_response(await _vendor_methods(request, node))


# Versions inside a provision request: optional fields, and the verbs of "target".
PROVISION = BodyFields(
    noun='provision', verbs=mv.PROVISION_VERB_VERSIONS,
    fields={'clean_steps': (1, 15), 'rescue_password': (1, 38), 'deploy_steps': (1, 69),
            'disable_ramdisk': (1, 70), 'service_steps': (1, 87),
            'runbook': None})   # 1.92: in the schema, not served yet
ROUTES = [
    Route('GET', NODE + '/states', get_states, 'baremetal:node:get_states'),
    Route('PUT', NODE + '/states/provision', set_provision_state,
          'baremetal:node:set_provision_state', body=schemas.PROVISION, body_fields=PROVISION),
    Route('PUT', NODE + '/states/power', set_power_state, 'baremetal:node:set_power_state',
          body=schemas.POWER),
    Route('PUT', NODE + '/maintenance', set_maintenance, 'baremetal:node:set_maintenance',
          body=schemas.MAINTENANCE, body_optional=True),
    Route('DELETE', NODE + '/maintenance', unset_maintenance, 'baremetal:node:clear_maintenance'),
    Route('GET', NODE + '/validate', validate, 'baremetal:node:validate'),
    Route('GET', NODE + '/management/boot_device', get_boot_device,
          'baremetal:node:get_boot_device'),
    Route('PUT', NODE + '/management/boot_device', set_boot_device,
          'baremetal:node:set_boot_device', body=schemas.BOOT_DEVICE,
          body_fields=BodyFields(noun='boot device')),
    Route('GET', NODE + '/management/boot_device/supported', get_supported_boot_devices,
          'baremetal:node:get_boot_device'),
    Route('GET', NODE + '/vendor_passthru/methods', vendor_passthru_methods,
          'baremetal:node:vendor_passthru'),
    Route('POST', NODE + '/vendor_passthru', vendor_passthru, 'baremetal:node:vendor_passthru'),
    Route('POST', NODE + '/vendor_passthru/{method}', vendor_passthru,
          'baremetal:node:vendor_passthru'),
]
