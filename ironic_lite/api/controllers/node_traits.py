"""``/v1/nodes/{node}/traits`` (API 1.37): list, replace all, add one, remove one or all.

Trait names are standard ``os-traits`` names or ``CUSTOM_`` + upper-case letters, digits and
underscores, at most 255 characters, as upstream. Changes go through the node's conductor,
under the node's lock.
"""
from __future__ import annotations

import re
from typing import Any

import os_traits
from aiohttp import web

from ironic_lite.api import keys, utils
from ironic_lite.api import microversion as mv
from ironic_lite.api.route import BY_HANDLER, NODE, Route
from ironic_lite.api.schemas.nodes import TRAITS
from ironic_lite.common import exception

_CUSTOM_RE = re.compile(r'CUSTOM_[A-Z0-9_]+')
_STANDARD = frozenset(os_traits.get_traits())


def check_trait(value: Any) -> str:
    if not isinstance(value, str) or not 0 < len(value) <= 255 or not (
            value in _STANDARD or _CUSTOM_RE.fullmatch(value)):
        raise exception.InvalidParameterValue(
            err=f'Invalid trait {value!r}: a trait must be a standard trait of os-traits or '
                'a custom trait matching ^CUSTOM_[A-Z0-9_]+$, at most 255 characters.')
    return value


async def list_traits(request: web.Request) -> web.Response:
    node = await utils.get_node(request)
    if utils.version(request) < mv.TRAITS:
        # Upstream routes this to GET /v1/nodes/{node} with "traits" as its fields: the
        # node is looked up, then the field is too new (406). Other methods: see
        # api/endpoint_versions.py.
        raise exception.NotAcceptable(
            f'Node traits are not available in API version {mv.fmt(utils.version(request))}; '
            f'they need {mv.fmt(mv.TRAITS)}.')
    return web.json_response({'traits': await request.app[keys.DB].get_node_traits(node.id)})


async def set_traits(request: web.Request) -> web.Response:
    body = await utils.json_body(request) if (await utils.read_body(request)).strip() else {}
    traits = body.get('traits')
    if set(body) != {'traits'} or not isinstance(traits, list):
        raise exception.InvalidParameterValue(
            err='A single node trait may be added via PUT /v1/nodes/<node identifier>/traits/'
                '<trait> with no body, or all node traits may be replaced via PUT '
                '/v1/nodes/<node identifier>/traits with the list of traits specified in the '
                'request body: {"traits": [...]}.')
    for trait in traits:
        check_trait(trait)
    node = await utils.get_node(request)
    await request.app[keys.RPCAPI].add_node_traits(node, traits, replace=True)
    return web.Response(status=204)


async def add_trait(request: web.Request) -> web.Response:
    trait = check_trait(request.match_info['trait'])
    # An empty body, or an empty JSON object (what some clients send), as upstream.
    body = await utils.json_body(request) if (await utils.read_body(request)).strip() else {}
    node = await utils.get_node(request)
    if 'traits' in body:
        raise exception.InvalidParameterValue(
            err='A single node trait may be added via PUT /v1/nodes/<node identifier>/traits/'
                '<trait> with no body, or all node traits may be replaced via PUT '
                '/v1/nodes/<node identifier>/traits with the list of traits specified in the '
                'request body.')
    if body:
        raise exception.InvalidParameterValue(err='No body should be provided when adding '
                                                  'a trait.')
    await request.app[keys.RPCAPI].add_node_traits(node, [trait], replace=False)
    location = f'{utils.base_url(request)}/v1/nodes/{node.uuid}/traits/{trait}'
    return web.Response(status=204, headers={'Location': location})


async def remove_trait(request: web.Request) -> web.Response:
    trait = request.match_info['trait']
    node = await utils.get_node(request)
    await request.app[keys.RPCAPI].remove_node_traits(node, [trait])
    return web.Response(status=204)


async def remove_all_traits(request: web.Request) -> web.Response:
    node = await utils.get_node(request)
    await request.app[keys.RPCAPI].remove_node_traits(node, None)
    return web.Response(status=204)


# Below 1.37 upstream routes these paths to the node controller: GET is answered by
# list_traits (406, after looking the node up), PUT 405 (no put there), DELETE 404.
ROUTES = [
    Route('GET', NODE + '/traits', list_traits, 'baremetal:node:traits:list', since=mv.TRAITS,
          older=BY_HANDLER),
    Route('PUT', NODE + '/traits', set_traits, 'baremetal:node:traits:set', body=TRAITS,
          since=mv.TRAITS, older=405),
    Route('DELETE', NODE + '/traits', remove_all_traits, 'baremetal:node:traits:delete',
          since=mv.TRAITS),
    Route('PUT', NODE + '/traits/{trait}', add_trait, 'baremetal:node:traits:set',
          since=mv.TRAITS, older=405),
    Route('DELETE', NODE + '/traits/{trait}', remove_trait, 'baremetal:node:traits:delete',
          since=mv.TRAITS),
]
