"""Field redaction in node responses, as upstream Ironic: a caller below the
``baremetal:node:get:filter_threshold`` rule (not a system reader) sees ``last_error``,
``reservation``, ``driver_internal_info`` and ``driver_info`` of a node only when the
field's own rule allows it (by default: readers of the owning project, not the lessee).
"""
from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from aiohttp import web

from ironic_lite.api import keys
from ironic_lite.common import exception

THRESHOLD = 'baremetal:node:get:filter_threshold'
FIELD_RULES = {
    'last_error': 'baremetal:node:get:last_error',
    'reservation': 'baremetal:node:get:reservation',
    'driver_internal_info': 'baremetal:node:get:driver_internal_info',
    'driver_info': 'baremetal:node:get:driver_info',
}
NODE_READS = {('GET', '/v1/nodes'), ('GET', '/v1/nodes/detail'), ('GET', '/v1/nodes/{}')}

Check = Callable[[str, dict[str, Any]], bool]


def mask(rule: str) -> str:
    return f'** Value Redacted - Requires {rule} permission. **'


async def _owner_lessee(request: web.Request, node: dict) -> dict[str, Any]:
    if 'owner' in node and 'lessee' in node:
        return {'node.owner': node['owner'], 'node.lessee': node['lessee']}
    if not isinstance(node.get('uuid'), str):
        return {}
    try:
        record = await request.app[keys.DB].get_node(node['uuid'])
    except exception.NotFound:
        return {}
    return {'node.owner': record.owner, 'node.lessee': record.lessee}


async def redact_nodes(request: web.Request, response: web.StreamResponse,
                       check: Check) -> web.StreamResponse:
    """Mask the fields the caller may not read in a node (or node list) JSON response."""
    if (not isinstance(response, web.Response) or response.status != 200
            or response.content_type != 'application/json' or check(THRESHOLD, {})):
        return response
    body = json.loads(response.body)
    nodes = body.get('nodes') if isinstance(body.get('nodes'), list) else [body]
    changed = False
    for node in nodes:
        if not isinstance(node, dict) or not FIELD_RULES.keys() & node.keys():
            continue
        target = await _owner_lessee(request, node)
        for field, rule in FIELD_RULES.items():
            if field in node and node[field] is not None and not check(rule, target):
                node[field] = {'content': mask(rule)} if isinstance(node[field], dict) \
                    else mask(rule)
                changed = True
    if changed:
        response.body = json.dumps(body).encode()
    return response
