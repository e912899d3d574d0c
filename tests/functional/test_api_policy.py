"""Policy (oslo.policy with upstream's rules and defaults) behind keystone auth: roles, owner
and lessee scoping, narrowed lists, policy files, field redaction and secrets masking."""
from __future__ import annotations

import pytest
from yarl import URL

from tests.functional import api_helpers as api
from tests.functional.api_helpers import fault, ok
from tests.functional.keystone import keystone_with_policy, tok


async def test_reader_cannot_change_state(keystone_harness):
    h = keystone_harness
    node = await ok(await h.request('POST', '/v1/nodes', headers=tok('sys-admin'),
                                    json={'driver': 'fake-hardware', 'owner': 'proj-a'}), 201)
    path = f'/v1/nodes/{node["uuid"]}'
    # a system reader sees it but cannot act
    await ok(await h.request('GET', path, headers=tok('sys-reader')))
    for method, sub, body in (('PUT', '/states/provision', {'target': 'manage'}),
                              ('PUT', '/states/power', {'target': 'power on'}),
                              ('PUT', '/maintenance', {'reason': 'x'}),
                              ('PATCH', '', [{'op': 'add', 'path': '/extra/a',
                                              'value': 1}])):
        for who in ('sys-reader', 'owner-reader'):
            resp = await h.request(method, path + sub, headers=tok(who), json=body)
            inner = await fault(resp, 403)
            assert 'baremetal:node:' in inner['faultstring']
    await fault(await h.request('POST', '/v1/nodes', headers=tok('sys-reader'),
                                json={'driver': 'fake-hardware'}), 403)
    # the owner's member may act
    resp = await h.request('PUT', path + '/states/provision', headers=tok('owner-member'),
                           json={'target': 'manage'})
    assert resp.status == 202, await resp.text()
    await h.drain()


async def test_owner_and_lessee_scoping(keystone_harness):
    h = keystone_harness
    admin = tok('sys-admin')
    owned = await ok(await h.request('POST', '/v1/nodes', headers=admin, json={
        'driver': 'fake-hardware', 'owner': 'proj-a', 'name': 'owned'}), 201)
    leased = await ok(await h.request('POST', '/v1/nodes', headers=admin, json={
        'driver': 'fake-hardware', 'lessee': 'proj-a', 'name': 'leased'}), 201)
    other = await ok(await h.request('POST', '/v1/nodes', headers=admin, json={
        'driver': 'fake-hardware', 'owner': 'proj-b', 'name': 'other'}), 201)
    # system readers list everything; a project lists only what it owns or leases
    listed = await ok(await h.request('GET', '/v1/nodes', headers=tok('sys-reader')))
    assert {n['uuid'] for n in listed['nodes']} == {owned['uuid'], leased['uuid'],
                                                     other['uuid']}
    listed = await ok(await h.request('GET', '/v1/nodes/detail',
                                      headers=tok('owner-member')))
    assert {n['uuid'] for n in listed['nodes']} == {owned['uuid'], leased['uuid']}
    listed = await ok(await h.request('GET', '/v1/nodes', headers=tok('other-member')))
    assert {n['uuid'] for n in listed['nodes']} == {other['uuid']}
    # naming another project is refused, as upstream; naming one's own is fine
    inner = await fault(await h.request('GET', '/v1/nodes?project=proj-b',
                                        headers=tok('owner-member')), 403)
    assert 'baremetal:node:list_all' in inner['faultstring']
    listed = await ok(await h.request('GET', '/v1/nodes?project=proj-a',
                                      headers=tok('owner-member')))
    assert {n['uuid'] for n in listed['nodes']} == {owned['uuid'], leased['uuid']}
    # show: someone else's node does not exist for the caller
    await ok(await h.request('GET', f'/v1/nodes/{owned["uuid"]}', headers=tok('owner-reader')))
    await ok(await h.request('GET', '/v1/nodes/leased', headers=tok('owner-member')))
    await fault(await h.request('GET', f'/v1/nodes/{other["uuid"]}',
                                headers=tok('owner-member')), 404)
    await fault(await h.request('GET', f'/v1/nodes/{owned["uuid"]}/states',
                                headers=tok('other-member')), 404)
    # deleting needs a system admin, even for the owner
    await fault(await h.request('DELETE', f'/v1/nodes/{owned["uuid"]}',
                                headers=tok('owner-member')), 403)
    await ok(await h.request('DELETE', f'/v1/nodes/{owned["uuid"]}', headers=admin), 204)


async def test_port_portgroup_and_allocation_lists_are_narrowed_to_the_project(
        keystone_harness):
    """As upstream: ports and portgroups of nodes the caller's project owns or leases,
    allocations it owns; system readers see all."""
    h = keystone_harness
    admin = tok('sys-admin')
    nodes = {}
    for i, (name, values) in enumerate((('owned', {'owner': 'proj-a'}),
                                        ('leased', {'owner': 'proj-b', 'lessee': 'proj-a'}),
                                        ('other', {'owner': 'proj-b'}))):
        node = await ok(await h.request('POST', '/v1/nodes', headers=admin, json={
            'driver': 'fake-hardware', 'name': name, **values}), 201)
        port = await ok(await h.request('POST', '/v1/ports', headers=admin, json={
            'node_uuid': node['uuid'], 'address': f'52:54:00:00:01:0{i}'}), 201)
        pg = await ok(await h.request('POST', '/v1/portgroups', headers=admin, json={
            'node_uuid': node['uuid'], 'address': f'52:54:00:00:02:0{i}'}), 201)
        connector = await ok(await h.request('POST', '/v1/volume/connectors', headers=admin,
                                             json={'node_uuid': node['uuid'], 'type': 'iqn',
                                                   'connector_id': f'iqn.2026-11.test:{i}'}),
                             201)
        nodes[name] = (port['uuid'], pg['uuid'], connector['uuid'])
    allocs = {}
    for owner in ('proj-a', 'proj-b', None):
        alloc = await ok(await h.request('POST', '/v1/allocations', headers=admin, json={
            'resource_class': 'none-such', 'owner': owner}), 201)
        allocs[owner] = alloc['uuid']
    await h.drain()

    async def listed(path, who, key):
        body = await ok(await h.request('GET', path, headers=tok(who)))
        return {item['uuid'] for item in body[key]}

    def ports(*names):
        return {nodes[n][0] for n in names}

    def pgs(*names):
        return {nodes[n][1] for n in names}

    for path in ('/v1/ports', '/v1/ports/detail'):
        assert await listed(path, 'sys-reader', 'ports') == ports('owned', 'leased', 'other')
        assert await listed(path, 'owner-reader', 'ports') == ports('owned', 'leased')
        assert await listed(path, 'other-member', 'ports') == ports('leased', 'other')
    for path in ('/v1/portgroups', '/v1/portgroups/detail'):
        assert await listed(path, 'sys-reader', 'portgroups') == pgs('owned', 'leased',
                                                                      'other')
        assert await listed(path, 'owner-member', 'portgroups') == pgs('owned', 'leased')
        assert await listed(path, 'lessee-member', 'portgroups') == set()
    connectors = {n: nodes[n][2] for n in nodes}
    assert await listed('/v1/volume/connectors', 'sys-reader', 'connectors') == set(
        connectors.values())
    assert await listed('/v1/volume/connectors', 'owner-member', 'connectors') == {
        connectors['owned'], connectors['leased']}
    assert await listed('/v1/allocations', 'sys-reader', 'allocations') == set(
        allocs.values())
    assert await listed('/v1/allocations', 'owner-member', 'allocations') == {
        allocs['proj-a']}
    assert await listed('/v1/allocations?owner=proj-a', 'owner-reader', 'allocations') == {
        allocs['proj-a']}
    # asking for another project's allocations is refused, as upstream
    inner = await fault(await h.request('GET', '/v1/allocations?owner=proj-b',
                                        headers=tok('owner-member')), 403)
    assert 'baremetal:allocation:list_all' in inner['faultstring']
    # other filters narrow further; naming another project's node finds nothing
    other_uuid = (await ok(await h.request('GET', '/v1/nodes/other', headers=admin)))['uuid']
    assert await listed(f'/v1/ports?node={other_uuid}', 'owner-member', 'ports') == set()
    assert await listed(f'/v1/portgroups?node={other_uuid}', 'owner-member',
                        'portgroups') == set()
    # paging runs over the narrowed rows
    first = await ok(await h.request('GET', '/v1/ports?limit=1', headers=tok('owner-member')))
    assert [p['uuid'] for p in first['ports']] == [nodes['owned'][0]]
    rest = await ok(await h.request('GET', URL(first['next']).path_qs,
                                    headers=tok('owner-member')))
    assert [p['uuid'] for p in rest['ports']] == [nodes['leased'][0]]


@pytest.fixture
async def keystone_policy_file_harness(tmp_path, sqlite_url):
    async for h in keystone_with_policy(sqlite_url, tmp_path,
                                        '"baremetal:node:create": "role:reader"\n'):
        yield h


async def test_policy_file_overrides_a_default(keystone_policy_file_harness):
    h = keystone_policy_file_harness
    await ok(await h.request('POST', '/v1/nodes', headers=tok('owner-reader'),
                             json={'driver': 'fake-hardware'}), 201)
    await fault(await h.request('DELETE', '/v1/nodes/x', headers=tok('owner-reader')), 404)


async def test_patch_needs_the_rule_of_each_field(keystone_harness):
    h = keystone_harness
    node = await ok(await h.request('POST', '/v1/nodes', headers=tok('sys-admin'), json={
        'driver': 'fake-hardware', 'owner': 'proj-a', 'lessee': 'proj-l'}), 201)
    path = f'/v1/nodes/{node["uuid"]}'

    def patch(field, value):
        return [{'op': 'add', 'path': f'/{field}', 'value': value}]

    n = await ok(await h.request('PATCH', path, headers=tok('owner-member'),
                                 json=patch('extra', {'a': 1}) + patch('name', 'mine')))
    assert n['extra'] == {'a': 1} and n['name'] == 'mine'
    inner = await fault(await h.request('PATCH', path, headers=tok('owner-member'),
                                        json=patch('owner', 'proj-b')), 403)
    assert 'baremetal:node:update:owner' in inner['faultstring']
    # the lessee may change extra but not driver_info, nor instance_info as a plain member
    await ok(await h.request('PATCH', path, headers=tok('lessee-member'),
                             json=patch('extra', {'b': 2})))
    for field in ('driver_info', 'instance_info'):
        await fault(await h.request('PATCH', path, headers=tok('lessee-member'),
                                    json=patch(field, {'x': 1})), 403)
    await fault(await h.request('PATCH', path, headers=tok('owner-member'),
                                json=patch('automated_clean', False)), 403)


async def test_project_admin_deletes_its_own_node(keystone_harness):
    h = keystone_harness
    mine = await ok(await h.request('POST', '/v1/nodes', headers=tok('sys-admin'), json={
        'driver': 'fake-hardware', 'owner': 'proj-a'}), 201)
    leased = await ok(await h.request('POST', '/v1/nodes', headers=tok('sys-admin'), json={
        'driver': 'fake-hardware', 'lessee': 'proj-a'}), 201)
    await fault(await h.request('DELETE', f'/v1/nodes/{leased["uuid"]}',
                                headers=tok('owner-admin')), 403)
    await ok(await h.request('DELETE', f'/v1/nodes/{mine["uuid"]}',
                             headers=tok('owner-admin')), 204)


async def test_ports_follow_their_node(keystone_harness):
    h = keystone_harness
    node = await ok(await h.request('POST', '/v1/nodes', headers=tok('sys-admin'), json={
        'driver': 'fake-hardware', 'owner': 'proj-a'}), 201)
    other = await ok(await h.request('POST', '/v1/nodes', headers=tok('sys-admin'), json={
        'driver': 'fake-hardware', 'owner': 'proj-b'}), 201)
    # the owner's admin may create a port on its node; not on someone else's (404)
    port = await ok(await h.request('POST', '/v1/ports', headers=tok('owner-admin'), json={
        'node_uuid': node['uuid'], 'address': '52:54:00:00:00:0a'}), 201)
    await fault(await h.request('POST', '/v1/ports', headers=tok('owner-admin'), json={
        'node_uuid': other['uuid'], 'address': '52:54:00:00:00:0b'}), 404)
    await fault(await h.request('POST', '/v1/ports', headers=tok('owner-reader'), json={
        'node_uuid': node['uuid'], 'address': '52:54:00:00:00:0c'}), 403)
    await ok(await h.request('GET', f'/v1/ports/{port["uuid"]}', headers=tok('owner-reader')))
    await fault(await h.request('GET', f'/v1/ports/{port["uuid"]}',
                                headers=tok('other-member')), 404)
    await ok(await h.request('GET', f'/v1/nodes/{node["uuid"]}/ports',
                             headers=tok('owner-reader')))
    await fault(await h.request('DELETE', f'/v1/ports/{port["uuid"]}',
                                headers=tok('owner-member')), 403)
    await ok(await h.request('DELETE', f'/v1/ports/{port["uuid"]}',
                             headers=tok('owner-admin')), 204)


async def test_project_admin_creates_nodes_it_owns(keystone_harness):
    h = keystone_harness
    node = await ok(await h.request('POST', '/v1/nodes', headers=tok('owner-admin'),
                                    json={'driver': 'fake-hardware'}), 201)
    assert node['owner'] == 'proj-a'
    await fault(await h.request('POST', '/v1/nodes', headers=tok('owner-admin'),
                                json={'driver': 'fake-hardware', 'owner': 'proj-b'}), 403)
    await fault(await h.request('POST', '/v1/nodes', headers=tok('owner-member'),
                                json={'driver': 'fake-hardware'}), 403)


async def test_lessee_sees_sensitive_fields_redacted(keystone_harness):
    h = keystone_harness
    node = await ok(await h.request('POST', '/v1/nodes', headers=tok('sys-admin'), json={
        'driver': 'fake-hardware', 'owner': 'proj-a', 'lessee': 'proj-l',
        'driver_info': {'ipmi_address': '10.0.0.9', 'ipmi_password': 'p'}}), 201)
    path = f'/v1/nodes/{node["uuid"]}'
    for who in ('sys-reader', 'owner-reader'):
        n = await ok(await h.request('GET', path, headers=tok(who)))
        assert n['driver_info']['ipmi_address'] == '10.0.0.9'
    n = await ok(await h.request('GET', path, headers=tok('lessee-member')))
    assert n['driver_info'] == {'content': '** Value Redacted - Requires '
                                'baremetal:node:get:driver_info permission. **'}
    assert n['driver_internal_info'] == {'content': '** Value Redacted - Requires '
                                         'baremetal:node:get:driver_internal_info '
                                         'permission. **'}
    listed = await ok(await h.request('GET', '/v1/nodes/detail', headers=tok('lessee-member')))
    for n in listed['nodes']:
        assert 'Redacted' in n['driver_info']['content']
    n = await ok(await h.request('GET', path + '?fields=uuid,driver_info',
                                 headers=tok('lessee-member')))
    assert 'Redacted' in n['driver_info']['content']


SECRET_INSTANCE_INFO = {'image_source': 'http://images/disk.img', 'image_url': 'http://x/temp',
                        'image_checksum': 'abc', 'admin_password': 'pw'}


async def test_instance_and_driver_secrets_are_masked_by_default(harness):
    node = await api.create_node(harness, driver_info={'ipmi_password': 'p', 'ipmi_address': 'a'},
                                 instance_info=SECRET_INSTANCE_INFO)
    shown = await api.get_node(harness, node['uuid'])
    assert shown['instance_info'] == {**SECRET_INSTANCE_INFO, 'image_url': '******',
                                      'admin_password': '******'}
    assert shown['driver_info'] == {'ipmi_password': '******', 'ipmi_address': 'a'}


@pytest.fixture
async def secrets_policy_harness(tmp_path, sqlite_url):
    async for h in keystone_with_policy(
            sqlite_url, tmp_path,
            '"show_instance_secrets": "role:admin"\n"show_password": "role:admin"\n'):
        yield h


async def test_policy_can_show_secrets_to_admins(secrets_policy_harness):
    h = secrets_policy_harness
    node = await ok(await h.request('POST', '/v1/nodes', headers=tok('sys-admin'), json={
        'driver': 'fake-hardware', 'driver_info': {'ipmi_password': 'p'},
        'instance_info': SECRET_INSTANCE_INFO}), 201)
    shown = await ok(await h.request('GET', f'/v1/nodes/{node["uuid"]}',
                                     headers=tok('sys-admin')))
    assert shown['instance_info'] == SECRET_INSTANCE_INFO
    assert shown['driver_info'] == {'ipmi_password': 'p'}
    reader = await ok(await h.request('GET', f'/v1/nodes/{node["uuid"]}',
                                      headers=tok('sys-reader')))
    assert reader['instance_info']['image_url'] == '******'
    assert reader['driver_info'] == {'ipmi_password': '******'}
