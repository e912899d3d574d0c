"""Building and running the API and conductor inside one event loop (used by all commands)."""
from __future__ import annotations

import logging

from aiohttp import web
from oslo_config import cfg

from ironic_lite.api import limits
from ironic_lite.api.app import create_app
from ironic_lite.common import rpc
from ironic_lite.common.hash_ring import HashRingManager
from ironic_lite.db.aio import AsyncConnection
from ironic_lite.db.api import Connection
from ironic_lite.rpcapi.conductor import ConductorAPI

LOG = logging.getLogger(__name__)


def connect_db(conf: cfg.ConfigOpts) -> AsyncConnection:
    return AsyncConnection(Connection(conf.database.connection))


class ApiServer:
    def __init__(self, conf: cfg.ConfigOpts, db: AsyncConnection):
        self.conf = conf
        self.db = db
        self.ring = HashRingManager(db, conf)
        self.app = create_app(conf, db, ConductorAPI(conf, self.ring))
        self._runner: web.AppRunner | None = None
        self.port: int | None = None

    async def start(self) -> None:
        self._runner = web.AppRunner(self.app, access_log=None, handle_signals=False,
                                     **limits.server_settings(self.conf))
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.conf.api.host_ip, self.conf.api.port,
                           backlog=1024, reuse_address=True)
        await site.start()
        self.port = self._runner.addresses[0][1]
        LOG.info('API listening on http://%s:%s/', self.conf.api.host_ip, self.port)
        print(f'ironic_lite API ready on http://{self.conf.api.host_ip}:{self.port}/',
              flush=True)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None


def shutdown_transport() -> None:
    rpc.cleanup()
