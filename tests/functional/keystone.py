"""Keystone for the API tests: keystone cannot run here, so the real keystonemiddleware
auth_token is pointed at a small fake Identity v3 server on loopback (version discovery and
``GET /v3/auth/tokens``). Token validation, the identity headers it sets and the policy
enforcement are exercised end to end; Keystone's own behaviour (catalogs, revocation, service
tokens) is not."""
from __future__ import annotations

from aiohttp import web

from ironic_lite.conf import CONF
from ironic_lite.testing.harness import Harness

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


async def fake_keystone():
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


async def keystone(sqlite_url, **overrides):
    from keystoneauth1 import loading
    from keystonemiddleware import auth_token  # noqa: F401 - registers [keystone_authtoken]
    CONF.register_opts(loading.get_auth_plugin_conf_options('admin_token'),
                       group='keystone_authtoken')
    runner, url = await fake_keystone()
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




def tok(name: str) -> dict[str, str]:
    return {'X-Auth-Token': name}


async def keystone_with_policy(sqlite_url, tmp_path, policy_yaml: str):
    """:func:`keystone` with ``policy_yaml`` as its ``[oslo_policy]policy_file``."""
    from oslo_policy import opts as policy_opts
    for group, options in policy_opts.list_opts():
        CONF.register_opts(options, group=group)
    path = tmp_path / 'policy.yaml'
    path.write_text(policy_yaml)
    async for h in keystone(sqlite_url, **{'oslo_policy.policy_file': str(path)}):
        yield h
