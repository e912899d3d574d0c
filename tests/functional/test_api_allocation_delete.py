"""Deleting allocations while a conductor processes them, as upstream: the delete waits for
the conductor (bounded like the lock retries) and then succeeds; no 409 storm."""
import asyncio

from ironic_lite.db import models
from ironic_lite.testing.harness import Harness
from tests.functional import api_helpers as api
from tests.functional.api_helpers import fault, ok


async def _bound(h, node):
    """An allocation bound to ``node`` as the conductor leaves it."""
    alloc = await ok(await h.request('POST', '/v1/allocations',
                                     json={'resource_class': 'rc-del'}), 201)
    await h.drain()
    alloc = await ok(await h.request('GET', f'/v1/allocations/{alloc["uuid"]}'))
    assert alloc['node_uuid'] == node['uuid'], alloc
    return alloc


async def test_created_and_deleted_at_once_many_times(harness):
    """Clients that create an allocation and delete it straight away (while the conductor
    is still binding it) all get 204, and every node ends free."""
    nodes = [await api.available_node(harness, resource_class='rc-del') for _ in range(4)]

    async def create_and_delete():
        alloc = await ok(await harness.request('POST', '/v1/allocations',
                                               json={'resource_class': 'rc-del'}), 201)
        resp = await harness.request('DELETE', f'/v1/allocations/{alloc["uuid"]}')
        return resp.status, await resp.text()

    for _ in range(3):
        answers = await asyncio.gather(*(create_and_delete() for _ in range(8)))
        assert [status for status, _ in answers] == [204] * 8, answers
        await harness.drain()
        assert (await ok(await harness.request('GET', '/v1/allocations')))['allocations'] == []
        for node in nodes:
            shown = await api.get_node(harness, node['uuid'])
            assert shown['instance_uuid'] is None and shown['allocation_uuid'] is None, shown
            assert shown['reservation'] is None


async def test_delete_waits_for_the_node_lock(sqlite_url):
    """The conductor still holds the node's lock (it has just bound the allocation): the
    delete waits for it instead of answering 409, then frees the node."""
    h = await Harness(sqlite_url, **{'conductor.node_locked_retry_attempts': 500,
                                     'conductor.node_locked_retry_interval': 0.01}).start()
    try:
        node = await api.available_node(h, resource_class='rc-del')
        alloc = await _bound(h, node)
        node_id = (await h.db.get_node(node['uuid'])).id
        await h.db.reserve_node('busy-conductor', node_id)
        # observe (not change) the API's reads: release only once it has seen the lock
        seen_locked = asyncio.Event()
        read = h.db.get_node

        async def observed_get_node(*args, **kwargs):
            found = await read(*args, **kwargs)
            if found.reservation == 'busy-conductor':
                seen_locked.set()
            return found
        h.db.get_node = observed_get_node
        deleting = asyncio.create_task(h.request('DELETE', f'/v1/allocations/{alloc["uuid"]}'))
        await asyncio.wait_for(seen_locked.wait(), timeout=30)
        assert not deleting.done()
        await h.db.release_node('busy-conductor', node_id)
        resp = await asyncio.wait_for(deleting, timeout=30)
        assert resp.status == 204, await resp.text()
        h.db.get_node = read
        assert (await api.get_node(h, node['uuid']))['instance_uuid'] is None
        await fault(await h.request('GET', f'/v1/allocations/{alloc["uuid"]}'), 404)
    finally:
        await h.stop()


async def test_lock_held_past_the_retries_is_409(sqlite_url):
    h = await Harness(sqlite_url, **{'conductor.node_locked_retry_attempts': 2,
                                     'conductor.node_locked_retry_interval': 0.01}).start()
    try:
        node = await api.available_node(h, resource_class='rc-del')
        alloc = await _bound(h, node)
        node_id = (await h.db.get_node(node['uuid'])).id
        await h.db.reserve_node('busy-conductor', node_id)
        inner = await fault(await h.request('DELETE', f'/v1/allocations/{alloc["uuid"]}'), 409)
        assert 'busy-conductor' in inner['faultstring']
        await h.db.release_node('busy-conductor', node_id)
        assert (await h.request('DELETE', f'/v1/allocations/{alloc["uuid"]}')).status == 204
    finally:
        await h.stop()


async def test_release_rules_are_upstreams(harness):
    node = await api.available_node(harness, resource_class='rc-del')
    alloc = await _bound(harness, node)
    row = await harness.db.get_node(node['uuid'])
    # deploy failed (target active): updates are allowed there, so is the release
    await harness.db.update_node(row.id, {'provision_state': 'deploy failed',
                                          'target_provision_state': 'active'})
    assert (await harness.request('DELETE', f'/v1/allocations/{alloc["uuid"]}')).status == 204
    await harness.db.update_node(row.id, {'provision_state': 'available',
                                          'target_provision_state': None})
    alloc = await _bound(harness, node)
    for state, target in (('active', None), ('deploying', 'active')):
        await harness.db.update_node(row.id, {'provision_state': state,
                                              'target_provision_state': target})
        inner = await fault(await harness.request('DELETE',
                                                  f'/v1/allocations/{alloc["uuid"]}'), 409)
        assert alloc['uuid'] in inner['faultstring']
    await harness.db.update_node(row.id, {'maintenance': True})
    assert (await harness.request('DELETE', f'/v1/allocations/{alloc["uuid"]}')).status == 204
    assert await harness.db.count_resources(models.Allocation, {}) == 0


async def test_stale_processing_never_touches_a_newer_allocation(harness):
    """SQLite reuses the id of a deleted last row: a conductor still processing a deleted
    allocation must not write its outcome into the one created after it (tempest saw
    "allocation B failed: no nodes match … of allocation A")."""
    from ironic_lite.conductor import allocations
    first = await ok(await harness.request('POST', '/v1/allocations',
                                           json={'resource_class': 'rc-none'}), 201)
    await harness.drain()
    stale = await harness.db.get_resource(models.Allocation, first['uuid'])
    await ok(await harness.request('DELETE', f'/v1/allocations/{first["uuid"]}'), 204)
    second = await ok(await harness.request('POST', '/v1/allocations', json={
        'resource_class': 'rc-other'}), 201)
    fresh = await harness.db.get_resource(models.Allocation, second['uuid'])
    await harness.db.update_resource(models.Allocation, fresh.id, {'state': 'allocating'})
    stale.id = fresh.id  # what a reused id looks like to the stale processing
    stale.state = 'allocating'
    await allocations._fail(harness.env, stale, 'stale outcome')
    shown = await ok(await harness.request('GET', f'/v1/allocations/{second["uuid"]}'))
    assert shown['last_error'] != 'stale outcome', shown
