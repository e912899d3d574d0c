"""Authentication strategies: noauth, http_basic (htpasswd with bcrypt), keystone.

Keystone itself cannot run here. The keystone tests run the real keystonemiddleware
auth_token against a small fake Identity v3 server on loopback (version discovery and
``GET /v3/auth/tokens``), so token validation, the identity headers it sets and our policy
enforcement are exercised end to end; what is not tested is Keystone's own behaviour
(catalogs, token revocation, service tokens).
"""
from __future__ import annotations

import asyncio
import base64
import uuid

import bcrypt
import pytest
from aiohttp import web
from yarl import URL

from ironic_lite.conf import CONF
from ironic_lite.testing.harness import Harness
from tests.functional import api_helpers as api
from tests.functional.api_helpers import fault, ok


def _basic(user: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f'{user}:{password}'.encode()).decode()
    return {'Authorization': f'Basic {token}'}


@pytest.fixture
def htpasswd(tmp_path):
    path = tmp_path / 'htpasswd'
    hashed = bcrypt.hashpw(b'secret', bcrypt.gensalt(4)).decode().replace('$2b$', '$2y$', 1)
    path.write_text(f'# users\nadmin:{hashed}\n')
    return str(path)


@pytest.fixture
async def basic_harness(sqlite_url, htpasswd):
    h = await Harness(sqlite_url, auth_strategy='http_basic',
                      http_basic_auth_user_file=htpasswd).start()
    try:
        yield h
    finally:
        await h.stop()


async def test_noauth_ignores_the_token(harness):
    for token in ('notused', 'garbage', None):
        headers = {'X-Auth-Token': token} if token else {}
        await ok(await harness.client.get('/v1/nodes', headers=headers))


@pytest.mark.parametrize('headers', [{}, _basic('admin', 'wrong'), _basic('nobody', 'secret'),
                                     {'Authorization': 'Basic !!!notbase64'},
                                     {'Authorization': 'Bearer abc'},
                                     _basic('admin', '')])
async def test_http_basic_refuses_bad_credentials(basic_harness, headers):
    resp = await basic_harness.client.get('/v1/nodes', headers={**api.ver('latest'), **headers})
    inner = await fault(resp, 401)
    assert inner['faultstring']
    assert resp.headers['WWW-Authenticate'] == 'Basic realm="Baremetal API"'


async def test_http_basic_admits_the_user_with_full_rights(basic_harness):
    auth = _basic('admin', 'secret')
    node = await ok(await basic_harness.request('POST', '/v1/nodes', headers=auth,
                                                json={'driver': 'fake-hardware'}), 201)
    await ok(await basic_harness.request('GET', f'/v1/nodes/{node["uuid"]}', headers=auth))
    resp = await basic_harness.request('PUT', f'/v1/nodes/{node["uuid"]}/states/provision',
                                       headers=auth, json={'target': 'manage'})
    assert resp.status == 202, await resp.text()
    await basic_harness.drain()


async def test_http_basic_reloads_the_user_file(basic_harness, htpasswd):
    hashed = bcrypt.hashpw(b'pw2', bcrypt.gensalt(4)).decode()
    with open(htpasswd, 'a') as f:
        f.write(f'bob:{hashed}\n')
    import os
    os.utime(htpasswd, (1, 1))  # a new mtime even within the same second
    await ok(await basic_harness.request('GET', '/v1/nodes', headers=_basic('bob', 'pw2')))


@pytest.mark.parametrize('content', ['admin:plaintext\n', 'no separator\n'])
async def test_http_basic_bad_user_file_stops_the_api(sqlite_url, tmp_path, content):
    path = tmp_path / 'htpasswd'
    path.write_text(content)
    h = Harness(sqlite_url, auth_strategy='http_basic', http_basic_auth_user_file=str(path))
    with pytest.raises(Exception, match='htpasswd'):
        await h.start()
    await h.stop()


async def test_public_endpoints_need_no_credentials(basic_harness):
    c = basic_harness.client
    for path in ('/', '/v1', '/v1/', '/v1/openapi.json'):
        await ok(await c.get(path))
    # lookup and heartbeat answer (404 / 400 here) without asking for credentials
    resp = await c.get('/v1/lookup?addresses=52:54:00:00:00:09', headers=api.ver('1.22'))
    await fault(resp, 404)
    resp = await c.post(f'/v1/heartbeat/{uuid.uuid4()}', json={'callback_url': 'http://x:1'},
                        headers=api.ver('1.22'))
    await fault(resp, 404)
    resp = await c.get('/v1/nodes')
    await fault(resp, 401)


async def test_openstacksdk_http_basic(basic_harness):
    """Real openstacksdk with ``auth_type: http_basic`` (keystoneauth's plugin)."""
    import openstack
    url = str(basic_harness.client.make_url('/'))

    def use_sdk(password):
        conn = openstack.connect(auth_type='http_basic', username='admin', password=password,
                                 endpoint=url.rstrip('/'), baremetal_endpoint_override=url,
                                 load_yaml_config=False, load_envvars=False)
        try:
            return [n.id for n in conn.baremetal.nodes()]
        finally:
            conn.close()

    assert await asyncio.to_thread(use_sdk, 'secret') == []
    from openstack import exceptions
    with pytest.raises(exceptions.HttpException) as err:
        await asyncio.to_thread(use_sdk, 'wrong')
    assert err.value.status_code == 401


# ---- keystone -----------------------------------------------------------------------------
ADMIN_TOKEN = 'service-admin-token'


def _token_body(roles, project=None, system=False):
    token = {'methods': ['password'], 'expires_at': '2099-01-01T00:00:00.000000Z',
             'issued_at': '2026-01-01T00:00:00.000000Z',
             'user': {'id': f'user-{roles[0]}', 'name': roles[0],
                      'domain': {'id': 'default', 'name': 'Default'}},
             'roles': [{'id': r, 'name': r} for r in roles], 'catalog': []}
    if system:
        token['system'] = {'all': True}
    else:
        token['project'] = {'id': project, 'name': project,
                            'domain': {'id': 'default', 'name': 'Default'}}
    return {'token': token}


TOKENS = {
    'sys-admin': _token_body(['admin', 'member', 'reader'], system=True),
    'sys-reader': _token_body(['reader'], system=True),
    'owner-member': _token_body(['member', 'reader'], project='proj-a'),
    'other-member': _token_body(['member', 'reader'], project='proj-b'),
    'owner-reader': _token_body(['reader'], project='proj-a'),
    'owner-admin': _token_body(['admin', 'member', 'reader'], project='proj-a'),
    'lessee-member': _token_body(['member', 'reader'], project='proj-l'),
}


async def _fake_keystone():
    """Identity v3, just enough for auth_token: discovery and token validation."""
    app = web.Application()
    base = {}

    def version(req):
        return {'id': 'v3.14', 'status': 'stable', 'updated': '2020-01-01T00:00:00Z',
                'links': [{'rel': 'self', 'href': f'{base["url"]}/v3/'}],
                'media-types': [{'base': 'application/json',
                                 'type': 'application/vnd.openstack.identity-v3+json'}]}

    async def root(req):
        return web.json_response({'versions': {'values': [version(req)]}}, status=300)

    async def v3(req):
        return web.json_response({'version': version(req)})

    async def tokens(req):
        if req.headers.get('X-Auth-Token') != ADMIN_TOKEN:
            return web.json_response({'error': {'code': 401}}, status=401)
        body = TOKENS.get(req.headers.get('X-Subject-Token', ''))
        if body is None:
            return web.json_response({'error': {'code': 404, 'title': 'Not Found'}},
                                     status=404)
        return web.json_response(body, headers={'X-Subject-Token': req.headers[
            'X-Subject-Token']})

    app.router.add_get('/', root)
    app.router.add_get('/v3', v3)
    app.router.add_get('/v3/', v3)
    app.router.add_get('/v3/auth/tokens', tokens)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, '127.0.0.1', 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    base['url'] = f'http://127.0.0.1:{port}'
    return runner, base['url']


async def _keystone(sqlite_url, **overrides):
    from keystoneauth1 import loading
    from keystonemiddleware import auth_token  # noqa: F401 - registers [keystone_authtoken]
    CONF.register_opts(loading.get_auth_plugin_conf_options('admin_token'),
                       group='keystone_authtoken')
    runner, url = await _fake_keystone()
    h = Harness(sqlite_url, auth_strategy='keystone', **{
        'keystone_authtoken.auth_type': 'admin_token',
        'keystone_authtoken.endpoint': url + '/v3',
        'keystone_authtoken.token': ADMIN_TOKEN,
        'keystone_authtoken.www_authenticate_uri': url + '/v3',
        'keystone_authtoken.service_token_roles_required': True,
        **overrides,
    })
    try:
        await h.start()
        yield h
    finally:
        await h.stop()
        await runner.cleanup()


@pytest.fixture
async def keystone_harness(sqlite_url):
    async for h in _keystone(sqlite_url):
        yield h


def tok(name: str) -> dict[str, str]:
    return {'X-Auth-Token': name}


@pytest.mark.parametrize('token', [None, 'no-such-token'])
async def test_keystone_refuses_missing_or_bad_tokens(keystone_harness, token):
    headers = {**api.ver('latest'), **({'X-Auth-Token': token} if token else {})}
    resp = await keystone_harness.client.get('/v1/nodes', headers=headers)
    await fault(resp, 401)
    assert resp.headers['WWW-Authenticate'].startswith('Keystone uri=')


async def test_keystone_public_endpoints(keystone_harness):
    for path in ('/', '/v1', '/v1/openapi.json'):
        await ok(await keystone_harness.client.get(path))


async def test_keystone_spoofed_identity_headers_are_ignored(keystone_harness):
    """auth_token strips client-sent X-Roles/X-Project-Id before setting its own."""
    node = await ok(await keystone_harness.request(
        'POST', '/v1/nodes', headers=tok('sys-admin'), json={'driver': 'fake-hardware'}), 201)
    headers = {**tok('owner-reader'), 'X-Roles': 'admin', 'OpenStack-System-Scope': 'all'}
    resp = await keystone_harness.request('DELETE', f'/v1/nodes/{node["uuid"]}',
                                          headers=headers)
    await fault(resp, 404)


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
    from oslo_policy import opts as policy_opts
    for group, options in policy_opts.list_opts():
        CONF.register_opts(options, group=group)
    path = tmp_path / 'policy.yaml'
    path.write_text('"baremetal:node:create": "role:reader"\n')
    async for h in _keystone(sqlite_url, **{'oslo_policy.policy_file': str(path)}):
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


async def test_openstack_cli_http_basic(basic_harness):
    """The real ``openstack baremetal`` CLI (python-ironicclient) with auth type http_basic."""
    from ironic_lite.testing import processes
    url = str(basic_harness.client.make_url('/')).rstrip('/')

    async def cli(password, *args):
        proc = await asyncio.create_subprocess_exec(
            processes.console_script('openstack'), '--os-auth-type', 'http_basic',
            '--os-username', 'admin', '--os-password', password, '--os-endpoint', url,
            'baremetal', *args, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE, env={'PATH': '/usr/bin:/bin'})
        out, err = await asyncio.wait_for(proc.communicate(), 120)
        return proc.returncode, out.decode(), err.decode()

    code, out, err = await cli('secret', 'node', 'create', '--driver', 'fake-hardware',
                               '--name', 'cli-0', '-f', 'value', '-c', 'name')
    assert code == 0 and out.strip() == 'cli-0', (code, out, err)
    code, out, err = await cli('wrong', 'node', 'list')
    assert code != 0 and 'HTTP 401' in err, (code, out, err)


async def test_http_basic_forgets_remembered_passwords_when_the_file_changes(basic_harness,
                                                                            htpasswd):
    import os
    await ok(await basic_harness.request('GET', '/v1/nodes', headers=_basic('admin', 'secret')))
    hashed = bcrypt.hashpw(b'changed', bcrypt.gensalt(4)).decode()
    with open(htpasswd, 'w') as f:
        f.write(f'admin:{hashed}\n')
    os.utime(htpasswd, (2, 2))
    await fault(await basic_harness.request('GET', '/v1/nodes',
                                            headers=_basic('admin', 'secret')), 401)
    await ok(await basic_harness.request('GET', '/v1/nodes', headers=_basic('admin', 'changed')))


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
