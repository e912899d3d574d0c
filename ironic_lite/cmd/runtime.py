"""Building and running the API and conductor inside one event loop (used by all commands)."""
from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from aiohttp import web
from oslo_config import cfg

from ironic_lite.api import access_log, limits
from ironic_lite.api.app import create_app
from ironic_lite.cmd import startup
from ironic_lite.common import rpc
from ironic_lite.common.hash_ring import HashRingManager
from ironic_lite.db.aio import AsyncConnection
from ironic_lite.rpcapi.conductor import ConductorAPI

if TYPE_CHECKING:  # pragma: no cover
    from ironic_lite.conductor.service import ConductorService

LOG = logging.getLogger(__name__)


def connect_db(conf: cfg.ConfigOpts, require_schema: bool = True) -> AsyncConnection:
    """The database, checked: a StartupError naming ``[database]connection`` when it cannot
    be reached (or has no schema yet). Blocking: call it in a thread from async code."""
    return AsyncConnection(startup.check_database(conf, require_schema))


class ApiServer:
    def __init__(self, conf: cfg.ConfigOpts, db: AsyncConnection):
        self.conf = conf
        self.db = db
        self.ring = HashRingManager(db, conf)
        self.app = create_app(conf, db, ConductorAPI(conf, self.ring))
        self._runner: web.AppRunner | None = None
        self.port: int | None = None

    async def start(self) -> None:
        self._runner = web.AppRunner(self.app, handle_signals=False,
                                     access_log=access_log.LOGGER,
                                     access_log_class=access_log.AccessLogger,
                                     **limits.server_settings(self.conf))
        await self._runner.setup()
        host, port = self.conf.api.host_ip, self.conf.api.port
        site = web.TCPSite(self._runner, host, port, backlog=1024, reuse_address=True)
        try:
            await site.start()
        except OSError as e:
            await self.stop()
            raise startup.StartupError(
                f'[api]host_ip = {host}, [api]port = {port}: cannot listen there: '
                f'{e.strerror or e}') from e
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


async def start_conductor(conf: cfg.ConfigOpts) -> tuple[AsyncConnection, ConductorService]:
    """Connect to the database and start the conductor service on it: ``(db, service)``.
    The database connection is closed again when the service cannot be built."""
    # imported here: ironic-lite-api shares this module and never loads the conductor
    from ironic_lite.conductor.service import ConductorService
    db = await asyncio.to_thread(connect_db, conf)
    try:
        service = ConductorService(conf, db)
    except BaseException:
        db.close()
        raise
    await service.start()
    return db, service
