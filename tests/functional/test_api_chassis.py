"""Chassis: CRUD, lists (short, detail, fields, paging), the nodes of a chassis."""
from tests.functional import api_helpers as api
from tests.functional.api_helpers import fault, ok, ver

UUID = '1be26c0b-03f2-4d2e-ae87-c02d7f33c123'


async def _chassis(h, **values):
    resp = await h.request('POST', '/v1/chassis', json=values)
    return await ok(resp, 201), resp


async def test_crud(harness):
    chassis, resp = await _chassis(harness, description='rack 1', extra={'row': 'a'})
    assert resp.headers['Location'].endswith(f'/v1/chassis/{chassis["uuid"]}')
    assert chassis['description'] == 'rack 1' and chassis['extra'] == {'row': 'a'}
    assert chassis['nodes'][0]['href'].endswith(f'/v1/chassis/{chassis["uuid"]}/nodes')
    assert chassis['links'][0]['href'].endswith(f'/v1/chassis/{chassis["uuid"]}')
    shown = await ok(await harness.request('GET', f'/v1/chassis/{chassis["uuid"]}'))
    assert shown == chassis
    patched = await ok(await harness.request('PATCH', f'/v1/chassis/{chassis["uuid"]}', json=[
        {'op': 'replace', 'path': '/description', 'value': 'rack 2'},
        {'op': 'add', 'path': '/extra/col', 'value': 3}]))
    assert patched['description'] == 'rack 2' and patched['extra'] == {'row': 'a', 'col': 3}
    assert patched['updated_at']
    resp = await harness.request('DELETE', f'/v1/chassis/{chassis["uuid"]}')
    assert resp.status == 204
    await fault(await harness.request('GET', f'/v1/chassis/{chassis["uuid"]}'), 404)


async def test_lists_fields_and_paging(harness):
    made = [(await _chassis(harness, description=f'c{i}'))[0] for i in range(3)]
    short = await ok(await harness.request('GET', '/v1/chassis'))
    assert [c['uuid'] for c in short['chassis']] == [c['uuid'] for c in made]
    assert set(short['chassis'][0]) == {'uuid', 'description', 'links'}
    detail = await ok(await harness.request('GET', '/v1/chassis/detail'))
    assert 'extra' in detail['chassis'][0] and 'nodes' in detail['chassis'][0]
    assert (await ok(await harness.request('GET', '/v1/chassis?detail=true')))['chassis'] == \
        detail['chassis']
    await fault(await harness.request('GET', '/v1/chassis?detail=true', headers=ver('1.42')),
                406)
    only = await ok(await harness.request('GET', '/v1/chassis?fields=uuid'))
    assert only['chassis'][0] == {'uuid': made[0]['uuid']}
    await fault(await harness.request('GET', '/v1/chassis?fields=bogus'), 400)
    page = await ok(await harness.request('GET', '/v1/chassis?limit=2'))
    assert len(page['chassis']) == 2 and 'marker=' in page['next']
    rest = await ok(await harness.request(
        'GET', f'/v1/chassis?limit=2&marker={page["chassis"][1]["uuid"]}'))
    assert [c['uuid'] for c in rest['chassis']] == [made[2]['uuid']]
    desc = await ok(await harness.request('GET', '/v1/chassis?sort_key=description&sort_dir=desc'))
    assert desc['chassis'][0]['description'] == 'c2'
    await fault(await harness.request('GET', '/v1/chassis?sort_key=extra'), 400)


async def test_bad_input(harness):
    await fault(await harness.request('POST', '/v1/chassis', json={'bogus': 1}), 400)
    await fault(await harness.request('POST', '/v1/chassis', json={'extra': 'x'}), 400)
    await fault(await harness.request('POST', '/v1/chassis', json={'description': 'x' * 256}),
                400)
    await fault(await harness.request('GET', '/v1/chassis/not-a-uuid'), 400)
    await fault(await harness.request('GET', f'/v1/chassis/{UUID}'), 404)
    chassis, _ = await _chassis(harness, uuid=UUID)
    assert chassis['uuid'] == UUID
    await fault(await harness.request('POST', '/v1/chassis', json={'uuid': UUID}), 409)
    await fault(await harness.request('PATCH', f'/v1/chassis/{UUID}', json=[
        {'op': 'replace', 'path': '/uuid', 'value': UUID}]), 400)
    await fault(await harness.request('PATCH', f'/v1/chassis/{UUID}', json=[
        {'op': 'replace', 'path': '/created_at', 'value': 'x'}]), 400)


async def test_chassis_nodes_and_delete_refused_while_not_empty(harness):
    chassis, _ = await _chassis(harness)
    node = await api.create_node(harness, name='in-rack', chassis_uuid=chassis['uuid'])
    assert node['chassis_uuid'] == chassis['uuid']
    await api.create_node(harness, name='elsewhere')
    nodes = await ok(await harness.request('GET', f'/v1/chassis/{chassis["uuid"]}/nodes'))
    assert [n['name'] for n in nodes['nodes']] == ['in-rack']
    assert 'driver' not in nodes['nodes'][0]
    detail = await ok(await harness.request('GET',
                                            f'/v1/chassis/{chassis["uuid"]}/nodes/detail'))
    assert detail['nodes'][0]['driver'] == 'fake-hardware'
    assert detail['nodes'][0]['chassis_uuid'] == chassis['uuid']
    inner = await fault(await harness.request('DELETE', f'/v1/chassis/{chassis["uuid"]}'), 400)
    assert 'contains nodes' in inner['faultstring']
