"""Authentication: one aiohttp middleware per ``[DEFAULT]auth_strategy``.

Every strategy stores the caller's :class:`~ironic_lite.api.context.RequestContext` on the
request. Public endpoints (version discovery, the ramdisk's lookup and heartbeat, the OpenAPI
description) are served without credentials under every strategy, as upstream Ironic does.
"""
from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

from aiohttp import web
from oslo_config import cfg

from ironic_lite.api import context
from ironic_lite.common import exception

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# Paths served without authentication (upstream Ironic's public routes).
PUBLIC_ROUTES = (
    re.compile(r'^/$'),
    re.compile(r'^/v1/?$'),
    re.compile(r'^/v1/lookup/?$'),
    re.compile(r'^/v1/heartbeat/[^/]+/?$'),
    re.compile(r'^/v1/openapi\.json$'),
)


class Unauthorized(exception.IronicLiteException):
    """401 with a ``WWW-Authenticate`` challenge (``errors.py`` copies ``headers``)."""
    code = 401
    challenge = 'Basic realm="Baremetal API"'

    def __init__(self, message: str | None = None, challenge: str | None = None):
        super().__init__(message)
        self.headers = {'WWW-Authenticate': challenge or self.challenge}


def is_public(path: str) -> bool:
    return any(route.match(path) for route in PUBLIC_ROUTES)


def create_middleware(conf: cfg.ConfigOpts):
    """The middleware for the configured strategy (checked once, at application start)."""
    strategy = conf.auth_strategy
    if strategy == 'http_basic':
        from ironic_lite.api.auth import basic
        authenticate = basic.BasicAuthenticator(conf.http_basic_auth_user_file)
    elif strategy == 'keystone':
        from ironic_lite.api.auth import keystone
        authenticate = keystone.KeystoneAuthenticator(conf)
    else:
        authenticate = None

    @web.middleware
    async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if authenticate is None:
            # noauth: X-Auth-Token (clients send "notused") is ignored; full rights
            context.bind(request, context.admin())
        elif is_public(request.path):
            context.bind(request, context.public())
        else:
            context.bind(request, await authenticate(request))
        return await handler(request)

    return auth_middleware
