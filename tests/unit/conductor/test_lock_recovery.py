"""A lock held in this conductor's name with no task of this process running is recovered by
the periodic ``recover_own_locks`` — and a live task's lock, or an accepted request not started
yet, never is."""
from __future__ import annotations

import pytest

from ironic_lite.common import states
from ironic_lite.conductor import periodics
from ironic_lite.conductor.task_manager import acquire
from ironic_lite.testing.harness import Harness


@pytest.fixture
async def h(sqlite_url):
    harness = await Harness(sqlite_url, **{'conductor.node_locked_retry_interval': 0.01}
                            ).start()
    yield harness
    await harness.stop()


async def _locked_node(h, **values):
    """A node whose lock is in this conductor's name, as a task leaves it when the database
    was unreachable when it ended (the reservation written, the task gone)."""
    node = await h.db.create_node({'driver': 'fake-hardware', **values})
    return await h.db.reserve_node(h.host, node.id)


async def test_orphaned_lock_in_working_state_fails_the_node(h):
    node = await _locked_node(h, provision_state=states.DEPLOYING,
                              target_provision_state=states.ACTIVE)
    assert await periodics.recover_own_locks(h.env) == 1
    node = await h.db.get_node(node.id)
    assert node.reservation is None
    assert node.provision_state == states.DEPLOYFAIL
    assert 'left locked by conductor' in node.last_error
    assert 'database was unreachable' in node.last_error


async def test_orphaned_lock_of_power_change_clears_the_target(h):
    node = await _locked_node(h, provision_state=states.AVAILABLE,
                              target_power_state='power on')
    await periodics.recover_own_locks(h.env)
    node = await h.db.get_node(node.id)
    assert node.reservation is None and node.target_power_state is None
    assert node.provision_state == states.AVAILABLE and node.last_error


async def test_accepted_request_not_started_keeps_its_intent(h):
    node = await _locked_node(h, provision_state=states.DEPLOYING,
                              target_provision_state=states.ACTIVE, intent='deploy')
    await periodics.recover_own_locks(h.env)
    node = await h.db.get_node(node.id)
    assert node.reservation is None
    assert node.intent == 'deploy' and node.provision_state == states.DEPLOYING
    assert node.last_error is None


async def test_live_task_lock_is_left_alone(h):
    node = await h.db.create_node({'driver': 'fake-hardware',
                                   'provision_state': states.DEPLOYING})
    async with acquire(h.env, node.uuid, purpose='live'):
        assert await periodics.recover_own_locks(h.env) == 0
        assert (await h.db.get_node(node.id)).reservation == h.host
    node = await h.db.get_node(node.id)
    assert node.reservation is None and node.provision_state == states.DEPLOYING


async def test_other_conductors_locks_are_not_ours(h):
    node = await h.db.create_node({'driver': 'fake-hardware',
                                   'provision_state': states.DEPLOYING})
    await h.db.reserve_node('someone-else', node.id)
    assert await periodics.recover_own_locks(h.env) == 0
    assert (await h.db.get_node(node.id)).reservation == 'someone-else'
