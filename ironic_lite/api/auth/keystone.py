"""``auth_strategy = keystone``: keystonemiddleware's auth_token, wrapped for aiohttp.

auth_token is WSGI middleware. Its request processing (strip client-sent identity headers,
validate the ``X-Auth-Token`` with Keystone, set ``X-Roles``/``X-Project-Id``/
``OpenStack-System-Scope``…) is run on a webob request built from the aiohttp request, in a
worker thread (it makes blocking HTTP calls to Keystone). Its ``[keystone_authtoken]`` options
are read from our configuration object. A rejected token is a 401 with Ironic's error body
and the ``WWW-Authenticate: Keystone uri=…`` challenge.
"""
from __future__ import annotations

import asyncio
import logging

import webob.exc
from aiohttp import web
from keystonemiddleware import auth_token
from keystonemiddleware.auth_token import _request
from multidict import CIMultiDict
from oslo_config import cfg

from ironic_lite.api import auth, context

LOG = logging.getLogger(__name__)


def _no_app(environ, start_response):  # pragma: no cover - never called
    start_response('500 Internal Server Error', [])
    return [b'']


class KeystoneAuthenticator:
    def __init__(self, conf: cfg.ConfigOpts):
        self._protocol = auth_token.AuthProtocol(_no_app, {'oslo_config_config': conf})

    def _process(self, method: str, path_qs: str, headers: dict[str, str]):
        request = _request._AuthTokenRequest.blank(path_qs, method=method)
        for name, value in headers.items():
            request.headers[name] = value
        try:
            response = self._protocol.process_request(request)
        except webob.exc.HTTPException as e:
            response = e
        if response is not None:
            return response.status_int, dict(response.headers), None
        return 200, {}, CIMultiDict(request.headers.items())

    async def __call__(self, request: web.Request) -> context.RequestContext:
        status, headers, identity = await asyncio.to_thread(
            self._process, request.method, request.path_qs, dict(request.headers))
        if identity is None:
            challenge = headers.get('WWW-Authenticate') or 'Keystone'
            if status == 401:
                raise auth.Unauthorized(
                    'The request you have made requires authentication.', challenge)
            LOG.error('auth_token answered %s', status)
            raise auth.Unauthorized('Authentication failed.', challenge)
        return context.from_auth_headers(identity, identity.get('X-Auth-Token'))
