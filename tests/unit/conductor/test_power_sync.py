"""Power state sync against fake-hardware's simulated BMC state."""
from __future__ import annotations

import pytest

from ironic_lite.common import states
from ironic_lite.common.faults import POWER_FAILURE
from ironic_lite.testing.harness import Harness


@pytest.fixture
async def h(sqlite_url):
    harness = await Harness(sqlite_url, **{'conductor.sync_power_state_interval': 0,
                                           'conductor.power_state_sync_max_retries': 2}).start()
    yield harness
    await harness.stop()


async def _node(h, power, hardware, **kw):
    values = {'driver': 'fake-hardware', 'provision_state': states.ACTIVE,
              'power_state': power,
              'driver_internal_info': {'fake_power_state': hardware} if hardware else {}}
    values.update(kw)
    return await h.db.create_node(values)


async def test_sync_repairs_recorded_and_skips(h):
    in_sync = await _node(h, states.POWER_ON, states.POWER_ON)
    drifted = await _node(h, states.POWER_ON, states.POWER_OFF)
    unknown = await _node(h, None, states.POWER_ON)
    maintenance = await _node(h, states.POWER_ON, states.POWER_OFF, maintenance=True)
    enrolling = await _node(h, None, states.POWER_ON, provision_state=states.ENROLL)
    result = await h.service.power_sync.run_once()
    assert (result.checked, result.in_sync, result.repaired, result.recorded) == (3, 1, 1, 1)
    assert result.skipped == 1  # enrolling; maintenance nodes are not even listed
    get = h.db.get_node
    assert (await get(drifted.id)).driver_internal_info['fake_power_state'] == states.POWER_ON
    assert (await get(unknown.id)).power_state == states.POWER_ON
    assert (await get(maintenance.id)).driver_internal_info['fake_power_state'] == \
        states.POWER_OFF
    assert (await get(enrolling.id)).power_state is None
    for node in (in_sync, drifted, unknown):
        assert (await get(node.id)).reservation is None


async def test_sync_records_hardware_state_when_not_forcing(h):
    h.fixture.config(force_power_state_during_sync=False, group='conductor')
    drifted = await _node(h, states.POWER_ON, states.POWER_OFF)
    result = await h.service.power_sync.run_once()
    assert result.recorded == 1
    assert (await h.db.get_node(drifted.id)).power_state == states.POWER_OFF


async def test_repeated_bmc_failures_put_node_in_maintenance(h):
    node = await _node(h, states.POWER_ON, states.POWER_ON,
                       driver_info={'fake_power_fail': True})
    first = await h.service.power_sync.run_once()
    assert first.failed == 1 and first.to_maintenance == 0
    assert not (await h.db.get_node(node.id)).maintenance
    second = await h.service.power_sync.run_once()
    assert second.to_maintenance == 1
    fresh = await h.db.get_node(node.id)
    assert fresh.maintenance and fresh.fault == POWER_FAILURE
    assert 'simulated BMC failure' in fresh.maintenance_reason
    assert fresh.reservation is None
    # a node in maintenance is left alone afterwards
    assert (await h.service.power_sync.run_once()).checked == 0


async def test_locked_and_busy_nodes_are_skipped(h):
    locked = await _node(h, states.POWER_ON, states.POWER_OFF)
    await h.db.reserve_node('someone-else', locked.id)
    busy = await _node(h, states.POWER_ON, states.POWER_OFF,
                       provision_state=states.DEPLOYING)
    result = await h.service.power_sync.run_once()
    assert result.checked == 0 and result.skipped == 1  # locked ones are not even listed
    assert (await h.db.get_node(locked.id)).driver_internal_info['fake_power_state'] == \
        states.POWER_OFF
    assert (await h.db.get_node(busy.id)).driver_internal_info['fake_power_state'] == \
        states.POWER_OFF
