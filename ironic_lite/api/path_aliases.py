"""Other spellings of v1 paths that upstream Ironic serves, answered as their usual form.

* Paths without the ``/v1`` prefix: upstream's ``RootController._lookup`` hands any first
  path element other than ``v1`` to the v1 controller with the whole path as its remainder,
  so ``GET /nodes`` is ``GET /v1/nodes``; only ``/`` is the root document.
* Legacy forms that upstream's pecan controllers still route, with the node after the
  action: ``/v1/nodes/states/{node}``, ``/v1/nodes/states/console/{node}``,
  ``/v1/nodes/states/{power,provision,raid}/{node}``, ``/v1/nodes/maintenance/{node}``,
  ``/v1/nodes/management/boot_device/{node}``, ``/v1/nodes/management/inject_nmi/{node}``
  and ``GET /v1/nodes/validate?node={node}`` (or ``node_uuid=``).

:class:`PathAlias` resources are registered after the real routes: one indexed at ``/``
(tried after every real route) for the short form, one per legacy prefix (tried before the
``/v1/nodes/{node}`` routes, which would otherwise take ``states`` for a node name — upstream
routes these to the sub-controller too). A match resolves the usual path and remembers it on
the request; :func:`canonical` then gives the rest of the request's life (middlewares,
handlers, links) that path, so nothing else needs to know the other spellings.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from aiohttp import web
from aiohttp.web_urldispatcher import AbstractResource, AbstractRoute
from yarl import URL

_CANONICAL_URL = web.RequestKey('canonical_url', URL)
_NODE = r'([^/]+)'
# (methods, legacy path pattern, usual path with {0}, {1}… for the groups)
_LEGACY: tuple[tuple[frozenset[str], re.Pattern, str], ...] = tuple(
    (frozenset(methods.split()), re.compile(pattern + r'/?'), usual)
    for methods, pattern, usual in (
        ('GET', rf'/v1/nodes/states/{_NODE}', '/v1/nodes/{0}/states'),
        ('GET PUT', rf'/v1/nodes/states/console/{_NODE}', '/v1/nodes/{0}/states/console'),
        ('PUT', rf'/v1/nodes/states/(power|provision|raid)/{_NODE}',
         '/v1/nodes/{1}/states/{0}'),
        ('PUT DELETE', rf'/v1/nodes/maintenance/{_NODE}', '/v1/nodes/{0}/maintenance'),
        ('GET PUT', rf'/v1/nodes/management/boot_device/{_NODE}',
         '/v1/nodes/{0}/management/boot_device'),
        ('PUT', rf'/v1/nodes/management/inject_nmi/{_NODE}',
         '/v1/nodes/{0}/management/inject_nmi'),
    ))
LEGACY_PREFIXES = ('/v1/nodes/states', '/v1/nodes/maintenance', '/v1/nodes/management',
                   '/v1/nodes/validate')
_VALIDATE_QUERY = ('node_uuid', 'node')


def _needs_prefix(path: str) -> bool:
    return path != '/' and path != '/v1' and not path.startswith('/v1/')


def _legacy(method: str, url: URL) -> URL | None:
    path = url.raw_path
    for methods, pattern, usual in _LEGACY:
        match = pattern.fullmatch(path)
        if match and method in methods:
            return url.with_path(usual.format(*match.groups()), encoded=True, keep_query=True)
    if method == 'GET' and path.rstrip('/') == '/v1/nodes/validate':
        ident = next((url.query[k] for k in _VALIDATE_QUERY if url.query.get(k)), None)
        if ident is not None:
            query = {k: v for k, v in url.query.items() if k not in _VALIDATE_QUERY}
            return URL.build(path=f'/v1/nodes/{ident}/validate', query=query)
    return None


def rewrite(method: str, url: URL) -> URL | None:
    """The usual form of ``url`` for ``method``, or None when it is already usual."""
    prefixed = url
    if _needs_prefix(url.raw_path):
        prefixed = url.with_path('/v1' + url.raw_path, encoded=True, keep_query=True)
    legacy = _legacy(method, prefixed)
    if legacy is not None:
        return legacy
    return prefixed if prefixed is not url else None


def canonical(request: web.Request) -> web.Request:
    """The request itself, or when a :class:`PathAlias` matched it, a clone with the usual
    path (the clone keeps the match)."""
    url = request.get(_CANONICAL_URL)
    return request if url is None else request.clone(rel_url=url)


class PathAlias(AbstractResource):
    """Resolves another spelling of a v1 path as its usual form (see the module doc)."""

    def __init__(self, router: web.UrlDispatcher, index: str) -> None:
        super().__init__(name=None)
        self._router = router
        self._index = index

    @property
    def canonical(self) -> str:
        return self._index  # the router's index key: where this resource is tried

    def url_for(self, **kwargs: str) -> URL:
        raise NotImplementedError('an alias has no URL of its own')

    async def resolve(self, request: web.Request) -> tuple[Any, set[str]]:
        url = rewrite(request.method, request.rel_url)
        if url is None:
            return None, set()
        request[_CANONICAL_URL] = url
        return await self._router.resolve(request.clone(rel_url=url)), set()

    def add_prefix(self, prefix: str) -> None:
        raise NotImplementedError('not for sub-applications')

    def get_info(self) -> dict[str, Any]:
        return {'prefix': self._index}

    def raw_match(self, path: str) -> bool:
        return False

    def __len__(self) -> int:
        return 0

    def __iter__(self) -> Iterator[AbstractRoute]:
        return iter(())


def register(router: web.UrlDispatcher) -> None:
    """After the real routes: the legacy prefixes, then the short form at ``/``."""
    for prefix in (*LEGACY_PREFIXES, '/'):
        router.register_resource(PathAlias(router, prefix))
