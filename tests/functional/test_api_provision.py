"""PUT .../states/provision and vendor passthru: the deploy path as clients drive it."""
import asyncio

import pytest

from ironic_lite.drivers.modules import fake
from ironic_lite.rpcapi.conductor import ConductorAPI
from tests.functional import api_helpers as api
from tests.functional.api_helpers import fault, ok, ver

CONFIGDRIVE = 'H4sICDx0xmUAA2NvbmZpZ2RyaXZlAAMAAAAAAAAAAAA='
WAIT = {'driver_info': {'fake_deploy_wait': True}}


@pytest.fixture
def deploys(monkeypatch):
    """Every FakeDeploy.deploy call: (node uuid, provision state, reservation)."""
    calls = []
    original = fake.FakeDeploy.deploy

    async def counting(self, task):
        calls.append((task.node.uuid, task.node.provision_state, task.node.reservation))
        return await original(self, task)

    monkeypatch.setattr(fake.FakeDeploy, 'deploy', counting)
    return calls


@pytest.fixture
def casts(monkeypatch):
    """Every cast the API sends: (method, node uuid)."""
    sent = []
    original = ConductorAPI._cast

    async def recording(self, node, method, *args, **kwargs):
        sent.append((method, node.uuid))
        return await original(self, node, method, *args, **kwargs)

    monkeypatch.setattr(ConductorAPI, '_cast', recording)
    return sent


async def test_full_flow_with_configdrive(harness, deploys):
    node = await api.create_node(harness, name='flow')
    assert node['provision_state'] == 'enroll'
    n = await api.move(harness, 'flow', 'manage', 'manageable')
    assert n['power_state'] == 'power off'
    await api.move(harness, 'flow', 'provide', 'available')
    resp = await api.provision(harness, 'flow', 'active', configdrive=CONFIGDRIVE)
    assert resp.status == 202, await resp.text()
    assert resp.headers['Location'].endswith(f'/v1/nodes/{node["uuid"]}/states')
    assert await resp.read() == b''
    await harness.drain()
    n = await api.get_node(harness, 'flow')
    assert n['provision_state'] == 'active'
    assert n['target_provision_state'] is None
    assert n['power_state'] == 'power on'
    assert n['last_error'] is None
    assert n['reservation'] is None
    assert n['instance_info']['configdrive'] == '******'
    assert (await harness.db.get_node('flow')).instance_info['configdrive'] == CONFIGDRIVE
    assert len(deploys) == 1
    states = await ok(await harness.request('GET', '/v1/nodes/flow/states'))
    assert states['provision_state'] == 'active'
    assert states['provision_updated_at'].endswith('+00:00')
    n = await api.move(harness, 'flow', 'deleted', 'available')
    assert n['instance_info'] == {}
    assert n['power_state'] == 'power off'


async def test_rebuild(harness, deploys):
    node = await api.active_node(harness)
    n = await api.move(harness, node['uuid'], 'rebuild', 'active')
    assert n['last_error'] is None
    assert len(deploys) == 2
    # a configdrive with rebuild needs 1.35
    resp = await harness.request('PUT', f'/v1/nodes/{node["uuid"]}/states/provision',
                                 json={'target': 'rebuild', 'configdrive': CONFIGDRIVE},
                                 headers=ver('1.34'))
    await fault(resp, 400)
    n = await api.move(harness, node['uuid'], 'rebuild', 'active', configdrive=CONFIGDRIVE)
    assert len(deploys) == 3


async def test_target_state_while_deploying(harness):
    node = await api.available_node(harness, **WAIT)
    n = await api.move(harness, node['uuid'], 'active', 'wait call-back')
    assert n['target_provision_state'] == 'active'


@pytest.mark.parametrize('start,target', [
    ('enroll', 'active'), ('enroll', 'provide'), ('enroll', 'deleted'),
    ('available', 'provide'), ('available', 'deleted'), ('available', 'rebuild'),
    ('manageable', 'active'), ('active', 'active'), ('active', 'manage'),
    ('active', 'provide'), ('available', 'abort'), ('manageable', 'deleted'),
])
async def test_invalid_transition_is_400(harness, casts, start, target):
    node = await api.create_node(harness)
    if start != 'enroll':
        await api.move(harness, node['uuid'], 'manage', 'manageable')
    if start in ('available', 'active'):
        await api.move(harness, node['uuid'], 'provide', 'available')
    if start == 'active':
        await api.move(harness, node['uuid'], 'active', 'active')
    casts.clear()
    inner = await fault(await api.provision(harness, node['uuid'], target), 400)
    assert start in inner['faultstring'] and node['uuid'] in inner['faultstring']
    assert casts == []
    assert (await api.get_node(harness, node['uuid']))['provision_state'] == start


@pytest.mark.parametrize('target,version', [('manage', '1.3'), ('provide', '1.3'),
                                            ('abort', '1.12'), ('clean', '1.14'),
                                            ('deploy', '1.31'), ('undeploy', '1.31')])
async def test_verbs_below_their_version_are_406(harness, target, version):
    """As upstream (check_allow_management_verbs; its unit tests
    test_adopt_raises_error_before_1_17, test_rescue_raises_error_before_1_38)."""
    node = await api.create_node(harness)
    resp = await harness.request('PUT', f'/v1/nodes/{node["uuid"]}/states/provision',
                                 json={'target': target}, headers=ver(version))
    await fault(resp, 406)


async def test_configdrive_only_with_active(harness):
    node = await api.create_node(harness)
    await fault(await api.provision(harness, node['uuid'], 'manage', configdrive='x'), 400)
    await api.available_node(harness, name='cd')
    await fault(await api.provision(harness, 'cd', 'active', configdrive=5), 400)
    await fault(await api.provision(harness, 'cd', 'active', configdrive={'a': 1}), 400)


async def test_maintenance_blocks_provisioning(harness, casts):
    node = await api.available_node(harness)
    await ok(await harness.request('PUT', f'/v1/nodes/{node["uuid"]}/maintenance',
                                   json={'reason': 'broken fan'}), 202)
    casts.clear()
    inner = await fault(await api.provision(harness, node['uuid'], 'active'), 400)
    assert 'maintenance' in inner['faultstring']
    assert casts == []
    await ok(await harness.request('DELETE', f'/v1/nodes/{node["uuid"]}/maintenance'), 202)
    await api.move(harness, node['uuid'], 'active', 'active')


async def test_locked_node_is_409(harness, casts):
    node = await api.available_node(harness)
    db_node = await harness.db.get_node(node['uuid'])
    await harness.db.reserve_node('someone-else', db_node.id)
    casts.clear()
    inner = await fault(await api.provision(harness, node['uuid'], 'active'), 409)
    assert 'someone-else' in inner['faultstring']
    assert casts == []
    n = await harness.db.get_node(node['uuid'])
    assert n.intent is None and n.provision_state == 'available'
    await harness.db.release_node('someone-else', db_node.id)
    await api.move(harness, node['uuid'], 'active', 'active')


async def test_request_racing_a_finishing_worker_is_checked_again(harness, casts,
                                                                  monkeypatch):
    """The API waits briefly for a lock that is being released; what it then finds decides."""
    from ironic_lite.api import utils as api_utils
    node = await api.available_node(harness)
    node_id = (await harness.db.get_node(node['uuid'])).id
    await harness.db.reserve_node('finishing-worker', node_id)
    original = api_utils.wait_unlocked

    async def worker_finishes(request, n, pending_intent=True):
        await harness.db.update_node(node_id, {'provision_state': 'active'})
        await harness.db.release_node('finishing-worker', node_id)
        return await original(request, n, pending_intent)

    monkeypatch.setattr(api_utils, 'wait_unlocked', worker_finishes)
    casts.clear()
    inner = await fault(await api.provision(harness, node['uuid'], 'active'), 400)
    assert node['uuid'] in inner['faultstring'] and 'active' in inner['faultstring']
    assert casts == []
    assert (await harness.db.get_node(node_id)).intent is None


@pytest.mark.parametrize('body', [{'target': ['active']}, {'target': {'a': 1}},
                                  {'target': 'manage', 'rescue_password': 'x'},
                                  {'target': 'manage', 'deploy_steps': []}])
async def test_odd_provision_bodies(harness, body):
    node = await api.create_node(harness)
    # rescue_password (1.38) with another target is a bad request; deploy_steps is 1.69
    # (tests/functional/test_api_deploy_steps.py: from 1.69 on)
    resp = await harness.request('PUT', f'/v1/nodes/{node["uuid"]}/states/provision',
                                 json=body, headers=ver('1.68'))
    await fault(resp, 406 if 'deploy_steps' in body else 400)


async def test_clean_steps_need_1_15(harness):
    node = await api.create_node(harness)
    resp = await harness.request('PUT', f'/v1/nodes/{node["uuid"]}/states/provision',
                                 json={'target': 'manage', 'clean_steps': []},
                                 headers=ver('1.14'))
    await fault(resp, 406)
    await api.move(harness, node['uuid'], 'manage', 'manageable')
    await fault(await api.provision(harness, node['uuid'], 'clean'), 400)
    await fault(await api.provision(harness, node['uuid'], 'clean', clean_steps=[{}]), 400)
    await fault(await api.provision(harness, node['uuid'], 'provide', clean_steps=[]), 400)


async def test_fifty_concurrent_deploys_deploy_once(harness, deploys):
    node = await api.available_node(harness)
    responses = await asyncio.gather(*(
        api.provision(harness, node['uuid'], 'active') for _ in range(50)))
    statuses = sorted(r.status for r in responses)
    assert statuses.count(202) == 1, statuses
    assert set(statuses) <= {202, 400, 409}, statuses
    for resp in responses:
        if resp.status != 202:
            inner = await fault(resp, resp.status)
            assert node['uuid'] in inner['faultstring'], inner
    await harness.drain()
    n = await api.get_node(harness, node['uuid'])
    assert n['provision_state'] == 'active'
    assert n['last_error'] is None
    assert [d[0] for d in deploys] == [node['uuid']]
    assert deploys[0][1] == 'deploying' and deploys[0][2] == harness.host


async def test_second_request_while_first_is_pending_is_409(harness, casts, monkeypatch):
    node = await api.available_node(harness)

    async def lost(self, node, method, *args, **kwargs):  # the cast never arrives
        casts.append((method, node.uuid))

    monkeypatch.setattr(ConductorAPI, '_cast', lost)
    assert (await api.provision(harness, node['uuid'], 'active')).status == 202
    inner = await fault(await api.provision(harness, node['uuid'], 'active'), 409)
    assert 'deploy' in inner['faultstring']
    await fault(await api.provision(harness, node['uuid'], 'manage'), 409)


@pytest.mark.parametrize('style', ['path', 'query'])
async def test_pass_deploy_info_finishes_a_waiting_deploy(harness, casts, style):
    node = await api.available_node(harness, **WAIT)
    await api.move(harness, node['uuid'], 'active', 'wait call-back')
    data = {'address': '10.0.0.5', 'key': 'k', 'iqn': f'iqn.2008-10.org.openstack:{node["uuid"]}'}
    path = (f'/v1/nodes/{node["uuid"]}/vendor_passthru/pass_deploy_info' if style == 'path'
            else f'/v1/nodes/{node["uuid"]}/vendor_passthru?method=pass_deploy_info')
    resp = await harness.request('POST', path, json=data)
    assert resp.status == 202, await resp.text()
    assert ('vendor_passthru', node['uuid']) in casts
    await harness.drain()
    n = await api.get_node(harness, node['uuid'])
    assert n['provision_state'] == 'active', n
    assert n['power_state'] == 'power on'
    call = n['driver_internal_info']['fake_vendor_calls'][-1]
    assert call['method'] == 'pass_deploy_info'
    assert call['args'] == data
    assert call['reservation'] == harness.host  # ran under the conductor's exclusive lock
    assert n['reservation'] is None


async def test_pass_deploy_info_error_fails_the_deploy(harness):
    node = await api.available_node(harness, **WAIT)
    await api.move(harness, node['uuid'], 'active', 'wait call-back')
    resp = await harness.request(
        'POST', f'/v1/nodes/{node["uuid"]}/vendor_passthru/pass_deploy_info',
        json={'address': '10.0.0.5', 'key': 'k', 'error': 'disk on fire'})
    assert resp.status == 202, await resp.text()
    await harness.drain()
    n = await api.get_node(harness, node['uuid'])
    assert n['provision_state'] == 'deploy failed'
    assert 'disk on fire' in n['last_error']
    assert n['reservation'] is None
    # a failed deploy can be retried
    await api.move(harness, node['uuid'], 'active', 'wait call-back')
    assert (await api.get_node(harness, node['uuid']))['last_error'] is None


async def test_vendor_passthru_methods_and_errors(harness, casts):
    node = await api.create_node(harness)
    methods = await ok(await harness.request(
        'GET', f'/v1/nodes/{node["uuid"]}/vendor_passthru/methods'))
    assert set(methods) >= {'first_method', 'pass_deploy_info'}
    assert methods['pass_deploy_info']['http_methods'] == ['POST']
    casts.clear()
    base = f'/v1/nodes/{node["uuid"]}/vendor_passthru'
    inner = await fault(await harness.request('POST', f'{base}/no_such_method', json={}), 400)
    assert 'no_such_method' in inner['faultstring']
    await fault(await harness.request('POST', f'{base}?method=no_such_method', json={}), 400)
    await fault(await harness.request('POST', base, json={}), 400)  # no method at all
    await fault(await harness.request('POST', f'{base}/first_method', json=[1]), 400)
    assert casts == []
    # a method without a body is fine
    resp = await harness.request('POST', f'{base}/first_method')
    assert resp.status == 202, await resp.text()
    await harness.drain()
    n = await api.get_node(harness, node['uuid'])
    assert n['driver_internal_info']['fake_vendor_calls'][-1]['method'] == 'first_method'


async def test_vendor_passthru_body_keys_never_clash_with_parameters(harness):
    node = await api.create_node(harness)
    body = {'method': 'x', 'task': 1, 'http_method': 'GET', 'data': None}
    resp = await harness.request(
        'POST', f'/v1/nodes/{node["uuid"]}/vendor_passthru/first_method', json=body)
    assert resp.status == 202, await resp.text()
    await harness.drain()
    n = await api.get_node(harness, node['uuid'])
    assert n['last_error'] is None
    assert n['driver_internal_info']['fake_vendor_calls'][-1]['args'] == body


async def test_abort_a_waiting_deploy(harness):
    node = await api.available_node(harness, **WAIT)
    await api.move(harness, node['uuid'], 'active', 'wait call-back')
    n = await api.move(harness, node['uuid'], 'abort', 'deploy failed')
    assert 'Aborted' in n['last_error']
    await api.move(harness, node['uuid'], 'deleted', 'available')


async def test_vendor_passthru_to_a_locked_node_is_409(harness, casts):
    node = await api.available_node(harness, **WAIT)
    await api.move(harness, node['uuid'], 'active', 'wait call-back')
    node_id = (await harness.db.get_node(node['uuid'])).id
    await harness.db.reserve_node('busy-host', node_id)
    casts.clear()
    resp = await harness.request(
        'POST', f'/v1/nodes/{node["uuid"]}/vendor_passthru/pass_deploy_info',
        json={'address': '10.0.0.5'})
    inner = await fault(resp, 409)
    assert 'busy-host' in inner['faultstring']
    assert casts == []
    # the ramdisk retries once the lock is gone
    await harness.db.release_node('busy-host', node_id)
    resp = await harness.request(
        'POST', f'/v1/nodes/{node["uuid"]}/vendor_passthru/pass_deploy_info',
        json={'address': '10.0.0.5'})
    assert resp.status == 202
    await harness.drain()
    assert (await api.get_node(harness, node['uuid']))['provision_state'] == 'active'
