"""Concurrent requests that do not conflict all succeed, one after another (issue 8)."""
import asyncio

import pytest

from ironic_lite.testing.harness import Harness
from tests.functional import api_helpers as api


async def test_concurrent_patches_of_different_extra_keys_all_succeed(harness):
    node = await api.create_node(harness, driver='fake-hardware')

    async def add(i: int):
        return await harness.request('PATCH', f'/v1/nodes/{node["uuid"]}', json=[
            {'op': 'add', 'path': f'/extra/key{i}', 'value': i}])

    for _ in range(3):  # rounds: each with 8 writers racing on one row
        responses = await asyncio.gather(*(add(i) for i in range(8)))
        assert [r.status for r in responses] == [200] * 8, [
            await r.text() for r in responses if r.status != 200]
    stored = await api.get_node(harness, node['uuid'])
    assert stored['extra'] == {f'key{i}': i for i in range(8)}


async def test_real_conflict_still_refused(harness):
    """A patch whose ``test`` op no longer holds on the fresh node is refused."""
    node = await api.create_node(harness, driver='fake-hardware', extra={'owner': 'a'})
    path = f'/v1/nodes/{node["uuid"]}'
    first = await harness.request('PATCH', path, json=[
        {'op': 'replace', 'path': '/extra/owner', 'value': 'b'}])
    assert first.status == 200
    second = await harness.request('PATCH', path, json=[
        {'op': 'test', 'path': '/extra/owner', 'value': 'a'},
        {'op': 'replace', 'path': '/extra/owner', 'value': 'c'}])
    assert second.status in (400, 409), await second.text()
    assert (await api.get_node(harness, node['uuid']))['extra'] == {'owner': 'b'}


async def test_deploy_right_after_provide_finished_is_accepted(harness):
    """As a client polls for ``available`` and deploys at once (measured: 1 of 200 got 409
    "locked" while the cleaning worker was still releasing its lock)."""
    nodes = [await api.create_node(harness, driver='fake-hardware') for _ in range(20)]
    for node in nodes:
        await api.move(harness, node['uuid'], 'manage', 'manageable')

    async def provide_then_deploy(uuid: str) -> int:
        resp = await api.provision(harness, uuid, 'provide')
        assert resp.status == 202
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 30
        while (await api.get_node(harness, uuid))['provision_state'] != 'available':
            assert loop.time() < deadline
            await asyncio.sleep(0)
        return (await api.provision(harness, uuid, 'active')).status

    statuses = await asyncio.gather(*(provide_then_deploy(n['uuid']) for n in nodes))
    assert statuses == [202] * len(nodes)
    await harness.drain()
    for node in nodes:
        assert (await api.get_node(harness, node['uuid']))['provision_state'] == 'active'


@pytest.fixture
async def slow_power(sqlite_url):
    """Power actions that take a moment, as a BMC's do: the request is still running when
    the client's next request arrives."""
    h = await Harness(sqlite_url, **{'fake.power_delay': 0.3,
                                     'conductor.node_locked_retry_interval': 0.2}).start()
    try:
        yield h
    finally:
        await h.stop()


async def test_volume_change_right_after_power_off_waits_for_it(slow_power):
    """tempest's volume tests: power off (202), then at once change a connector; upstream's
    conductor waits for the node's lock, then sees the node off."""
    h = slow_power
    node = await api.create_node(h, driver='fake-hardware')
    conn = await api.ok(await h.request('POST', '/v1/volume/connectors', json={
        'node_uuid': node['uuid'], 'type': 'iqn', 'connector_id': 'iqn.2024-01.org:a'}), 201)
    for target in ('power on', 'power off'):
        resp = await h.request('PUT', f'/v1/nodes/{node["uuid"]}/states/power',
                               json={'target': target})
        assert resp.status == 202, await resp.text()
    # the second power request waited for the first: both ran, the node is now going off
    resp = await h.request('PATCH', f'/v1/volume/connectors/{conn["uuid"]}', json=[
        {'op': 'replace', 'path': '/connector_id', 'value': 'iqn.2024-01.org:b'}])
    assert resp.status == 200, await resp.text()
    resp = await h.request('PUT', f'/v1/nodes/{node["uuid"]}/states/power',
                           json={'target': 'power on'})
    assert resp.status == 202
    resp = await h.request('DELETE', f'/v1/volume/connectors/{conn["uuid"]}')
    assert resp.status == 400, await resp.text()  # it waited, and the node is on again


async def test_node_delete_right_after_power_off_waits_for_it(slow_power):
    h = slow_power
    node = await api.create_node(h, driver='fake-hardware')
    resp = await h.request('PUT', f'/v1/nodes/{node["uuid"]}/states/power',
                           json={'target': 'power off'})
    assert resp.status == 202
    resp = await h.request('DELETE', f'/v1/nodes/{node["uuid"]}')
    assert resp.status == 204, await resp.text()
