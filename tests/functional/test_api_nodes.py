"""Nodes: create, list (paging, sorting, filters, fields), show, JSON patch, delete, masking."""
import urllib.parse
import uuid

from ironic_lite.testing.harness import Harness
from tests.functional import api_helpers as api
from tests.functional.api_helpers import fault, ok, ver

LIST_FIELDS = {'uuid', 'instance_uuid', 'maintenance', 'power_state', 'provision_state',
               'name', 'links'}


def _relative(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return f'{parts.path}?{parts.query}'


async def _patch(h, ident, *ops, status=200):
    resp = await h.request('PATCH', f'/v1/nodes/{ident}', json=list(ops))
    if status != 200:
        return await fault(resp, status)
    return await ok(resp)


async def _node_id(h, ident) -> int:
    return (await h.db.get_node(ident)).id


async def test_create_returns_201_location_and_the_node(harness):
    resp = await harness.request('POST', '/v1/nodes', json={
        'driver': 'fake-hardware', 'name': 'n1', 'properties': {'cpus': 4},
        'extra': {'rack': 'r1'}, 'resource_class': 'baremetal'})
    node = await ok(resp, 201)
    assert resp.headers['Location'] == str(harness.client.make_url(f'/v1/nodes/{node["uuid"]}'))
    assert node['name'] == 'n1'
    assert node['driver'] == 'fake-hardware'
    assert node['properties'] == {'cpus': 4}
    assert node['extra'] == {'rack': 'r1'}
    assert node['resource_class'] == 'baremetal'
    assert node['provision_state'] == 'enroll'
    assert node['maintenance'] is False
    assert node['reservation'] is None
    # interfaces got the hardware type's defaults
    assert node['deploy_interface'] == 'fake'
    assert node['power_interface'] == 'fake'
    assert node['network_interface'] == 'noop'
    assert node['links'][0]['rel'] == 'self'
    assert node['created_at'].endswith('+00:00')
    # what GET returns is what POST returned
    assert await api.get_node(harness, node['uuid']) == node


async def test_create_with_given_uuid_and_instance_uuid(harness):
    node_uuid, instance = str(uuid.uuid4()), str(uuid.uuid4())
    node = await api.create_node(harness, uuid=node_uuid, instance_uuid=instance)
    assert node['uuid'] == node_uuid
    assert node['instance_uuid'] == instance
    # an instance can only be on one node
    await fault(await harness.request('POST', '/v1/nodes', json={
        'driver': 'fake-hardware', 'instance_uuid': instance}), 409)


async def test_show_by_uuid_and_by_name(harness):
    node = await api.create_node(harness, name='by-name')
    assert (await api.get_node(harness, 'by-name'))['uuid'] == node['uuid']
    assert (await api.get_node(harness, f'{node["uuid"]}'))['name'] == 'by-name'
    resp = await harness.request('GET', f'/v1/nodes/{node["uuid"]}/')
    assert (await ok(resp))['uuid'] == node['uuid']


async def test_list_default_fields_and_detail(harness):
    a = await api.create_node(harness, name='a', driver_info={'ipmi_password': 'p'})
    body = await ok(await harness.request('GET', '/v1/nodes'))
    assert 'next' not in body
    assert [n['uuid'] for n in body['nodes']] == [a['uuid']]
    assert set(body['nodes'][0]) == LIST_FIELDS
    old = await ok(await harness.request('GET', '/v1/nodes', headers=ver('1.1')))
    assert set(old['nodes'][0]) == LIST_FIELDS - {'name'}
    detail = await ok(await harness.request('GET', '/v1/nodes/detail'))
    assert detail['nodes'][0] == await api.get_node(harness, a['uuid'])
    assert detail['nodes'][0]['driver_info'] == {'ipmi_password': '******'}
    detail_old = await ok(await harness.request('GET', '/v1/nodes/detail',
                                                headers=ver('1.1')))
    assert 'name' not in detail_old['nodes'][0]
    assert 'driver_internal_info' not in detail_old['nodes'][0]
    assert 'driver_info' in detail_old['nodes'][0]


async def test_fields_parameter(harness):
    node = await api.create_node(harness, name='f1', extra={'a': 1})
    shown = await ok(await harness.request('GET', f'/v1/nodes/{node["uuid"]}?fields=extra,name'))
    assert shown == {'extra': {'a': 1}, 'name': 'f1'}
    listed = await ok(await harness.request('GET', '/v1/nodes?fields=uuid,driver'))
    assert listed['nodes'] == [{'uuid': node['uuid'], 'driver': 'fake-hardware'}]
    # fields= appeared in 1.8
    await fault(await harness.request('GET', f'/v1/nodes/{node["uuid"]}?fields=uuid',
                                      headers=ver('1.7')), 406)
    await fault(await harness.request('GET', '/v1/nodes?fields=uuid', headers=ver('1.7')),
                406)
    # a field newer than the negotiated version is 406; one that does not exist 400
    await fault(await harness.request('GET', f'/v1/nodes/{node["uuid"]}?fields=resource_class',
                                      headers=ver('1.20')), 406)
    await fault(await harness.request('GET', '/v1/nodes?fields=traits', headers=ver('1.36')),
                406)
    await fault(await harness.request('GET', '/v1/nodes?fields=uuid,nonsense'), 400)
    # detail and fields exclude each other
    await fault(await harness.request('GET', '/v1/nodes/detail?fields=uuid'), 400)


async def _walk(h, url):
    pages = []
    while url:
        body = await ok(await h.request('GET', url))
        pages.append(body['nodes'])
        url = _relative(body['next']) if 'next' in body else None
        assert len(pages) < 20
    return pages


async def test_limit_marker_and_next_link(harness):
    uuids = [(await api.create_node(harness, name=f'p{i}'))['uuid'] for i in range(5)]
    pages = await _walk(harness, '/v1/nodes?limit=2')
    assert [len(p) for p in pages] == [2, 2, 1]
    assert [n['uuid'] for p in pages for n in p] == uuids
    assert set(pages[1][0]) == LIST_FIELDS
    # the next link is absolute, keeps the path and query, and is a valid URL
    body = await ok(await harness.request('GET', '/v1/nodes/detail?limit=2&sort_dir=desc'))
    nxt = urllib.parse.urlsplit(body['next'])
    assert nxt.path == '/v1/nodes/detail'
    assert urllib.parse.parse_qs(nxt.query) == {
        'limit': ['2'], 'sort_dir': ['desc'], 'marker': [uuids[3]]}
    pages = await _walk(harness, '/v1/nodes/detail?limit=2&sort_key=name&sort_dir=desc')
    names = [n['name'] for p in pages for n in p]
    assert names == ['p4', 'p3', 'p2', 'p1', 'p0']
    assert 'driver_info' in pages[2][0]
    # exactly a full last page: an empty page ends the walk
    pages = await _walk(harness, '/v1/nodes?limit=5')
    assert [len(p) for p in pages] in ([5], [5, 0])


async def test_next_link_keeps_filters_with_spaces(harness):
    for _ in range(3):
        node = await api.available_node(harness, driver_info={'fake_deploy_wait': True})
        await api.move(harness, node['uuid'], 'active', 'wait call-back')
    await api.create_node(harness)
    pages = await _walk(harness, '/v1/nodes?limit=2&provision_state=wait%20call-back')
    assert [len(p) for p in pages] == [2, 1]
    assert {n['provision_state'] for p in pages for n in p} == {'wait call-back'}


async def test_max_limit_pages_without_a_limit(sqlite_url):
    h = await Harness(sqlite_url, **{'api.max_limit': 2}).start()
    try:
        for _ in range(3):
            await api.create_node(h)
        pages = await _walk(h, '/v1/nodes')
        assert [len(p) for p in pages] == [2, 1]
        pages = await _walk(h, '/v1/nodes?limit=50')
        assert [len(p) for p in pages] == [2, 1]
    finally:
        await h.stop()


async def test_sorting(harness):
    for name in ('b', 'c', 'a'):
        await api.create_node(harness, name=name)
    body = await ok(await harness.request('GET', '/v1/nodes?sort_key=name'))
    assert [n['name'] for n in body['nodes']] == ['a', 'b', 'c']
    body = await ok(await harness.request('GET', '/v1/nodes?sort_key=name&sort_dir=desc'))
    assert [n['name'] for n in body['nodes']] == ['c', 'b', 'a']
    body = await ok(await harness.request('GET', '/v1/nodes?sort_dir=desc'))
    assert [n['name'] for n in body['nodes']] == ['a', 'c', 'b']


async def test_filters(harness):
    instance = str(uuid.uuid4())
    plain = await api.create_node(harness, name='plain')
    await api.create_node(harness, name='assoc', instance_uuid=instance,
                          resource_class='gold')
    maint = await api.create_node(harness, name='maint')
    await ok(await harness.request('PUT', f'/v1/nodes/{maint["uuid"]}/maintenance',
                                   json={'reason': 'x'}), 202)
    avail = await api.available_node(harness, name='avail')

    async def names(query, headers=None):
        body = await ok(await harness.request('GET', f'/v1/nodes?{query}', headers=headers))
        return sorted(n['name'] for n in body['nodes'])

    assert await names('associated=true') == ['assoc']
    assert await names('associated=false') == ['avail', 'maint', 'plain']
    assert await names('maintenance=true') == ['maint']
    assert await names('maintenance=false') == ['assoc', 'avail', 'plain']
    assert await names('provision_state=available') == ['avail']
    assert await names('provision_state=enroll') == ['assoc', 'maint', 'plain']
    assert await names('driver=fake-hardware') == ['assoc', 'avail', 'maint', 'plain']
    assert await names('driver=ipmi') == []
    assert await names('resource_class=gold') == ['assoc']
    assert await names(f'instance_uuid={instance}') == ['assoc']
    assert await names('associated=false&maintenance=false') == ['avail', 'plain']
    # filters only exist from their microversion
    await fault(await harness.request('GET', '/v1/nodes?provision_state=enroll',
                                      headers=ver('1.8')), 406)
    await fault(await harness.request('GET', '/v1/nodes?driver=fake-hardware',
                                      headers=ver('1.15')), 406)
    await fault(await harness.request('GET', '/v1/nodes?resource_class=gold',
                                      headers=ver('1.20')), 406)
    assert plain['uuid'] and avail['uuid']


async def test_patch_top_level_and_nested(harness):
    node = await api.create_node(harness, extra={'keep': 1})
    ident = node['uuid']
    n = await _patch(harness, ident,
                     {'op': 'add', 'path': '/driver_info/foo', 'value': 'bar'},
                     {'op': 'add', 'path': '/instance_info/image_source', 'value': 'http://i'},
                     {'op': 'add', 'path': '/extra/new', 'value': {'deep': [1, 2]}},
                     {'op': 'replace', 'path': '/name', 'value': 'patched'},
                     {'op': 'add', 'path': '/properties', 'value': {'memory_mb': 1024}})
    assert n['driver_info'] == {'foo': 'bar'}
    assert n['instance_info'] == {'image_source': 'http://i'}
    assert n['extra'] == {'keep': 1, 'new': {'deep': [1, 2]}}
    assert n['name'] == 'patched'
    assert n['properties'] == {'memory_mb': 1024}
    assert n['updated_at'] is not None
    assert await api.get_node(harness, 'patched') == n
    # add on an existing key replaces it; replace of a nested key; null values are kept
    n = await _patch(harness, ident,
                     {'op': 'add', 'path': '/driver_info/foo', 'value': 'baz'},
                     {'op': 'replace', 'path': '/instance_info/image_source', 'value': 'x'},
                     {'op': 'add', 'path': '/extra/nothing', 'value': None},
                     {'op': 'add', 'path': '/extra/new/deep/-', 'value': 3})
    assert n['driver_info'] == {'foo': 'baz'}
    assert n['instance_info'] == {'image_source': 'x'}
    assert n['extra'] == {'keep': 1, 'new': {'deep': [1, 2, 3]}, 'nothing': None}
    # remove of a nested key; remove of a top-level field resets it to its default
    n = await _patch(harness, ident,
                     {'op': 'remove', 'path': '/instance_info/image_source'},
                     {'op': 'remove', 'path': '/extra'},
                     {'op': 'remove', 'path': '/name'},
                     {'op': 'remove', 'path': '/maintenance'},
                     {'op': 'remove', 'path': '/resource_class'})
    assert n['instance_info'] == {}
    assert n['extra'] == {}
    assert n['name'] is None
    assert n['maintenance'] is False
    assert n['resource_class'] is None
    # a null value on a top-level field
    n = await _patch(harness, ident, {'op': 'replace', 'path': '/name', 'value': 'again'})
    n = await _patch(harness, ident, {'op': 'replace', 'path': '/name', 'value': None})
    assert n['name'] is None
    # an empty patch changes nothing
    assert await _patch(harness, ident) == await api.get_node(harness, ident)


async def test_patch_is_atomic(harness):
    node = await api.create_node(harness, extra={'a': 1})
    await _patch(harness, node['uuid'],
                 {'op': 'replace', 'path': '/extra/a', 'value': 2},
                 {'op': 'remove', 'path': '/extra/missing'}, status=400)
    assert (await api.get_node(harness, node['uuid']))['extra'] == {'a': 1}


async def test_patch_interfaces_and_driver(harness):
    node = await api.create_node(harness)
    n = await _patch(harness, node['uuid'],
                     {'op': 'replace', 'path': '/deploy_interface', 'value': 'fake'})
    assert n['deploy_interface'] == 'fake'
    await _patch(harness, node['uuid'],
                 {'op': 'replace', 'path': '/deploy_interface', 'value': 'iscsi-nope'},
                 status=400)
    # interfaces appeared in 1.31
    resp = await harness.request('PATCH', f'/v1/nodes/{node["uuid"]}', headers=ver('1.30'),
                                 json=[{'op': 'replace', 'path': '/deploy_interface',
                                        'value': 'fake'}])
    await fault(resp, 406)
    # removing an interface goes back to the hardware type's default
    n = await _patch(harness, node['uuid'], {'op': 'remove', 'path': '/deploy_interface'})
    assert n['deploy_interface'] == 'fake'


async def test_instance_uuid_association(harness):
    first, second = str(uuid.uuid4()), str(uuid.uuid4())
    node = await api.create_node(harness)
    other = await api.create_node(harness)
    n = await _patch(harness, node['uuid'],
                     {'op': 'add', 'path': '/instance_uuid', 'value': first})
    assert n['instance_uuid'] == first
    # the same value again is no change
    await _patch(harness, node['uuid'], {'op': 'add', 'path': '/instance_uuid', 'value': first})
    # another instance on an associated node: 409
    await _patch(harness, node['uuid'],
                 {'op': 'replace', 'path': '/instance_uuid', 'value': second}, status=409)
    # the same instance on another node: 409
    await _patch(harness, other['uuid'],
                 {'op': 'add', 'path': '/instance_uuid', 'value': first}, status=409)
    # disassociate, then associate again
    n = await _patch(harness, node['uuid'], {'op': 'remove', 'path': '/instance_uuid'})
    assert n['instance_uuid'] is None
    n = await _patch(harness, node['uuid'],
                     {'op': 'replace', 'path': '/instance_uuid', 'value': second})
    assert n['instance_uuid'] == second


async def test_patch_locked_node_is_409(harness):
    node = await api.create_node(harness)
    await harness.db.reserve_node('other-host', await _node_id(harness, node['uuid']))
    inner = await _patch(harness, node['uuid'],
                         {'op': 'add', 'path': '/extra/a', 'value': 1}, status=409)
    assert 'other-host' in inner['faultstring']


async def test_secrets_are_masked(harness):
    node = await api.create_node(harness, driver_info={
        'ipmi_address': '10.0.0.1', 'ipmi_username': 'admin', 'ipmi_password': 'secret!',
        'redfish_password': 'x', 'snmp_auth_token': 'y', 'my_secret': 'z',
        'nested': {'password': 'p'}})
    expected = {'ipmi_address': '10.0.0.1', 'ipmi_username': 'admin',
                'ipmi_password': '******', 'redfish_password': '******',
                'snmp_auth_token': '******', 'my_secret': '******',
                'nested': {'password': '******'}}
    assert node['driver_info'] == expected
    assert (await api.get_node(harness, node['uuid']))['driver_info'] == expected
    listed = await ok(await harness.request('GET', '/v1/nodes/detail'))
    assert listed['nodes'][0]['driver_info'] == expected
    patched = await _patch(harness, node['uuid'],
                           {'op': 'add', 'path': '/driver_info/ipmi_port', 'value': 623})
    assert patched['driver_info']['ipmi_password'] == '******'
    # the real values are stored
    stored = await harness.db.get_node(node['uuid'])
    assert stored.driver_info['ipmi_password'] == 'secret!'
    # configdrive and agent token
    node_id = await _node_id(harness, node['uuid'])
    await harness.db.update_node(node_id, {
        'instance_info': {'configdrive': 'H4sIAAAA', 'image_source': 'http://i'},
        'driver_internal_info': {'agent_secret_token': 'tok', 'agent_url': 'http://a'}})
    shown = await api.get_node(harness, node['uuid'])
    assert shown['instance_info'] == {'configdrive': '******', 'image_source': 'http://i'}
    assert shown['driver_internal_info'] == {'agent_secret_token': '******',
                                             'agent_url': 'http://a'}
    fields = await ok(await harness.request(
        'GET', f'/v1/nodes/{node["uuid"]}?fields=driver_info,instance_info'))
    assert fields['instance_info']['configdrive'] == '******'
    assert fields['driver_info']['ipmi_password'] == '******'
    text = await (await harness.request('GET', '/v1/nodes/detail')).text()
    assert 'secret!' not in text and 'H4sIAAAA' not in text and '"tok"' not in text


async def test_delete(harness):
    node = await api.create_node(harness)
    port = await ok(await harness.request('POST', '/v1/ports', json={
        'node_uuid': node['uuid'], 'address': '52:54:00:00:00:01'}), 201)
    resp = await harness.request('DELETE', f'/v1/nodes/{node["uuid"]}')
    assert resp.status == 204, await resp.text()
    assert await resp.read() == b''
    await fault(await harness.request('GET', f'/v1/nodes/{node["uuid"]}'), 404)
    await fault(await harness.request('GET', f'/v1/ports/{port["uuid"]}'), 404)
    await fault(await harness.request('DELETE', f'/v1/nodes/{node["uuid"]}'), 404)


async def test_delete_by_name(harness):
    await api.create_node(harness, name='gone')
    resp = await harness.request('DELETE', '/v1/nodes/gone')
    assert resp.status == 204


async def test_delete_active_or_associated_is_refused(harness):
    active = await api.active_node(harness)
    inner = await fault(await harness.request('DELETE', f'/v1/nodes/{active["uuid"]}'), 409)
    assert 'active' in inner['faultstring']
    associated = await api.create_node(harness, instance_uuid=str(uuid.uuid4()))
    inner = await fault(await harness.request('DELETE', f'/v1/nodes/{associated["uuid"]}'),
                        409)
    assert associated['instance_uuid'] in inner['faultstring']
    # in maintenance an active node can be deleted (upstream's escape hatch)
    await ok(await harness.request('PUT', f'/v1/nodes/{active["uuid"]}/maintenance'), 202)
    resp = await harness.request('DELETE', f'/v1/nodes/{active["uuid"]}')
    assert resp.status == 204, await resp.text()


async def test_delete_locked_node_is_409(harness):
    node = await api.create_node(harness)
    await harness.db.reserve_node('other-host', await _node_id(harness, node['uuid']))
    await fault(await harness.request('DELETE', f'/v1/nodes/{node["uuid"]}'), 409)
    await api.get_node(harness, node['uuid'])


async def test_paging_on_nullable_sort_keys_on_every_backend(db_url):
    """A marker row whose sort value is NULL (a node without a name) was a 500."""
    h = await Harness(db_url, **{'conductor.node_locked_retry_interval': 0.01}).start()
    try:
        instance = str(uuid.uuid4())
        for name in ('b', None, 'a', None, 'c'):
            values = {'name': name} if name else {}
            if name == 'a':
                values['instance_uuid'] = instance
            await api.create_node(h, **values)
        for key in ('name', 'instance_uuid', 'updated_at', 'resource_class'):
            for direction in ('asc', 'desc'):
                query = f'sort_key={key}&sort_dir={direction}'
                full = (await ok(await h.request('GET', f'/v1/nodes?{query}')))['nodes']
                pages = await _walk(h, f'/v1/nodes?{query}&limit=1')
                paged = [n for p in pages for n in p]
                assert [n['uuid'] for n in paged] == [n['uuid'] for n in full], query
                assert len(paged) == 5
        names = [n['name'] for p in await _walk(h, '/v1/nodes?sort_key=name&limit=2')
                 for n in p]
        assert names == [None, None, 'a', 'b', 'c']
        names = [n['name'] for p in await _walk(
            h, '/v1/nodes?sort_key=name&sort_dir=desc&limit=2') for n in p]
        assert names == ['c', 'b', 'a', None, None]
        # ports too
        node = await api.create_node(h)
        for i in range(3):
            await ok(await h.request('POST', '/v1/ports', json={
                'node_uuid': node['uuid'], 'address': f'52:54:00:00:00:0{i}'}), 201)
        for direction in ('asc', 'desc'):
            seen, url = [], f'/v1/ports?sort_key=updated_at&sort_dir={direction}&limit=1'
            while url:
                body = await ok(await h.request('GET', url))
                seen += [p['uuid'] for p in body['ports']]
                url = _relative(body['next']) if 'next' in body else None
            assert len(seen) == len(set(seen)) == 3, direction
    finally:
        await h.stop()
