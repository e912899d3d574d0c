"""The request context: who is calling (user, project, roles, system scope).

Built once per request by the auth middleware (``api/auth/``) and read by the policy
middleware and controllers through :func:`get`. With ``noauth`` and ``http_basic`` the caller
has admin rights, as in upstream Ironic; with ``keystone`` the identity comes from the headers
keystonemiddleware's auth_token sets after validating the token.
"""
from __future__ import annotations

import dataclasses
from typing import Any

from aiohttp import web

CONTEXT = web.RequestKey('context', object)


@dataclasses.dataclass(frozen=True)
class RequestContext:
    user_id: str | None = None
    user_name: str | None = None
    project_id: str | None = None
    project_name: str | None = None
    domain_id: str | None = None
    roles: tuple[str, ...] = ()
    system_scope: str | None = None
    is_admin: bool = False
    is_public_api: bool = False
    auth_token: str | None = dataclasses.field(default=None, repr=False)

    def to_policy_values(self) -> dict[str, Any]:
        """The credentials oslo.policy checks match against (``role:``, ``project_id:``…)."""
        return {
            'user_id': self.user_id, 'user_name': self.user_name,
            'project_id': self.project_id, 'project_name': self.project_name,
            'project_domain_id': self.domain_id, 'roles': list(self.roles),
            'system_scope': self.system_scope, 'is_admin': self.is_admin,
            'is_public_api': self.is_public_api,
        }

    @property
    def is_system_scoped(self) -> bool:
        return self.system_scope == 'all'


def admin(user_name: str | None = None) -> RequestContext:
    """The context of a ``noauth`` or ``http_basic`` caller: full rights, as upstream."""
    return RequestContext(user_id=user_name, user_name=user_name, roles=('admin',),
                          system_scope='all', is_admin=True)


def public() -> RequestContext:
    """The context of an unauthenticated request to a public endpoint (lookup, heartbeat)."""
    return RequestContext(is_public_api=True)


def _roles(value: str | None) -> tuple[str, ...]:
    return tuple(r.strip().lower() for r in (value or '').split(',') if r.strip())


def from_auth_headers(headers: Any, auth_token: str | None = None) -> RequestContext:
    """The context described by the ``X-*`` headers keystonemiddleware sets on a request
    whose token it validated (``X-Roles``, ``X-Project-Id``, ``OpenStack-System-Scope``…)."""
    return RequestContext(
        user_id=headers.get('X-User-Id'), user_name=headers.get('X-User-Name'),
        project_id=headers.get('X-Project-Id'), project_name=headers.get('X-Project-Name'),
        domain_id=headers.get('X-Project-Domain-Id'), roles=_roles(headers.get('X-Roles')),
        system_scope=headers.get('OpenStack-System-Scope'), auth_token=auth_token)


def get(request: web.Request) -> RequestContext:
    """The caller's context; admin when no auth middleware ran (e.g. a bare test app)."""
    ctx = request.get(CONTEXT)
    return ctx if isinstance(ctx, RequestContext) else admin()
