"""Client mistakes get Ironic's error body and a 4xx — never a 500, never a traceback."""
import uuid

import pytest

from ironic_lite.testing.harness import Harness
from tests.functional import api_helpers as api
from tests.functional.api_helpers import fault, ok, ver

UNKNOWN = str(uuid.uuid4())


async def _raw(h, method, path, data, content_type='application/json'):
    headers = dict(api.ver('latest'))
    headers['Content-Type'] = content_type
    return await h.client.request(method, path, data=data, headers=headers)


@pytest.mark.parametrize('data', [b'{', b'{"driver": }', b'nul', b'\xff\xfe', b"{'a': 1}"])
async def test_malformed_json(harness, data):
    inner = await fault(await _raw(harness, 'POST', '/v1/nodes', data), 400)
    assert 'JSON' in inner['faultstring']


async def test_deeply_nested_json_is_400(harness):
    inner = await fault(await _raw(harness, 'POST', '/v1/nodes', b'[' * 100000), 400)
    assert 'JSON' in inner['faultstring']


async def test_nan_is_not_json(harness):
    data = b'{"driver": "fake-hardware", "extra": {"x": NaN}}'
    await fault(await _raw(harness, 'POST', '/v1/nodes', data), 400)


@pytest.mark.parametrize('body', [[], [1], '"text"', 5, 'null'])
async def test_body_must_be_an_object(harness, body):
    import json
    data = body if isinstance(body, str) else json.dumps(body)
    await fault(await _raw(harness, 'POST', '/v1/nodes', data.encode()), 400)


async def test_empty_body(harness):
    await fault(await _raw(harness, 'POST', '/v1/nodes', b''), 400)
    node = await api.create_node(harness)
    await fault(await _raw(harness, 'PUT', f'/v1/nodes/{node["uuid"]}/states/provision', b''),
                400)


async def test_unknown_fields(harness):
    resp = await harness.request('POST', '/v1/nodes', json={'driver': 'fake-hardware',
                                                            'colour': 'blue'})
    inner = await fault(resp, 400)
    assert 'colour' in inner['faultstring']
    resp = await harness.request('POST', '/v1/nodes', json={'driver': 'fake-hardware',
                                                            'provision_state': 'active'})
    await fault(resp, 400)
    node = await api.create_node(harness)
    resp = await harness.request('POST', '/v1/ports', json={
        'node_uuid': node['uuid'], 'address': '52:54:00:00:00:01', 'colour': 'blue'})
    await fault(resp, 400)
    resp = await api.provision(harness, node['uuid'], 'manage', colour='blue')
    await fault(resp, 400)


@pytest.mark.parametrize('values', [
    {'uuid': 'not-a-uuid'}, {'uuid': 5}, {'instance_uuid': 'nope'}, {'driver': 5},
    {'driver': ''}, {'driver_info': 'text'}, {'extra': [1]}, {'properties': 3},
    {'name': 5}, {'resource_class': 7}, {'name': 'two words'}, {'name': ''},
    {'name': UNKNOWN}, {'name': 'nœud'}, {'name': 'a/b'}, {'name': 'x' * 256},
    {'driver': 'no-such-driver'}, {'deploy_interface': 'no-such-interface'},
    {'chassis_uuid': UNKNOWN}, {'network_interface': 'neutron'},
])
async def test_invalid_node_values(harness, values):
    resp = await harness.request('POST', '/v1/nodes', json={'driver': 'fake-hardware',
                                                            **values})
    await fault(resp, 400)
    assert (await ok(await harness.request('GET', '/v1/nodes')))['nodes'] == []


async def test_valid_names(harness):
    for name in ('node-1', 'a.b_c~d', 'X' * 255, 'UPPER'):
        await api.create_node(harness, name=name)


@pytest.mark.parametrize('mac', ['52:54:00:00:00', 'zz:54:00:00:00:01', '', 5, None,
                                 '52:54:00:00:00:01:02'])
async def test_invalid_mac(harness, mac):
    node = await api.create_node(harness)
    resp = await harness.request('POST', '/v1/ports', json={'node_uuid': node['uuid'],
                                                            'address': mac})
    await fault(resp, 400)


async def test_bad_uuids_in_paths_and_queries(harness):
    await fault(await harness.request('GET', '/v1/ports/not-a-uuid'), 400)
    await fault(await harness.request('DELETE', '/v1/ports/not-a-uuid'), 400)
    await fault(await harness.request('GET', '/v1/nodes?marker=not-a-uuid'), 400)
    await fault(await harness.request('GET', '/v1/nodes?instance_uuid=zzz'), 400)
    # names only from 1.5: before, a non-UUID identifier is a bad UUID
    await fault(await harness.request('GET', '/v1/nodes/some-name', headers=api.ver('1.4')),
                400)
    await fault(await harness.request('POST', '/v1/ports', json={
        'node_uuid': 'nope', 'address': '52:54:00:00:00:01'}), 400)


@pytest.mark.parametrize('path,what', [
    ('/v1/nodes', 'Node'), ('/v1/nodes/detail', 'Node'), ('/v1/ports', 'Port'),
    ('/v1/ports/detail', 'Port'), ('/v1/chassis', 'Chassis'), ('/v1/portgroups', 'Portgroup'),
    ('/v1/allocations', 'Allocation'), ('/v1/conductors', 'Conductor'),
    ('/v1/volume/connectors', 'Volume connector'), ('/v1/volume/targets', 'Volume target'),
    ('/v1/deploy_templates', 'Deploy template'),
])
async def test_unknown_marker_is_the_collections_404(harness, path, what):
    """As upstream (``objects.<Kind>.get_by_uuid(marker)``): a well-formed marker naming no
    row is that collection's "not found", 404 — not a 400."""
    inner = await fault(await harness.request('GET', f'{path}?marker={UNKNOWN}'), 404)
    assert what in inner['faultstring'] and UNKNOWN in inner['faultstring']


@pytest.mark.parametrize('method,path', [
    ('GET', f'/v1/nodes/{UNKNOWN}'), ('GET', '/v1/nodes/no-such-name'),
    ('PATCH', f'/v1/nodes/{UNKNOWN}'), ('DELETE', f'/v1/nodes/{UNKNOWN}'),
    ('GET', f'/v1/nodes/{UNKNOWN}/states'), ('PUT', f'/v1/nodes/{UNKNOWN}/states/provision'),
    ('PUT', f'/v1/nodes/{UNKNOWN}/states/power'), ('PUT', f'/v1/nodes/{UNKNOWN}/maintenance'),
    ('DELETE', f'/v1/nodes/{UNKNOWN}/maintenance'), ('GET', f'/v1/nodes/{UNKNOWN}/validate'),
    ('GET', f'/v1/nodes/{UNKNOWN}/ports'), ('GET', f'/v1/ports/{UNKNOWN}'),
    ('PATCH', f'/v1/ports/{UNKNOWN}'), ('DELETE', f'/v1/ports/{UNKNOWN}'),
    ('POST', f'/v1/nodes/{UNKNOWN}/vendor_passthru/first_method'),
    ('GET', f'/v1/nodes/{UNKNOWN}/management/boot_device'),
    ('GET', '/v1/drivers/no-such-driver'), ('GET', '/v1/drivers/no-such-driver/properties'),
    ('POST', f'/v1/heartbeat/{UNKNOWN}'), ('GET', '/v1/nothing-here'),
    ('GET', '/v1/nodes/{UNKNOWN}/states/bogus'),
])
async def test_unknown_resources_are_404(harness, method, path):
    body = {'PATCH': [{'op': 'replace', 'path': '/extra/a', 'value': 1}],
            'PUT': {'target': 'power on'} if 'power' in path else
            {'target': 'manage'} if 'provision' in path else {},
            'POST': {'callback_url': 'http://1.2.3.4:9999'}}.get(method)
    resp = await harness.request(method, path, json=body)
    await fault(resp, 404)


@pytest.mark.parametrize('method,path', [
    ('PUT', '/v1/nodes'), ('DELETE', '/v1/nodes'), ('POST', '/v1/nodes/{node}'),
    ('GET', '/v1/nodes/{node}/states/provision'), ('POST', '/v1/ports/{port}'),
    ('PUT', '/v1/drivers'), ('PATCH', '/'), ('GET', '/v1/heartbeat/{node}'),
])
async def test_wrong_method_is_405(harness, method, path):
    node = await api.create_node(harness)
    port = await ok(await harness.request('POST', '/v1/ports', json={
        'node_uuid': node['uuid'], 'address': '52:54:00:00:00:01'}), 201)
    resp = await harness.request(method, path.format(node=node['uuid'], port=port['uuid']))
    await fault(resp, 405)


@pytest.mark.parametrize('target', ['bogus', '', None, 5, 'available', 'enroll',
                                    'wait call-back'])
async def test_unknown_provision_target(harness, target):
    node = await api.create_node(harness)
    inner = await fault(await api.provision(harness, node['uuid'], target), 400)
    assert str(target) in inner['faultstring']


async def test_oversized_body_is_413(sqlite_url):
    h = await Harness(sqlite_url, **{'api.max_request_body_size': 2048}).start()
    try:
        big = {'driver': 'fake-hardware', 'extra': {'blob': 'x' * 4096}}
        inner = await fault(await h.request('POST', '/v1/nodes', json=big), 413)
        assert 'too large' in inner['faultstring']
        node = await api.create_node(h, extra={'blob': 'x' * 1000})
        resp = await h.request('PATCH', f'/v1/nodes/{node["uuid"]}', json=[
            {'op': 'add', 'path': '/extra/more', 'value': 'y' * 4096}])
        await fault(resp, 413)
        resp = await h.request('PUT', f'/v1/nodes/{node["uuid"]}/states/provision',
                               json={'target': 'manage', 'configdrive': 'z' * 4096})
        await fault(resp, 413)
    finally:
        await h.stop()


@pytest.mark.parametrize('patch', [
    [{'op': 'replace', 'path': '/provision_state', 'value': 'active'}],
    [{'op': 'replace', 'path': '/uuid', 'value': UNKNOWN}],
    [{'op': 'replace', 'path': '/reservation', 'value': 'me'}],
    [{'op': 'replace', 'path': '/power_state', 'value': 'power on'}],
    [{'op': 'add', 'path': '/driver_internal_info/x', 'value': 1}],
    [{'op': 'replace', 'path': '/last_error', 'value': 'x'}],
    [{'op': 'replace', 'path': '/created_at', 'value': 'x'}],
    [{'op': 'add', 'path': '/no_such_field', 'value': 'x'}],
    [{'op': 'remove', 'path': '/driver'}],
    [{'op': 'replace', 'path': '/driver', 'value': 'no-such-driver'}],
    [{'op': 'replace', 'path': '/name', 'value': 'bad name'}],
    [{'op': 'replace', 'path': '/instance_uuid', 'value': 'not-a-uuid'}],
    [{'op': 'replace', 'path': '/extra', 'value': 'not-a-dict'}],
    [{'op': 'replace', 'path': '/maintenance', 'value': 'yes'}],
    [{'op': 'frobnicate', 'path': '/extra/a', 'value': 1}],
    [{'op': 'replace', 'path': '/extra/a/b', 'value': 1}],
    [{'op': 'remove', 'path': '/extra/missing'}],
    [{'op': 'add', 'path': '/extra/a'}],
    [{'op': 'add', 'path': 5, 'value': 1}],
    [{'op': 'add', 'value': 1}],
    [{'path': '/extra/a', 'value': 1}],
    [1], ['text'], [None], [[]],
    [{'op': 'add', 'path': 'extra/a', 'value': 1}],
    [{'op': 'add', 'path': '', 'value': {}}],
    [{'op': 'add', 'path': '/', 'value': 1}],
    [{'op': 'test', 'path': '/extra', 'value': {'a': 'b'}}],
    {'op': 'add', 'path': '/extra/a', 'value': 1},
])
async def test_bad_node_patches_are_400(harness, patch):
    node = await api.create_node(harness)
    resp = await harness.request('PATCH', f'/v1/nodes/{node["uuid"]}', json=patch)
    await fault(resp, 400)
    assert await api.get_node(harness, node['uuid']) == node | {
        'updated_at': node['updated_at']}


@pytest.mark.parametrize('patch', [
    [{'op': 'replace', 'path': '/uuid', 'value': UNKNOWN}],
    [{'op': 'replace', 'path': '/address', 'value': 'not-a-mac'}],
    [{'op': 'replace', 'path': '/node_uuid', 'value': 'not-a-uuid'}],
    [{'op': 'add', 'path': '/colour', 'value': 1}],
    [{'op': 'add', 'path': 5, 'value': 1}],
    [{'op': 'remove', 'path': '/address'}],
    [{'op': 'remove', 'path': '/node_uuid'}],
    [{'op': 'replace', 'path': '/extra', 'value': 5}],
    [{'op': 'replace', 'path': '/pxe_enabled', 'value': 'maybe'}],
    [1], {'op': 'add'},
])
async def test_bad_port_patches_are_400(harness, patch):
    node = await api.create_node(harness)
    port = await ok(await harness.request('POST', '/v1/ports', json={
        'node_uuid': node['uuid'], 'address': '52:54:00:00:00:01'}), 201)
    resp = await harness.request('PATCH', f'/v1/ports/{port["uuid"]}', json=patch)
    await fault(resp, 400)
    same = await ok(await harness.request('GET', f'/v1/ports/{port["uuid"]}'))
    assert same['address'] == '52:54:00:00:00:01'
    assert same['node_uuid'] == node['uuid']


async def test_detail_parameter_needs_1_43(harness):
    for path in ('/v1/nodes?detail=true', '/v1/ports?detail=true'):
        await fault(await harness.request('GET', path, headers=ver('1.42')), 406)
        await ok(await harness.request('GET', path, headers=ver('1.43')))


async def test_port_on_unknown_node_is_400(harness):
    # upstream: 404 would mean the port resource is missing, so it answers 400
    resp = await harness.request('POST', '/v1/ports', json={
        'node_uuid': UNKNOWN, 'address': '52:54:00:00:00:01'})
    await fault(resp, 400)
    node = await api.create_node(harness)
    port = await ok(await harness.request('POST', '/v1/ports', json={
        'node_uuid': node['uuid'], 'address': '52:54:00:00:00:01'}), 201)
    resp = await harness.request('PATCH', f'/v1/ports/{port["uuid"]}', json=[
        {'op': 'replace', 'path': '/node_uuid', 'value': UNKNOWN}])
    await fault(resp, 400)


@pytest.mark.parametrize('query', [
    'limit=abc', 'limit=-1', 'sort_dir=up', 'sort_key=driver_info', 'sort_key=bogus',
    'maintenance=maybe', 'associated=2x', 'fields=bogus', 'fields=uuid,secret',
])
async def test_bad_list_queries(harness, query):
    await fault(await harness.request('GET', f'/v1/nodes?{query}'), 400)


@pytest.mark.parametrize('query', ['limit=abc', 'sort_dir=up', 'sort_key=bogus',
                                   'fields=bogus', 'marker=nope', 'address=not-a-mac',
                                   'node=no-such-node'])
async def test_bad_port_list_queries(harness, query):
    resp = await harness.request('GET', f'/v1/ports?{query}')
    assert resp.status in (400, 404), await resp.text()
    await fault(resp, resp.status)


async def test_duplicates_are_409(harness):
    node = await api.create_node(harness, name='dup')
    await fault(await harness.request('POST', '/v1/nodes', json={
        'driver': 'fake-hardware', 'name': 'dup'}), 409)
    await fault(await harness.request('POST', '/v1/nodes', json={
        'driver': 'fake-hardware', 'uuid': node['uuid']}), 409)
    other = await api.create_node(harness)
    resp = await harness.request('PATCH', f'/v1/nodes/{other["uuid"]}', json=[
        {'op': 'add', 'path': '/name', 'value': 'dup'}])
    await fault(resp, 409)
