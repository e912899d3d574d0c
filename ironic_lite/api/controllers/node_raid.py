"""``PUT /v1/nodes/{node}/states/raid`` (API 1.12): the node's target RAID configuration."""
from __future__ import annotations

from http import HTTPStatus

from aiohttp import web

from ironic_lite.api import keys, utils
from ironic_lite.api.route import BY_HANDLER, NODE, Route
from ironic_lite.api.schemas.nodes import RAID
from ironic_lite.common import exception

RAID_CONFIG = (1, 12)


async def set_target_raid_config(request: web.Request) -> web.Response:
    body = await utils.json_body(request)
    node = await utils.get_node(request)  # as upstream: an unknown node is 404 at any version
    if utils.version(request) < RAID_CONFIG:
        raise exception.NotAcceptable('Setting the target RAID config requires API 1.12.')
    try:
        await request.app[keys.RPCAPI].set_target_raid_config(node, body)
    except exception.UnsupportedDriverExtension as e:
        # RAID is an optional interface: upstream answers 404 when the node has none
        raise exception.UnsupportedDriverExtension(str(e), code=HTTPStatus.NOT_FOUND) \
            from None
    return web.Response(status=204)


ROUTES = [Route('PUT', NODE + '/states/raid', set_target_raid_config,
                'baremetal:node:set_raid_state', body=RAID, since=RAID_CONFIG,
                older=BY_HANDLER)]
