"""Routing nodes to conductors: consistent hash ring over live conductors per driver/group."""
from __future__ import annotations

import asyncio
import datetime
import time
import uuid

import pytest
from oslo_utils import uuidutils

from ironic_lite.common import exception
from ironic_lite.common.hash_ring import HashRingManager
from ironic_lite.conf import CONF
from ironic_lite.db import migration, models
from ironic_lite.db.aio import AsyncConnection
from ironic_lite.db.api import Connection


@pytest.fixture
async def db(sqlite_url):
    conn = Connection(sqlite_url)
    migration.upgrade(conn)
    adb = AsyncConnection(conn)
    yield adb
    adb.close()


@pytest.fixture
def conf():
    from oslo_config import fixture as config_fixture
    fixture = config_fixture.Config(CONF)
    fixture.setUp()
    CONF([], project='ironic_lite', default_config_files=[])
    yield CONF
    fixture.cleanUp()


async def test_nodes_spread_over_live_conductors_and_move_when_one_dies(db, conf):
    for host in ('c1', 'c2', 'c3'):
        await db.register_conductor(host, ['fake-hardware'], '', {})
    ring = HashRingManager(db, conf)
    # fixed UUIDs: the ring is deterministic, so is this test
    uuids = [str(uuid.uuid5(uuid.NAMESPACE_URL, f'node-{i}')) for i in range(300)]
    before = {u: await ring.get_host(u, 'fake-hardware') for u in uuids}
    counts = {h: list(before.values()).count(h) for h in ('c1', 'c2', 'c3')}
    assert all(c >= 50 for c in counts.values()), counts  # every conductor gets a fair share
    # stable: asking again gives the same answer
    assert before == {u: await ring.get_host(u, 'fake-hardware') for u in uuids}
    await db.unregister_conductor('c2')
    await ring.refresh(force=True)
    after = {u: await ring.get_host(u, 'fake-hardware') for u in uuids}
    assert 'c2' not in after.values()
    moved = [u for u in uuids if before[u] != after[u]]
    assert all(before[u] == 'c2' for u in moved)  # only c2's nodes move


async def test_conductor_groups_and_drivers_are_separate_rings(db, conf):
    await db.register_conductor('rack1', ['fake-hardware'], 'rack1', {})
    await db.register_conductor('any', ['fake-hardware', 'ipmi'], '', {})
    ring = HashRingManager(db, conf)
    node = uuidutils.generate_uuid()
    assert await ring.get_host(node, 'fake-hardware', 'rack1') == 'rack1'
    assert await ring.get_host(node, 'ipmi') == 'any'
    with pytest.raises(exception.NoValidHost) as err:
        await ring.get_host(node, 'ipmi', 'rack1')
    assert err.value.code == 503 and 'ipmi' in str(err.value)


async def test_stale_conductors_are_not_in_the_ring(db, conf):
    await db.register_conductor('old', ['fake-hardware'], '', {})
    stale = models.utcnow().replace(year=2000)
    with db.sync._writer() as session:  # a heartbeat from long ago
        session.query(models.Conductor).update({'updated_at': stale})
    ring = HashRingManager(db, conf)
    with pytest.raises(exception.NoValidHost):
        await ring.get_host(uuidutils.generate_uuid(), 'fake-hardware')


async def test_ring_drops_a_conductor_the_moment_its_heartbeat_times_out(db, conf):
    """Not up to hash_ring_reset_interval later: the cached ring expires when its oldest
    member's heartbeat passes heartbeat_timeout (what bounds a takeover)."""
    conf.set_override('heartbeat_timeout', 60, group='conductor')
    conf.set_override('hash_ring_reset_interval', 3600, group='conductor')
    await db.register_conductor('dying', ['fake-hardware'], '', {})
    await db.register_conductor('alive', ['fake-hardware'], '', {})
    # 'dying' last heartbeated 59.5 s ago: it counts as dead half a second from now
    last = models.utcnow() - datetime.timedelta(seconds=59.5)
    with db.sync._writer() as session:
        session.query(models.Conductor).filter_by(hostname='dying').update(
            {'updated_at': last})
    ring = HashRingManager(db, conf)
    node = uuidutils.generate_uuid()
    await ring.get_host(node, 'fake-hardware')
    assert ring.hosts == {'dying', 'alive'}

    async def dropped():
        await ring.get_host(node, 'fake-hardware')  # no forced refresh
        return ring.hosts == {'alive'}

    deadline = time.monotonic() + 10
    while not await dropped():
        assert time.monotonic() < deadline, 'the dead conductor stayed in the ring'
        await asyncio.sleep(0.05)


async def test_api_answers_503_when_no_conductor_is_alive(harness):
    resp = await harness.request('POST', '/v1/nodes', json={'driver': 'fake-hardware'})
    node = await resp.json()
    await harness.db.unregister_conductor(harness.host)
    await harness.env.ring.refresh(force=True)
    resp = await harness.request('PUT', f'/v1/nodes/{node["uuid"]}/states/provision',
                                 json={'target': 'manage'})
    assert resp.status == 503, await resp.text()
    fresh = await harness.db.get_node(node['uuid'])
    assert fresh.intent is None  # nothing was accepted
