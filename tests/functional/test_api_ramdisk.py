"""GET /v1/lookup and POST /v1/heartbeat/{node}: what a deploy ramdisk calls."""
import pytest

from tests.functional import api_helpers as api
from tests.functional.api_helpers import fault, ok, ver

MAC = '52:54:00:12:34:56'


async def _waiting_node(h, mac=MAC, **values):
    return await api.waiting_node(h, mac, configdrive='H4sIAAAA', **values)


async def _heartbeat(h, ident, token, headers=None, **body):
    """A heartbeat at 1.61 by default (as IPA: heartbeats at an older version than its lookup)
    carrying ``token`` (None: none sent); every heartbeat needs the token of a lookup."""
    body.setdefault('callback_url', 'http://10.0.0.5:9999')
    if token is not None:
        body['agent_token'] = token
    headers = headers or ver('1.61')
    return await h.request('POST', f'/v1/heartbeat/{ident}', json=body, headers=headers)


async def _agent_on_active_node(h):
    """An active node whose agent holds a token (as if looked up before the deploy ended):
    lookup itself is refused in ``active``."""
    node = await api.active_node(h)
    stored = await h.db.get_node(node['uuid'])
    await h.db.update_node(stored.id, {'driver_internal_info': {
        **stored.driver_internal_info, 'agent_secret_token': 'active-token'}})
    return node, 'active-token'


async def test_endpoints_appear_in_1_22(harness):
    node = await _waiting_node(harness)
    await fault(await harness.request('GET', f'/v1/lookup?addresses={MAC}',
                                      headers=ver('1.21')), 404)
    await ok(await harness.request('GET', f'/v1/lookup?addresses={MAC}',
                                   headers=ver('1.22')))
    token = await api.lookup_token(harness, node['uuid'])
    await fault(await _heartbeat(harness, node['uuid'], token, headers=ver('1.21')), 404)
    assert (await _heartbeat(harness, node['uuid'], token,
                             headers=ver('1.22'))).status == 202
    await harness.drain()


async def test_lookup(harness):
    node = await _waiting_node(harness, properties={'cpus': 2})
    node_id = (await harness.db.get_node(node['uuid'])).id
    stored = await harness.db.get_node(node_id)
    await harness.db.update_node(node_id, {'driver_internal_info': {
        **stored.driver_internal_info, 'agent_secret_token': 'sekrit'}})
    for query in (f'addresses={MAC}', f'addresses={MAC.upper()}',
                  f'addresses=11:22:33:44:55:66,{MAC}', f'node_uuid={node["uuid"]}'):
        body = await ok(await harness.request('GET', f'/v1/lookup?{query}'))
        found = body['node']
        assert found['uuid'] == node['uuid'], query
        assert set(found) == {'uuid', 'properties', 'instance_info', 'driver_internal_info',
                              'links'}
        assert found['properties'] == {'cpus': 2}
        assert 'configdrive' not in found['instance_info']
        assert 'agent_secret_token' not in found['driver_internal_info']
        assert body['config']['heartbeat_timeout'] > 0
        assert 'sekrit' not in str(body)


async def test_lookup_only_in_lookup_states(harness):
    node = await api.available_node(harness)
    await ok(await harness.request('POST', '/v1/ports', json={'node_uuid': node['uuid'],
                                                              'address': MAC}), 201)
    await fault(await harness.request('GET', f'/v1/lookup?addresses={MAC}'), 404)
    await fault(await harness.request('GET', f'/v1/lookup?node_uuid={node["uuid"]}'), 404)
    await api.move(harness, node['uuid'], 'active', 'active')
    await fault(await harness.request('GET', f'/v1/lookup?addresses={MAC}'), 404)


@pytest.mark.parametrize('query,status', [
    ('', 400), ('addresses=', 400), ('addresses=not-a-mac', 400),
    ('node_uuid=not-a-uuid', 400), ('addresses=11:22:33:44:55:66', 404),
    ('node_uuid=7a3e6f3e-1f2a-4b6c-9d8e-0f1a2b3c4d5e', 404),
])
async def test_bad_lookups(harness, query, status):
    await _waiting_node(harness)
    await fault(await harness.request('GET', f'/v1/lookup?{query}'), status)


async def test_lookup_macs_of_two_nodes_is_404(harness):
    await _waiting_node(harness)
    await _waiting_node(harness, mac='52:54:00:12:34:57')
    await fault(await harness.request(
        'GET', f'/v1/lookup?addresses={MAC},52:54:00:12:34:57'), 404)


async def test_heartbeat_is_recorded(harness):
    node, token = await _agent_on_active_node(harness)
    resp = await _heartbeat(harness, node['uuid'], token)
    assert resp.status == 202, await resp.text()
    assert await resp.read() == b''
    await harness.drain()
    info = (await api.get_node(harness, node['uuid']))['driver_internal_info']
    assert info['agent_url'] == 'http://10.0.0.5:9999'
    assert info['agent_last_heartbeat']
    assert (await api.get_node(harness, node['uuid']))['provision_state'] == 'active'


async def test_heartbeat_finishes_a_waiting_deploy(harness):
    node = await _waiting_node(harness)
    token = await api.lookup_token(harness, node['uuid'])
    assert (await _heartbeat(harness, node['uuid'], token)).status == 202
    await harness.drain()
    n = await api.get_node(harness, node['uuid'])
    assert n['provision_state'] == 'active'
    assert n['power_state'] == 'power on'
    assert n['reservation'] is None
    assert n['driver_internal_info']['agent_url'] == 'http://10.0.0.5:9999'
    # more heartbeats on an active node change nothing
    assert (await _heartbeat(harness, node['uuid'], token)).status == 202
    await harness.drain()
    assert (await api.get_node(harness, node['uuid']))['provision_state'] == 'active'


@pytest.mark.parametrize('body', [{'callback_url': None}, {'callback_url': ''},
                                  {'callback_url': 'ftp://10.0.0.5'},
                                  {'callback_url': 5}, {'callback_url': 'not a url'},
                                  {'callback_url': 'http://'},
                                  {'callback_url': 'http://10.0.0.5:notaport'}])
async def test_heartbeat_needs_a_callback_url(harness, body):
    node = await _waiting_node(harness)
    await fault(await harness.request('POST', f'/v1/heartbeat/{node["uuid"]}', json=body),
                400)
    await fault(await harness.request('POST', f'/v1/heartbeat/{node["uuid"]}', json={}), 400)
    await harness.drain()
    n = await api.get_node(harness, node['uuid'])
    assert n['provision_state'] == 'wait call-back'
    assert 'agent_url' not in n['driver_internal_info']


async def test_heartbeat_with_agent_token(harness):
    node = await _waiting_node(harness)
    node_id = (await harness.db.get_node(node['uuid'])).id
    stored = await harness.db.get_node(node_id)
    await harness.db.update_node(node_id, {'driver_internal_info': {
        **stored.driver_internal_info, 'agent_secret_token': 'sekrit'}})
    await fault(await _heartbeat(harness, node['uuid'], None), 400)
    await fault(await _heartbeat(harness, node['uuid'], 'wrong'), 400)
    await fault(await _heartbeat(harness, node['uuid'], 5), 400)
    assert (await _heartbeat(harness, node['uuid'], 'sekrit')).status == 202
    await harness.drain()
    assert (await api.get_node(harness, node['uuid']))['provision_state'] == 'active'


async def test_heartbeat_is_a_cast_handled_under_the_exclusive_lock(harness, monkeypatch):
    from ironic_lite.drivers.modules import fake
    from ironic_lite.rpcapi.conductor import ConductorAPI
    casts, seen = [], []
    original_cast, original_heartbeat = ConductorAPI._cast, fake.FakeDeploy.heartbeat

    async def recording_cast(self, node, method, *args, **kwargs):
        casts.append(method)
        return await original_cast(self, node, method, *args, **kwargs)

    async def recording_heartbeat(self, task, *args, **kwargs):
        seen.append((task.shared, task.node.reservation, task.node.provision_state))
        return await original_heartbeat(self, task, *args, **kwargs)

    monkeypatch.setattr(ConductorAPI, '_cast', recording_cast)
    monkeypatch.setattr(fake.FakeDeploy, 'heartbeat', recording_heartbeat)
    node = await _waiting_node(harness)
    token = await api.lookup_token(harness, node['uuid'])
    casts.clear()
    assert (await _heartbeat(harness, node['uuid'], token)).status == 202
    await harness.drain()
    assert casts == ['heartbeat']
    assert seen == [(False, harness.host, 'wait call-back')]
    assert (await api.get_node(harness, node['uuid']))['provision_state'] == 'active'


@pytest.mark.parametrize('version', ['1.22', '1.36', '1.61', '1.62', '1.68'])
async def test_tokenless_heartbeat_is_refused_at_every_version(harness, version):
    """Issue 9 §1: before any lookup, a heartbeat without a token (or with one it made up)
    must not make its caller the node's agent, whatever the version — as upstream."""
    node = await _waiting_node(harness)
    for token in (None, 'made-up-token'):
        resp = await _heartbeat(harness, node['uuid'], token, headers=ver(version),
                                callback_url='http://10.6.6.6:9999')
        inner = await fault(resp, 400)
        expected = 'token is required' if token is None else 'Invalid agent token'
        assert expected in inner['faultstring'], inner
    # the conductor refuses it too under the lock (a heartbeat cast by an API that let it by)
    await harness.service.manager.heartbeat({}, node['uuid'], 'http://10.6.6.6:9999',
                                            agent_token=None)
    await harness.drain()
    n = await api.get_node(harness, node['uuid'])
    assert n['provision_state'] == 'wait call-back'
    assert 'agent_url' not in n['driver_internal_info']
    # after the lookup, the token holder heartbeats at this version
    token = await api.lookup_token(harness, node['uuid'])
    assert (await _heartbeat(harness, node['uuid'], token, headers=ver(version))).status == 202
    await harness.drain()
    assert (await api.get_node(harness, node['uuid']))['provision_state'] == 'active'
