"""Node fields, list filters, validation and port fields up to API 1.68, each gated by its
version (PATCH rules and provision request fields: ``test_api_node_updates.py``).

Driven through the harness (real API + conductor in the test's loop, SQLite).
"""
import uuid

import pytest

from ironic_lite.db import models
from tests.functional import api_helpers as api
from tests.functional.api_helpers import fault, ok, patch_node, patch_op, ver


async def _uuids(h, query, headers=None):
    body = await ok(await h.request('GET', f'/v1/nodes?{query}', headers=headers))
    return sorted(n['uuid'] for n in body['nodes'])


# -- version headers ---------------------------------------------------------------------

@pytest.mark.parametrize('method,path,headers,status', [
    ('GET', '/v1/nodes', {}, 200),
    ('GET', '/v1/nodes/no-such-node', {}, 404),
    ('GET', '/v1/no-such-resource', {}, 404),
    ('PUT', '/v1/nodes', {}, 405),
    ('GET', '/v1/nodes', ver('1.99'), 406),
    ('GET', '/v1/nodes?owner=x', ver('1.49'), 406),
    ('GET', '/', {}, 200),
])
async def test_version_headers_on_every_response(harness, method, path, headers, status):
    resp = await harness.request(method, path, headers=headers)
    assert resp.status == status, await resp.text()
    assert resp.headers[api.MIN_HEADER] == '1.1'
    assert resp.headers[api.MAX_HEADER] == '1.73'
    assert resp.headers[api.VERSION_HEADER] in ('1.73', '1.49', '1.1')


async def test_latest_is_1_73_and_root_documents_it(harness):
    resp = await harness.request('GET', '/v1/nodes')
    assert resp.headers[api.VERSION_HEADER] == '1.73'
    root = await ok(await harness.request('GET', '/'))
    assert root['default_version']['version'] == '1.73'


# -- fields ------------------------------------------------------------------------------

async def test_new_node_fields_round_trip(harness):
    node = await api.create_node(
        harness, owner='proj-a', lessee='proj-b', description='rack 4, slot 2',
        conductor_group='Group-1', automated_clean=False,
        network_data={'links': [], 'networks': [], 'services': []})
    shown = await api.get_node(harness, node['uuid'])
    assert shown['owner'] == 'proj-a' and shown['lessee'] == 'proj-b'
    assert shown['description'] == 'rack 4, slot 2'
    assert shown['conductor_group'] == 'group-1'  # case-insensitive, stored lowered
    assert shown['automated_clean'] is False
    assert shown['network_data'] == {'links': [], 'networks': [], 'services': []}
    assert shown['protected'] is False and shown['retired'] is False
    assert shown['allocation_uuid'] is None and shown['chassis_uuid'] is None
    assert shown['fault'] is None and shown['deploy_step'] == {}
    # no conductor serves group-1: the node has no conductor
    assert shown['conductor'] is None
    plain = await api.create_node(harness)
    assert (await api.get_node(harness, plain['uuid']))['conductor'] == harness.host


@pytest.mark.parametrize('field,value,version', [
    ('owner', 'p', '1.50'), ('description', 'd', '1.51'), ('lessee', 'p', '1.65'),
    ('network_data', {}, '1.66'), ('conductor_group', 'g', '1.46'),
    ('automated_clean', True, '1.47'), ('storage_interface', 'noop', '1.33'),
    ('rescue_interface', 'fake', '1.38'), ('bios_interface', 'fake', '1.40'),
])
async def test_create_and_patch_with_a_field_above_the_version_is_406(harness, field, value,
                                                                      version):
    minor = int(version.split('.')[1])
    below = ver(f'1.{minor - 1}')
    resp = await harness.request('POST', '/v1/nodes', headers=below,
                                 json={'driver': 'fake-hardware', field: value})
    await fault(resp, 406)
    node = await api.create_node(harness)
    await patch_node(harness, node['uuid'], patch_op('add', f'/{field}', value), status=406,
                 headers=below)


async def test_allocation_and_chassis_uuid_are_shown(harness):
    node = await api.create_node(harness)
    node_id = (await harness.db.get_node(node['uuid'])).id
    alloc = await harness.db.create_resource(models.Allocation, {
        'uuid': str(uuid.uuid4()), 'node_id': node_id, 'state': 'active'})
    chassis = await harness.db.create_resource(models.Chassis, {'uuid': str(uuid.uuid4())})
    await patch_node(harness, node['uuid'], patch_op('add', '/chassis_uuid', chassis.uuid))
    shown = await api.get_node(harness, node['uuid'])
    assert shown['allocation_uuid'] == alloc.uuid
    assert shown['chassis_uuid'] == chassis.uuid
    detail = await ok(await harness.request('GET', '/v1/nodes/detail'))
    assert detail['nodes'][0]['allocation_uuid'] == alloc.uuid
    assert await _uuids(harness, f'chassis_uuid={chassis.uuid}') == [node['uuid']]
    assert await _uuids(harness, f'chassis_uuid={uuid.uuid4()}') == []
    # removing chassis_uuid needs 1.25
    await patch_node(harness, node['uuid'], patch_op('remove', '/chassis_uuid'), status=406,
                 headers=ver('1.24'))
    assert (await patch_node(harness, node['uuid'], patch_op('remove', '/chassis_uuid')))[
        'chassis_uuid'] is None
    await patch_node(harness, node['uuid'], patch_op('add', '/chassis_uuid', str(uuid.uuid4())),
                 status=400)


async def test_old_versions_see_old_state_names(harness):
    node = await api.available_node(harness)
    old = await api.get_node(harness, node['uuid'], headers=ver('1.1'))
    assert old['provision_state'] is None  # NOSTATE before 1.2
    n = await harness.db.get_node(node['uuid'])
    await harness.db.update_node(n.id, {'provision_state': 'inspect wait'})
    assert (await api.get_node(harness, node['uuid'], headers=ver('1.38')))[
        'provision_state'] == 'inspecting'
    assert (await api.get_node(harness, node['uuid'], headers=ver('1.39')))[
        'provision_state'] == 'inspect wait'


# -- filters -----------------------------------------------------------------------------

@pytest.mark.parametrize('query,version', [
    ('provision_state=enroll', '1.9'), ('driver=fake-hardware', '1.16'),
    ('resource_class=x', '1.21'), ('fault=power%20failure', '1.42'), ('detail=true', '1.43'),
    ('conductor_group=g', '1.46'), ('conductor=h', '1.49'), ('owner=o', '1.50'),
    ('lessee=l', '1.65'),
])
async def test_filters_are_406_below_their_version(harness, query, version):
    minor = int(version.split('.')[1])
    await fault(await harness.request('GET', f'/v1/nodes?{query}',
                                      headers=ver(f'1.{minor - 1}')), 406)
    await ok(await harness.request('GET', f'/v1/nodes?{query}', headers=ver(version)))


@pytest.mark.parametrize('path', ['/v1/nodes', '/v1/nodes/detail'])
async def test_filters_upstream_accepts_at_any_version(harness, path):
    """Upstream checks no version for ``retired``, ``description_contains`` and ``project``
    (no check_allow_filter_by_* for them): they filter even at 1.1."""
    a = await api.create_node(harness, owner='o1', description='Big GPU box')
    b = await api.create_node(harness, lessee='o1')
    c = await api.create_node(harness)
    await harness.db.update_node((await harness.db.get_node(c['uuid'])).id, {'retired': True})

    async def uuids(query):
        body = await ok(await harness.request('GET', f'{path}?{query}', headers=ver('1.1')))
        return sorted(n['uuid'] for n in body['nodes'])

    assert await uuids('retired=true') == [c['uuid']]
    assert await uuids('retired=false') == sorted([a['uuid'], b['uuid']])
    assert await uuids('description_contains=GPU') == [a['uuid']]
    assert await uuids('project=o1') == sorted([a['uuid'], b['uuid']])
    await fault(await harness.request('GET', f'{path}?retired=maybe', headers=ver('1.1')), 400)


async def test_filters_select_the_right_nodes(harness):
    a = await api.create_node(harness, owner='o1', lessee='l1', description='Big GPU box',
                              resource_class='gpu', conductor_group='g1')
    b = await api.create_node(harness, owner='o2', lessee='o1', description='small 50%')
    c = await api.create_node(harness, instance_uuid=str(uuid.uuid4()))
    cid = (await harness.db.get_node(c['uuid'])).id
    await harness.db.update_node(cid, {'maintenance': True, 'fault': 'power failure',
                                       'retired': True})
    assert await _uuids(harness, 'owner=o1') == [a['uuid']]
    assert await _uuids(harness, 'lessee=o1') == [b['uuid']]
    assert await _uuids(harness, 'project=o1') == sorted([a['uuid'], b['uuid']])
    assert await _uuids(harness, 'description_contains=GPU') == [a['uuid']]
    assert await _uuids(harness, 'description_contains=50%25') == [b['uuid']]  # no LIKE
    assert await _uuids(harness, 'description_contains=_') == []
    assert await _uuids(harness, 'resource_class=gpu') == [a['uuid']]
    assert await _uuids(harness, 'conductor_group=G1') == [a['uuid']]
    assert await _uuids(harness, 'fault=power%20failure') == [c['uuid']]
    assert await _uuids(harness, 'maintenance=true') == [c['uuid']]
    assert await _uuids(harness, 'retired=true') == [c['uuid']]
    assert await _uuids(harness, 'retired=false') == sorted([a['uuid'], b['uuid']])
    assert await _uuids(harness, 'associated=true') == [c['uuid']]
    assert await _uuids(harness, f'instance_uuid={c["instance_uuid"]}') == [c['uuid']]
    assert await _uuids(harness, 'provision_state=enroll&driver=fake-hardware') == sorted(
        [a['uuid'], b['uuid'], c['uuid']])
    # the conductor filter: a's group has no conductor
    assert await _uuids(harness, f'conductor={harness.host}') == sorted(
        [b['uuid'], c['uuid']])
    assert await _uuids(harness, 'conductor=nobody') == []
    await fault(await harness.request('GET', '/v1/nodes?provision_state=bogus'), 400)
    await fault(await harness.request('GET', '/v1/nodes?retired=maybe'), 400)
    await fault(await harness.request('GET', '/v1/nodes?sort_key=owner',
                                      headers=ver('1.49')), 406)


async def test_conductor_filter_pages_until_the_page_is_full(harness):
    made = [await api.create_node(harness, conductor_group='elsewhere' if i % 2 else '')
            for i in range(7)]
    mine = [n['uuid'] for i, n in enumerate(made) if not i % 2]
    page = await ok(await harness.request('GET', f'/v1/nodes?conductor={harness.host}'
                                                 '&limit=2'))
    assert [n['uuid'] for n in page['nodes']] == mine[:2]
    assert 'next' in page and 'conductor=' in page['next']
    seen = [n['uuid'] for n in page['nodes']]
    url = page['next'][page['next'].index('/v1/'):]
    while url:
        page = await ok(await harness.request('GET', url))
        seen += [n['uuid'] for n in page['nodes']]
        url = page.get('next') and page['next'][page['next'].index('/v1/'):]
    assert seen == mine


async def test_validate_shows_every_interface(harness):
    node = await api.create_node(harness)
    body = await ok(await harness.request('GET', f'/v1/nodes/{node["uuid"]}/validate'))
    assert set(body) >= {'bios', 'boot', 'console', 'deploy', 'inspect', 'management',
                         'network', 'power', 'raid', 'rescue', 'storage'}
    for result in body.values():
        assert set(result) >= {'result'}
    old = await ok(await harness.request('GET', f'/v1/nodes/{node["uuid"]}/validate',
                                         headers=ver('1.32')))
    assert not {'storage', 'rescue', 'bios'} & set(old)


# -- ports ---------------------------------------------------------------------------------

async def test_port_fields_and_filters_by_version(harness):
    node = await api.create_node(harness)
    llc = {'switch_id': '0a:1b:2c:3d:4e:5f', 'port_id': 'Eth1/1', 'network_type': 'managed'}
    resp = await harness.request('POST', '/v1/ports', headers=ver('1.63'), json={
        'node_uuid': node['uuid'], 'address': '52:54:00:00:00:01',
        'local_link_connection': llc})
    await fault(resp, 406)
    port = await ok(await harness.request('POST', '/v1/ports', json={
        'node_uuid': node['uuid'], 'address': '52:54:00:00:00:01',
        'local_link_connection': llc, 'physical_network': 'physnet1', 'is_smartnic': False}),
        201)
    assert port['local_link_connection'] == llc
    assert port['physical_network'] == 'physnet1'
    old = await ok(await harness.request('GET', f'/v1/ports/{port["uuid"]}',
                                         headers=ver('1.63')))
    assert 'network_type' not in old['local_link_connection']
    assert 'is_smartnic' in old
    assert 'is_smartnic' not in await ok(await harness.request(
        'GET', f'/v1/ports/{port["uuid"]}', headers=ver('1.52')))
    older = await ok(await harness.request('GET', f'/v1/ports/{port["uuid"]}',
                                           headers=ver('1.33')))
    assert 'physical_network' not in older
    for bad in ({'switch_id': 'nope', 'port_id': 'p'}, {'port_id': 'p'},
                {'switch_id': '0a:1b:2c:3d:4e:5f', 'port_id': 'p', 'network_type': 'x'},
                {'switch_id': '0a:1b:2c:3d:4e:5f', 'port_id': 'p', 'colour': 'red'}):
        resp = await harness.request('PATCH', f'/v1/ports/{port["uuid"]}',
                                     json=[patch_op('replace', '/local_link_connection', bad)])
        await fault(resp, 400)
    resp = await harness.request('PATCH', f'/v1/ports/{port["uuid"]}', headers=ver('1.63'),
                                 json=[patch_op('add', '/local_link_connection/network_type',
                                           'unmanaged')])
    await fault(resp, 406)
    await fault(await harness.request('GET', '/v1/ports?portgroup=x', headers=ver('1.23')),
                406)
    listed = await ok(await harness.request('GET', f'/v1/ports?node={node["uuid"]}'
                                                   '&fields=uuid,physical_network'))
    assert listed['ports'] == [{'uuid': port['uuid'], 'physical_network': 'physnet1'}]
    listed = await ok(await harness.request('GET', '/v1/ports?address=52:54:00:00:00:01'))
    assert [p['uuid'] for p in listed['ports']] == [port['uuid']]
    await fault(await harness.request('GET', '/v1/ports?sort_key=physical_network',
                                      headers=ver('1.33')), 406)


@pytest.mark.parametrize('field,limit', [('owner', 255), ('lessee', 255),
                                         ('resource_class', 80), ('description', 4096),
                                         ('conductor_group', 255)])
async def test_too_long_values_are_400_not_database_errors(harness, field, limit):
    resp = await harness.request('POST', '/v1/nodes',
                                 json={'driver': 'fake-hardware', field: 'a' * (limit + 1)})
    await fault(resp, 400)
    node = await api.create_node(harness, **{field: 'a' * limit})
    await patch_node(harness, node['uuid'], patch_op('replace', f'/{field}', 'b' * (limit + 1)),
                 status=400)


async def test_conductor_group_characters(harness):
    resp = await harness.request('POST', '/v1/nodes',
                                 json={'driver': 'fake-hardware', 'conductor_group': 'a b'})
    await fault(resp, 400)


@pytest.mark.parametrize('collection,version', [
    ('portgroups', '1.23'), ('lookup', '1.22'), ('volume', '1.32'), ('conductors', '1.49'),
    ('allocations', '1.52'), ('events', '1.54'), ('deploy_templates', '1.55'),
])
async def test_v1_document_lists_collections_from_their_version(harness, collection, version):
    minor = int(version.split('.')[1])
    below = await ok(await harness.request('GET', '/v1/', headers=ver(f'1.{minor - 1}')))
    assert collection not in below
    at = await ok(await harness.request('GET', '/v1/', headers=ver(version)))
    assert at[collection][0]['href'].endswith(f'/v1/{collection}/')
    assert {'nodes', 'ports', 'drivers', 'chassis'} <= set(at)


@pytest.mark.parametrize('node_value,cleans', [(None, True), (False, False), (True, True)])
async def test_node_automated_clean_overrides_the_config(harness, monkeypatch, node_value,
                                                         cleans):
    """Cleaning on provide validates power and management first: count those calls."""
    from ironic_lite.drivers.modules import fake
    calls = []
    original = fake.FakeManagement.validate

    async def counting(self, task):
        calls.append(task.node.uuid)
        return await original(self, task)

    monkeypatch.setattr(fake.FakeManagement, 'validate', counting)
    values = {} if node_value is None else {'automated_clean': node_value}
    node = await api.create_node(harness, **values)
    await api.move(harness, node['uuid'], 'manage', 'manageable')
    calls.clear()
    await api.move(harness, node['uuid'], 'provide', 'available')
    assert bool(calls) is cleans


@pytest.mark.parametrize('name', ['detail', 'validate'])
async def test_reserved_node_names_are_400(harness, name):
    resp = await harness.request('POST', '/v1/nodes',
                                 json={'driver': 'fake-hardware', 'name': name})
    await fault(resp, 400)


async def test_network_data_shape(harness):
    resp = await harness.request('POST', '/v1/nodes', json={
        'driver': 'fake-hardware', 'network_data': {'links': 'eth0'}})
    await fault(resp, 400)
    data = {'links': [{'id': 'eth0', 'type': 'phy', 'ethernet_mac_address': '52:54:00:00:00:01'}],
            'networks': [{'id': 'n0', 'type': 'ipv4_dhcp', 'link': 'eth0'}], 'services': []}
    node = await api.create_node(harness, network_data=data)
    assert (await api.get_node(harness, node['uuid']))['network_data'] == data
    await patch_node(harness, node['uuid'], patch_op('add', '/network_data/services', [1]),
                     status=400)
