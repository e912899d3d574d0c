"""Version discovery documents and microversion negotiation, as Ironic's v1 API does them."""
import pytest

from ironic_lite.testing.harness import Harness
from tests.functional import api_helpers as api
from tests.functional.api_helpers import fault, ok, ver

MAX = '1.73'


def _check_headers(resp, version: str) -> None:
    assert resp.headers[api.MIN_HEADER] == '1.1'
    assert resp.headers[api.MAX_HEADER] == MAX
    assert resp.headers[api.VERSION_HEADER] == version
    assert resp.headers['OpenStack-API-Version'] == f'baremetal {version}'


async def test_root_document(harness):
    resp = await harness.request('GET', '/')
    body = await ok(resp)
    _check_headers(resp, MAX)
    base = harness.url
    assert body['name'] == 'OpenStack Ironic API'
    assert body['default_version'] == body['versions'][0]
    version = body['default_version']
    assert version == {'id': 'v1', 'status': 'CURRENT', 'min_version': '1.1',
                       'version': MAX, 'links': [{'href': f'{base}/v1/', 'rel': 'self'}]}


@pytest.mark.parametrize('path', ['/v1', '/v1/'])
async def test_v1_document(harness, path):
    resp = await harness.request('GET', path)
    body = await ok(resp)
    _check_headers(resp, MAX)
    base = harness.url
    assert body['id'] == 'v1'
    assert {'href': f'{base}/v1/', 'rel': 'self'} in body['links']
    assert body['media_types'] == [{'base': 'application/json',
                                    'type': 'application/vnd.openstack.ironic.v1+json'}]
    assert body['version']['min_version'] == '1.1'
    assert body['version']['version'] == MAX
    for name in ('nodes', 'ports', 'drivers', 'lookup', 'heartbeat'):
        assert body[name][0] == {'href': f'{base}/v1/{name}/', 'rel': 'self'}, name
    # the ramdisk endpoints appear from 1.22
    old = await ok(await harness.request('GET', path, headers=ver('1.21')))
    assert 'lookup' not in old and 'heartbeat' not in old
    assert 'nodes' in old


async def test_public_endpoint_used_in_links(sqlite_url):
    h = await Harness(sqlite_url, **{'api.public_endpoint': 'https://bm.example.com/'}).start()
    try:
        body = await ok(await h.request('GET', '/v1'))
        assert body['links'][0]['href'] == 'https://bm.example.com/v1/'
        node = await api.create_node(h)
        assert node['links'][0]['href'] == f'https://bm.example.com/v1/nodes/{node["uuid"]}'
        assert node['links'][1]['href'] == f'https://bm.example.com/nodes/{node["uuid"]}'
    finally:
        await h.stop()


@pytest.mark.parametrize('method,path,status', [
    ('GET', '/', 200), ('GET', '/v1', 200), ('GET', '/v1/nodes', 200),
    ('GET', '/v1/nodes/no-such-node', 404), ('GET', '/v1/no-such-resource', 404),
    ('GET', '/v2', 404), ('DELETE', '/v1', 405), ('POST', '/v1/nodes', 400),
])
async def test_version_headers_on_every_response(harness, method, path, status):
    resp = await harness.request(method, path, headers=ver('1.10'))
    assert resp.status == status, await resp.text()
    _check_headers(resp, '1.10')
    assert api.VERSION_HEADER in resp.headers.get('Vary', '')
    if status >= 400:
        await fault(resp, status)


async def test_405_lists_allowed_methods_and_request_ids(harness):
    resp = await harness.request('DELETE', '/v1')
    await fault(resp, 405)
    assert 'GET' in resp.headers['Allow']
    ids = set()
    for path in ('/', '/v1/nodes', '/v1/nope'):
        resp = await harness.request('GET', path)
        assert resp.headers['X-OpenStack-Request-Id'].startswith('req-')
        ids.add(resp.headers['X-OpenStack-Request-Id'])
    assert len(ids) == 3


async def test_no_version_header_means_1_1(harness):
    resp = await harness.client.get('/v1/nodes')
    await ok(resp)
    _check_headers(resp, '1.1')


async def test_latest_and_generic_header(harness):
    resp = await harness.request('GET', '/v1/nodes', headers=ver('latest'))
    _check_headers(resp, MAX)
    resp = await harness.client.get('/v1/nodes',
                                    headers={'OpenStack-API-Version': 'baremetal 1.9'})
    await ok(resp)
    _check_headers(resp, '1.9')
    resp = await harness.client.get(
        '/v1/nodes', headers={'OpenStack-API-Version': 'compute 2.1, baremetal latest'})
    await ok(resp)
    _check_headers(resp, MAX)
    # a header for another service only: the minimum
    resp = await harness.client.get('/v1/nodes', headers={'OpenStack-API-Version': 'compute 2.1'})
    await ok(resp)
    _check_headers(resp, '1.1')


@pytest.mark.parametrize('value', ['1.0', '1.999', '2.1', '0.9'])
async def test_version_out_of_range_is_406(harness, value):
    resp = await harness.request('GET', '/v1/nodes', headers=ver(value))
    inner = await fault(resp, 406)
    assert '1.1' in inner['faultstring'] and MAX in inner['faultstring']
    assert resp.headers[api.MIN_HEADER] == '1.1'
    assert resp.headers[api.MAX_HEADER] == MAX


@pytest.mark.parametrize('value', ['one', '1', '1.x', '1.2.3', '', ' ', 'baremetal 1.2'])
async def test_malformed_version_is_400(harness, value):
    resp = await harness.request('GET', '/v1/nodes', headers=ver(value))
    inner = await fault(resp, 400)
    assert api.VERSION_HEADER in inner['faultstring']


async def test_malformed_generic_header_is_400(harness):
    resp = await harness.client.get('/v1/nodes',
                                    headers={'OpenStack-API-Version': 'baremetal 1.a'})
    await fault(resp, 400)


@pytest.mark.parametrize('field,version', [
    ('driver_internal_info', '1.3'), ('name', '1.5'), ('inspection_started_at', '1.6'),
    ('clean_step', '1.7'), ('raid_config', '1.12'), ('network_interface', '1.20'),
    ('resource_class', '1.21'), ('boot_interface', '1.31'), ('deploy_interface', '1.31'),
    ('power_interface', '1.31'), ('vendor_interface', '1.31'), ('states', '1.14'),
    ('portgroups', '1.24'), ('volume', '1.32'), ('storage_interface', '1.33'),
    ('traits', '1.37'), ('rescue_interface', '1.38'), ('bios_interface', '1.40'),
    ('fault', '1.42'), ('deploy_step', '1.44'), ('conductor_group', '1.46'),
    ('automated_clean', '1.47'), ('protected', '1.48'), ('protected_reason', '1.48'),
    ('conductor', '1.49'), ('owner', '1.50'), ('description', '1.51'),
    ('allocation_uuid', '1.52'), ('retired', '1.61'), ('retired_reason', '1.61'),
    ('lessee', '1.65'), ('network_data', '1.66'),
])
async def test_fields_hidden_below_their_version(harness, field, version):
    node = await api.create_node(harness)
    minor = int(version.split('.')[1])
    below = await api.get_node(harness, node['uuid'], headers=ver(f'1.{minor - 1}'))
    assert field not in below
    at = await api.get_node(harness, node['uuid'], headers=ver(version))
    assert field in at


async def test_fields_newer_than_max_never_shown(harness):
    node = await api.create_node(harness)
    shown = await api.get_node(harness, node['uuid'])
    for field in ('firmware_interface', 'boot_mode', 'secure_boot', 'shard', 'parent_node'):
        assert field not in shown, field
    assert 'network_data' in shown and 'lessee' in shown


async def test_create_with_field_newer_than_version_is_406(harness):
    resp = await harness.request('POST', '/v1/nodes', headers=ver('1.20'),
                                 json={'driver': 'fake-hardware', 'resource_class': 'gold'})
    await fault(resp, 406)
    resp = await harness.request('POST', '/v1/nodes', headers=ver('1.4'),
                                 json={'driver': 'fake-hardware', 'name': 'n'})
    await fault(resp, 406)


async def test_initial_state_depends_on_version(harness):
    resp = await harness.request('POST', '/v1/nodes', headers=ver('1.10'),
                                 json={'driver': 'fake-hardware'})
    assert (await ok(resp, 201))['provision_state'] == 'available'
    resp = await harness.request('POST', '/v1/nodes', headers=ver('1.11'),
                                 json={'driver': 'fake-hardware'})
    assert (await ok(resp, 201))['provision_state'] == 'enroll'
    # no header is 1.1, where "available" was still shown as null ("NOSTATE"), as upstream
    resp = await harness.client.post('/v1/nodes', json={'driver': 'fake-hardware'})
    assert (await ok(resp, 201))['provision_state'] is None
    resp = await harness.client.post('/v1/nodes', json={'driver': 'fake-hardware'},
                                     headers=ver('1.2'))
    assert (await ok(resp, 201))['provision_state'] == 'available'


async def test_auth_token_ignored(harness):
    resp = await harness.client.get('/v1/nodes', headers={'X-Auth-Token': 'notused'})
    await ok(resp)
    resp = await harness.client.get('/v1/nodes', headers={'X-Auth-Token': 'garbage'})
    await ok(resp)
