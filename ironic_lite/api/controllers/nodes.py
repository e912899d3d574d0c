"""``/v1/nodes``: create, list, show, update (JSON patch) and delete nodes."""
from __future__ import annotations

import copy
import re
from typing import Any

import tenacity
from aiohttp import web

from ironic_lite.api import keys, policy, utils, views
from ironic_lite.api import microversion as mv
from ironic_lite.api.controllers import drivers
from ironic_lite.api.controllers import node_rules as rules
from ironic_lite.api.route import Route
from ironic_lite.api.schemas import nodes as node_schemas
from ironic_lite.api.schemas import query
from ironic_lite.common import exception, faults, lock_wait, states
from ironic_lite.conf.default import INTERFACE_TYPES
from ironic_lite.db import models

_DICT_FIELDS = ('driver_info', 'properties', 'extra', 'instance_info', 'network_data')
_STR_FIELDS = ('resource_class', 'conductor_group', 'owner', 'lessee', 'description',
               'maintenance_reason', 'protected_reason', 'retired_reason')
_BOOL_FIELDS = ('maintenance', 'automated_clean', 'protected', 'retired')
# What a top-level field becomes when a patch removes it.
_DEFAULTS: dict[str, Any] = {**{f: {} for f in _DICT_FIELDS}, 'maintenance': False,
                             'protected': False, 'retired': False}
_OTHER_IFACES = {f'{k}_interface': v for k, v in drivers._UNMODELLED_DEFAULTS.items()}
_WRITABLE = {'name', 'uuid', 'driver', 'instance_uuid', 'chassis_uuid', *_DICT_FIELDS,
             *_STR_FIELDS, *_BOOL_FIELDS, *models.NODE_INTERFACE_FIELDS}
_CREATABLE = _WRITABLE - {'maintenance_reason', 'protected', 'protected_reason', 'retired',
                          'retired_reason', 'maintenance'}
_DELETE_ALLOWED = {states.ENROLL, states.MANAGEABLE, states.AVAILABLE, states.ADOPTFAIL,
                   states.INSPECTFAIL, states.CLEANFAIL}
_FILTERS = ('associated', 'maintenance', 'instance_uuid', 'provision_state', 'driver',
            'resource_class', 'fault', 'conductor_group', 'owner', 'lessee', 'project',
            'description_contains', 'retired', 'chassis_uuid', 'conductor')
_BOOL_FILTERS = ('associated', 'maintenance', 'retired')
# Path segments of /v1/nodes/<segment> that are not node identifiers, as upstream.
_RESERVED_NAMES = ('detail', 'validate')
# Column sizes (a longer value is a 400, never a database error) and upstream's limits.
_MAX_LENGTHS = {'driver': 255, 'resource_class': 80, 'conductor_group': 255, 'owner': 255,
                'lessee': 255, 'description': 4096, 'maintenance_reason': 4096,
                'protected_reason': 4096, 'retired_reason': 4096}
_GROUP_RE = re.compile(r'[a-zA-Z0-9_\-\.]*')


def _check_field_versions(request: web.Request, fields) -> None:
    ver = utils.version(request)
    for field in fields:
        if not mv.allowed(ver, field, mv.NODE_FIELD_VERSIONS):
            raise exception.NotAcceptable(
                f'Field {field} is not available in API version {mv.fmt(ver)}.')


async def _check_driver_and_interfaces(request: web.Request, values: dict) -> None:
    """Validate the driver and fill/validate the node's interfaces, as a conductor would."""
    try:
        hw = await drivers.get_hardware_type(request, values['driver'])
    except exception.DriverNotFound:
        raise exception.InvalidParameterValue(
            err=f'No valid host was found. Reason: No conductor service registered which '
                f'supports driver {values["driver"]} for conductor group '
                f'"{values.get("conductor_group") or ""}".') from None
    for itype in INTERFACE_TYPES:
        field = f'{itype}_interface'
        info = drivers.interface_info(hw, itype)
        if values.get(field) is None:
            values[field] = info['default']
        elif values[field] not in info['enabled']:
            raise exception.InterfaceNotFoundInEntrypoint(
                iface=values[field], entrypoint=f'ironic_lite.hardware.interfaces.{itype}',
                valid=info['enabled'])
    for field, default in _OTHER_IFACES.items():
        if values.get(field) is None:
            values[field] = default
        elif values[field] not in (default, 'fake'):
            raise exception.InvalidParameterValue(
                err=f'{field} {values[field]!r} is not supported; use {default!r}.')


def _check_values(values: dict) -> None:
    utils.check_name(values.get('name'))
    if values.get('name') in _RESERVED_NAMES:
        raise exception.InvalidParameterValue(
            err=f'The word "{values["name"]}" is reserved and can not be used as a node name. '
                f'Reserved words are: {", ".join(_RESERVED_NAMES)}.')
    for field in ('uuid', 'instance_uuid'):
        if values.get(field) is not None:
            utils.check_uuid(values[field])
    if not isinstance(values.get('driver'), str) or not values['driver']:
        raise exception.InvalidParameterValue(err='"driver" must be a non-empty string.')
    for field in _DICT_FIELDS:
        if field in values and not isinstance(values[field], dict):
            raise exception.InvalidParameterValue(err=f'{field} must be a JSON object.')
    for field in _STR_FIELDS:
        if values.get(field) is not None and not isinstance(values[field], str):
            raise exception.InvalidParameterValue(err=f'{field} must be a string.')
    for field, limit in _MAX_LENGTHS.items():
        if isinstance(values.get(field), str) and len(values[field]) > limit:
            raise exception.InvalidParameterValue(
                err=f'{field} is too long: at most {limit} characters.')
    network_data = values.get('network_data') or {}
    for key in ('links', 'networks', 'services'):
        items = network_data.get(key, [])
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            raise exception.InvalidParameterValue(
                err=f'network_data {key} must be a list of objects (OpenStack network_data '
                    'format).')
    group = values.get('conductor_group')
    if isinstance(group, str) and not _GROUP_RE.fullmatch(group):
        raise exception.InvalidParameterValue(
            err=f'Invalid conductor_group {group!r}: use letters, digits, "_", "-" and ".".')
    for field in _BOOL_FIELDS:
        if values.get(field) is not None and not isinstance(values[field], bool):
            raise exception.InvalidParameterValue(err=f'{field} must be a boolean.')


async def create_node(request: web.Request) -> web.Response:
    body = await utils.json_body(request)
    unknown = sorted(set(body) - _CREATABLE)
    if unknown:
        raise exception.InvalidParameterValue(
            err=f'Unknown attribute(s) for node: {", ".join(unknown)}')
    _check_field_versions(request, body)
    if 'driver' not in body:
        raise exception.MissingParameterValue(err='"driver" is required to create a node.')
    _check_values(body)
    owner = policy.create_owner(request)  # create:self_owned_node: owned by the caller
    if owner is not None:
        if body.get('owner') not in (None, owner):
            raise exception.NotAuthorized(
                f'A node created by project {owner} must be owned by that project.')
        body['owner'] = owner
    values = {k: v for k, v in body.items() if v is not None and k != 'chassis_uuid'}
    chassis_id = await _chassis_id(request, body.get('chassis_uuid'))
    if chassis_id is not None:
        values['chassis_id'] = chassis_id
    await _check_driver_and_interfaces(request, values)
    values['provision_state'] = (states.ENROLL if utils.version(request) >= mv.ENROLL_DEFAULT
                                 else states.AVAILABLE)
    values.setdefault('conductor_group', '')
    values['conductor_group'] = values['conductor_group'].lower()
    node = await request.app[keys.DB].create_node(values)
    # a new node has no allocation or traits yet and its chassis is the one just checked
    known = {'chassis_uuid': body.get('chassis_uuid') if chassis_id is not None else None,
             'allocation_uuid': None, 'traits': []}
    data = await render(request, node, known=known)
    return web.json_response(data, status=201, headers={'Location': data_link(request, node)})


def data_link(request: web.Request, node: models.Node) -> str:
    return f'{utils.base_url(request)}/v1/nodes/{node.uuid}'


async def related(request: web.Request, nodes: list[models.Node],
                  wanted: frozenset[str]) -> dict[int, dict[str, Any]]:
    """The computed fields of a page of nodes (chassis and allocation UUIDs, traits,
    conductor): one query per field for the whole page, the conductor from the in-memory hash
    ring."""
    out: dict[int, dict[str, Any]] = {n.id: {} for n in nodes}
    if not nodes:
        return out
    db = request.app[keys.DB]
    if 'chassis_uuid' in wanted:
        chassis = await db.chassis_uuids_of([n.chassis_id for n in nodes])
        for n in nodes:
            out[n.id]['chassis_uuid'] = chassis.get(n.chassis_id)
    if 'allocation_uuid' in wanted:
        allocations = await db.allocation_uuids_of_nodes([n.id for n in nodes])
        for n in nodes:
            out[n.id]['allocation_uuid'] = allocations.get(n.id)
    if 'traits' in wanted:
        traits = await db.traits_of_nodes([n.id for n in nodes])
        for n in nodes:
            out[n.id]['traits'] = traits[n.id]
    if 'conductor' in wanted:
        conductor_of = ConductorLookup(request)
        for n in nodes:
            out[n.id]['conductor'] = await conductor_of(n)
    return out


class ConductorLookup:
    """The conductor managing a node (the hash ring's answer), None when none is alive.

    A miss makes the ring reload the conductors from the database; it is remembered per
    (driver, conductor group) for the lookup's lifetime (one request), so a page of nodes
    nobody serves costs one reload, not one per node."""

    def __init__(self, request: web.Request):
        self.rpcapi = request.app[keys.RPCAPI]
        self.unserved: set[tuple[str, str]] = set()

    async def __call__(self, node: models.Node) -> str | None:
        key = (node.driver, node.conductor_group or '')
        if key in self.unserved:
            return None
        try:
            return await self.rpcapi.host_for(node)
        except (exception.NoValidHost, exception.TemporaryFailure):
            self.unserved.add(key)
            return None


async def render(request: web.Request, node: models.Node,
                 fields: list[str] | tuple | None = None,
                 known: dict[str, Any] | None = None) -> dict[str, Any]:
    """One node's view; ``known`` holds the computed fields already loaded with the node
    (chassis and allocation UUIDs, and traits when the view shows them)."""
    wanted = views.wanted_node_fields(request, fields)
    if known is not None:
        rel = dict(known)
        if 'conductor' in wanted:
            rel['conductor'] = await ConductorLookup(request)(node)
    else:
        rel = (await related(request, [node], wanted))[node.id]
    return views.node(request, node, fields, rel)


async def _list_filters(request: web.Request) -> dict[str, Any]:
    ver = utils.version(request)
    filters: dict[str, Any] = {}
    for name in _FILTERS:
        if name not in request.query:
            continue
        if not mv.allowed(ver, name, mv.NODE_FILTER_VERSIONS):
            raise exception.NotAcceptable(
                f'Filter {name} is not available in API version {mv.fmt(ver)}.')
        value = request.query[name]
        if name in _BOOL_FILTERS:
            filters[name] = utils.get_bool(request, name)
        elif name == 'instance_uuid':
            filters[name] = utils.check_uuid(value)
        elif name == 'chassis_uuid':
            try:
                chassis = await request.app[keys.DB].get_resource(
                    models.Chassis, utils.check_uuid(value))
            except exception.NotFound:
                filters['chassis_id'] = -1  # no such chassis: no node matches
            else:
                filters['chassis_id'] = chassis.id
        elif name == 'conductor_group':
            filters[name] = value.lower()
        elif name == 'fault' and value not in faults.VALID_FAULTS:
            raise exception.InvalidParameterValue(
                err=f'Unrecognized fault "{value}" is specified, allowed faults are '
                    f'{", ".join(faults.VALID_FAULTS)}.')
        elif name == 'provision_state' and value not in states.ALL_STATES:
            raise exception.InvalidParameterValue(
                err=f'Invalid provision state {value!r} for the provision_state filter.')
        else:
            filters[name] = value
    project = policy.list_project(request)  # a project caller sees what it owns or leases
    if project is not None:
        filters['project'] = project
    return filters


async def _fetch(request: web.Request, filters: dict[str, Any], limit: int,
                 sort_key: str, sort_dir: str) -> list[models.Node]:
    """One page of nodes; the ``conductor`` filter (a hash ring answer, not a column) is
    applied page by page, reading further pages only until the requested page is full."""
    db = request.app[keys.DB]
    marker = utils.get_marker(request)
    conductor = filters.pop('conductor', None)
    if conductor is None:
        return await db.list_nodes(filters, limit=limit, marker=marker, sort_key=sort_key,
                                   sort_dir=sort_dir)
    found: list[models.Node] = []
    conductor_of = ConductorLookup(request)
    while len(found) < limit:
        batch = await db.list_nodes(filters, limit=limit, marker=marker, sort_key=sort_key,
                                    sort_dir=sort_dir)
        for n in batch:
            if await conductor_of(n) == conductor:
                found.append(n)
                if len(found) == limit:
                    break
        if len(batch) < limit:
            break
        marker = batch[-1].uuid
    return found


async def _list(request: web.Request, detail: bool) -> web.Response:
    ver = utils.version(request)
    if 'detail' in request.query:
        if ver < mv.NODE_FILTER_VERSIONS['detail']:
            raise exception.NotAcceptable('The detail parameter requires API version 1.43.')
        detail = detail or bool(utils.get_bool(request, 'detail'))
    fields = utils.get_fields(request, views.visible_node_fields(ver), views.NODE_FIELDS)
    if fields is not None and detail:
        raise exception.InvalidParameterValue(err='Can not specify ?detail=True and fields '
                                                  'in the same request.')
    if fields is None and not detail:
        fields = list(views.NODE_LIST_FIELDS)
    limit = utils.get_limit(request)
    sort_key, sort_dir = utils.get_sort(request)
    if sort_key != 'id' and not mv.allowed(ver, sort_key, mv.NODE_FIELD_VERSIONS):
        raise exception.NotAcceptable(
            f'Field {sort_key} is not available in API version {mv.fmt(ver)}.')
    nodes = await _fetch(request, await _list_filters(request), limit, sort_key, sort_dir)
    wanted = views.wanted_node_fields(request, fields)
    rel = await related(request, nodes, wanted)
    body: dict[str, Any] = {'nodes': [views.node(request, n, fields, rel[n.id])
                                      for n in nodes]}
    nxt = utils.next_link(request, nodes, limit, nodes[-1].uuid if nodes else None)
    if nxt:
        body['next'] = nxt
    return web.json_response(body)


async def list_nodes(request: web.Request) -> web.Response:
    return await _list(request, detail=False)


async def list_nodes_detail(request: web.Request) -> web.Response:
    return await _list(request, detail=True)


async def get_node(request: web.Request) -> web.Response:
    fields = utils.get_fields(request, views.visible_node_fields(utils.version(request)),
                              views.NODE_FIELDS)
    wanted = views.wanted_node_fields(request, fields)
    node, known = await utils.get_node(request, with_related=True,
                                       with_traits='traits' in wanted)
    return web.json_response(await render(request, node, fields, known))


def _reset_interfaces(request: web.Request) -> bool:
    if 'reset_interfaces' not in request.query:
        return False
    if utils.version(request) < mv.RESET_INTERFACES:
        raise exception.NotAcceptable('The reset_interfaces parameter requires API '
                                      'version 1.45.')
    return bool(utils.get_bool(request, 'reset_interfaces'))


async def _chassis_id(request: web.Request, chassis_uuid: Any) -> int | None:
    if chassis_uuid is None:
        return None
    try:
        chassis = await request.app[keys.DB].get_resource(
            models.Chassis, utils.check_uuid(chassis_uuid))
    except exception.NotFound:
        raise exception.InvalidParameterValue(
            err=f'Chassis {chassis_uuid} could not be found.') from None
    return chassis.id


# Re-applications of a patch whose compare-and-set lost to a concurrent, non-conflicting
# change: each round lets at least one writer through, so this bounds 16 concurrent writers.
_PATCH_REAPPLY_LIMIT = 16


async def patch_node(request: web.Request) -> web.Response:
    """JSON patch of a node. The write is a compare-and-set on the fields it changes; when a
    concurrent request changed the node first, the patch is re-applied to the fresh node (a
    real conflict then gets the answer the fresh node deserves), and a node locked by a
    conductor is waited for within the lock-retry policy, as upstream's conductor does."""
    patch = await utils.json_body(request, list)
    reset = _reset_interfaces(request)
    node = await utils.get_node(request)
    rules.check_patch_paths(request, patch, _WRITABLE)
    db = request.app[keys.DB]
    rounds = 0   # re-applications, counted across the lock waits

    async def apply() -> web.Response:
        nonlocal node, rounds
        if rounds:   # called again after a lock wait: the node as it is now
            node = await db.get_node(node.id)
        while rounds < _PATCH_REAPPLY_LIMIT:
            rounds += 1
            planned = await _plan_patch(request, node, patch, reset)
            if planned is None:
                return web.json_response(await render(request, node))
            try:
                node = await db.update_node(node.id, *planned)
                return web.json_response(await render(request, node))
            except exception.NodeStateChanged:
                node = await db.get_node(node.id)
            if node.reservation:
                raise exception.NodeLocked(node=node.uuid, host=node.reservation)
        raise exception.Conflict(f'Node {node.uuid} kept changing while the request was '
                                 'processed; please retry.')

    return await lock_wait.retrying(
        request.app[keys.CONF], tenacity.retry_if_exception_type(exception.NodeLocked))(apply)


async def _plan_patch(request: web.Request, node: models.Node, patch: list,
                      reset: bool) -> tuple[dict, dict] | None:
    """``(values, expected)`` of the compare-and-set applying ``patch`` to ``node``, or None
    when it changes nothing; raises the client error the patch deserves on this node."""
    current = {f: copy.deepcopy(getattr(node, f)) for f in _WRITABLE if hasattr(node, f)}
    current['uuid'] = node.uuid
    current['chassis_uuid'] = (await related(request, [node], frozenset({'chassis_uuid'})))[
        node.id]['chassis_uuid']
    patched = utils.apply_patch(current, patch)
    for field in current:  # "remove" of a top-level field (or a null) resets it to its default
        if field not in patched or (patched[field] is None and field in _DEFAULTS):
            patched[field] = copy.deepcopy(_DEFAULTS.get(field))
    _check_values(patched)
    changed = {f: patched[f] for f in current if patched[f] != current[f]}
    if reset and 'driver' not in changed:
        raise exception.InvalidParameterValue(
            err='The reset_interfaces parameter can only be used when changing the node\'s '
                'driver.')
    if not changed:
        return None
    rules.check_state_rules(node, changed, patched)
    if reset:  # interfaces not set by this patch go back to the new driver's defaults
        explicit = set(utils.patch_fields(patch))
        for field in models.NODE_INTERFACE_FIELDS:
            if field not in explicit:
                patched[field] = None
    if changed.keys() & ({'driver'} | set(models.NODE_INTERFACE_FIELDS)):
        await _check_driver_and_interfaces(request, patched)
        for field in models.NODE_INTERFACE_FIELDS:  # removed ones got their default back
            changed.pop(field, None)
            if patched[field] != current[field]:
                changed[field] = patched[field]
    if 'chassis_uuid' in changed:
        changed['chassis_id'] = await _chassis_id(request, changed.pop('chassis_uuid'))
    if changed.get('maintenance') is False:
        changed['maintenance_reason'] = None
        changed['fault'] = None
    if 'conductor_group' in changed:
        changed['conductor_group'] = (changed['conductor_group'] or '').lower()
    expected = {f: current[f] for f in changed if f in current}
    expected['reservation'] = None
    return changed, expected


async def delete_node(request: web.Request) -> web.Response:
    # a request still running on the node (a power change just accepted) ends first, within
    # the lock-retry policy, as upstream's conductor waits for the node's lock
    node = await utils.settled_node(request, await utils.get_node(request))
    if node.protected:
        raise exception.NodeProtected(node=node.uuid)
    # 409 as upstream (its NodeAssociated and InvalidState are conflicts)
    if node.instance_uuid:
        raise exception.NodeAssociated(node=node.uuid, instance=node.instance_uuid)
    if node.provision_state not in _DELETE_ALLOWED and not node.maintenance:
        raise exception.InvalidState(
            f'Can not delete node "{node.uuid}" while it is in provision state '
            f'"{node.provision_state}". Valid provision states to perform deletion are: '
            f'{sorted(_DELETE_ALLOWED)}, or set the node into maintenance mode')
    await request.app[keys.DB].destroy_node(node.id)
    return web.Response(status=204)


ROUTES = [
    Route('POST', '/v1/nodes', create_node, 'baremetal:node:create',
          body=node_schemas.NODE_CREATE),
    Route('GET', '/v1/nodes', list_nodes, 'baremetal:node:list', query=query.NODE_LIST),
    Route('GET', '/v1/nodes/detail', list_nodes_detail, 'baremetal:node:list',
          query=query.NODE_LIST),
    Route('GET', '/v1/nodes/{node_ident}', get_node, 'baremetal:node:get', query=query.FIELDS),
    Route('PATCH', '/v1/nodes/{node_ident}', patch_node, 'baremetal:node:update',
          body=node_schemas.JSON_PATCH),
    Route('DELETE', '/v1/nodes/{node_ident}', delete_node, 'baremetal:node:delete'),
]
