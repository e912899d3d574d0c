"""Routes as upstream Ironic serves them: paths without ``/v1`` and legacy forms."""
import pytest

from tests.functional import api_helpers as api
from tests.functional.api_helpers import fault, ok, ver


async def test_paths_without_v1_are_served_as_v1(harness):
    node = await ok(await harness.request('POST', '/nodes', json={'driver': 'fake-hardware'}),
                    201)
    listed = await ok(await harness.request('GET', '/nodes'))
    assert [n['uuid'] for n in listed['nodes']] == [node['uuid']]
    # trailing slash, names, sub-resources and PATCH, as under /v1
    await ok(await harness.request('GET', '/nodes/'))
    shown = await ok(await harness.request('GET', f'/nodes/{node["uuid"]}/states'))
    assert shown['provision_state'] == 'enroll'
    patched = await ok(await harness.request(
        'PATCH', f'/nodes/{node["uuid"]}',
        json=[{'op': 'add', 'path': '/extra/a', 'value': 'b'}]))
    assert patched['extra'] == {'a': 'b'}
    # body schemas and versions apply as under /v1
    await fault(await harness.request('POST', '/nodes', json={'driver': 5}), 400)
    await fault(await harness.request('GET', '/portgroups', headers=ver('1.22')), 404)
    # links keep the /v1 form
    await api.create_node(harness)
    page = await ok(await harness.request('GET', '/nodes?limit=1', headers=ver('1.43')))
    assert '/v1/nodes?' in page['next']


async def test_unknown_short_paths_answer_as_their_v1_twin(harness):
    await fault(await harness.request('GET', '/nodes/nope'), 404)
    await fault(await harness.request('GET', '/v2/nodes'), 404)
    resp = await harness.request('PUT', '/nodes')
    await fault(resp, 405)
    assert 'GET' in resp.headers['Allow']
    await fault(await harness.request('POST', '/v1'), 405)
    root = await ok(await harness.request('GET', '/'))
    assert root['name'] == 'OpenStack Ironic API'


@pytest.mark.parametrize('path', ['/v1/nodes', '/nodes'])
async def test_create_through_either_form_is_the_same_node(harness, path):
    node = await ok(await harness.request('POST', path, json={'driver': 'fake-hardware',
                                                              'name': 'n-1'}), 201)
    assert (await api.get_node(harness, 'n-1'))['uuid'] == node['uuid']


# -- legacy forms upstream's pecan controllers still route ----------------------------------
async def test_legacy_node_state_paths(harness):
    node = await api.create_node(harness, name='legacy-1')
    uuid = node['uuid']
    usual = await ok(await harness.request('GET', f'/v1/nodes/{uuid}/states'))
    assert await ok(await harness.request('GET', f'/v1/nodes/states/{uuid}')) == usual
    assert await ok(await harness.request('GET', '/nodes/states/legacy-1')) == usual
    console = await ok(await harness.request('GET', f'/v1/nodes/states/console/{uuid}'))
    assert console == await ok(await harness.request('GET', f'/v1/nodes/{uuid}/states/console'))
    assert console['console_enabled'] is False
    resp = await harness.request('PUT', f'/v1/nodes/states/console/{uuid}',
                                 json={'enabled': True})
    assert resp.status == 202, await resp.text()
    assert resp.headers['Location'].endswith(f'/v1/nodes/{uuid}/states/console')
    resp = await harness.request('PUT', f'/v1/nodes/states/power/{uuid}',
                                 json={'target': 'power on'})
    assert resp.status == 202, await resp.text()
    await harness.drain()
    assert (await api.get_node(harness, uuid))['power_state'] == 'power on'
    resp = await harness.request('PUT', f'/v1/nodes/states/provision/{uuid}',
                                 json={'target': 'manage'})
    assert resp.status == 202, await resp.text()
    await harness.drain()
    assert (await api.get_node(harness, uuid))['provision_state'] == 'manageable'
    # bodies are checked as on the usual path
    await fault(await harness.request('PUT', f'/v1/nodes/states/power/{uuid}',
                                      json={'target': 'sideways'}), 400)
    await fault(await harness.request('GET', '/v1/nodes/states/console/nope'), 404)


async def test_legacy_maintenance_management_and_validate_paths(harness):
    node = await api.create_node(harness)
    uuid = node['uuid']
    resp = await harness.request('PUT', f'/v1/nodes/maintenance/{uuid}',
                                 json={'reason': 'legacy'})
    assert resp.status == 202, await resp.text()
    shown = await api.get_node(harness, uuid)
    assert shown['maintenance'] and shown['maintenance_reason'] == 'legacy'
    assert (await harness.request('DELETE', f'/v1/nodes/maintenance/{uuid}')).status == 202
    assert not (await api.get_node(harness, uuid))['maintenance']
    device = await ok(await harness.request('GET',
                                            f'/v1/nodes/management/boot_device/{uuid}'))
    assert device == await ok(await harness.request(
        'GET', f'/v1/nodes/{uuid}/management/boot_device'))
    usual = await ok(await harness.request('GET', f'/v1/nodes/{uuid}/validate'))
    for query in (f'node={uuid}', f'node_uuid={uuid}'):
        assert await ok(await harness.request('GET', f'/v1/nodes/validate?{query}')) == usual
    await fault(await harness.request('GET', '/v1/nodes/validate?node=nope'), 404)


async def test_heartbeat_with_the_node_in_the_body(harness):
    node = await api.waiting_node(harness, '52:54:00:5a:00:02')
    token = await api.lookup_token(harness, node['uuid'])  # as IPA, before its heartbeats
    resp = await harness.request('POST', '/v1/heartbeat', headers=ver('1.62'), json={
        'node_ident': node['uuid'], 'callback_url': 'http://10.0.0.5:9999',
        'agent_token': token})
    assert resp.status == 202, await resp.text()
    await harness.drain()
    info = (await api.get_node(harness, node['uuid']))['driver_internal_info']
    assert info['agent_url'] == 'http://10.0.0.5:9999'
    # the node is required, looked up as in the path form, and the body checked the same way
    await fault(await harness.request('POST', '/v1/heartbeat', headers=ver('1.61'), json={
        'callback_url': 'http://10.0.0.5:9999'}), 400)
    await fault(await harness.request('POST', '/v1/heartbeat', headers=ver('1.61'), json={
        'node_ident': 'nope', 'callback_url': 'http://10.0.0.5:9999'}), 404)
    await fault(await harness.request('POST', '/v1/heartbeat', headers=ver('1.61'), json={
        'node_ident': node['uuid']}), 400)
    await fault(await harness.request('POST', '/v1/heartbeat', headers=ver('1.21'), json={
        'node_ident': node['uuid'], 'callback_url': 'http://10.0.0.5:9999'}), 404)
