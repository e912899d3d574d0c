"""``/v1/nodes/{node}/states/console``: the node's serial console (start, stop, where)."""
from __future__ import annotations

from aiohttp import web

from ironic_lite.api import keys, utils
from ironic_lite.api.route import NODE, BodyFields, Route
from ironic_lite.api.schemas.nodes import CONSOLE
from ironic_lite.common import exception


async def get_console(request: web.Request) -> web.Response:
    node = await utils.get_node(request)
    try:
        info = await request.app[keys.RPCAPI].get_console_information(node)
        enabled = True
    except exception.NodeConsoleNotEnabled:
        info, enabled = None, False
    return web.json_response({'console_enabled': enabled, 'console_info': info})


async def set_console(request: web.Request) -> web.Response:
    # a boolean, and nothing else: checked by the route's declaration
    enabled = (await utils.json_body(request))['enabled']
    node = await utils.get_node(request)
    await request.app[keys.RPCAPI].set_console_mode(node, enabled)
    location = f'{utils.base_url(request)}/v1/nodes/{node.uuid}/states/console'
    return web.Response(status=202, headers={'Location': location})


ROUTES = [
    Route('GET', NODE + '/states/console', get_console, 'baremetal:node:get_console'),
    Route('PUT', NODE + '/states/console', set_console, 'baremetal:node:set_console_state',
          body=CONSOLE, body_fields=BodyFields(noun='console')),
]
