"""``/v1/nodes/{node}/management/…`` beyond the boot device: NMI injection (1.29) and
indicators, i.e. the LEDs of the node's components (1.63).

Indicators are named ``<indicator>@<component>`` in URLs, as upstream.
"""
from __future__ import annotations

from aiohttp import web

from ironic_lite.api import keys, utils
from ironic_lite.api import microversion as mv
from ironic_lite.api.route import BY_HANDLER, NODE, Route
from ironic_lite.api.schemas.nodes import INDICATOR
from ironic_lite.common import exception


async def inject_nmi(request: web.Request) -> web.Response:
    if (await utils.read_body(request)).strip():
        body = await utils.json_body(request)
        if body:
            raise exception.InvalidParameterValue(
                err=f'Unknown field(s) in inject_nmi request: {", ".join(sorted(body))}')
    node = await utils.get_node(request)
    await request.app[keys.RPCAPI].inject_nmi(node)
    return web.Response(status=204)


def _split(unique_name: str) -> tuple[str, str]:
    """``name@component`` -> ``(component, name)``."""
    name, sep, component = unique_name.partition('@')
    if not sep or not name or not component:
        raise exception.InvalidParameterValue(
            err=f'Malformed indicator name "{unique_name}": expected <indicator>@<component>.')
    return component, name


async def list_indicators(request: web.Request) -> web.Response:
    node = await utils.get_node(request)
    supported = await request.app[keys.RPCAPI].get_supported_indicators(node)
    base = utils.base_url(request)
    out = []
    for component, names in supported.items():
        for name, fields in names.items():
            unique = f'{name}@{component}'
            path = f'nodes/{node.uuid}/management/indicators/{unique}'
            out.append({
                'name': unique, 'component': component,
                'readonly': fields.get('readonly', True), 'states': fields.get('states', []),
                'links': [{'href': f'{base}/v1/{path}', 'rel': 'self'},
                          {'href': f'{base}/{path}', 'rel': 'bookmark'}],
            })
    return web.json_response({'indicators': out})


async def get_indicator(request: web.Request) -> web.Response:
    component, name = _split(request.match_info['indicator'])
    node = await utils.get_node(request)
    state = await request.app[keys.RPCAPI].get_indicator_state(node, component, name)
    return web.json_response({'state': state})


async def set_indicator(request: web.Request) -> web.Response:
    component, name = _split(request.match_info['indicator'])
    body = await utils.json_body(request)
    unknown = set(body) - {'state'}
    if unknown:
        raise exception.InvalidParameterValue(
            err=f'Unknown field(s) in indicator request: {", ".join(sorted(unknown))}')
    state = body.get('state')
    if not isinstance(state, str) or not state:
        raise exception.MissingParameterValue(err='"state" (a string) is required.')
    node = await utils.get_node(request)
    await request.app[keys.RPCAPI].set_indicator_state(node, component, name, state)
    return web.Response(status=204)


# Indicators (1.63) are not gated: upstream serves them at any version; their body is
# checked from 1.63.
ROUTES = [
    Route('PUT', NODE + '/management/inject_nmi', inject_nmi, 'baremetal:node:inject_nmi',
          since=mv.INJECT_NMI),
    Route('GET', NODE + '/management/indicators', list_indicators,
          'baremetal:node:get_indicator_state'),
    Route('GET', NODE + '/management/indicators/{indicator}', get_indicator,
          'baremetal:node:get_indicator_state'),
    Route('PUT', NODE + '/management/indicators/{indicator}', set_indicator,
          'baremetal:node:set_indicator_state', body=INDICATOR, since=mv.INDICATORS,
          older=BY_HANDLER),
]
