"""JSON Schemas of request bodies, applied in one place (:data:`middleware`).

Each route declares its body schema (``body`` of its :class:`~ironic_lite.api.route.Route`,
from its first microversion on); the same declaration feeds the OpenAPI description
(``api/openapi.py``). Schemas check the shape and types of every field any microversion
accepts; a route's ``body_fields`` adds the versions of optional fields and verbs. What
depends on state, and on other fields, is checked by the controllers. A body that does not
match is a 400 whose message names the field.
"""
from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import jsonschema
from aiohttp import web

from ironic_lite.api import route, utils
from ironic_lite.common import exception

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


@web.middleware
async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Validate the body of every request whose route declares a schema, before its
    handler."""
    declared = route.of(request)
    if declared is not None and declared.body is not None:
        version = utils.version(request)
        schema = declared.body_schema(version)
        if schema is not None and (not declared.body_optional or request.body_exists):
            kind = list if schema.get('type') == 'array' else dict
            body = await utils.json_body(request, kind)
            if utils.big_body(request):   # never walk a big body on the event loop
                await asyncio.to_thread(validate, schema, body)
            else:
                validate(schema, body)
            declared.check_body_fields(body, version)
    return await handler(request)
