"""Paths without the ``/v1`` prefix are served as v1, as upstream Ironic's root controller does.

Upstream's ``RootController._lookup`` hands any first path element other than ``v1`` to the v1
controller with the whole path as its remainder: ``GET /nodes`` is ``GET /v1/nodes``,
``POST /heartbeat/{node}`` is ``POST /v1/heartbeat/{node}``; only ``/`` is the root document.

Two pieces do it here: :class:`UnprefixedV1` is registered last in the router and resolves a
path that matched nothing by resolving ``/v1`` + path (so the 404 or 405 of an unknown path is
the one its v1 twin gets), and :func:`as_v1` gives the rest of the request's life (middlewares,
handlers, links) the ``/v1`` path, so nothing else needs to know about the short form.
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from aiohttp import web
from aiohttp.web_urldispatcher import AbstractResource, AbstractRoute
from yarl import URL


def needs_prefix(path: str) -> bool:
    return path != '/' and path != '/v1' and not path.startswith('/v1/')


def _with_prefix(request: web.Request) -> web.Request:
    url = request.rel_url
    return request.clone(rel_url=url.with_path('/v1' + url.raw_path, encoded=True,
                                               keep_query=True))


def as_v1(request: web.Request) -> web.Request:
    """The request itself, or for a short path a clone with the ``/v1`` path (the clone
    keeps the match found by :class:`UnprefixedV1`)."""
    return _with_prefix(request) if needs_prefix(request.rel_url.path) else request


class UnprefixedV1(AbstractResource):
    """Resolves ``/x/...`` as ``/v1/x/...``; indexed at ``/`` so every real route wins."""

    def __init__(self, router: web.UrlDispatcher) -> None:
        super().__init__(name=None)
        self._router = router

    @property
    def canonical(self) -> str:
        return '/'

    def url_for(self, **kwargs: str) -> URL:
        raise NotImplementedError('the short form of v1 paths has no URL of its own')

    async def resolve(self, request: web.Request) -> tuple[Any, set[str]]:
        if not needs_prefix(request.rel_url.path):
            return None, set()
        return await self._router.resolve(_with_prefix(request)), set()

    def add_prefix(self, prefix: str) -> None:
        raise NotImplementedError('not for sub-applications')

    def get_info(self) -> dict[str, Any]:
        return {'prefix': '/v1'}

    def raw_match(self, path: str) -> bool:
        return False

    def __len__(self) -> int:
        return 0

    def __iter__(self) -> Iterator[AbstractRoute]:
        return iter(())
