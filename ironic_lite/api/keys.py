"""Typed keys of the aiohttp application and request state (``web.AppKey``/``RequestKey``)."""
from __future__ import annotations

from typing import Any

from aiohttp import web
from oslo_config import cfg

from ironic_lite.db.aio import AsyncConnection
from ironic_lite.rpcapi.conductor import ConductorAPI

CONF = web.AppKey('conf', cfg.ConfigOpts)
DB = web.AppKey('db', AsyncConnection)
RPCAPI = web.AppKey('rpcapi', ConductorAPI)


class DriversCache:
    """Hardware types offered by live conductors, refreshed every few seconds.

    Created with the application and mutated in place: aiohttp forbids replacing application
    state once the application has started.
    """

    def __init__(self) -> None:
        self.fetched_at: float | None = None
        self.types: dict[str, dict[str, Any]] = {}


DRIVERS_CACHE = web.AppKey('drivers_cache', DriversCache)
API_VERSION = web.RequestKey('api_version', tuple)
# ``check(rule) -> bool`` for the request's caller, memoised: may the caller see secrets
# (``show_password``, ``show_instance_secrets``)? Absent means no.
SECRETS_CHECK = web.RequestKey('secrets_check', object)
# The parsed JSON body (``utils.json_body``): parsed once, read by the schema check and the
# handler.
JSON_BODY = web.RequestKey('json_body', object)
# Its size in bytes: big bodies are parsed and validated in a worker thread.
BODY_SIZE = web.RequestKey('body_size', int)
