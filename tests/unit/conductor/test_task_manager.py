"""Task manager and worker pool: the lock is held exactly as long as the work, always released."""
from __future__ import annotations

import asyncio

import pytest

from ironic_lite.common import exception, intent_acceptance, states
from ironic_lite.conductor import intent_runner
from ironic_lite.conductor.task_manager import acquire
from ironic_lite.testing.harness import Harness


@pytest.fixture
async def h(sqlite_url):
    harness = await Harness(sqlite_url, **{'conductor.node_locked_retry_attempts': 2,
                                           'conductor.node_locked_retry_interval': 0.01,
                                           'conductor.workers_pool_size': 2,
                                           'conductor.graceful_shutdown_timeout': 0}).start()
    yield harness
    await harness.stop()


async def _node(h, state=states.AVAILABLE):
    return await h.db.create_node({'driver': 'fake-hardware', 'provision_state': state})


async def _reservation(h, node):
    return (await h.db.get_node(node.id)).reservation


async def test_exclusive_lock_taken_and_released(h):
    node = await _node(h)
    async with acquire(h.env, node.uuid, purpose='test') as task:
        assert task.node.reservation == h.host
        assert await _reservation(h, node) == h.host
        assert task.driver.power is not None
    assert await _reservation(h, node) is None


async def test_lock_released_on_error(h):
    node = await _node(h)
    with pytest.raises(RuntimeError):
        async with acquire(h.env, node.id, purpose='test'):
            raise RuntimeError('boom')
    assert await _reservation(h, node) is None


async def test_second_exclusive_lock_fails_after_bounded_retries(h):
    node = await _node(h)
    async with acquire(h.env, node.id, purpose='first'):
        with pytest.raises(exception.NodeLocked):
            async with acquire(h.env, node.id, purpose='second'):
                pass
        async with acquire(h.env, node.id, shared=True, purpose='read') as shared:
            assert shared.node.reservation == h.host
            with pytest.raises(exception.IronicLiteException):
                await shared.save(extra={'no': 'writes under a shared lock'})


async def test_patient_lock_waits_for_release(h):
    node = await _node(h)
    got_it = asyncio.Event()

    async def patient():
        async with acquire(h.env, node.id, purpose='patient', patient=True):
            got_it.set()

    async with acquire(h.env, node.id, purpose='holder'):
        waiter = asyncio.create_task(patient())
        await asyncio.sleep(0.05)  # several retry intervals pass while the lock is held
        assert not got_it.is_set()
    await asyncio.wait_for(waiter, 5)
    assert got_it.is_set()
    assert await _reservation(h, node) is None


async def test_worker_keeps_lock_until_it_ends(h):
    node = await _node(h)
    proceed = asyncio.Event()
    started = asyncio.Event()

    async def work(task):
        started.set()
        await proceed.wait()
        await task.save(extra={'done': True})

    async with acquire(h.env, node.id, purpose='work') as task:
        task.spawn_after(work)
    await asyncio.wait_for(started.wait(), 5)
    assert await _reservation(h, node) == h.host
    proceed.set()
    await h.drain()
    fresh = await h.db.get_node(node.id)
    assert fresh.reservation is None and fresh.extra == {'done': True}


async def test_worker_crash_fails_node_and_releases(h):
    node = await _node(h)

    async def crash(task):
        raise ValueError('driver bug')

    async with acquire(h.env, node.id, purpose='deployment') as task:
        await task.process_event('deploy', callback=crash)
    await h.drain()
    fresh = await h.db.get_node(node.id)
    assert fresh.reservation is None
    assert fresh.provision_state == states.DEPLOYFAIL
    assert 'unexpected error' in fresh.last_error


async def test_shutdown_fails_in_flight_work_and_releases_lock(h):
    node = await _node(h)
    started = asyncio.Event()

    async def forever(task):
        await task.save(deploy_step={'interface': 'deploy', 'step': 'deploy'},
                        driver_internal_info={'deploy_steps': [], 'deploy_step_index': 0,
                                              'kept': 1})
        started.set()
        await asyncio.Event().wait()

    async with acquire(h.env, node.id, purpose='deployment') as task:
        await task.process_event('deploy', callback=forever)
    await asyncio.wait_for(started.wait(), 5)
    await h.env.workers.shutdown(timeout=0)
    fresh = await h.db.get_node(node.id)
    assert fresh.reservation is None
    assert fresh.provision_state == states.DEPLOYFAIL
    assert 'conductor was stopped' in fresh.last_error
    assert fresh.deploy_step == {}  # no step left shown as running
    assert fresh.driver_internal_info == {'kept': 1}


async def test_full_pool_keeps_intent_and_starts_it_when_a_worker_frees(h):
    blockers = [await _node(h) for _ in range(2)]
    release = asyncio.Event()

    async def block(task):
        await release.wait()

    for node in blockers:
        async with acquire(h.env, node.id, purpose='block') as task:
            task.spawn_after(block)
    assert h.env.workers.busy == 2
    node = await _node(h)
    values, expected = intent_acceptance.acceptance(node, 'deploy', {})
    await h.db.update_node(node.id, values, expected)
    assert not await intent_runner.run_intent(h.env, node.id)  # no free worker
    queued = await h.db.get_node(node.id)
    assert queued.intent == 'deploy' and queued.reservation is None
    release.set()
    await h.drain()
    assert (await h.db.get_node(node.id)).provision_state == states.ACTIVE


async def test_duplicate_cast_is_harmless(h):
    node = await _node(h)
    values, expected = intent_acceptance.acceptance(node, 'deploy', {})
    await h.db.update_node(node.id, values, expected)
    assert await intent_runner.run_intent(h.env, node.id)
    await h.drain()
    deployed = await h.db.get_node(node.id)
    assert deployed.provision_state == states.ACTIVE
    assert not await intent_runner.run_intent(h.env, node.id)
    await h.drain()
    again = await h.db.get_node(node.id)
    assert again.provision_updated_at == deployed.provision_updated_at


async def test_save_refuses_after_lock_lost(h):
    node = await _node(h)
    async with acquire(h.env, node.id, purpose='test') as task:
        await h.db.clear_node_reservations_for_conductor(h.host)  # e.g. an operator's fix
        with pytest.raises(exception.NodeStateChanged):
            await task.save(extra={'x': 1})
