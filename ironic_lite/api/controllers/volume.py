"""``/v1/volume`` (1.32): volume connectors and targets of nodes booting from remote
volumes, and ``/v1/nodes/{node}/volume[/connectors|/targets]``. Hidden (404) below 1.32.

With the ``noop`` storage interface they are stored and validated only. Changing or deleting
one needs the node powered off, as upstream.
"""
from __future__ import annotations

from typing import Any

from aiohttp import web

from ironic_lite.api import keys, policy, utils
from ironic_lite.api import microversion as mv
from ironic_lite.api.controllers import collection as col
from ironic_lite.api.route import NODE, Route
from ironic_lite.api.schemas.nodes import JSON_PATCH
from ironic_lite.api.schemas.resources import VOLUME_CREATE
from ironic_lite.common import exception
from ironic_lite.common import resource_errors as errors
from ironic_lite.db import models

CONNECTOR_TYPES = ('iqn', 'ip', 'mac', 'wwnn', 'wwpn', 'port', 'portgroup')

CONNECTORS = col.Spec(
    path='volume/connectors', key='connectors',
    fields=('uuid', 'node_uuid', 'type', 'connector_id', 'extra', 'created_at', 'updated_at',
            'links'),
    list_fields=('uuid', 'node_uuid', 'type', 'connector_id', 'links'))
TARGETS = col.Spec(
    path='volume/targets', key='targets',
    fields=('uuid', 'node_uuid', 'volume_type', 'properties', 'boot_index', 'volume_id',
            'extra', 'created_at', 'updated_at', 'links'),
    list_fields=('uuid', 'node_uuid', 'volume_type', 'boot_index', 'volume_id', 'links'))


class _Kind:
    def __init__(self, spec: col.Spec, model: type, what: str, writable: set[str],
                 required: tuple[str, ...], defaults: dict[str, Any]):
        self.spec, self.model, self.what = spec, model, what
        self.writable, self.required, self.defaults = writable, required, defaults


_CONNECTOR = _Kind(CONNECTORS, models.VolumeConnector, 'volume connector',
                   {'node_uuid', 'type', 'connector_id', 'extra'},
                   ('node_uuid', 'type', 'connector_id'), {'extra': {}})
_TARGET = _Kind(TARGETS, models.VolumeTarget, 'volume target',
                {'node_uuid', 'volume_type', 'properties', 'boot_index', 'volume_id', 'extra'},
                ('node_uuid', 'volume_type', 'boot_index', 'volume_id'),
                {'extra': {}, 'properties': {}})
_KINDS = {'connectors': _CONNECTOR, 'targets': _TARGET}


def _kind(request: web.Request) -> _Kind:
    return _KINDS[request.match_info['kind']]


def _check(kind: _Kind, values: dict) -> None:
    col.check_dict(values, 'extra', 'properties')
    if values.get('uuid') is not None:
        utils.check_uuid(values['uuid'])
    if kind is _CONNECTOR:
        if 'type' in values and values['type'] not in CONNECTOR_TYPES:
            raise exception.InvalidParameterValue(
                err=f'Invalid volume connector type {values["type"]!r}; expected one of '
                    f'{", ".join(CONNECTOR_TYPES)}.')
        if 'connector_id' in values and (not isinstance(values['connector_id'], str)
                                         or not values['connector_id']):
            raise exception.InvalidParameterValue(err='connector_id must be a non-empty '
                                                      'string.')
        return
    for name in ('volume_type', 'volume_id'):
        if name in values and (not isinstance(values[name], str) or not values[name]):
            raise exception.InvalidParameterValue(err=f'{name} must be a non-empty string.')
    col.check_str(values, 'volume_id', max_len=36)
    col.check_str(values, 'volume_type', max_len=64)
    index = values.get('boot_index', 0)
    if 'boot_index' in values and (isinstance(index, bool) or not isinstance(index, int)
                                   or index < 0):
        raise exception.InvalidParameterValue(
            err=f'boot_index must be a non-negative integer, not {index!r}.')


def _view(request: web.Request, kind: _Kind, obj: Any, node_uuid: str | None,
          fields=None) -> dict:
    return col.render(request, kind.spec, obj, fields, node_uuid=node_uuid)


async def _get(request: web.Request, kind: _Kind) -> Any:
    ident = utils.check_uuid(request.match_info['ident'])
    return await request.app[keys.DB].get_resource(kind.model, ident)


async def volume_root(request: web.Request) -> web.Response:
    base = utils.base_url(request)
    prefix = request.path.rstrip('/')[len('/v1/'):]

    def links(sub: str = '') -> list[dict]:
        path = f'{prefix}/{sub}'.rstrip('/')
        return [{'href': f'{base}/v1/{path}', 'rel': 'self'},
                {'href': f'{base}/{path}', 'rel': 'bookmark'}]
    return web.json_response({'links': links(), 'connectors': links('connectors'),
                              'targets': links('targets')})


async def node_volume_root(request: web.Request) -> web.Response:
    await utils.get_node(request)
    return await volume_root(request)


async def create(request: web.Request) -> web.Response:
    kind = _kind(request)
    body = await utils.json_body(request)
    col.check_unknown(body, kind.writable | {'uuid'}, kind.what)
    missing = [f for f in kind.required if body.get(f) is None]
    if missing:
        raise exception.MissingParameterValue(
            err=f'Missing mandatory field(s) for {kind.what}: {", ".join(missing)}')
    _check(kind, body)
    node = await col.node_from_body(request, body['node_uuid'])
    values = {k: v for k, v in body.items() if k != 'node_uuid' and v is not None}
    values['node_id'] = node.id
    obj = await request.app[keys.DB].create_resource(kind.model, values)
    return col.created(request, kind.spec, obj, _view(request, kind, obj, node.uuid))


async def _list(request: web.Request, kind: _Kind, node=None) -> web.Response:
    detail = request.path.rstrip('/').endswith('/detail') or None
    if 'detail' in request.query:
        detail = bool(utils.get_bool(request, 'detail'))
    fields = col.list_fields(request, kind.spec, bool(detail), detail_param=False)
    filters = {}
    if node is None and request.query.get('node'):
        node = await utils.get_node(request, request.query['node'])
    if node is not None:
        filters['node_id'] = node.id
    return await col.node_owned_collection(
        request, kind.spec, kind.model, filters,
        lambda obj, node_uuid: _view(request, kind, obj, node_uuid, fields),
        project=policy.list_project(request))  # nodes the caller's project owns or leases


async def list_items(request: web.Request) -> web.Response:
    return await _list(request, _kind(request))


async def list_node_items(request: web.Request) -> web.Response:
    kind = _kind(request)
    if 'node' in request.query:
        raise exception.InvalidParameterValue(
            err='The "node" parameter can not be used on a node\'s volume resources.')
    return await _list(request, kind, await utils.get_node(request))


async def show(request: web.Request) -> web.Response:
    kind = _kind(request)
    obj = await _get(request, kind)
    fields = col.show_fields(request, kind.spec)
    node = await request.app[keys.DB].get_node(obj.node_id)
    return web.json_response(_view(request, kind, obj, node.uuid, fields))


async def _require_power_off(request: web.Request, node: models.Node, action: str) -> None:
    """As upstream's conductor: the node's running request (a power off just accepted) ends
    first, within the lock-retry policy; then its power state decides."""
    node = await utils.settled_node(request, node)
    if node.power_state != 'power off':
        raise errors.NodeNotPoweredOff(action=action, node=node.uuid, state=node.power_state)


async def patch(request: web.Request) -> web.Response:
    kind = _kind(request)
    ops = await utils.json_body(request, list)
    obj = await _get(request, kind)
    db = request.app[keys.DB]
    node = await db.get_node(obj.node_id)
    current = {f: getattr(obj, f) for f in kind.writable - {'node_uuid'}}
    current['node_uuid'] = node.uuid
    changed = col.patched(request, kind.spec, ops, current, kind.writable, kind.defaults)
    for name in kind.required:
        if name in changed and changed[name] is None:
            raise exception.InvalidParameterValue(err=f'{name} can not be removed.')
    _check(kind, changed)
    await _require_power_off(request, node, f'{kind.what} update')
    if 'node_uuid' in changed:
        node = await col.node_from_body(request, changed.pop('node_uuid'))
        await _require_power_off(request, node, f'{kind.what} update')
        changed['node_id'] = node.id
    if changed:
        obj = await db.update_resource(kind.model, obj.id, changed)
    return web.json_response(_view(request, kind, obj, node.uuid))


async def delete(request: web.Request) -> web.Response:
    kind = _kind(request)
    obj = await _get(request, kind)
    db = request.app[keys.DB]
    await _require_power_off(request, await db.get_node(obj.node_id),
                             f'{kind.what} deletion')
    await db.destroy_resource(kind.model, obj.id)
    return web.Response(status=204)


_KIND = '{kind:connectors|targets}'
ROUTES = [
    Route('GET', '/v1/volume', volume_root, 'baremetal:volume:get', since=mv.VOLUME),
    Route('POST', f'/v1/volume/{_KIND}', create, 'baremetal:volume:create',
          body=VOLUME_CREATE, since=mv.VOLUME),
    Route('GET', f'/v1/volume/{_KIND}', list_items, 'baremetal:volume:list', since=mv.VOLUME),
    Route('GET', f'/v1/volume/{_KIND}/{{ident}}', show, 'baremetal:volume:get',
          since=mv.VOLUME),
    Route('PATCH', f'/v1/volume/{_KIND}/{{ident}}', patch, 'baremetal:volume:update',
          body=JSON_PATCH, since=mv.VOLUME),
    Route('DELETE', f'/v1/volume/{_KIND}/{{ident}}', delete, 'baremetal:volume:delete',
          since=mv.VOLUME),
    Route('GET', NODE + '/volume', node_volume_root, 'baremetal:volume:get',
          since=mv.VOLUME),
    Route('GET', f'/v1/nodes/{{node_ident}}/volume/{_KIND}', list_node_items,
          'baremetal:volume:get', since=mv.VOLUME),
]
