"""Endpoints that exist only from a later microversion, and what an older version gets.

Upstream does not answer every such endpoint alike, and clients and contract tests check the
codes, so each route and method declares the version that introduced it and upstream's answer
below that version:

* 404 — most endpoints (``validation.api_version``'s default, the node sub-controllers that
  ``NodesController._lookup`` aborts, ``raise NotFound``), for every method;
* 405 — allocations and deploy templates for anything but ``GET`` (their ``_route`` or
  ``exception_class=HTTPMethodNotAllowed``), and ``PUT`` of node traits (below 1.37 the
  request reaches ``NodesController``, which has no ``put``);
* ``DELETE`` of node traits below 1.37 reaches ``NodesController.delete`` with extra path
  elements: 404. ``GET`` of node traits below 1.37 reaches ``get_one`` with ``traits`` as its
  ``fields``: the node is looked up, then 406 — that one is answered by
  ``node_traits.list_traits``, after the lookup.

Each route declares this (``since`` and ``older`` of its :class:`~ironic_lite.api.route.Route`);
:data:`middleware` applies it before the policy check and the handlers. Indicators (1.63) are
not gated: upstream serves them at any version.
"""
from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from ironic_lite.api import route, utils

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    declared = route.of(request)
    if declared is not None:
        declared.check_version(utils.version(request))
    return await handler(request)
