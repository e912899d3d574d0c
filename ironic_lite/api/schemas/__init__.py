"""JSON Schemas of request bodies, applied in one place (:func:`create_middleware`).

:data:`BODY_SCHEMAS` maps (method, route template) to the schema of the request body; the
same table feeds the OpenAPI description (``api/openapi.py``). Schemas check the shape and
types of every field any microversion accepts; what depends on the negotiated version
(fields that appear later, verbs) and on state is checked by the controllers, which also
refuse unknown fields with version-aware messages. A body that does not match is a 400 whose
message names the field.
"""
from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import jsonschema
from aiohttp import web

from ironic_lite.api import utils
from ironic_lite.api.schemas import nodes, ports, resources
from ironic_lite.common import exception

N = '/v1/nodes/{}'
BODY_SCHEMAS: dict[tuple[str, str], dict[str, Any]] = {
    ('POST', '/v1/nodes'): nodes.NODE_CREATE,
    ('PATCH', N): nodes.JSON_PATCH,
    ('PUT', N + '/states/provision'): nodes.PROVISION,
    ('PUT', N + '/states/power'): nodes.POWER,
    ('PUT', N + '/states/console'): nodes.CONSOLE,
    ('PUT', N + '/states/boot_mode'): nodes.BOOT_MODE,
    ('PUT', N + '/states/secure_boot'): nodes.SECURE_BOOT,
    ('PUT', N + '/states/raid'): nodes.RAID,
    ('PUT', N + '/maintenance'): nodes.MAINTENANCE,
    ('PUT', N + '/management/boot_device'): nodes.BOOT_DEVICE,
    ('PUT', N + '/management/indicators/{}'): nodes.INDICATOR,
    ('PUT', N + '/management/indicators/{}/{}'): nodes.INDICATOR,
    ('PUT', N + '/traits'): nodes.TRAITS,
    ('POST', N + '/vifs'): nodes.VIF,
    ('POST', '/v1/heartbeat/{}'): nodes.HEARTBEAT,
    ('POST', '/v1/heartbeat'): nodes.HEARTBEAT_NODE_IN_BODY,
    ('POST', '/v1/ports'): ports.PORT_CREATE,
    ('PATCH', '/v1/ports/{}'): nodes.JSON_PATCH,
    ('POST', '/v1/chassis'): resources.CHASSIS_CREATE,
    ('PATCH', '/v1/chassis/{}'): nodes.JSON_PATCH,
    ('POST', '/v1/portgroups'): resources.PORTGROUP_CREATE,
    ('PATCH', '/v1/portgroups/{}'): nodes.JSON_PATCH,
    ('POST', '/v1/allocations'): resources.ALLOCATION_CREATE,
    ('PATCH', '/v1/allocations/{}'): nodes.JSON_PATCH,
    ('POST', '/v1/deploy_templates'): resources.DEPLOY_TEMPLATE_CREATE,
    ('PATCH', '/v1/deploy_templates/{}'): nodes.JSON_PATCH,
    ('POST', '/v1/volume/{}'): resources.VOLUME_CREATE,
    ('PATCH', '/v1/volume/{}/{}'): nodes.JSON_PATCH,
    ('POST', '/v1/events'): resources.EVENTS,
}
# Endpoints that exist only from a microversion: below it the controller answers 404/406, so
# the body is not looked at.
MIN_VERSIONS: dict[tuple[str, str], tuple[int, int]] = {
    ('PUT', N + '/states/raid'): (1, 12),
    ('POST', '/v1/portgroups'): (1, 23), ('PATCH', '/v1/portgroups/{}'): (1, 23),
    ('POST', '/v1/volume/{}'): (1, 32), ('PATCH', '/v1/volume/{}/{}'): (1, 32),
    ('POST', '/v1/allocations'): (1, 52), ('PATCH', '/v1/allocations/{}'): (1, 57),
    ('POST', '/v1/events'): (1, 54),
    ('POST', '/v1/deploy_templates'): (1, 55), ('PATCH', '/v1/deploy_templates/{}'): (1, 55),
    ('POST', '/v1/heartbeat/{}'): (1, 22), ('POST', '/v1/heartbeat'): (1, 22),
    ('POST', N + '/vifs'): (1, 28),
    ('PUT', N + '/traits'): (1, 37),
    ('PUT', N + '/management/indicators/{}'): (1, 63),
    ('PUT', N + '/management/indicators/{}/{}'): (1, 63),
    ('PUT', N + '/states/boot_mode'): (1, 76),
    ('PUT', N + '/states/secure_boot'): (1, 76),
}
# Bodies that may be left out (PUT …/maintenance takes an optional reason).
OPTIONAL_BODY = {('PUT', N + '/maintenance')}

_VALIDATORS: dict[int, jsonschema.protocols.Validator] = {}

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _validator(schema: dict[str, Any]):
    validator = _VALIDATORS.get(id(schema))
    if validator is None:
        cls = jsonschema.validators.validator_for(schema)
        cls.check_schema(schema)
        validator = _VALIDATORS[id(schema)] = cls(schema)
    return validator


def _field(error: jsonschema.ValidationError) -> str:
    return '/'.join(str(p) for p in error.absolute_path)


def validate(schema: dict[str, Any], body: Any) -> None:
    """Raise a 400 naming the offending field when ``body`` does not match ``schema``."""
    error = jsonschema.exceptions.best_match(_validator(schema).iter_errors(body))
    if error is None:
        return
    field = _field(error)
    if error.validator == 'required' or not field:
        raise exception.InvalidParameterValue(err=f'Invalid request body: {error.message}')
    raise exception.InvalidParameterValue(
        err=f'Invalid value for field "{field}": {error.message}')


def schema_for(method: str, route_template: str) -> dict[str, Any] | None:
    return BODY_SCHEMAS.get((method, route_template))


def create_middleware(template: Callable[[str], str]):
    """Validate the body of every request whose route has a schema, before its handler."""

    @web.middleware
    async def schema_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        resource = getattr(request.match_info.route, 'resource', None)
        if resource is not None:
            key = (request.method, template(resource.canonical))
            schema = BODY_SCHEMAS.get(key)
            if schema is not None and utils.version(request) < MIN_VERSIONS.get(key, (1, 1)):
                schema = None
            if schema is not None and (key not in OPTIONAL_BODY or request.body_exists):
                kind = list if schema.get('type') == 'array' else dict
                body = await utils.json_body(request, kind)
                if utils.big_body(request):   # never walk a big body on the event loop
                    await asyncio.to_thread(validate, schema, body)
                else:
                    validate(schema, body)
        return await handler(request)

    return schema_middleware
