"""``/v1/chassis``: racks or enclosures grouping nodes (full CRUD) and
``/v1/chassis/{uuid}/nodes``. There since 1.1; chassis have UUIDs only (no names)."""
from __future__ import annotations

from aiohttp import web

from ironic_lite.api import keys, utils, views
from ironic_lite.api.controllers import collection as col
from ironic_lite.api.controllers import nodes as nodes_ctl
from ironic_lite.api.route import Route
from ironic_lite.api.schemas.nodes import JSON_PATCH
from ironic_lite.api.schemas.resources import CHASSIS_CREATE
from ironic_lite.db import models

SPEC = col.Spec(path='chassis', key='chassis',
                fields=('uuid', 'description', 'extra', 'created_at', 'updated_at', 'links',
                        'nodes'),
                list_fields=('uuid', 'description', 'links'))
_WRITABLE = {'description', 'extra'}
_DEFAULTS = {'extra': {}}


def _view(request: web.Request, chassis: models.Chassis, fields=None) -> dict:
    return col.render(request, SPEC, chassis, fields, nodes='links')


def _check(values: dict) -> None:
    col.check_str(values, 'description')
    col.check_dict(values, 'extra')
    if values.get('uuid') is not None:
        utils.check_uuid(values['uuid'])


async def _get(request: web.Request) -> models.Chassis:
    ident = utils.check_uuid(request.match_info['chassis_id'])
    return await request.app[keys.DB].get_resource(models.Chassis, ident)


async def create_chassis(request: web.Request) -> web.Response:
    body = await utils.json_body(request)
    col.check_unknown(body, _WRITABLE | {'uuid'}, 'chassis')
    _check(body)
    values = {k: v for k, v in body.items() if v is not None}
    chassis = await request.app[keys.DB].create_resource(models.Chassis, values)
    return col.created(request, SPEC, chassis, _view(request, chassis))


async def _list(request: web.Request, detail: bool) -> web.Response:
    fields = col.list_fields(request, SPEC, detail)
    paging = col.paging(request)
    items = await request.app[keys.DB].list_resources(models.Chassis, **paging)
    return col.collection(request, SPEC, items, [_view(request, c, fields) for c in items],
                          paging['limit'])


async def list_chassis(request: web.Request) -> web.Response:
    return await _list(request, detail=False)


async def list_chassis_detail(request: web.Request) -> web.Response:
    return await _list(request, detail=True)


async def get_chassis(request: web.Request) -> web.Response:
    fields = col.show_fields(request, SPEC)
    return web.json_response(_view(request, await _get(request), fields))


async def patch_chassis(request: web.Request) -> web.Response:
    patch = await utils.json_body(request, list)
    chassis = await _get(request)
    current = {'description': chassis.description, 'extra': chassis.extra}
    changed = col.patched(request, SPEC, patch, current, _WRITABLE, _DEFAULTS)
    _check(changed)
    if changed:
        chassis = await request.app[keys.DB].update_resource(models.Chassis, chassis.id,
                                                             changed)
    return web.json_response(_view(request, chassis))


async def delete_chassis(request: web.Request) -> web.Response:
    chassis = await _get(request)
    await request.app[keys.DB].destroy_chassis(chassis.id)
    return web.Response(status=204)


async def list_chassis_nodes(request: web.Request) -> web.Response:
    """The nodes of a chassis, listed like ``/v1/nodes`` (short, detail or ``fields``)."""
    chassis = await _get(request)
    detail = request.path.rstrip('/').endswith('/detail')
    ver = utils.version(request)
    node_spec = col.Spec(path='nodes', key='nodes', fields=views.NODE_FIELDS,
                         list_fields=views.NODE_LIST_FIELDS)
    fields = col.list_fields(request, node_spec, detail)
    if fields is not None:
        fields = [f for f in fields if f in views.visible_node_fields(ver)]
    paging = col.paging(request)
    nodes = await request.app[keys.DB].list_nodes({'chassis_id': chassis.id}, **paging)
    wanted = views.wanted_node_fields(request, fields) & views.RELATED_NODE_FIELDS
    related = await nodes_ctl.related(request, nodes, wanted)
    return col.collection(request, node_spec, nodes,
                          [views.node(request, n, fields, related[n.id]) for n in nodes],
                          paging['limit'])


ROUTES = [
    Route('POST', '/v1/chassis', create_chassis, 'baremetal:chassis:create',
          body=CHASSIS_CREATE),
    Route('GET', '/v1/chassis', list_chassis, 'baremetal:chassis:get'),
    Route('GET', '/v1/chassis/detail', list_chassis_detail, 'baremetal:chassis:get'),
    Route('GET', '/v1/chassis/{chassis_id}', get_chassis, 'baremetal:chassis:get'),
    Route('PATCH', '/v1/chassis/{chassis_id}', patch_chassis, 'baremetal:chassis:update',
          body=JSON_PATCH),
    Route('DELETE', '/v1/chassis/{chassis_id}', delete_chassis, 'baremetal:chassis:delete'),
    Route('GET', '/v1/chassis/{chassis_id}/nodes', list_chassis_nodes, 'baremetal:chassis:get'),
    Route('GET', '/v1/chassis/{chassis_id}/nodes/detail', list_chassis_nodes,
          'baremetal:chassis:get'),
]
