"""Answers as upstream gives them: filters, views at old versions."""
from tests.functional import api_helpers as api
from tests.functional.api_helpers import fault, ok, ver


async def test_unknown_fault_filter_is_400(harness):
    await api.create_node(harness)
    inner = await fault(await harness.request('GET', '/v1/nodes?fault=bogus'), 400)
    assert 'bogus' in inner['faultstring'] and 'power failure' in inner['faultstring']
    await fault(await harness.request('GET', '/v1/nodes/detail?fault=bogus'), 400)
    for known in ('power failure', 'clean failure', 'rescue abort failure', 'service failure'):
        listed = await ok(await harness.request('GET', '/v1/nodes', params={'fault': known}))
        assert listed['nodes'] == []
    # below 1.42 the filter itself is refused first (406), as upstream
    await fault(await harness.request('GET', '/v1/nodes?fault=bogus', headers=ver('1.41')), 406)


async def test_states_show_available_as_none_at_1_1(harness):
    node = await api.available_node(harness)
    path = f'/v1/nodes/{node["uuid"]}/states'
    assert (await ok(await harness.request('GET', path, headers=ver('1.1'))))[
        'provision_state'] is None
    assert (await ok(await harness.request('GET', path, headers=ver('1.2'))))[
        'provision_state'] == 'available'
    # the node view agrees
    shown = await api.get_node(harness, node['uuid'], headers=ver('1.1'))
    assert shown['provision_state'] is None


async def _port(h, node_uuid, i, **values):
    return await h.request('POST', '/v1/ports', json={
        'node_uuid': node_uuid, 'address': f'52:54:00:cc:00:{i:02x}', **values})


async def test_ports_of_a_portgroup_share_physical_network(harness):
    node = await api.create_node(harness)
    pg = await ok(await harness.request('POST', '/v1/portgroups', json={
        'node_uuid': node['uuid'], 'address': '52:54:00:cc:01:01'}), 201)
    first = await ok(await _port(harness, node['uuid'], 1, portgroup_uuid=pg['uuid'],
                                 physical_network='physnet1'), 201)
    await ok(await _port(harness, node['uuid'], 2, portgroup_uuid=pg['uuid'],
                         physical_network='physnet1'), 201)
    inner = await fault(await _port(harness, node['uuid'], 3, portgroup_uuid=pg['uuid'],
                                    physical_network='physnet2'), 409)
    assert pg['uuid'] in inner['faultstring'] and 'physnet1' in inner['faultstring']
    await fault(await _port(harness, node['uuid'], 4, portgroup_uuid=pg['uuid']), 409)
    # joining by PATCH, and changing a member's network, are checked too
    loose = await ok(await _port(harness, node['uuid'], 5, physical_network='physnet2'), 201)
    await fault(await harness.request('PATCH', f'/v1/ports/{loose["uuid"]}', json=[
        {'op': 'add', 'path': '/portgroup_uuid', 'value': pg['uuid']}]), 409)
    await fault(await harness.request('PATCH', f'/v1/ports/{first["uuid"]}', json=[
        {'op': 'replace', 'path': '/physical_network', 'value': 'physnet2'}]), 409)
    joined = await ok(await harness.request('PATCH', f'/v1/ports/{loose["uuid"]}', json=[
        {'op': 'add', 'path': '/portgroup_uuid', 'value': pg['uuid']},
        {'op': 'replace', 'path': '/physical_network', 'value': 'physnet1'}]))
    assert joined['portgroup_uuid'] == pg['uuid']
    # the only member may change the group's network
    other_pg = await ok(await harness.request('POST', '/v1/portgroups', json={
        'node_uuid': node['uuid'], 'address': '52:54:00:cc:01:02'}), 201)
    alone = await ok(await _port(harness, node['uuid'], 6, portgroup_uuid=other_pg['uuid']),
                     201)
    await ok(await harness.request('PATCH', f'/v1/ports/{alone["uuid"]}', json=[
        {'op': 'add', 'path': '/physical_network', 'value': 'physnet9'}]))
