"""Limits that keep unauthenticated or slow clients from stalling the API.

* **Body size**: ``[api]max_request_body_size`` for every request, and the much smaller
  ``[api]ramdisk_max_body_size`` for what deploy ramdisks call without credentials (lookup,
  heartbeat, the bash ramdisk's vendor passthru callbacks). A ``Content-Length`` over the
  limit is refused with 413 before anything is read; a chunked body stops being read at the
  limit (``client_max_size`` of the request).
* **Time**: a connection that stays idle or does not finish its request headers within
  ``[api]client_header_timeout`` is closed (aiohttp's keep-alive timer, which also runs
  before the first request); a body that does not arrive within ``[api]client_body_timeout``
  gets 408 (``utils.read_body``) and the connection is closed.

Large bodies are parsed off the event loop (``utils.json_body``).
"""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from oslo_config import cfg

from ironic_lite.api import auth, deploy_callback
from ironic_lite.common import exception

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# How long the server keeps reading (and dropping) a body it refused before it closes the
# connection, so that the client still reads the answer.
LINGERING_TIME_S = 5.0


def server_settings(conf: cfg.ConfigOpts) -> dict[str, Any]:
    """Keyword arguments of the aiohttp runner serving the API (all servers use these)."""
    return {'keepalive_timeout': conf.api.client_header_timeout,
            'lingering_time': LINGERING_TIME_S}


def is_ramdisk_call(request: web.Request) -> bool:
    """Lookup, heartbeat, or a bash ramdisk's callback through vendor passthru."""
    if auth.is_public(request.path) and request.path.startswith(('/v1/lookup',
                                                                   '/v1/heartbeat')):
        return True
    if '/vendor_passthru' not in request.path:
        return False
    method = request.match_info.get('method') or request.query.get('method')
    return method in deploy_callback.METHODS


def create_middleware(conf: cfg.ConfigOpts):
    @web.middleware
    async def limits_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if not request.body_exists:
            return await handler(request)
        limit = conf.api.max_request_body_size
        if is_ramdisk_call(request):
            limit = min(limit, conf.api.ramdisk_max_body_size)
            request = request.clone(client_max_size=limit)
        size = request.content_length
        if size is not None and size > limit:
            raise exception.RequestTooLarge(limit=limit, size=size)
        return await handler(request)

    return limits_middleware
