"""Ports: create, list, detail, show, patch, delete, and the ports of a node."""
import urllib.parse

from tests.functional import api_helpers as api
from tests.functional.api_helpers import fault, ok, ver

MAC = '52:54:00:AB:CD:{:02X}'


async def _port(h, node_uuid, i=1, **values):
    resp = await h.request('POST', '/v1/ports', json={
        'node_uuid': node_uuid, 'address': MAC.format(i), **values})
    return await ok(resp, 201), resp


async def test_create_show_and_normalised_mac(harness):
    node = await api.create_node(harness)
    port, resp = await _port(harness, node['uuid'], extra={'vif': 'x'}, pxe_enabled=False,
                             local_link_connection={'switch_id': 'aa:bb:cc:dd:ee:ff',
                                                    'port_id': 'Eth1'})
    assert resp.headers['Location'] == str(
        harness.client.make_url(f'/v1/ports/{port["uuid"]}'))
    assert port['address'] == '52:54:00:ab:cd:01'
    assert port['node_uuid'] == node['uuid']
    assert port['extra'] == {'vif': 'x'}
    assert port['pxe_enabled'] is False
    assert port['local_link_connection']['port_id'] == 'Eth1'
    assert port['links'][0]['href'].endswith(f'/v1/ports/{port["uuid"]}')
    shown = await ok(await harness.request('GET', f'/v1/ports/{port["uuid"]}'))
    assert shown == port
    # fields hidden below their versions
    old = await ok(await harness.request('GET', f'/v1/ports/{port["uuid"]}',
                                         headers=ver('1.18')))
    assert 'pxe_enabled' not in old and 'local_link_connection' not in old
    assert 'internal_info' in old
    assert 'internal_info' not in await ok(await harness.request(
        'GET', f'/v1/ports/{port["uuid"]}', headers=ver('1.17')))
    only = await ok(await harness.request('GET', f'/v1/ports/{port["uuid"]}?fields=address'))
    assert only == {'address': '52:54:00:ab:cd:01'}


async def test_create_with_field_newer_than_version_is_406(harness):
    node = await api.create_node(harness)
    resp = await harness.request('POST', '/v1/ports', headers=ver('1.18'), json={
        'node_uuid': node['uuid'], 'address': MAC.format(1), 'pxe_enabled': True})
    await fault(resp, 406)


async def test_duplicate_mac_is_409_in_any_case(harness):
    node = await api.create_node(harness)
    await _port(harness, node['uuid'])
    resp = await harness.request('POST', '/v1/ports', json={
        'node_uuid': node['uuid'], 'address': MAC.format(1).lower()})
    inner = await fault(resp, 409)
    assert MAC.format(1).lower() in inner['faultstring']
    second, _ = await _port(harness, node['uuid'], 2)
    resp = await harness.request('PATCH', f'/v1/ports/{second["uuid"]}', json=[
        {'op': 'replace', 'path': '/address', 'value': MAC.format(1)}])
    await fault(resp, 409)


async def test_list_detail_and_node_ports(harness):
    a = await api.create_node(harness, name='a')
    b = await api.create_node(harness, name='b')
    pa, _ = await _port(harness, a['uuid'], 1)
    pb, _ = await _port(harness, b['uuid'], 2)
    body = await ok(await harness.request('GET', '/v1/ports'))
    assert body['ports'] == [{k: p[k] for k in ('uuid', 'address', 'links')}
                             for p in (pa, pb)]
    detail = await ok(await harness.request('GET', '/v1/ports/detail'))
    assert detail['ports'] == [pa, pb]
    for path in ('/v1/nodes/a/ports', f'/v1/nodes/{a["uuid"]}/ports',
                 f'/v1/ports?node_uuid={a["uuid"]}', '/v1/ports?node=a'):
        body = await ok(await harness.request('GET', path))
        assert [p['uuid'] for p in body['ports']] == [pa['uuid']], path
    detail = await ok(await harness.request('GET', '/v1/nodes/b/ports/detail'))
    assert detail['ports'] == [pb]
    by_mac = await ok(await harness.request('GET', f'/v1/ports?address={MAC.format(2)}'))
    assert [p['uuid'] for p in by_mac['ports']] == [pb['uuid']]
    await fault(await harness.request('GET', '/v1/nodes/nope/ports'), 404)


async def test_node_ports_paging_stays_on_the_node(harness):
    a = await api.create_node(harness)
    b = await api.create_node(harness)
    mine = [(await _port(harness, a['uuid'], i))[0]['uuid'] for i in range(3)]
    await _port(harness, b['uuid'], 10)
    seen, url = [], f'/v1/nodes/{a["uuid"]}/ports?limit=2'
    while url:
        body = await ok(await harness.request('GET', url))
        seen += [p['uuid'] for p in body['ports']]
        nxt = body.get('next')
        url = None
        if nxt:
            parts = urllib.parse.urlsplit(nxt)
            assert parts.path == f'/v1/nodes/{a["uuid"]}/ports'
            url = f'{parts.path}?{parts.query}'
    assert seen == mine
    body = await ok(await harness.request('GET', '/v1/ports/detail?limit=1'))
    assert urllib.parse.urlsplit(body['next']).path == '/v1/ports/detail'
    assert 'node_uuid' in body['ports'][0]


async def test_patch(harness):
    a = await api.create_node(harness)
    b = await api.create_node(harness)
    port, _ = await _port(harness, a['uuid'], extra={'keep': 1})
    resp = await harness.request('PATCH', f'/v1/ports/{port["uuid"]}', json=[
        {'op': 'replace', 'path': '/address', 'value': 'AA:BB:CC:DD:EE:FF'},
        {'op': 'add', 'path': '/extra/vif_port_id', 'value': 'v1'},
        {'op': 'replace', 'path': '/node_uuid', 'value': b['uuid']},
        {'op': 'replace', 'path': '/pxe_enabled', 'value': False}])
    patched = await ok(resp)
    assert patched['address'] == 'aa:bb:cc:dd:ee:ff'
    assert patched['extra'] == {'keep': 1, 'vif_port_id': 'v1'}
    assert patched['node_uuid'] == b['uuid']
    assert patched['pxe_enabled'] is False
    assert await ok(await harness.request('GET', f'/v1/ports/{port["uuid"]}')) == patched
    assert (await ok(await harness.request('GET', f'/v1/nodes/{a["uuid"]}/ports')))['ports'] \
        == []
    resp = await harness.request('PATCH', f'/v1/ports/{port["uuid"]}', json=[
        {'op': 'remove', 'path': '/extra'}, {'op': 'remove', 'path': '/pxe_enabled'},
        {'op': 'remove', 'path': '/local_link_connection'}])
    patched = await ok(resp)
    assert patched['extra'] == {}
    assert patched['pxe_enabled'] is True
    assert patched['local_link_connection'] == {}


async def test_delete(harness):
    node = await api.create_node(harness)
    port, _ = await _port(harness, node['uuid'])
    resp = await harness.request('DELETE', f'/v1/ports/{port["uuid"]}')
    assert resp.status == 204, await resp.text()
    await fault(await harness.request('GET', f'/v1/ports/{port["uuid"]}'), 404)
    await fault(await harness.request('DELETE', f'/v1/ports/{port["uuid"]}'), 404)
    # the MAC is free again
    await _port(harness, node['uuid'])
