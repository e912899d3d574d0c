"""Volume connectors and targets (1.32): CRUD, gating, conflicts, node sub-resources, the
power-off rule for changes."""
from tests.functional import api_helpers as api
from tests.functional.api_helpers import fault, ok, ver

VOL = '5b8f6b5e-2f7a-4f61-9d0b-8e7e3d2f1a01'


async def _off_node(h):
    node = await api.create_node(h)
    await h.db.update_node((await h.db.get_node(node['uuid'])).id, {'power_state': 'power off'})
    return node


async def test_root_and_gating(harness):
    root = await ok(await harness.request('GET', '/v1/volume'))
    assert root['connectors'][0]['href'].endswith('/v1/volume/connectors')
    assert root['targets'][0]['href'].endswith('/v1/volume/targets')
    for path in ('/v1/volume', '/v1/volume/connectors', '/v1/volume/targets'):
        await fault(await harness.request('GET', path, headers=ver('1.31')), 404)
    node = await api.create_node(harness)
    await fault(await harness.request('GET', f'/v1/nodes/{node["uuid"]}/volume/connectors',
                                      headers=ver('1.31')), 404)
    sub = await ok(await harness.request('GET', f'/v1/nodes/{node["uuid"]}/volume'))
    assert sub['targets'][0]['href'].endswith(f'/v1/nodes/{node["uuid"]}/volume/targets')


async def test_connectors(harness):
    node = await _off_node(harness)
    conn = await ok(await harness.request('POST', '/v1/volume/connectors', json={
        'node_uuid': node['uuid'], 'type': 'iqn', 'connector_id': 'iqn.2017-07.org:n1'}), 201)
    assert conn['node_uuid'] == node['uuid'] and conn['extra'] == {}
    await fault(await harness.request('POST', '/v1/volume/connectors', json={
        'node_uuid': node['uuid'], 'type': 'iqn', 'connector_id': 'iqn.2017-07.org:n1'}), 409)
    await fault(await harness.request('POST', '/v1/volume/connectors', json={
        'node_uuid': node['uuid'], 'type': 'bogus', 'connector_id': 'x'}), 400)
    await fault(await harness.request('POST', '/v1/volume/connectors', json={
        'node_uuid': node['uuid'], 'type': 'ip'}), 400)
    listed = await ok(await harness.request('GET', '/v1/volume/connectors'))
    assert set(listed['connectors'][0]) == {'uuid', 'node_uuid', 'type', 'connector_id',
                                            'links'}
    detail = await ok(await harness.request('GET', '/v1/volume/connectors?detail=true'))
    assert 'extra' in detail['connectors'][0]
    by_node = await ok(await harness.request(
        'GET', f'/v1/nodes/{node["uuid"]}/volume/connectors'))
    assert [c['uuid'] for c in by_node['connectors']] == [conn['uuid']]
    patched = await ok(await harness.request(
        'PATCH', f'/v1/volume/connectors/{conn["uuid"]}',
        json=[{'op': 'replace', 'path': '/connector_id', 'value': 'iqn.2017-07.org:n2'}]))
    assert patched['connector_id'] == 'iqn.2017-07.org:n2'
    assert (await harness.request('DELETE', f'/v1/volume/connectors/{conn["uuid"]}')).status \
        == 204
    await fault(await harness.request('GET', f'/v1/volume/connectors/{conn["uuid"]}'), 404)


async def test_targets_and_power_rule(harness):
    node = await _off_node(harness)
    body = {'node_uuid': node['uuid'], 'volume_type': 'iscsi', 'boot_index': 0,
            'volume_id': VOL, 'properties': {'target_lun': 0}}
    target = await ok(await harness.request('POST', '/v1/volume/targets', json=body), 201)
    assert target['properties'] == {'target_lun': 0} and target['boot_index'] == 0
    await fault(await harness.request('POST', '/v1/volume/targets', json=body), 409)
    await fault(await harness.request('POST', '/v1/volume/targets',
                                      json={**body, 'boot_index': -1}), 400)
    other = await api.create_node(harness)
    await ok(await harness.request('POST', '/v1/volume/targets',
                                   json={**body, 'node_uuid': other['uuid']}), 201)
    listed = await ok(await harness.request('GET', f'/v1/volume/targets?node={node["uuid"]}'))
    assert [t['uuid'] for t in listed['targets']] == [target['uuid']]
    await harness.db.update_node((await harness.db.get_node(node['uuid'])).id,
                                 {'power_state': 'power on'})
    inner = await fault(await harness.request(
        'PATCH', f'/v1/volume/targets/{target["uuid"]}',
        json=[{'op': 'replace', 'path': '/boot_index', 'value': 1}]), 400)
    assert 'power on' in inner['faultstring']
    await fault(await harness.request('DELETE', f'/v1/volume/targets/{target["uuid"]}'), 400)
