"""The declaration of an API route: everything known about one method on one path, in one
place.

Each controller lists its routes as :class:`Route` values in its ``ROUTES``;
``api/route_table.py`` gathers them. Everything else is derived from the declarations, never
written a second time:

* routing (``api/app.py``): ``method``, ``path``, ``handler``;
* version gating (``api/endpoint_versions.py``): ``since`` and ``older``;
* body validation (``api/schemas``): ``body``, ``body_optional``, and from ``since`` on only;
  ``body_fields`` adds the version of each optional field and of each ``target`` verb;
* policy (``api/policy.py``): ``rule``, and the rule's documented operations;
* the OpenAPI document (``api/openapi.py``): all of the above and ``query``.

A later microversion adds a field to ``BodyFields.fields`` or a verb to ``BodyFields.verbs``
of the route it concerns; a new endpoint is one more :class:`Route` with its ``since``.
"""
from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from ironic_lite.api import microversion as mv
from ironic_lite.common import exception

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Schema = dict[str, Any]

# ``older``: below ``since`` the handler itself answers (upstream looks the node up first and
# then answers 406, or serves the path at any version); only the body check waits for
# ``since``.
BY_HANDLER = 0
NODE = '/v1/nodes/{node_ident}'   # the prefix of node sub-resources
_PARAM_RE = re.compile(r'\{[^}]*\}')


def template(path: str) -> str:
    """A route's path with every parameter written ``{}``, no trailing slash."""
    return _PARAM_RE.sub('{}', path.rstrip('/') or '/')


@dataclass(frozen=True, slots=True)
class BodyFields:
    """Versions inside a request body, checked after its schema, in this order and with
    upstream's answers: the ``target`` verb (400 when the schema's ``target`` enum lacks it),
    fields the schema does not describe or that this build does not serve yet (400), a verb
    newer than the request (406, upstream's ``check_allow_management_verbs``), then optional
    fields newer than the request (406).
    """

    noun: str                                      # "provision": names the request in errors
    # optional field -> the version introducing it; None: described by the schema (for a
    # later microversion) but not served by this build, refused as an unknown field
    fields: Mapping[str, mv.Version | None] = field(default_factory=dict)
    # ``target`` verb -> the version introducing it (absent: every version)
    verbs: Mapping[str, mv.Version] = field(default_factory=dict)

    def check(self, body: dict[str, Any], known: frozenset[str], verb_names: frozenset[str],
              ver: mv.Version) -> None:
        if verb_names:
            target = body.get('target')
            if not isinstance(target, str) or target not in verb_names:
                raise exception.InvalidParameterValue(
                    err=f'"{target}" is not a valid {self.noun} state target at API version '
                        f'{mv.fmt(ver)}.')
        unknown = [name for name in body if name not in known]
        if unknown:
            raise exception.InvalidParameterValue(
                err=f'Unknown field(s) in {self.noun} request: {", ".join(sorted(unknown))}')
        if verb_names and ver < self.verbs.get(body['target'], mv.MIN_VERSION):
            raise exception.NotAcceptable(
                f'"{body["target"]}" requires API version '
                f'{mv.fmt(self.verbs[body["target"]])}; {mv.fmt(ver)} was used.')
        for name, since in self.fields.items():
            if since is not None and name in body and ver < since:
                raise exception.NotAcceptable(
                    f'"{name}" requires API version {mv.fmt(since)}; {mv.fmt(ver)} was used.')


@dataclass(frozen=True, slots=True)
class Route:
    """One method on one path (see the module doc for who reads which attribute)."""

    method: str
    path: str                      # aiohttp path, parameters named: /v1/nodes/{node_ident}
    handler: Handler
    rule: str                      # the policy rule that guards it (api/policy_rules.py)
    body: Schema | None = None     # JSON schema of the request body
    body_optional: bool = False    # the body may be left out (PUT …/maintenance)
    since: mv.Version = mv.MIN_VERSION   # first microversion serving it
    older: int = 404               # upstream's status below ``since``: 404, 405 or BY_HANDLER
    body_fields: BodyFields | None = None
    query: tuple[dict[str, Any], ...] = ()   # query parameters, for the OpenAPI document
    template: str = field(init=False)        # path with parameters written "{}"
    known_fields: frozenset[str] = field(init=False)   # body properties this build serves
    verb_names: frozenset[str] = field(init=False)     # its ``target`` enum, if any

    def __post_init__(self) -> None:
        properties = (self.body or {}).get('properties', {})
        object.__setattr__(self, 'template', template(self.path))
        unserved = {name for name, since in
                    (self.body_fields.fields if self.body_fields else {}).items()
                    if since is None}
        object.__setattr__(self, 'known_fields', frozenset(properties).difference(unserved))
        object.__setattr__(self, 'verb_names',
                           frozenset(properties.get('target', {}).get('enum', ())))

    @property
    def key(self) -> tuple[str, str]:
        return self.method, self.template

    def check_version(self, ver: mv.Version) -> None:
        """Raise upstream's answer when the route is newer than ``ver``."""
        if ver >= self.since or self.older == BY_HANDLER:
            return
        message = (f'The API version {mv.fmt(ver)} does not have this endpoint; it needs '
                   f'{mv.fmt(self.since)}.')
        if self.older == 405:
            raise exception.MethodNotAllowed(message)
        raise exception.NotFound(message)

    def body_schema(self, ver: mv.Version) -> Schema | None:
        """The schema the body must match at ``ver`` (none below ``since``)."""
        return self.body if ver >= self.since else None

    def check_body_fields(self, body: Any, ver: mv.Version) -> None:
        if self.body_fields is not None and ver >= self.since and isinstance(body, dict):
            self.body_fields.check(body, self.known_fields, self.verb_names, ver)


DECLARED = web.AppKey('declared_routes', dict)   # aiohttp route -> its Route


def index(app: web.Application, routes: dict[Any, Route]) -> None:
    """Remember which declaration each aiohttp route came from (see :func:`of`)."""
    app[DECLARED] = routes


def of(request: web.Request) -> Route | None:
    """The declaration of the route ``request`` matched (None: no route matched). One dict
    look-up: every fact was computed when the application was built."""
    return request.app[DECLARED].get(request.match_info.route)
