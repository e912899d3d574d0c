"""Accepted intents: a lost cast is re-driven, a duplicate cast is harmless, a ramdisk that
never calls back times out."""
import asyncio
import datetime

import pytest

from ironic_lite.api import keys
from ironic_lite.common import intent_acceptance
from ironic_lite.db import models
from ironic_lite.drivers.modules import fake
from ironic_lite.testing.harness import Harness
from tests.functional import api_helpers as api

LONG_AGO = datetime.timedelta(hours=1)


@pytest.fixture
def deploys(monkeypatch):
    calls = []
    original = fake.FakeDeploy.deploy

    async def counting(self, task):
        calls.append(task.node.uuid)
        return await original(self, task)

    monkeypatch.setattr(fake.FakeDeploy, 'deploy', counting)
    return calls


async def _accept_without_cast(h, ident, intent, args=None, age=LONG_AGO):
    """What the API does before casting — then the cast is lost."""
    node = await h.db.get_node(ident)
    values, expected = intent_acceptance.acceptance(node, intent, args or {},
                                                    now=models.utcnow() - age)
    return await h.db.update_node(node.id, values, expected)


async def test_lost_deploy_cast_is_redriven(harness, deploys):
    node = await api.available_node(harness)
    await _accept_without_cast(harness, node['uuid'], 'deploy',
                               {'configdrive': 'H4sIAAAA'})
    n = await api.get_node(harness, node['uuid'])
    # accepted means under way, as upstream shows it after its 202 (issue 8)
    assert n['provision_state'] == 'deploying'
    assert n['target_provision_state'] == 'active'
    # the request is accepted: another one is refused until it starts
    await api.fault(await api.provision(harness, node['uuid'], 'active'), 409)
    await harness.run_periodics()
    n = await api.get_node(harness, node['uuid'])
    assert n['provision_state'] == 'active', n
    assert n['last_error'] is None
    assert deploys == [node['uuid']]
    stored = await harness.db.get_node(node['uuid'])
    assert stored.intent is None
    assert stored.instance_info['configdrive'] == 'H4sIAAAA'
    # nothing left to re-drive
    await harness.run_periodics()
    assert deploys == [node['uuid']]


async def test_accepted_request_is_no_orphan(harness, deploys):
    """A conductor starting up (or its orphan check) finds a node in ``deploying`` with no
    lock: with a pending intent it was accepted and not yet started — start it, never fail
    it."""
    from ironic_lite.conductor import periodics
    node = await api.available_node(harness)
    await _accept_without_cast(harness, node['uuid'], 'deploy',
                               age=datetime.timedelta(seconds=0))
    await periodics.fail_orphans(harness.env)
    stored = await harness.db.get_node(node['uuid'])
    assert (stored.provision_state, stored.intent, stored.last_error) == (
        'deploying', 'deploy', None)
    await periodics.redrive_intents(harness.env, min_age=0)
    await harness.drain()
    n = await api.get_node(harness, node['uuid'])
    assert (n['provision_state'], n['last_error']) == ('active', None), n
    assert deploys == [node['uuid']]


async def test_young_intent_is_left_to_its_cast(harness, deploys):
    node = await api.available_node(harness)
    await _accept_without_cast(harness, node['uuid'], 'deploy',
                               age=datetime.timedelta(seconds=0))
    await harness.run_periodics()  # intent_redrive_after (30 s) has not passed
    assert deploys == []
    assert (await harness.db.get_node(node['uuid'])).intent == 'deploy'


async def test_lost_cast_redriven_with_small_redrive_after(sqlite_url, deploys):
    h = await Harness(sqlite_url, **{'conductor.intent_redrive_after': 1,
                                     'conductor.node_locked_retry_interval': 0.01}).start()
    try:
        node = await api.available_node(h)
        await _accept_without_cast(h, node['uuid'], 'deploy',
                                   age=datetime.timedelta(seconds=2))
        await h.run_periodics()
        assert (await api.get_node(h, node['uuid']))['provision_state'] == 'active'
        assert deploys == [node['uuid']]
    finally:
        await h.stop()


@pytest.mark.parametrize('intent,args,field,expected', [
    ('delete', {}, 'provision_state', 'available'),
    ('power', {'power_state': 'power off', 'timeout': None}, 'power_state', 'power off'),
])
async def test_other_lost_casts_are_redriven(harness, intent, args, field, expected):
    node = await api.active_node(harness)
    await _accept_without_cast(harness, node['uuid'], intent, args)
    await harness.run_periodics()
    n = await api.get_node(harness, node['uuid'])
    assert n[field] == expected, n
    assert n['target_provision_state'] is None and n['target_power_state'] is None


async def test_duplicate_cast_deploys_once(harness, deploys):
    node = await api.available_node(harness)
    stored = await _accept_without_cast(harness, node['uuid'], 'deploy')
    rpcapi = harness.client.app[keys.RPCAPI]
    await rpcapi.run_intent(stored)
    await rpcapi.run_intent(stored)
    await harness.drain()
    await rpcapi.run_intent(stored)  # a very late duplicate
    await harness.drain()
    assert (await api.get_node(harness, node['uuid']))['provision_state'] == 'active'
    assert deploys == [node['uuid']]


async def test_duplicate_manager_calls_deploy_once(harness, deploys):
    node = await api.available_node(harness)
    await _accept_without_cast(harness, node['uuid'], 'deploy')
    manager = harness.service.manager
    await asyncio.gather(manager.run_intent({}, node['uuid']),
                         manager.run_intent({}, node['uuid']))
    await harness.drain()
    await manager.run_intent({}, node['uuid'])
    await harness.drain()
    n = await api.get_node(harness, node['uuid'])
    assert n['provision_state'] == 'active'
    assert n['reservation'] is None
    assert deploys == [node['uuid']]


async def test_deploy_callback_timeout(sqlite_url):
    h = await Harness(sqlite_url, **{'conductor.deploy_callback_timeout': 1,
                                     'conductor.node_locked_retry_interval': 0.01}).start()
    try:
        node = await api.available_node(h, driver_info={'fake_deploy_wait': True})
        await api.move(h, node['uuid'], 'active', 'wait call-back')
        await h.run_periodics()  # still young: nothing happens
        assert (await api.get_node(h, node['uuid']))['provision_state'] == 'wait call-back'
        node_id = (await h.db.get_node(node['uuid'])).id
        await h.db.update_node(node_id, {'provision_updated_at': models.utcnow() - LONG_AGO})
        await h.run_periodics()
        n = await api.get_node(h, node['uuid'])
        assert n['provision_state'] == 'deploy failed', n
        assert 'Timeout' in n['last_error'] and 'callback' in n['last_error']
        assert n['reservation'] is None
        # a late callback does not resurrect it
        resp = await h.request('POST', f'/v1/nodes/{node["uuid"]}/vendor_passthru/'
                                       'pass_deploy_info', json={'address': '10.0.0.5'})
        assert resp.status == 202
        await h.drain()
        assert (await api.get_node(h, node['uuid']))['provision_state'] == 'deploy failed'
    finally:
        await h.stop()


async def test_no_timeout_in_maintenance(sqlite_url):
    h = await Harness(sqlite_url, **{'conductor.deploy_callback_timeout': 1,
                                     'conductor.node_locked_retry_interval': 0.01}).start()
    try:
        node = await api.available_node(h, driver_info={'fake_deploy_wait': True})
        await api.move(h, node['uuid'], 'active', 'wait call-back')
        node_id = (await h.db.get_node(node['uuid'])).id
        await h.db.update_node(node_id, {'provision_updated_at': models.utcnow() - LONG_AGO,
                                         'maintenance': True})
        await h.run_periodics()
        assert (await api.get_node(h, node['uuid']))['provision_state'] == 'wait call-back'
    finally:
        await h.stop()


async def test_full_worker_pool_queues_and_drains_without_periodics(sqlite_url, deploys):
    """More deploys than workers: the surplus waits as accepted intents and is started as
    workers free up — not left to the periodic re-drive."""
    h = await Harness(sqlite_url, **{'conductor.workers_pool_size': 2,
                                     'fake.deploy_delay': 0.05}).start()
    try:
        nodes = [await api.available_node(h) for _ in range(7)]
        for node in nodes:
            resp = await api.provision(h, node['uuid'], 'active')
            assert resp.status == 202, await resp.text()
        await h.drain()
        for node in nodes:
            n = await api.get_node(h, node['uuid'])
            assert n['provision_state'] == 'active', n
        assert sorted(deploys) == sorted(n['uuid'] for n in nodes)
    finally:
        await h.stop()
