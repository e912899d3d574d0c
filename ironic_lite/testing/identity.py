"""A small stand-in for Keystone's Identity v3 API, for clients that insist on one.

Tempest (and ironic-tempest-plugin with it) authenticates every account it uses with a password
and reads the service catalog from the token; it cannot talk to an endpoint directly. Keystone
itself cannot run here, and the API under test runs with ``auth_strategy = noauth`` anyway, so
this server only has to answer what a client asks before it calls the bare-metal API: version
discovery and ``POST /v3/auth/tokens`` (password, scoped to a project or to the system), with a
catalog naming the endpoints it was given. Every password is accepted; user and project ids are
derived from their names so they stay stable across tokens.
"""
from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Mapping

from aiohttp import web

_DOMAIN = {'id': 'default', 'name': 'Default'}
_ISSUED = '2026-01-01T00:00:00.000000Z'
_EXPIRES = '2099-01-01T00:00:00.000000Z'


def _stable_id(kind: str, name: str) -> str:
    return uuid.uuid5(uuid.NAMESPACE_URL, f'ironic_lite-identity/{kind}/{name}').hex


class FakeIdentity:
    """Identity v3 on ``127.0.0.1`` in a thread of its own (its own event loop), so a
    synchronous caller (a test runner script) can start and stop it.

    ``endpoints`` maps a service type (e.g. ``baremetal``) to its URL; the server adds itself
    as ``identity``. Roles come from the ``roles`` table: user name → role names (default
    ``admin``, ``member``, ``reader``).
    """

    def __init__(self, endpoints: Mapping[str, str], region: str = 'RegionOne',
                 roles: Mapping[str, list[str]] | None = None) -> None:
        self.endpoints = dict(endpoints)
        self.region = region
        self.roles = dict(roles or {})
        self.url = ''
        self._tokens: dict[str, dict] = {}
        self._loop = asyncio.new_event_loop()
        self._runner: web.AppRunner | None = None
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True,
                                        name='fake-identity')

    # -- lifecycle ------------------------------------------------------------------------
    def start(self) -> FakeIdentity:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(30)
        return self

    def stop(self) -> None:
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(30)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(30)

    async def _start(self) -> None:
        app = web.Application()
        app.router.add_get('/', self._root)
        app.router.add_get('/v3', self._v3)
        app.router.add_get('/v3/', self._v3)
        app.router.add_post('/v3/auth/tokens', self._issue)
        app.router.add_get('/v3/auth/tokens', self._validate)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, '127.0.0.1', 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]
        self.url = f'http://127.0.0.1:{port}'

    # -- answers --------------------------------------------------------------------------
    def _version(self) -> dict:
        return {'id': 'v3.14', 'status': 'stable', 'updated': '2020-01-01T00:00:00Z',
                'links': [{'rel': 'self', 'href': f'{self.url}/v3/'}],
                'media-types': [{'base': 'application/json',
                                 'type': 'application/vnd.openstack.identity-v3+json'}]}

    async def _root(self, request: web.Request) -> web.Response:
        return web.json_response({'versions': {'values': [self._version()]}}, status=300)

    async def _v3(self, request: web.Request) -> web.Response:
        return web.json_response({'version': self._version()})

    def _catalog(self) -> list[dict]:
        services = {'identity': f'{self.url}/v3', **self.endpoints}
        return [{'id': _stable_id('service', kind), 'type': kind, 'name': kind,
                 'endpoints': [{'id': _stable_id('endpoint', f'{kind}/{iface}'),
                                'interface': iface, 'region': self.region,
                                'region_id': self.region, 'url': url}
                               for iface in ('public', 'internal', 'admin')]}
                for kind, url in services.items()]

    async def _issue(self, request: web.Request) -> web.Response:
        try:
            auth = (await request.json())['auth']
            user = auth['identity']['password']['user']
            name = user.get('name') or user['id']
        except (ValueError, KeyError, TypeError):
            return web.json_response({'error': {'code': 400, 'title': 'Bad Request',
                                                'message': 'password auth expected'}},
                                     status=400)
        roles = self.roles.get(name, ['admin', 'member', 'reader'])
        token: dict = {
            'methods': ['password'], 'expires_at': _EXPIRES, 'issued_at': _ISSUED,
            'audit_ids': [uuid.uuid4().hex[:22]],
            'user': {'id': _stable_id('user', name), 'name': name, 'domain': _DOMAIN,
                     'password_expires_at': None},
            'roles': [{'id': _stable_id('role', r), 'name': r} for r in roles],
            'catalog': self._catalog(),
        }
        scope = auth.get('scope') or {}
        if 'system' in scope:
            token['system'] = {'all': True}
        elif 'project' in scope:
            project = scope['project'].get('name') or scope['project']['id']
            token['project'] = {'id': _stable_id('project', project), 'name': project,
                                'domain': _DOMAIN}
        token_id = uuid.uuid4().hex
        self._tokens[token_id] = token
        return web.json_response({'token': token}, status=201,
                                 headers={'X-Subject-Token': token_id})

    async def _validate(self, request: web.Request) -> web.Response:
        subject = request.headers.get('X-Subject-Token', '')
        token = self._tokens.get(subject)
        if token is None:
            return web.json_response({'error': {'code': 404, 'title': 'Not Found'}},
                                     status=404)
        return web.json_response({'token': token}, headers={'X-Subject-Token': subject})
