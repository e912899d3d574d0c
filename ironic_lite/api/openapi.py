"""OpenAPI 3 description of the API, generated from the routes' declarations
(:class:`~ironic_lite.api.route.Route`: path, handler, body schema, policy rule, query).

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
from ironic_lite.api import route
from ironic_lite.api.route import Route

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


_SUCCESS = {'GET': ('200', 'OK'), 'POST': ('201', 'Created'), 'PATCH': ('200', 'Updated'),
            'PUT': ('202', 'Accepted'), 'DELETE': ('204', 'Deleted')}
_PARAM_RE = re.compile(r'\{([^}]+)\}')


def _summary(handler: Any) -> str:
    doc = inspect.getdoc(handler) or ''
    first = doc.strip().splitlines()[0] if doc.strip() else ''
    return first or handler.__name__.replace('_', ' ').capitalize()


def _operation(path: str, declared: route.Route) -> dict[str, Any]:
    method, template, rule = declared.method, declared.template, declared.rule
    params = [{'name': name, 'in': 'path', 'required': True, 'schema': {'type': 'string'}}
              for name in _PARAM_RE.findall(path)]
    params += copy.deepcopy(list(declared.query))
    params.append(dict(_VERSION_PARAM))
    code, text = _SUCCESS.get(method, ('200', 'OK'))
    op: dict[str, Any] = {
        'operationId': f'{method.lower()}_{template.strip("/").replace("/", "_")}'
                       .replace('{}', 'id').replace('.', '_') or 'root',
        'summary': _summary(declared.handler),
        'description': f'Policy rule: `{rule}`.',
        'tags': [template.split('/')[2] if template.count('/') > 1 else 'root'],
        'parameters': params,
        'responses': {code: {'description': text}, '4XX': _ERROR, '5XX': _ERROR},
    }
    if declared.body is not None:
        op['requestBody'] = {
            'required': not declared.body_optional,
            'content': {'application/json': {'schema': copy.deepcopy(declared.body)}}}
    return op


def build(app: web.Application) -> dict[str, Any]:
    """The OpenAPI document of every route ``app`` serves."""
    paths: dict[str, dict[str, Any]] = {}
    declarations = app[route.ROUTE]
    for served in app.router.routes():
        resource = served.resource
        if resource is None or served not in declarations:
            continue
        path = resource.canonical
        if path != '/' and path.endswith('/'):
            continue  # the trailing-slash twin of a route listed already
        paths.setdefault(path, {})[served.method.lower()] = _operation(
            path, declarations[served])
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


ROUTES = [Route('GET', '/v1/openapi.json', get_openapi, 'baremetal:api:openapi')]
