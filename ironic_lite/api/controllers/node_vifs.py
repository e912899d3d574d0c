"""``/v1/nodes/{node}/vifs`` (API 1.28): list, attach and detach virtual interfaces.

The node's network interface decides what attaching means (``flat`` records the VIF on a port
or portgroup; ``noop`` does nothing, as upstream). From 1.67 the request may name the port or
portgroup to use (``port_uuid`` / ``portgroup_uuid``, not both).
"""
from __future__ import annotations

from typing import Any

from aiohttp import web
from oslo_utils import uuidutils

from ironic_lite.api import keys, utils
from ironic_lite.api import microversion as mv
from ironic_lite.api.route import NODE, Route
from ironic_lite.api.schemas.nodes import VIF
from ironic_lite.common import exception

VIF_PORT = (1, 67)


def _check_ident(value: Any) -> str:
    """A VIF id is a UUID or a logical name (upstream's ``uuid_or_name``)."""
    if isinstance(value, str) and uuidutils.is_uuid_like(value):
        return value
    try:
        if utils.check_name(value) is not None:
            return value
    except exception.InvalidParameterValue:
        pass
    raise exception.InvalidParameterValue(
        err=f'Expected a logical name or UUID for the VIF id but received {value!r}.')


async def _node_on_a_conductor(request: web.Request):
    node = await utils.get_node(request)
    try:
        await request.app[keys.RPCAPI].host_for(node)
    except exception.NoValidHost as e:  # upstream answers 400 for VIF requests
        raise exception.InvalidParameterValue(err=str(e)) from None
    return node


async def list_vifs(request: web.Request) -> web.Response:
    node = await _node_on_a_conductor(request)
    return web.json_response({'vifs': await request.app[keys.RPCAPI].vif_list(node)})


async def attach_vif(request: web.Request) -> web.Response:
    body = await utils.json_body(request)
    if 'id' not in body:
        raise exception.MissingParameterValue(err='The VIF "id" is required.')
    _check_ident(body['id'])
    if utils.version(request) >= VIF_PORT:
        if 'port_uuid' in body and 'portgroup_uuid' in body:
            raise exception.InvalidParameterValue(
                err='Cannot specify both port_uuid and portgroup_uuid')
        for key in ('port_uuid', 'portgroup_uuid'):
            if key in body:
                utils.check_uuid(body[key])
    else:
        body = {k: v for k, v in body.items() if k not in ('port_uuid', 'portgroup_uuid')}
    node = await _node_on_a_conductor(request)
    await request.app[keys.RPCAPI].vif_attach(node, body)
    return web.Response(status=204)


async def detach_vif(request: web.Request) -> web.Response:
    vif_id = _check_ident(request.match_info['vif_id'])
    node = await _node_on_a_conductor(request)
    await request.app[keys.RPCAPI].vif_detach(node, vif_id)
    return web.Response(status=204)


ROUTES = [
    Route('GET', NODE + '/vifs', list_vifs, 'baremetal:node:vif:list',
          since=mv.VIFS),
    Route('POST', NODE + '/vifs', attach_vif, 'baremetal:node:vif:attach',
          body=VIF, since=mv.VIFS),
    Route('DELETE', NODE + '/vifs/{vif_id}', detach_vif, 'baremetal:node:vif:detach',
          since=mv.VIFS),
]
