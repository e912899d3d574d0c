"""``/v1/ports`` and ``/v1/nodes/{node}/ports``: network ports (MAC addresses) of nodes."""
from __future__ import annotations

import copy
import re
from typing import Any

from aiohttp import web

from ironic_lite.api import keys, policy, utils, views
from ironic_lite.api import microversion as mv
from ironic_lite.api.route import NODE, Route
from ironic_lite.api.schemas import query
from ironic_lite.api.schemas.nodes import JSON_PATCH
from ironic_lite.api.schemas.ports import PORT_CREATE
from ironic_lite.common import exception
from ironic_lite.db import models

_WRITABLE = {'address', 'node_uuid', 'extra', 'local_link_connection', 'pxe_enabled',
             'physical_network', 'is_smartnic', 'name', 'uuid', 'portgroup_uuid'}
# What a field becomes when a patch removes it (or sets it to null).
_DEFAULTS: dict[str, Any] = {'extra': {}, 'local_link_connection': {}, 'pxe_enabled': True,
                             'is_smartnic': False}
# local_link_connection keys (upstream's LocalLinkConnectionType); network_type from 1.64.
_LLC_KEYS = {'switch_id', 'port_id', 'switch_info', 'hostname', 'network_type'}
_LLC_NETWORK_TYPES = ('managed', 'unmanaged')
_DATAPATH_ID = re.compile(r'(0x)?[0-9a-fA-F]{16}')


def _check_versions(request: web.Request, values: dict) -> None:
    ver = utils.version(request)
    for field in values:
        if not mv.allowed(ver, field, mv.PORT_FIELD_VERSIONS):
            raise exception.NotAcceptable(
                f'Field {field} is not available in API version {mv.fmt(ver)}.')
    llc = values.get('local_link_connection')
    if isinstance(llc, dict) and 'network_type' in llc and ver < mv.LLC_NETWORK_TYPE:
        raise exception.NotAcceptable(
            'local_link_connection/network_type requires API version 1.64.')


def _check_llc(llc: dict, smartnic: bool) -> None:
    """As upstream: known keys only; ``switch_id`` and ``port_id`` required unless the
    network is ``unmanaged`` (a Smart NIC needs ``port_id`` and ``hostname`` instead)."""
    if not llc:
        return
    unknown = sorted(set(llc) - _LLC_KEYS)
    if unknown:
        raise exception.InvalidParameterValue(
            err=f'local_link_connection has unknown key(s) {", ".join(unknown)}; valid keys '
                f'are {", ".join(sorted(_LLC_KEYS))}.')
    network_type = llc.get('network_type')
    if network_type is not None and network_type not in _LLC_NETWORK_TYPES:
        raise exception.InvalidParameterValue(
            err=f'local_link_connection network_type must be one of '
                f'{", ".join(_LLC_NETWORK_TYPES)}, not {network_type!r}.')
    if network_type != 'unmanaged':
        required = {'port_id', 'hostname'} if smartnic else {'switch_id', 'port_id'}
        missing = sorted(required - set(llc))
        if missing:
            raise exception.InvalidParameterValue(
                err=f'local_link_connection is missing {", ".join(missing)}.')
    switch_id = llc.get('switch_id')
    if switch_id is not None and not (
            isinstance(switch_id, str) and (utils.is_mac(switch_id)
                                            or _DATAPATH_ID.fullmatch(switch_id))):
        raise exception.InvalidParameterValue(
            err=f'local_link_connection switch_id {switch_id!r} is neither a MAC address nor '
                'an OpenFlow datapath ID.')


def _check_values(values: dict) -> dict:
    values['address'] = utils.check_mac(values.get('address'))
    for field in ('extra', 'local_link_connection'):
        if values.get(field) is not None and not isinstance(values[field], dict):
            raise exception.InvalidParameterValue(err=f'{field} must be a JSON object.')
    for field in ('pxe_enabled', 'is_smartnic'):
        if values.get(field) is not None and not isinstance(values[field], bool):
            raise exception.InvalidParameterValue(err=f'{field} must be a boolean.')
    for field, limit in (('physical_network', 64), ('name', 255)):
        if values.get(field) is not None and not isinstance(values[field], str):
            raise exception.InvalidParameterValue(err=f'{field} must be a string.')
        if values.get(field) is not None and len(values[field]) > limit:
            raise exception.InvalidParameterValue(
                err=f'{field} is too long: at most {limit} characters.')
    if values.get('uuid') is not None:
        utils.check_uuid(values['uuid'])
    _check_llc(values.get('local_link_connection') or {}, bool(values.get('is_smartnic')))
    return values


async def _portgroup_id(request: web.Request, ident: Any, node) -> int | None:
    """The portgroup a port joins: it must exist (400) and belong to the port's node."""
    if ident is None:
        return None
    if not isinstance(ident, str):
        raise exception.InvalidUUID(uuid=ident)
    try:
        pg = await request.app[keys.DB].get_resource(models.Portgroup, ident)
    except exception.NotFound as e:
        raise exception.InvalidParameterValue(err=str(e)) from None
    if pg.node_id != node.id:
        raise exception.InvalidParameterValue(
            err=f'Port can not be added to portgroup {pg.uuid} of another node.')
    return pg.id


async def _check_physnet(request: web.Request, portgroup_id: int | None,
                         physical_network: str | None, port: models.Port | None = None) -> None:
    """The ports of a portgroup share one ``physical_network`` (``None`` included): a port
    that would differ from the other members is a 409, as upstream's
    ``validate_port_physnet``. Checked when membership or the network changes."""
    if not portgroup_id:
        return
    members = await request.app[keys.DB].list_ports(portgroup_id=portgroup_id)
    physnets = {p.physical_network for p in members if port is None or p.id != port.id}
    if not physnets or physnets == {physical_network}:
        return
    pg = await request.app[keys.DB].get_resource(models.Portgroup, portgroup_id)
    if len(physnets) > 1:
        raise exception.Conflict(
            f'Port group {pg.uuid} has member ports with inconsistent physical networks '
            f'({", ".join(sorted(map(str, physnets)))}). All ports in a port group must '
            'have the same physical network.')
    raise exception.Conflict(
        f'Port with physical network {physical_network} cannot become a member of port '
        f'group {pg.uuid} which has ports in physical network {physnets.pop()}.')


async def _port_node(request: web.Request, node_uuid: Any):
    """The node a port is created on or moved to: unknown is a bad request (400), as
    upstream answers — the request is not acting on that node."""
    try:
        return await request.app[keys.DB].get_node(utils.check_uuid(node_uuid))
    except exception.NodeNotFound as e:
        raise exception.InvalidParameterValue(err=str(e)) from None


async def create_port(request: web.Request) -> web.Response:
    body = await utils.json_body(request)
    unknown = sorted(set(body) - _WRITABLE)
    if unknown:
        raise exception.InvalidParameterValue(
            err=f'Unknown attribute(s) for port: {", ".join(unknown)}')
    _check_versions(request, body)
    if 'node_uuid' not in body:
        raise exception.MissingParameterValue(err='"node_uuid" is required to create a port.')
    _check_values(body)
    node = await _port_node(request, body['node_uuid'])
    values = {k: v for k, v in body.items()
              if k not in ('node_uuid', 'portgroup_uuid') and v is not None}
    values['node_id'] = node.id
    values['portgroup_id'] = await _portgroup_id(request, body.get('portgroup_uuid'), node)
    await _check_physnet(request, values['portgroup_id'], values.get('physical_network'))
    port = await request.app[keys.DB].create_port(values)
    data = await render(request, port, node.uuid)
    return web.json_response(data, status=201, headers={
        'Location': f'{utils.base_url(request)}/v1/ports/{port.uuid}'})


async def _portgroup_uuids(request: web.Request, ports) -> dict[int, str]:
    return await request.app[keys.DB].uuids_of(models.Portgroup,
                                               [p.portgroup_id for p in ports])


async def render(request: web.Request, port: models.Port, node_uuid: str,
                 fields: list[str] | None = None) -> dict[str, Any]:
    pgs = await _portgroup_uuids(request, [port])
    return views.port(request, port, node_uuid, fields, pgs.get(port.portgroup_id))


async def _list(request: web.Request, detail: bool, node=None) -> web.Response:
    ver = utils.version(request)
    for name in ('portgroup', 'detail'):
        if name in request.query and not mv.allowed(ver, name, mv.PORT_FILTER_VERSIONS):
            raise exception.NotAcceptable(
                f'The {name} parameter is not available in API version {mv.fmt(ver)}.')
    if 'detail' in request.query:
        detail = detail or bool(utils.get_bool(request, 'detail'))
    fields = utils.get_fields(request, views.visible_port_fields(ver), views.PORT_FIELDS)
    if fields is not None and detail:
        raise exception.InvalidParameterValue(err='Can not specify ?detail=True and fields '
                                                  'in the same request.')
    if fields is None and not detail:
        fields = list(views.PORT_LIST_FIELDS)
    db = request.app[keys.DB]
    if node is None:
        ident = request.query.get('node') or request.query.get('node_uuid')
        if ident:
            node = await utils.get_node(request, ident)
    portgroup_id = None
    if request.query.get('portgroup'):
        portgroup_id = (await db.get_resource(models.Portgroup,
                                              request.query['portgroup'])).id
    address = request.query.get('address')
    if address is not None:
        address = utils.check_mac(address)
    limit = utils.get_limit(request)
    sort_key, sort_dir = utils.get_sort(request)
    if sort_key != 'id' and not mv.allowed(ver, sort_key, mv.PORT_FIELD_VERSIONS):
        raise exception.NotAcceptable(
            f'Field {sort_key} is not available in API version {mv.fmt(ver)}.')
    ports = await db.list_ports(node_id=node.id if node else None,
                                address=address, portgroup_id=portgroup_id, limit=limit,
                                marker=utils.get_marker(request), sort_key=sort_key,
                                sort_dir=sort_dir,
                                node_project=policy.list_project(request))
    uuids = ({node.id: node.uuid} if node else
             await db.uuids_of(models.Node, [p.node_id for p in ports]))
    pgs = await _portgroup_uuids(request, ports)
    body = {'ports': [views.port(request, p, uuids.get(p.node_id), fields,
                                 pgs.get(p.portgroup_id)) for p in ports]}
    nxt = utils.next_link(request, ports, limit, ports[-1].uuid if ports else None)
    if nxt:
        body['next'] = nxt
    return web.json_response(body)


async def list_ports(request: web.Request) -> web.Response:
    return await _list(request, detail=False)


async def list_ports_detail(request: web.Request) -> web.Response:
    return await _list(request, detail=True)


async def list_node_ports(request: web.Request) -> web.Response:
    node = await utils.get_node(request)
    detail = request.path.rstrip('/').endswith('/detail')
    return await _list(request, detail=detail, node=node)


async def _get_port(request: web.Request):
    ident = utils.check_uuid(request.match_info['port_id'])
    return await request.app[keys.DB].get_port(ident)


async def get_port(request: web.Request) -> web.Response:
    port = await _get_port(request)
    node = await request.app[keys.DB].get_node(port.node_id)
    fields = utils.get_fields(request, views.visible_port_fields(utils.version(request)),
                              views.PORT_FIELDS)
    return web.json_response(await render(request, port, node.uuid, fields))


async def patch_port(request: web.Request) -> web.Response:
    patch = await utils.json_body(request, list)
    port = await _get_port(request)
    db = request.app[keys.DB]
    node = await db.get_node(port.node_id)
    current = {f: copy.deepcopy(getattr(port, f))
               for f in _WRITABLE - {'node_uuid', 'portgroup_uuid'}}
    current['node_uuid'] = node.uuid
    current['portgroup_uuid'] = (await _portgroup_uuids(request, [port])).get(
        port.portgroup_id)
    for top, op in zip(utils.patch_fields(patch), patch, strict=True):
        if top not in _WRITABLE or top == 'uuid':
            raise exception.PatchError(patch=op, reason=f"'/{top}' can not be updated")
        _check_versions(request, {top: op.get('value')})
        if op['path'].startswith('/local_link_connection/network_type') and \
                utils.version(request) < mv.LLC_NETWORK_TYPE:
            raise exception.NotAcceptable(
                'local_link_connection/network_type requires API version 1.64.')
    patched = utils.apply_patch(current, patch)
    for field in current:  # "remove" of a top-level field (or null) resets it to its default
        if field not in patched or (patched[field] is None and field in _DEFAULTS):
            patched[field] = copy.deepcopy(_DEFAULTS.get(field))
    _check_values(patched)
    changed = {f: patched[f] for f in current if patched[f] != current[f]}
    if 'node_uuid' in changed:
        node = await _port_node(request, changed.pop('node_uuid'))
        changed['node_id'] = node.id
    if 'portgroup_uuid' in changed or ('node_id' in changed and port.portgroup_id):
        changed['portgroup_id'] = await _portgroup_id(request, patched['portgroup_uuid'], node)
        changed.pop('portgroup_uuid', None)
    if changed.keys() & {'portgroup_id', 'physical_network'}:
        await _check_physnet(request, changed.get('portgroup_id', port.portgroup_id),
                             patched.get('physical_network'), port)
    if changed:
        port = await db.update_port(port.id, changed)
    return web.json_response(await render(request, port, node.uuid))


async def delete_port(request: web.Request) -> web.Response:
    port = await _get_port(request)
    await request.app[keys.DB].destroy_port(port.id)
    return web.Response(status=204)


ROUTES = [
    Route('POST', '/v1/ports', create_port, 'baremetal:port:create', body=PORT_CREATE),
    Route('GET', '/v1/ports', list_ports, 'baremetal:port:list', query=query.PORT_LIST),
    Route('GET', '/v1/ports/detail', list_ports_detail, 'baremetal:port:list',
          query=query.PORT_DETAIL),
    Route('GET', '/v1/ports/{port_id}', get_port, 'baremetal:port:get', query=query.FIELDS),
    Route('PATCH', '/v1/ports/{port_id}', patch_port, 'baremetal:port:update',
          body=JSON_PATCH),
    Route('DELETE', '/v1/ports/{port_id}', delete_port, 'baremetal:port:delete'),
    Route('GET', NODE + '/ports', list_node_ports, 'baremetal:port:get'),
    Route('GET', NODE + '/ports/detail', list_node_ports, 'baremetal:port:get'),
]
