"""Endpoints that exist only from a later microversion, and what an older version gets.

Upstream does not answer every such endpoint alike, and clients and contract tests check the
codes, so :data:`ENDPOINTS` lists each route and method with the version that introduced it and
upstream's answer below that version:

* 404 — most endpoints (``validation.api_version``'s default, the node sub-controllers that
  ``NodesController._lookup`` aborts, ``raise NotFound``), for every method;
* 405 — allocations and deploy templates for anything but ``GET`` (their ``_route`` or
  ``exception_class=HTTPMethodNotAllowed``), and ``PUT`` of node traits (below 1.37 the
  request reaches ``NodesController``, which has no ``put``);
* ``DELETE`` of node traits below 1.37 reaches ``NodesController.delete`` with extra path
  elements: 404. ``GET`` of node traits below 1.37 reaches ``get_one`` with ``traits`` as its
  ``fields``: the node is looked up, then 406 — that one is answered by
  ``node_traits.list_traits``, after the lookup.

Indicators (1.63) are not gated: upstream serves them at any version.
:func:`create_middleware` applies the table before the policy check and the handlers.
"""
from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from ironic_lite.api import microversion as mv
from ironic_lite.api import utils
from ironic_lite.common import exception

N = '/v1/nodes/{}'


def _each(routes: tuple[tuple[str, str], ...], since: mv.Version,
          status: int | Callable[[str], int] = 404) -> dict:
    """``routes``: (space-separated methods, route template) pairs."""
    return {(m, path): (since, status(m) if callable(status) else status)
            for methods, path in routes for m in methods.split()}


def _not_allowed_unless_get(method: str) -> int:
    return 404 if method == 'GET' else 405


# (method, route template with "{}" per parameter) -> (introduced in, status below it)
ENDPOINTS: dict[tuple[str, str], tuple[mv.Version, int]] = {
    **_each((('GET', '/v1/lookup'), ('POST', '/v1/heartbeat/{}'), ('POST', '/v1/heartbeat')),
            mv.RAMDISK_ENDPOINTS),
    **_each((('GET POST', '/v1/portgroups'), ('GET', '/v1/portgroups/detail'),
             ('GET PATCH DELETE', '/v1/portgroups/{}')), mv.PORTGROUPS),
    **_each((('GET', '/v1/portgroups/{}/ports'), ('GET', '/v1/portgroups/{}/ports/detail'),
             ('GET', N + '/portgroups'), ('GET', N + '/portgroups/detail')), (1, 24)),
    **_each((('GET POST', N + '/vifs'), ('DELETE', N + '/vifs/{}')), (1, 28)),
    **_each((('PUT', N + '/management/inject_nmi'),), (1, 29)),
    **_each((('GET', '/v1/volume'), ('GET POST', '/v1/volume/{}'),
             ('GET PATCH DELETE', '/v1/volume/{}/{}'), ('GET', N + '/volume'),
             ('GET', N + '/volume/{}')), mv.VOLUME),
    **_each((('PUT', N + '/traits'), ('PUT', N + '/traits/{}')), mv.TRAITS, 405),
    **_each((('DELETE', N + '/traits'), ('DELETE', N + '/traits/{}')), mv.TRAITS),
    **_each((('GET', N + '/bios'), ('GET', N + '/bios/{}')), (1, 40)),
    **_each((('GET', '/v1/conductors'), ('GET', '/v1/conductors/{}')), mv.CONDUCTORS),
    **_each((('GET POST', '/v1/allocations'), ('GET DELETE', '/v1/allocations/{}')),
            mv.ALLOCATIONS, _not_allowed_unless_get),
    **_each((('PATCH', '/v1/allocations/{}'),), mv.ALLOCATION_UPDATE, 405),
    **_each((('GET DELETE', N + '/allocation'),), mv.ALLOCATIONS),
    **_each((('POST', '/v1/events'),), mv.EVENTS),
    **_each((('GET POST', '/v1/deploy_templates'),
             ('GET PATCH DELETE', '/v1/deploy_templates/{}')), mv.DEPLOY_TEMPLATES,
            _not_allowed_unless_get),
}


def check(method: str, route_template: str, version: mv.Version) -> None:
    """Raise upstream's answer when the endpoint is newer than ``version``."""
    entry = ENDPOINTS.get((method, route_template))
    if entry is None or version >= entry[0]:
        return
    since, status = entry
    message = (f'The API version {mv.fmt(version)} does not have this endpoint; it needs '
               f'{mv.fmt(since)}.')
    if status == 405:
        raise exception.MethodNotAllowed(message)
    raise exception.NotFound(message)


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def create_middleware(template: Callable[[str], str]):
    @web.middleware
    async def endpoint_versions_middleware(request: web.Request,
                                           handler: Handler) -> web.StreamResponse:
        resource = getattr(request.match_info.route, 'resource', None)
        if resource is not None:
            check(request.method, template(resource.canonical), utils.version(request))
        return await handler(request)

    return endpoint_versions_middleware
