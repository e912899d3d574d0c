"""The aiohttp application: routes, microversion negotiation and error mapping middleware.

The API reads and writes the database for plain CRUD and reaches conductors only through
``rpcapi`` — it never imports conductor or driver code.
"""
from __future__ import annotations

from aiohttp import web
from oslo_config import cfg

from ironic_lite.api import (
    access_log,
    auth,
    context,
    endpoint_versions,
    errors,
    keys,
    limits,
    openapi,
    path_aliases,
    policy,
    schemas,
    utils,
)
from ironic_lite.api import microversion as mv
from ironic_lite.api.controllers import (
    drivers,
    node_actions,
    node_console,
    node_management,
    node_raid,
    node_traits,
    node_vifs,
    nodes,
    ports,
    ramdisk,
    root,
)
from ironic_lite.api.controllers.resources import ROUTES as RESOURCE_ROUTES
from ironic_lite.db.aio import AsyncConnection
from ironic_lite.rpcapi.conductor import ConductorAPI


@web.middleware
async def api_middleware(request: web.Request, handler) -> web.StreamResponse:
    request_id = context.start_request(request)
    request = path_aliases.canonical(request)
    try:
        request[keys.API_VERSION] = mv.parse(request.headers)
        utils.check_url(request)
        response = await handler(request)
    except Exception as e:  # noqa: BLE001 - every error becomes an Ironic error body
        response = errors.to_response(e)
    response.headers[access_log.REQUEST_ID_HEADER] = request_id
    version = request.get(keys.API_VERSION, mv.MIN_VERSION)
    response.headers[mv.MIN_HEADER] = mv.fmt(mv.MIN_VERSION)
    response.headers[mv.MAX_HEADER] = mv.fmt(mv.MAX_VERSION)
    response.headers[mv.HEADER] = mv.fmt(version)
    response.headers[mv.GENERIC_HEADER] = f'baremetal {mv.fmt(version)}'
    response.headers['Vary'] = f'{mv.HEADER}, {mv.GENERIC_HEADER}'
    return response


def _route(app: web.Application, method: str, path: str, handler) -> None:
    """Serve ``path`` with and without a trailing slash (Ironic accepts both)."""
    app.router.add_route(method, path, handler)
    if path != '/':
        app.router.add_route(method, path + '/', handler)


def create_app(conf: cfg.ConfigOpts, db: AsyncConnection, rpcapi: ConductorAPI) -> web.Application:
    middlewares = [api_middleware, limits.create_middleware(conf), auth.create_middleware(conf),
                   endpoint_versions.create_middleware(policy.template),
                   policy.create_middleware(conf), schemas.create_middleware(policy.template)]
    app = web.Application(middlewares=middlewares,
                          client_max_size=conf.api.max_request_body_size)
    app[keys.CONF] = conf
    app[keys.DB] = db
    app[keys.RPCAPI] = rpcapi
    app[keys.DRIVERS_CACHE] = keys.DriversCache()
    for method, path, handler in (
        root.ROUTES + nodes.ROUTES + node_actions.ROUTES + ports.ROUTES + drivers.ROUTES
        + node_management.ROUTES + node_console.ROUTES + node_traits.ROUTES + node_vifs.ROUTES
        + node_raid.ROUTES
        + RESOURCE_ROUTES + ramdisk.ROUTES + openapi.ROUTES
    ):
        _route(app, method, path, handler)
    path_aliases.register(app.router)
    return app
