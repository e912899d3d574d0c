"""Authentication strategies: noauth, http_basic (htpasswd with bcrypt), keystone (real
keystonemiddleware against the fake identity server of :mod:`tests.functional.keystone`)."""
from __future__ import annotations

import asyncio
import base64
import uuid

import bcrypt
import pytest

from ironic_lite.testing.harness import Harness
from tests.functional import api_helpers as api
from tests.functional.api_helpers import fault, ok
from tests.functional.keystone import tok


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
