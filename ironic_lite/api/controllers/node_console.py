"""``/v1/nodes/{node}/states/console``: the node's serial console (start, stop, where)."""
from __future__ import annotations

from aiohttp import web
from oslo_utils import strutils

from ironic_lite.api import keys, utils
from ironic_lite.api.route import NODE, Route
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


def _enabled(body: dict) -> bool:
    unknown = set(body) - {'enabled'}
    if unknown:
        raise exception.InvalidParameterValue(
            err=f'Unknown field(s) in console request: {", ".join(sorted(unknown))}')
    if 'enabled' not in body:
        raise exception.MissingParameterValue(err='"enabled" (a boolean) is required.')
    value = body['enabled']
    if isinstance(value, str):
        try:
            return strutils.bool_from_string(value, strict=True)
        except ValueError:
            pass
    if not isinstance(value, bool):
        raise exception.InvalidParameterValue(
            err=f'Invalid value for enabled: {value!r}; expected a boolean.')
    return value


async def set_console(request: web.Request) -> web.Response:
    enabled = _enabled(await utils.json_body(request))
    node = await utils.get_node(request)
    await request.app[keys.RPCAPI].set_console_mode(node, enabled)
    location = f'{utils.base_url(request)}/v1/nodes/{node.uuid}/states/console'
    return web.Response(status=202, headers={'Location': location})


ROUTES = [
    Route('GET', NODE + '/states/console', get_console, 'baremetal:node:get_console'),
    Route('PUT', NODE + '/states/console', set_console, 'baremetal:node:set_console_state',
          body=CONSOLE),
]
