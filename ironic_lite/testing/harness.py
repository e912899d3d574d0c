"""An all-in-one ironic_lite inside the caller's event loop, for tests.

API and conductor share the loop and talk over the in-process transport, exactly as the
``ironic-lite`` command runs them. ``await harness.drain()`` runs until the conductor has no
work left — a deterministic "queue drained" point instead of sleeps.
"""
from __future__ import annotations

import uuid
from typing import Any

from aiohttp.test_utils import TestClient, TestServer
from oslo_config import fixture as config_fixture

from ironic_lite.api import limits
from ironic_lite.api.app import create_app
from ironic_lite.common import request_context, rpc
from ironic_lite.conductor import periodics
from ironic_lite.conductor.service import ConductorService
from ironic_lite.conf import CONF, default
from ironic_lite.db import migration
from ironic_lite.db.aio import AsyncConnection
from ironic_lite.db.api import Connection
from ironic_lite.rpcapi.conductor import ConductorAPI

LATEST = {'X-OpenStack-Ironic-API-Version': 'latest', 'X-Auth-Token': 'notused'}


class Harness:
    def __init__(self, db_url: str, **overrides: Any):
        self.db_url = db_url
        self.overrides = overrides
        self.host = f'test-conductor-{uuid.uuid4().hex[:8]}'
        self.fixture = config_fixture.Config(CONF)
        self.db: AsyncConnection | None = None
        self.service: ConductorService | None = None
        self.client: TestClient | None = None

    async def start(self) -> Harness:
        from oslo_db import options as db_options
        from oslo_log import log
        self.fixture.setUp()
        for opts in (log.register_options, db_options.set_defaults):
            try:
                opts(CONF)
            except Exception:  # noqa: BLE001 - already registered by an earlier harness
                pass
        CONF([], project='ironic_lite', default_config_files=[])
        request_context.install_logging()
        self.fixture.config(host=self.host, rpc_transport='none',
                            **default.EMBEDDED_DRIVER_DEFAULTS)
        self.fixture.config(connection=self.db_url, group='database')
        for key, value in self.overrides.items():
            group, _, name = key.rpartition('.')
            self.fixture.config(**{name: value}, group=group or None)
        self.db = AsyncConnection(Connection(self.db_url))
        migration.upgrade(self.db.sync)
        self.service = ConductorService(CONF, self.db)
        await self.service.start()
        app = create_app(CONF, self.db, ConductorAPI(CONF, self.service.env.ring))
        server = TestServer(app)
        # the production server's settings (aiohttp's TestServer takes them here only)
        await server.start_server(**limits.server_settings(CONF))
        self.client = TestClient(server)
        await self.client.start_server()
        return self

    @property
    def env(self):
        return self.service.env

    @property
    def url(self) -> str:
        """Base URL of the running API server, without a trailing slash (for real clients)."""
        return str(self.client.make_url('/')).rstrip('/')

    async def drain(self, timeout: float = 30) -> None:
        await self.service.drain(timeout)

    async def run_periodics(self) -> None:
        """One pass of every periodic task (what the timers would do), then drain."""
        await periodics.redrive_intents(self.env)
        await periodics.redrive_allocations(self.env)
        await periodics.check_deploy_timeouts(self.env)
        await periodics.fail_orphans(self.env)
        await periodics.recover_own_locks(self.env)
        await self.drain()

    async def request(self, method: str, path: str, json: Any = None,
                      headers: dict | None = None, **kwargs: Any):
        hdrs = dict(LATEST)
        hdrs.update(headers or {})
        return await self.client.request(method, path, json=json, headers=hdrs, **kwargs)

    async def stop(self) -> None:
        if self.client is not None:
            await self.client.close()
        if self.service is not None:
            await self.service.stop()
        rpc.cleanup()
        if self.db is not None:
            self.db.close()
        self.fixture.cleanUp()
