"""``/v1/nodes/{node}/bios[/{name}]`` (1.40): the node's cached BIOS settings.

Settings are what the node's BIOS interface last read back; with ``no-bios`` (and the fake
hardware type) the list is empty. Hidden (404) below 1.40, as upstream.
"""
from __future__ import annotations

from aiohttp import web

from ironic_lite.api import keys, utils
from ironic_lite.api import microversion as mv
from ironic_lite.api.controllers import collection as col
from ironic_lite.api.route import NODE, Route
from ironic_lite.common import resource_errors as errors
from ironic_lite.db import models


def _view(request: web.Request, node_uuid: str, setting: models.BIOSSetting) -> dict:
    return {'name': setting.name, 'value': setting.value,
            'created_at': col.timestamp(setting.created_at),
            'updated_at': col.timestamp(setting.updated_at),
            'links': utils.links(request, 'nodes', f'{node_uuid}/bios/{setting.name}')}


async def list_bios(request: web.Request) -> web.Response:
    node = await utils.get_node(request)
    settings = await request.app[keys.DB].list_bios_settings(node.id)
    return web.json_response({'bios': [_view(request, node.uuid, s) for s in settings]})


async def get_bios(request: web.Request) -> web.Response:
    node = await utils.get_node(request)
    name = request.match_info['name']
    for setting in await request.app[keys.DB].list_bios_settings(node.id):
        if setting.name == name:
            return web.json_response({name: _view(request, node.uuid, setting)})
    raise errors.BIOSSettingNotFound(node=node.uuid, name=name)


ROUTES = [
    Route('GET', NODE + '/bios', list_bios, 'baremetal:node:bios:get',
          since=mv.BIOS),
    Route('GET', NODE + '/bios/{name}', get_bios, 'baremetal:node:bios:get',
          since=mv.BIOS),
]
