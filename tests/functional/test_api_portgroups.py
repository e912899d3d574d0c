"""Portgroups (1.23+): CRUD, version gating, lists and filters, node and port sub-collections."""
from ironic_lite.db import models
from tests.functional import api_helpers as api
from tests.functional.api_helpers import fault, ok, ver

MAC = '52:54:00:aa:bb:{:02x}'


async def _pg(h, node_uuid, i=1, **values):
    resp = await h.request('POST', '/v1/portgroups', json={
        'node_uuid': node_uuid, 'address': MAC.format(i), **values})
    return await ok(resp, 201)


async def test_crud_and_fields(harness):
    node = await api.create_node(harness)
    pg = await _pg(harness, node['uuid'], name='bond0', extra={'a': 1},
                   properties={'miimon': '100'}, mode='802.3ad',
                   standalone_ports_supported=False)
    assert pg['node_uuid'] == node['uuid'] and pg['name'] == 'bond0'
    assert pg['mode'] == '802.3ad' and pg['properties'] == {'miimon': '100'}
    assert pg['standalone_ports_supported'] is False and pg['internal_info'] == {}
    assert pg['ports'][0]['href'].endswith(f'/v1/portgroups/{pg["uuid"]}/ports')
    assert await ok(await harness.request('GET', '/v1/portgroups/bond0')) == pg
    old = await ok(await harness.request('GET', f'/v1/portgroups/{pg["uuid"]}',
                                         headers=ver('1.25')))
    assert 'mode' not in old and 'properties' not in old and old['name'] == 'bond0'
    default = await _pg(harness, node['uuid'], 2)
    assert default['mode'] == 'active-backup' and default['standalone_ports_supported'] is True
    patched = await ok(await harness.request('PATCH', '/v1/portgroups/bond0', json=[
        {'op': 'replace', 'path': '/address', 'value': MAC.format(9).upper()},
        {'op': 'remove', 'path': '/extra/a'}]))
    assert patched['address'] == MAC.format(9) and patched['extra'] == {}
    other = await api.create_node(harness)
    moved = await ok(await harness.request('PATCH', '/v1/portgroups/bond0', json=[
        {'op': 'replace', 'path': '/node_uuid', 'value': other['uuid']}]))
    assert moved['node_uuid'] == other['uuid']
    assert (await harness.request('DELETE', '/v1/portgroups/bond0')).status == 204
    await fault(await harness.request('GET', '/v1/portgroups/bond0'), 404)


async def test_hidden_below_versions(harness):
    node = await api.create_node(harness)
    await fault(await harness.request('GET', '/v1/portgroups', headers=ver('1.22')), 404)
    await fault(await harness.request('POST', '/v1/portgroups', headers=ver('1.22'),
                                      json={'node_uuid': node['uuid']}), 404)
    await ok(await harness.request('GET', '/v1/portgroups', headers=ver('1.23')))
    await fault(await harness.request('GET', f'/v1/nodes/{node["uuid"]}/portgroups',
                                      headers=ver('1.23')), 404)
    await fault(await harness.request('POST', '/v1/portgroups', headers=ver('1.25'), json={
        'node_uuid': node['uuid'], 'mode': 'balance-rr'}), 406)


async def test_conflicts_and_bad_input(harness):
    node = await api.create_node(harness)
    await _pg(harness, node['uuid'], name='bond0')
    await fault(await harness.request('POST', '/v1/portgroups', json={
        'node_uuid': node['uuid'], 'address': MAC.format(1)}), 409)
    await fault(await harness.request('POST', '/v1/portgroups', json={
        'node_uuid': node['uuid'], 'name': 'bond0'}), 409)
    for bad in ({'address': 'nope'}, {'extra': []}, {'standalone_ports_supported': 'x'},
                {'bogus': 1}, {'node_uuid': '1be26c0b-03f2-4d2e-ae87-c02d7f33c123'}):
        await fault(await harness.request('POST', '/v1/portgroups', json={
            'node_uuid': node['uuid'], **bad}), 400)
    await fault(await harness.request('POST', '/v1/portgroups', json={}), 400)
    await fault(await harness.request('PATCH', '/v1/portgroups/bond0', json=[
        {'op': 'replace', 'path': '/internal_info', 'value': {}}]), 400)


async def test_lists_filters_and_subcollections(harness):
    n1, n2 = await api.create_node(harness), await api.create_node(harness)
    a = await _pg(harness, n1['uuid'], 1)
    b = await _pg(harness, n2['uuid'], 2)
    listed = await ok(await harness.request('GET', '/v1/portgroups'))
    assert [p['uuid'] for p in listed['portgroups']] == [a['uuid'], b['uuid']]
    assert set(listed['portgroups'][0]) == {'uuid', 'address', 'name', 'links'}
    detail = await ok(await harness.request('GET', '/v1/portgroups/detail'))
    assert detail['portgroups'][1]['node_uuid'] == n2['uuid']
    by_node = await ok(await harness.request('GET', f'/v1/portgroups?node={n2["uuid"]}'))
    assert [p['uuid'] for p in by_node['portgroups']] == [b['uuid']]
    by_addr = await ok(await harness.request('GET', f'/v1/portgroups?address={MAC.format(1)}'))
    assert [p['uuid'] for p in by_addr['portgroups']] == [a['uuid']]
    sub = await ok(await harness.request('GET', f'/v1/nodes/{n1["uuid"]}/portgroups/detail'))
    assert [p['uuid'] for p in sub['portgroups']] == [a['uuid']]
    assert 'node_uuid' in sub['portgroups'][0]
    page = await ok(await harness.request('GET', '/v1/portgroups?limit=1'))
    assert 'next' in page
    # a port in the portgroup (the port API's portgroup_uuid is engineer D's: link in the DB)
    port = await ok(await harness.request('POST', '/v1/ports', json={
        'node_uuid': n1['uuid'], 'address': '52:54:00:00:00:01'}), 201)
    pg_row = await harness.db.get_resource(models.Portgroup, a['uuid'])
    await harness.db.update_port((await harness.db.get_port(port['uuid'])).id,
                                 {'portgroup_id': pg_row.id})
    ports = await ok(await harness.request('GET', f'/v1/portgroups/{a["uuid"]}/ports'))
    assert [p['uuid'] for p in ports['ports']] == [port['uuid']]
    inner = await fault(await harness.request('DELETE', f'/v1/portgroups/{a["uuid"]}'), 400)
    assert 'contains ports' in inner['faultstring']
    # deleting the node takes its portgroups with it
    await harness.request('DELETE', f'/v1/ports/{port["uuid"]}')
    assert (await harness.request('DELETE', f'/v1/nodes/{n1["uuid"]}')).status == 204
    await fault(await harness.request('GET', f'/v1/portgroups/{a["uuid"]}'), 404)


async def test_port_portgroup_uuid_linkage(harness):
    node, other = await api.create_node(harness), await api.create_node(harness)
    pg = await _pg(harness, node['uuid'])
    foreign = await _pg(harness, other['uuid'], 2)
    port = await ok(await harness.request('POST', '/v1/ports', json={
        'node_uuid': node['uuid'], 'address': '52:54:00:00:00:02',
        'portgroup_uuid': pg['uuid']}), 201)
    assert port['portgroup_uuid'] == pg['uuid']
    shown = await ok(await harness.request('GET', f'/v1/ports/{port["uuid"]}'))
    assert shown['portgroup_uuid'] == pg['uuid']
    assert 'portgroup_uuid' not in await ok(await harness.request(
        'GET', f'/v1/ports/{port["uuid"]}', headers=ver('1.23')))
    detail = await ok(await harness.request('GET', '/v1/ports/detail'))
    assert detail['ports'][0]['portgroup_uuid'] == pg['uuid']
    listed = await ok(await harness.request('GET', f'/v1/portgroups/{pg["uuid"]}/ports'))
    assert [p['uuid'] for p in listed['ports']] == [port['uuid']]
    # a portgroup of another node, an unknown one, or a field above the version: refused
    await fault(await harness.request('POST', '/v1/ports', json={
        'node_uuid': node['uuid'], 'address': '52:54:00:00:00:03',
        'portgroup_uuid': foreign['uuid']}), 400)
    await fault(await harness.request('POST', '/v1/ports', json={
        'node_uuid': node['uuid'], 'address': '52:54:00:00:00:03',
        'portgroup_uuid': '1be26c0b-03f2-4d2e-ae87-c02d7f33c123'}), 400)
    await fault(await harness.request('POST', '/v1/ports', headers=ver('1.23'), json={
        'node_uuid': node['uuid'], 'address': '52:54:00:00:00:03',
        'portgroup_uuid': pg['uuid']}), 406)
    await fault(await harness.request('PATCH', f'/v1/ports/{port["uuid"]}', json=[
        {'op': 'replace', 'path': '/node_uuid', 'value': other['uuid']}]), 400)
    moved = await ok(await harness.request('PATCH', f'/v1/ports/{port["uuid"]}', json=[
        {'op': 'replace', 'path': '/node_uuid', 'value': other['uuid']},
        {'op': 'replace', 'path': '/portgroup_uuid', 'value': foreign['uuid']}]))
    assert moved['portgroup_uuid'] == foreign['uuid'] and moved['node_uuid'] == other['uuid']
    removed = await ok(await harness.request('PATCH', f'/v1/ports/{port["uuid"]}', json=[
        {'op': 'remove', 'path': '/portgroup_uuid'}]))
    assert removed['portgroup_uuid'] is None
    assert (await harness.request('DELETE', f'/v1/portgroups/{foreign["uuid"]}')).status == 204
