"""The request context: who is calling (user, project, roles, system scope) and the request id.

Built once per request by the auth middleware (``api/auth/``) and read by the policy
middleware and controllers through :func:`get`. With ``noauth`` and ``http_basic`` the caller
has admin rights, as in upstream Ironic; with ``keystone`` the identity comes from the headers
keystonemiddleware's auth_token sets after validating the token.

It is oslo.context's ``RequestContext`` (``common/request_context.py``): :func:`bind` makes it
the current one, so the API's log lines carry the request id and every RPC message to a
conductor carries the context on.
"""
from __future__ import annotations

from typing import Any

from aiohttp import web

from ironic_lite.common import request_context

CONTEXT = web.RequestKey('context', object)
REQUEST_ID = web.RequestKey('request_id', str)
# The header a client may send to have its own request id logged as the global one (and the
# header the API answers with its own id: access_log.REQUEST_ID_HEADER).
_INBOUND_ID_HEADER = 'X-OpenStack-Request-Id'


class RequestContext(request_context.RequestContext):
    """oslo.context's context plus ``is_public_api`` (the ramdisk's unauthenticated routes)."""

    def __init__(self, *, is_public_api: bool = False, **kwargs: Any):
        kwargs.setdefault('overwrite', False)  # the current context is a ContextVar here
        super().__init__(**kwargs)
        self.is_public_api = is_public_api

    def to_policy_values(self) -> dict[str, Any]:  # type: ignore[override]
        """The credentials oslo.policy checks match against (``role:``, ``project_id:``…)."""
        return {
            'user_id': self.user_id, 'user_name': self.user_name,
            'project_id': self.project_id, 'project_name': self.project_name,
            'project_domain_id': self.project_domain_id, 'roles': list(self.roles),
            'system_scope': self.system_scope, 'is_admin': self.is_admin,
            'is_public_api': self.is_public_api,
        }

    @property
    def is_system_scoped(self) -> bool:
        return self.system_scope == 'all'


def admin(user_name: str | None = None) -> RequestContext:
    """The context of a ``noauth`` or ``http_basic`` caller: full rights, as upstream."""
    return RequestContext(user_id=user_name, user_name=user_name, roles=['admin'],
                          system_scope='all', is_admin=True)


def public() -> RequestContext:
    """The context of an unauthenticated request to a public endpoint (lookup, heartbeat)."""
    return RequestContext(is_public_api=True)


def _roles(value: str | None) -> list[str]:
    return [r.strip().lower() for r in (value or '').split(',') if r.strip()]


def from_auth_headers(headers: Any, auth_token: str | None = None) -> RequestContext:
    """The context described by the ``X-*`` headers keystonemiddleware sets on a request
    whose token it validated (``X-Roles``, ``X-Project-Id``, ``OpenStack-System-Scope``…)."""
    return RequestContext(
        user_id=headers.get('X-User-Id'), user_name=headers.get('X-User-Name'),
        project_id=headers.get('X-Project-Id'), project_name=headers.get('X-Project-Name'),
        project_domain_id=headers.get('X-Project-Domain-Id'),
        roles=_roles(headers.get('X-Roles')),
        system_scope=headers.get('OpenStack-System-Scope'), auth_token=auth_token)


def start_request(request: web.Request) -> str:
    """A new request id for ``request`` (what the API answers in X-OpenStack-Request-Id),
    made current at once so that every log line of the request carries it."""
    request_id = request_context.generate_request_id()
    request[REQUEST_ID] = request_id
    request_context.set_current(request_context.RequestContext(
        request_id=request_id, overwrite=False,
        global_request_id=request_context.global_request_id(
            request.headers.get(_INBOUND_ID_HEADER))))
    return request_id


def bind(request: web.Request, ctx: RequestContext) -> None:
    """Store the caller's context on ``request`` under the request's id; make it current."""
    started = request_context.current()
    ctx.request_id = request.get(REQUEST_ID) or ctx.request_id
    if started is not None and started.request_id == ctx.request_id:
        ctx.global_request_id = started.global_request_id
    request[CONTEXT] = ctx
    request_context.set_current(ctx)


def get(request: web.Request) -> RequestContext:
    """The caller's context; admin when no auth middleware ran (e.g. a bare test app)."""
    ctx = request.get(CONTEXT)
    return ctx if isinstance(ctx, RequestContext) else admin()
