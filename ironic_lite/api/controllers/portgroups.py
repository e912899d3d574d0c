"""``/v1/portgroups`` (1.23): bonds of a node's ports; ``/v1/nodes/{node}/portgroups`` and
``/v1/portgroups/{pg}/ports`` (1.24). Hidden (404) below their versions, as upstream."""
from __future__ import annotations

from aiohttp import web
from oslo_utils import uuidutils

from ironic_lite.api import keys, policy, utils, views
from ironic_lite.api import microversion as mv
from ironic_lite.api.controllers import collection as col
from ironic_lite.api.route import NODE, Route
from ironic_lite.api.schemas.nodes import JSON_PATCH
from ironic_lite.api.schemas.resources import PORTGROUP_CREATE
from ironic_lite.common import exception
from ironic_lite.db import models

MODE_PROPERTIES = (1, 26)
DEFAULT_MODE = 'active-backup'  # upstream's [DEFAULT]default_portgroup_mode default

SPEC = col.Spec(
    path='portgroups', key='portgroups',
    fields=('uuid', 'address', 'name', 'node_uuid', 'standalone_ports_supported',
            'internal_info', 'extra', 'mode', 'properties', 'created_at', 'updated_at', 'links',
            'ports'),
    list_fields=('uuid', 'address', 'name', 'links'),
    versions={'mode': MODE_PROPERTIES, 'properties': MODE_PROPERTIES})
_WRITABLE = {'address', 'name', 'node_uuid', 'standalone_ports_supported', 'extra', 'mode',
             'properties'}
_DEFAULTS = {'extra': {}, 'properties': {}, 'standalone_ports_supported': True,
             'mode': DEFAULT_MODE}


def _view(request: web.Request, pg: models.Portgroup, node_uuid: str | None,
          fields=None) -> dict:
    return col.render(request, SPEC, pg, fields, node_uuid=node_uuid, ports='links')


def _check(values: dict) -> dict:
    if values.get('address') is not None:
        values['address'] = utils.check_mac(values['address'])
    if values.get('name') is not None:
        name = values['name']
        if not isinstance(name, str) or uuidutils.is_uuid_like(name) or \
                utils.check_name(name) is None:
            raise exception.InvalidParameterValue(err=f'Invalid portgroup name {name!r}.')
    col.check_dict(values, 'extra', 'properties')
    col.check_bool(values, 'standalone_ports_supported')
    col.check_str(values, 'mode')
    if values.get('uuid') is not None:
        utils.check_uuid(values['uuid'])
    return values


async def _get(request: web.Request) -> models.Portgroup:
    ident = request.match_info['portgroup_ident']
    return await request.app[keys.DB].get_resource(models.Portgroup, ident)


async def _node_uuid(request: web.Request, node_id: int) -> str:
    return (await request.app[keys.DB].get_node(node_id)).uuid


async def create_portgroup(request: web.Request) -> web.Response:
    body = await utils.json_body(request)
    col.check_unknown(body, _WRITABLE | {'uuid'}, 'portgroup')
    col.check_body_versions(request, SPEC, body)
    if 'node_uuid' not in body:
        raise exception.MissingParameterValue(err='"node_uuid" is required to create a '
                                                  'portgroup.')
    _check(body)
    node = await col.node_from_body(request, utils.check_uuid(body['node_uuid']))
    values = {k: v for k, v in body.items() if k != 'node_uuid' and v is not None}
    values.setdefault('mode', DEFAULT_MODE)
    values['node_id'] = node.id
    pg = await request.app[keys.DB].create_resource(models.Portgroup, values)
    return col.created(request, SPEC, pg, _view(request, pg, node.uuid))


async def _list(request: web.Request, detail: bool, node=None) -> web.Response:
    fields = col.list_fields(request, SPEC, detail)
    filters = {}
    if node is None:
        ident = request.query.get('node') or request.query.get('node_uuid')
        if ident:
            node = await utils.get_node(request, ident)
    if node is not None:
        filters['node_id'] = node.id
    if request.query.get('address') is not None:
        filters['address'] = utils.check_mac(request.query['address'])
    return await col.node_owned_collection(
        request, SPEC, models.Portgroup, filters,
        lambda pg, node_uuid: _view(request, pg, node_uuid, fields),
        project=policy.list_project(request))  # nodes the caller's project owns or leases


async def list_portgroups(request: web.Request) -> web.Response:
    return await _list(request, detail=False)


async def list_portgroups_detail(request: web.Request) -> web.Response:
    return await _list(request, detail=True)


async def list_node_portgroups(request: web.Request) -> web.Response:
    node = await utils.get_node(request)
    return await _list(request, request.path.rstrip('/').endswith('/detail'), node)


async def get_portgroup(request: web.Request) -> web.Response:
    pg = await _get(request)
    fields = col.show_fields(request, SPEC)
    return web.json_response(_view(request, pg, await _node_uuid(request, pg.node_id), fields))


async def patch_portgroup(request: web.Request) -> web.Response:
    patch = await utils.json_body(request, list)
    pg = await _get(request)
    db = request.app[keys.DB]
    node_uuid = await _node_uuid(request, pg.node_id)
    current = {f: getattr(pg, f) for f in _WRITABLE - {'node_uuid'}}
    current['node_uuid'] = node_uuid
    changed = col.patched(request, SPEC, patch, current, _WRITABLE, _DEFAULTS)
    _check(changed)
    if 'node_uuid' in changed:
        node = await col.node_from_body(request, utils.check_uuid(changed.pop('node_uuid')))
        changed['node_id'], node_uuid = node.id, node.uuid
    if changed:
        pg = await db.update_resource(models.Portgroup, pg.id, changed)
    return web.json_response(_view(request, pg, node_uuid))


async def delete_portgroup(request: web.Request) -> web.Response:
    pg = await _get(request)
    await request.app[keys.DB].destroy_portgroup(pg.id)
    return web.Response(status=204)


async def list_portgroup_ports(request: web.Request) -> web.Response:
    """The ports of a portgroup, shown like ``/v1/ports`` (1.24)."""
    pg = await _get(request)
    ver = utils.version(request)
    port_spec = col.Spec(path='ports', key='ports', fields=views.PORT_FIELDS,
                         list_fields=views.PORT_LIST_FIELDS)
    fields = col.list_fields(request, port_spec, request.path.rstrip('/').endswith('/detail'))
    if fields is not None:
        fields = [f for f in fields if f in views.visible_port_fields(ver)]
    paging = col.paging(request)
    db = request.app[keys.DB]
    ports = await db.list_resources(models.Port, {'portgroup_id': pg.id}, **paging)
    node_uuid = await _node_uuid(request, pg.node_id)
    return col.collection(request, port_spec, ports,
                          [views.port(request, p, node_uuid, fields) for p in ports],
                          paging['limit'])


ROUTES = [
    Route('POST', '/v1/portgroups', create_portgroup, 'baremetal:portgroup:create',
          body=PORTGROUP_CREATE, since=mv.PORTGROUPS),
    Route('GET', '/v1/portgroups', list_portgroups, 'baremetal:portgroup:list',
          since=mv.PORTGROUPS),
    Route('GET', '/v1/portgroups/detail', list_portgroups_detail, 'baremetal:portgroup:list',
          since=mv.PORTGROUPS),
    Route('GET', '/v1/portgroups/{portgroup_ident}', get_portgroup, 'baremetal:portgroup:get',
          since=mv.PORTGROUPS),
    Route('PATCH', '/v1/portgroups/{portgroup_ident}', patch_portgroup,
          'baremetal:portgroup:update', body=JSON_PATCH, since=mv.PORTGROUPS),
    Route('DELETE', '/v1/portgroups/{portgroup_ident}', delete_portgroup,
          'baremetal:portgroup:delete', since=mv.PORTGROUPS),
    Route('GET', '/v1/portgroups/{portgroup_ident}/ports', list_portgroup_ports,
          'baremetal:portgroup:get', since=mv.PORTGROUP_PORTS),
    Route('GET', '/v1/portgroups/{portgroup_ident}/ports/detail', list_portgroup_ports,
          'baremetal:portgroup:get', since=mv.PORTGROUP_PORTS),
    Route('GET', NODE + '/portgroups', list_node_portgroups, 'baremetal:portgroup:get',
          since=mv.PORTGROUP_PORTS),
    Route('GET', NODE + '/portgroups/detail', list_node_portgroups, 'baremetal:portgroup:get',
          since=mv.PORTGROUP_PORTS),
]
