"""OpenAPI 3 description of the API, generated from the application's own route table, the
request-body schemas (``api/schemas``) and the policy table (``api/policy.py``).

Served at ``GET /v1/openapi.json`` (public; upstream Ironic has no such path) and written to a
file by ``tools/openapi.py``. Every route the application registers appears, so the
description cannot drift from what is served.
"""
from __future__ import annotations

import copy
import inspect
import re
from typing import Any

from aiohttp import web

from ironic_lite.api import microversion as mv
from ironic_lite.api import policy, schemas

_ERROR = {
    'description': 'Ironic error: error_message is a JSON-encoded string of '
                   '{faultcode, faultstring, debuginfo}',
    'content': {'application/json': {'schema': {
        'type': 'object', 'properties': {'error_message': {'type': 'string'}},
        'required': ['error_message']}}},
}
_VERSIONS = [mv.fmt((1, minor)) for minor in range(mv.MIN_VERSION[1], mv.MAX_VERSION[1] + 1)]
_VERSION_PARAM = {
    'name': mv.HEADER, 'in': 'header', 'required': False,
    'description': 'Requested API microversion (default: the minimum).',
    'schema': {'type': 'string', 'enum': [*_VERSIONS, 'latest']},
}


def _query(name: str, schema: dict[str, Any], description: str = '') -> dict[str, Any]:
    return {'name': name, 'in': 'query', 'required': False, 'schema': schema,
            'description': description}


_LIST = [
    _query('limit', {'type': 'integer', 'minimum': 0}, 'Page size'),
    _query('marker', {'type': 'string', 'format': 'uuid'}, 'Last UUID of the previous page'),
    _query('sort_key', {'type': 'string'}), _query('sort_dir', {'enum': ['asc', 'desc']}),
    _query('fields', {'type': 'string'}, 'Comma-separated fields to return (1.8)'),
]
_NODE_FILTERS = [
    _query('associated', {'type': 'boolean'}), _query('maintenance', {'type': 'boolean'}),
    _query('retired', {'type': 'boolean'}), _query('provision_state', {'type': 'string'}),
    _query('driver', {'type': 'string'}), _query('resource_class', {'type': 'string'}),
    _query('instance_uuid', {'type': 'string', 'format': 'uuid'}),
    _query('conductor_group', {'type': 'string'}), _query('owner', {'type': 'string'}),
    _query('lessee', {'type': 'string'}), _query('fault', {'type': 'string'}),
    _query('detail', {'type': 'boolean'}),
]
QUERY_PARAMS: dict[tuple[str, str], list[dict[str, Any]]] = {
    ('GET', '/v1/nodes'): _LIST + _NODE_FILTERS,
    ('GET', '/v1/nodes/detail'): _LIST + _NODE_FILTERS,
    ('GET', '/v1/nodes/{}'): [_query('fields', {'type': 'string'})],
    ('GET', '/v1/ports'): _LIST + [_query('node', {'type': 'string'}),
                                   _query('address', {'type': 'string'}),
                                   _query('detail', {'type': 'boolean'})],
    ('GET', '/v1/ports/detail'): _LIST + [_query('node', {'type': 'string'})],
    ('GET', '/v1/ports/{}'): [_query('fields', {'type': 'string'})],
    ('GET', '/v1/drivers'): [_query('detail', {'type': 'boolean'}),
                             _query('type', {'enum': ['classic', 'dynamic']})],
    ('GET', '/v1/lookup'): [_query('addresses', {'type': 'string'}, 'Comma-separated MACs'),
                            _query('node_uuid', {'type': 'string', 'format': 'uuid'})],
}
_SUCCESS = {'GET': ('200', 'OK'), 'POST': ('201', 'Created'), 'PATCH': ('200', 'Updated'),
            'PUT': ('202', 'Accepted'), 'DELETE': ('204', 'Deleted')}
_PARAM_RE = re.compile(r'\{([^}]+)\}')


def _summary(handler: Any) -> str:
    doc = inspect.getdoc(handler) or ''
    first = doc.strip().splitlines()[0] if doc.strip() else ''
    return first or handler.__name__.replace('_', ' ').capitalize()


def _operation(method: str, path: str, handler: Any) -> dict[str, Any]:
    template = policy.template(path)
    rule = policy.rule_for(method, template)
    params = [{'name': name, 'in': 'path', 'required': True, 'schema': {'type': 'string'}}
              for name in _PARAM_RE.findall(path)]
    params += copy.deepcopy(QUERY_PARAMS.get((method, template), []))
    params.append(dict(_VERSION_PARAM))
    code, text = _SUCCESS.get(method, ('200', 'OK'))
    op: dict[str, Any] = {
        'operationId': f'{method.lower()}_{template.strip("/").replace("/", "_")}'
                       .replace('{}', 'id').replace('.', '_') or 'root',
        'summary': _summary(handler),
        'description': f'Policy rule: `{rule}`.',
        'tags': [template.split('/')[2] if template.count('/') > 1 else 'root'],
        'parameters': params,
        'responses': {code: {'description': text}, '4XX': _ERROR, '5XX': _ERROR},
    }
    body = schemas.schema_for(method, template)
    if body is not None:
        op['requestBody'] = {
            'required': (method, template) not in schemas.OPTIONAL_BODY,
            'content': {'application/json': {'schema': copy.deepcopy(body)}}}
    return op


def build(app: web.Application) -> dict[str, Any]:
    """The OpenAPI document of every route ``app`` serves."""
    paths: dict[str, dict[str, Any]] = {}
    for route in app.router.routes():
        resource = route.resource
        if resource is None or route.method in ('HEAD', '*'):
            continue
        path = resource.canonical
        if path != '/' and path.endswith('/'):
            continue  # the trailing-slash twin of a route listed already
        paths.setdefault(path, {})[route.method.lower()] = _operation(
            route.method, path, route.handler)
    return {
        'openapi': '3.0.3',
        'info': {'title': 'OpenStack Ironic API (ironic_lite)',
                 'version': mv.fmt(mv.MAX_VERSION),
                 'description': 'Bare metal provisioning, compatible with OpenStack Ironic '
                                f'v1 microversions {mv.fmt(mv.MIN_VERSION)}-'
                                f'{mv.fmt(mv.MAX_VERSION)}.'},
        'paths': dict(sorted(paths.items())),
        'components': {'securitySchemes': {
            'keystone': {'type': 'apiKey', 'in': 'header', 'name': 'X-Auth-Token'},
            'http_basic': {'type': 'http', 'scheme': 'basic'}}},
    }


async def get_openapi(request: web.Request) -> web.Response:
    """The OpenAPI 3 description of this API."""
    return web.json_response(build(request.app))


ROUTES = [('GET', '/v1/openapi.json', get_openapi)]
