"""Logs on a bad day (issue 9 §9): a database outage gives each request a 503 and the log one
line per kind of failure (no traceback, repeats counted); a client that disconnects mid-body
is not an ERROR."""
import asyncio
import functools
import logging

import pytest
import sqlalchemy
from aiohttp import web

from ironic_lite.api import limits
from ironic_lite.common import log_limit
from ironic_lite.conductor import periodics
from ironic_lite.conf import CONF
from ironic_lite.testing import services
from ironic_lite.testing.harness import Harness
from tests.functional import api_helpers as api
from tests.functional.api_helpers import fault, ok

DEADLINE_S = 30


def _api_records(caplog):
    return [r for r in caplog.records
            if r.name.startswith(('ironic_lite.api', 'aiohttp'))]


def _admin(sql: str) -> None:
    engine = sqlalchemy.create_engine(f'{services.PG_URL}/postgres',
                                      isolation_level='AUTOCOMMIT')
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql(sql)
    finally:
        engine.dispose()


async def test_database_outage_is_503_and_one_line_per_kind(pg_url, caplog):
    name = pg_url.rsplit('/', 1)[1]
    h = await Harness(pg_url, **{'conductor.node_locked_retry_interval': 0.01}).start()
    try:
        node = await api.create_node(h)
        caplog.clear()
        caplog.set_level(logging.DEBUG)
        # the outage: running connections cut, new ones refused (this test's database only)
        await asyncio.to_thread(
            _admin, f'ALTER DATABASE {name} WITH ALLOW_CONNECTIONS false')
        await asyncio.to_thread(
            _admin, 'SELECT pg_terminate_backend(pid) FROM pg_stat_activity '
                    f"WHERE datname = '{name}'")
        for _ in range(20):
            for path in ('/v1/nodes', f'/v1/nodes/{node["uuid"]}'):
                inner = await fault(await h.request('GET', path), 503)
                assert 'database is unavailable' in inner['faultstring']
                assert name not in inner['faultstring']
        records = _api_records(caplog)
        assert not [r for r in records if r.exc_info], [r.getMessage() for r in records]
        outage = [r for r in records if 'Database unavailable' in r.getMessage()]
        # 40 failed requests: one line per kind of failure, not one per request
        assert 1 <= len(outage) <= 3, [r.getMessage() for r in outage]
        assert all('\n' not in r.getMessage() for r in outage)
        # a periodic task failing every period during the outage: one line, no traceback
        task_name = 'redrive_intents (outage test)'
        task = asyncio.create_task(periodics.run_forever(
            task_name, 0.01, functools.partial(periodics.redrive_intents, h.env)))
        try:
            async with asyncio.timeout(DEADLINE_S):
                while periodics._REPEATS._seen.get((task_name, 'db'), (0, 0))[1] < 3:
                    await asyncio.sleep(0.05)
        finally:
            task.cancel()
        lines = [r for r in caplog.records if task_name in r.getMessage()]
        assert len(lines) == 1 and not lines[0].exc_info, [r.getMessage() for r in lines]
        assert 'database unavailable' in lines[0].getMessage()
    finally:
        await asyncio.to_thread(_admin, f'ALTER DATABASE {name} WITH ALLOW_CONNECTIONS true')
    try:
        async with asyncio.timeout(DEADLINE_S):   # the pool reconnects once it is back
            while (await h.request('GET', f'/v1/nodes/{node["uuid"]}')).status != 200:
                await asyncio.sleep(0.2)
    finally:
        await h.stop()


@pytest.fixture
async def production_server(sqlite_url):
    """The harness's application served as the daemons serve it: aiohttp's test server
    cancels handlers when a client goes away, the production server does not."""
    h = await Harness(sqlite_url).start()
    runner = web.AppRunner(h.client.server.app, access_log=None,
                           **limits.server_settings(CONF))
    await runner.setup()
    site = web.TCPSite(runner, '127.0.0.1', 0)
    await site.start()
    try:
        yield h, runner.addresses[0][1]
    finally:
        await runner.cleanup()
        await h.stop()


async def test_client_disconnecting_mid_body_is_no_error(production_server, caplog):
    h, port = production_server
    node = await api.create_node(h)
    caplog.set_level(logging.DEBUG)
    for _ in range(5):
        reader, writer = await asyncio.open_connection('127.0.0.1', port)
        writer.write(f'PATCH /v1/nodes/{node["uuid"]} HTTP/1.1\r\nHost: x\r\n'
                     'Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n'
                     '[{"op": "add", "path": "/extra/a", "value": "'.encode())
        await writer.drain()
        writer.close()
    async with asyncio.timeout(DEADLINE_S):   # until the server has seen the disconnects
        while not any('disconnected' in r.getMessage() for r in _api_records(caplog)):
            await asyncio.sleep(0.05)
    records = _api_records(caplog)
    assert not [r for r in records if r.levelno >= logging.WARNING or r.exc_info], \
        [(r.levelname, r.getMessage()) for r in records]
    assert (await api.get_node(h, node['uuid']))['extra'] == {}
    await ok(await h.request('GET', '/v1/nodes'))


def test_repeat_limiter_counts_what_it_leaves_out(caplog):
    limiter = log_limit.RepeatLimiter(interval=3600)
    log = logging.getLogger('ironic_lite.test_log_limit')
    caplog.set_level(logging.INFO)
    assert limiter.log(log, logging.WARNING, 'k', 'event %s', 1)
    assert not any(limiter.log(log, logging.WARNING, 'k', 'event %s', 2) for _ in range(9))
    assert limiter.log(log, logging.WARNING, 'other', 'other event')
    limiter.interval = 0
    assert limiter.log(log, logging.WARNING, 'k', 'event %s', 3)
    messages = [r.getMessage() for r in caplog.records if r.name.endswith('log_limit')]
    assert messages[0] == 'event 1' and messages[1] == 'other event'
    assert messages[2].startswith('event 3 (9 more like this in the last')
