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
    path_aliases,
    policy,
    schemas,
    utils,
)
from ironic_lite.api import microversion as mv
from ironic_lite.api import route as routing
from ironic_lite.api.route_table import ROUTES
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


def _register(app: web.Application) -> None:
    """Serve every declared route with and without a trailing slash (Ironic accepts both),
    and remember each aiohttp route's declaration for the middlewares."""
    declarations: dict[web.AbstractRoute, routing.Route] = {}
    for declared in ROUTES:
        paths = [declared.path] if declared.path == '/' else [declared.path,
                                                                declared.path + '/']
        for path in paths:
            served = app.router.add_route(declared.method, path, declared.handler)
            declarations[served] = declared
    routing.index(app, declarations)


def create_app(conf: cfg.ConfigOpts, db: AsyncConnection, rpcapi: ConductorAPI) -> web.Application:
    middlewares = [api_middleware, limits.create_middleware(conf), auth.create_middleware(conf),
                   endpoint_versions.middleware, policy.create_middleware(conf),
                   schemas.middleware]
    app = web.Application(middlewares=middlewares,
                          client_max_size=conf.api.max_request_body_size)
    app[keys.CONF] = conf
    app[keys.DB] = db
    app[keys.RPCAPI] = rpcapi
    app[keys.DRIVERS_CACHE] = keys.DriversCache()
    _register(app)
    path_aliases.register(app.router)
    return app
