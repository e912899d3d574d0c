"""Simulated ironic-python-agent ramdisks: the IPA protocol without a machine, many per process.

Each :class:`SimAgent` behaves like IPA booted on one node whose disk is a file:

* **lookup** ``GET /v1/lookup?addresses=<macs>`` until the node is in a lookup state (404 and
  409 are retried every ``lookup_interval``), keeping the ``agent_token`` of the answer; as
  IPA, the lookup asks for API 1.62 at least (the first version that hands out a token), since
  every heartbeat needs one;
* **heartbeat** ``POST /v1/heartbeat/<uuid>`` at ``api_version`` (``callback_url``,
  ``agent_token``, ``agent_version``) every ``heartbeat_interval`` — by default
  ``heartbeat_timeout`` × 0.3–0.6 from the lookup config, as IPA — and at once when a command
  finishes; a refused heartbeat (the token is gone: deploy failed or finished) sends it back
  to lookup;
* **automatic TLS** like IPA's ``enable_auto_tls`` (API 1.68): when the API's maximum version
  (``GET /``) is 1.68 or newer, a self-signed certificate for the agent's address is generated
  (EC key with ``cryptography``, as IPA's ``tls_utils``), the command API is served over https,
  and heartbeats carry ``callback_url=https://…`` and ``agent_verify_ca=<the PEM>``. The
  ``SimAgent`` class is plain http unless ``enable_auto_tls=True`` (tests and benchmarks); the
  command mirrors IPA: on unless ``--no-enable-auto-tls``. ``tls_cert_file``/``tls_key_file``
  serve a given certificate instead (IPA's ``listen_tls``: nothing is advertised unless
  ``agent_verify_ca=`` is given);
* **command API** on its own port (``port=0``: the kernel picks one):
  ``POST /v1/commands/?wait=…&agent_token=…`` and ``GET /v1/commands/[<id>]`` with IPA's
  result shape. ``standby.prepare_image`` really downloads ``image_info['urls'][0]`` over HTTP,
  verifies ``os_hash_algo``/``os_hash_value`` (or md5 ``checksum``), detects qcow2 by its
  magic and converts it to raw with ``qemu-img`` like IPA, and writes the disk file;
  ``standby.power_off`` stops the agent (and calls ``on_power_off``, e.g. to turn a fake BMC
  off); ``standby.sync`` flushes. Commands with a wrong token get 401, a second async command
  while one runs gets 409 (IPA's AgentIsBusy).

Command line (prints ``READY <mac> <port>`` per agent, stops on SIGTERM/SIGINT; automatic TLS
unless ``--no-enable-auto-tls``)::

    ironic-lite-agent-sim --api-url http://127.0.0.1:6385 \\
        --agent 52:54:00:00:00:01=/var/tmp/disk1.img --agent 52:54:00:00:00:02=/var/tmp/d2.img
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import random
import shutil
import signal
import ssl
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import aiohttp
from aiohttp import web

from ironic_lite.tools import agent_sim_image
from ironic_lite.tools import agent_sim_tls as tls
from ironic_lite.tools.agent_sim_image import CommandError

LOG = logging.getLogger(__name__)

AGENT_VERSION = '13.0.0'
API_VERSION_HEADER = 'X-OpenStack-Ironic-API-Version'
AGENT_TOKEN_VERSION = (1, 62)   # the first API version whose lookup hands out a token
_ASYNC_COMMANDS = ('prepare_image', 'power_off')


def _fault(status: int, text: str) -> web.Response:
    return web.json_response({'faultcode': 'Client' if status < 500 else 'Server',
                              'faultstring': text, 'debuginfo': None}, status=status)


class SimAgent:
    """One simulated ramdisk. ``await start()``, ``await stop()``; state is public."""

    def __init__(self, api_url: str, macs: Sequence[str], disk_path: str, *,
                 host: str = '127.0.0.1', port: int = 0, node_uuid: str | None = None,
                 heartbeat_interval: float | None = None, lookup_interval: float = 1.0,
                 api_version: str = '1.68', disk_size: int | None = None,
                 on_power_off: Callable[[SimAgent], Awaitable[None] | None] | None = None,
                 http_timeout: float = 60.0, enable_auto_tls: bool = False,
                 tls_cert_file: str | None = None, tls_key_file: str | None = None,
                 agent_verify_ca: str | None = None):
        self.api_url = api_url.rstrip('/')
        self.macs = [m.lower() for m in macs]
        self.disk_path = disk_path
        self.host, self.port = host, port
        self.node_uuid = node_uuid
        self.heartbeat_interval = heartbeat_interval
        self.lookup_interval = lookup_interval
        self.api_version = api_version
        self.disk_size = disk_size
        self.on_power_off = on_power_off
        self.http_timeout = http_timeout
        self.enable_auto_tls = enable_auto_tls
        self.tls_cert_file, self.tls_key_file = tls_cert_file, tls_key_file
        # The PEM sent as agent_verify_ca (from 1.68): the generated certificate with auto TLS;
        # given explicitly, it is sent as is (tests: a certificate that is not the served one).
        self.agent_verify_ca = agent_verify_ca
        self.scheme = 'http'
        self._tls_dir: str | None = None
        self.token: str | None = None
        self.config: dict[str, Any] = {}
        self.commands: list[dict[str, Any]] = []
        self.lookups = self.heartbeats = self.images_written = 0
        self.last_heartbeat_status: int | None = None
        self.powered_off = asyncio.Event()
        self._wake = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self._main: asyncio.Task | None = None
        self._jobs: set[asyncio.Task] = set()

    # -- lifecycle ------------------------------------------------------------------------
    @property
    def callback_url(self) -> str:
        return f'{self.scheme}://{self.host}:{self.port}'

    async def start(self) -> SimAgent:
        self._session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=self.http_timeout),
            headers={API_VERSION_HEADER: self.api_version})
        ssl_context = await self._tls_context()
        app = web.Application()
        app.router.add_get('/', self._root)
        app.router.add_get('/v1/status', self._status)
        for path in ('/v1/commands', '/v1/commands/'):
            app.router.add_post(path, self._post_command)
            app.router.add_get(path, self._list_commands)
        app.router.add_get('/v1/commands/{id}', self._get_command)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port, ssl_context=ssl_context)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]
        self._main = asyncio.create_task(self._run(), name=f'agent {self.macs}')
        return self

    async def stop(self) -> None:
        tasks = [t for t in (self._main, *self._jobs) if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._session is not None:
            await self._session.close()
        if self._runner is not None:
            await self._runner.cleanup()
        if self._tls_dir is not None:
            await asyncio.to_thread(shutil.rmtree, self._tls_dir, True)
            self._tls_dir = None

    # -- TLS --------------------------------------------------------------------------------
    async def _tls_context(self) -> ssl.SSLContext | None:
        """The command API's server context: given files, auto TLS, or None (plain http)."""
        cert, key = self.tls_cert_file, self.tls_key_file
        if not cert and self.enable_auto_tls and await self._supports_auto_tls():
            self._tls_dir = await asyncio.to_thread(tempfile.mkdtemp, prefix='agent-sim-tls-')
            cert = os.path.join(self._tls_dir, 'agent.crt')
            key = os.path.join(self._tls_dir, 'agent.key')
            pem = await asyncio.to_thread(tls.generate_tls_certificate, self.host, cert, key)
            if self.agent_verify_ca is None:
                self.agent_verify_ca = pem
            LOG.info('Agent %s: automatic TLS for %s', self.macs, self.host)
        if not cert:
            return None
        self.scheme = 'https'
        return await asyncio.to_thread(tls.server_context, cert, key or cert)

    async def _supports_auto_tls(self) -> bool:
        """As IPA: the API's maximum version (``GET /``) and ours must both reach 1.68."""
        if tls.parse_version(self.api_version) < tls.AUTO_TLS_VERSION:
            return False
        try:
            async with self._session.get(f'{self.api_url}/') as resp:
                body = await resp.json(content_type=None)
            maximum = tls.parse_version(body['default_version']['version'])
            supported = maximum >= tls.AUTO_TLS_VERSION
        except (aiohttp.ClientError, TimeoutError, ValueError, KeyError, TypeError) as e:
            LOG.warning('Agent %s: cannot read the API version (%s); no automatic TLS',
                        self.macs, e)
            return False
        if not supported:
            LOG.warning('Agent %s: the API does not support automatic TLS', self.macs)
        return supported

    # -- ramdisk side: lookup and heartbeats ----------------------------------------------
    async def _run(self) -> None:
        while True:
            try:
                if not await self._lookup():
                    await asyncio.sleep(self.lookup_interval)
                    continue
                await self._heartbeat_loop()
            except asyncio.CancelledError:
                raise
            except Exception as e:  # the API went away for a moment: as IPA, keep trying
                LOG.warning('Agent %s: %s', self.macs, e)
                await asyncio.sleep(self.lookup_interval)

    async def _lookup(self) -> bool:
        params = {'addresses': ','.join(self.macs)}
        if self.node_uuid:
            params['node_uuid'] = self.node_uuid
        self.lookups += 1
        # As IPA: the lookup is made at 1.62 or later, the version that hands out the token
        # every heartbeat needs, whatever version the heartbeats use.
        major, minor = max(tls.parse_version(self.api_version), AGENT_TOKEN_VERSION)
        async with self._session.get(f'{self.api_url}/v1/lookup', params=params,
                                     headers={API_VERSION_HEADER: f'{major}.{minor}'}) as resp:
            if resp.status != 200:
                return False
            body = await resp.json()
        self.node_uuid = body['node']['uuid']
        self.config = body.get('config') or {}
        token = self.config.get('agent_token')
        if token and token != '******':
            self.token = token
        elif token == '******' and not self.token:
            LOG.warning('Agent %s: the token of node %s was issued to someone else',
                        self.macs, self.node_uuid)
        self.powered_off.clear()
        LOG.info('Agent %s: node %s found', self.macs, self.node_uuid)
        return True

    def _interval(self) -> float:
        if self.heartbeat_interval is not None:
            return self.heartbeat_interval
        return float(self.config.get('heartbeat_timeout', 300)) * random.uniform(0.3, 0.6)

    async def _heartbeat_loop(self) -> None:
        while not self.powered_off.is_set():
            status = await self._heartbeat()
            if status in (400, 404):   # token gone (deploy over or failed): look up again
                self.token = None
                return
            self._wake.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(),
                                       0.2 if status == 409 else self._interval())
        await asyncio.sleep(self.lookup_interval)   # "powered off": a later boot looks up

    async def _heartbeat(self) -> int:
        body = {'callback_url': self.callback_url, 'agent_version': AGENT_VERSION}
        if self.token:
            body['agent_token'] = self.token
        if self.agent_verify_ca and tls.parse_version(self.api_version) >= tls.AUTO_TLS_VERSION:
            body['agent_verify_ca'] = self.agent_verify_ca
        async with self._session.post(f'{self.api_url}/v1/heartbeat/{self.node_uuid}',
                                      json=body) as resp:
            self.heartbeats += 1
            self.last_heartbeat_status = resp.status
            if resp.status != 202:
                LOG.info('Agent %s: heartbeat refused (%s): %s', self.macs, resp.status,
                         await resp.text())
            return resp.status

    # -- command API ----------------------------------------------------------------------
    async def _root(self, request: web.Request) -> web.Response:
        return web.json_response({'name': 'OpenStack Ironic Python Agent API (simulated)',
                                  'versions': [{'id': 'v1'}], 'default_version': {'id': 'v1'}})

    async def _status(self, request: web.Request) -> web.Response:
        return web.json_response({'started_at': None, 'version': AGENT_VERSION})

    def _bad_token(self, request: web.Request) -> bool:
        """IPA checks the token on every /v1/commands endpoint, reads included."""
        return bool(self.token) and request.query.get('agent_token') != self.token

    async def _list_commands(self, request: web.Request) -> web.Response:
        if self._bad_token(request):
            return _fault(401, 'Unauthorized: invalid or missing agent_token')
        return web.json_response({'commands': self.commands})

    async def _get_command(self, request: web.Request) -> web.Response:
        if self._bad_token(request):
            return _fault(401, 'Unauthorized: invalid or missing agent_token')
        for command in self.commands:
            if command['id'] == request.match_info['id']:
                return web.json_response(command)
        return _fault(404, 'Command not found')

    async def _post_command(self, request: web.Request) -> web.Response:
        if self._bad_token(request):
            return _fault(401, 'Unauthorized: invalid or missing agent_token')
        try:
            body = await request.json()
            extension, _, name = body['name'].partition('.')
            params = body.get('params') or {}
        except (ValueError, KeyError, AttributeError, TypeError):
            return _fault(400, 'Invalid command body')
        handler = {('standby', 'prepare_image'): self._prepare_image,
                   ('standby', 'power_off'): self._power_off,
                   ('standby', 'sync'): self._sync}.get((extension, name))
        if handler is None:
            return _fault(404, f'Command {body["name"]} not found')
        if name in _ASYNC_COMMANDS and any(c['command_status'] == 'RUNNING'
                                           for c in self.commands):
            return _fault(409, 'Agent is busy: a command is already running')
        command = {'id': str(uuid.uuid4()), 'command_name': name, 'command_params': params,
                   'command_status': 'RUNNING', 'command_result': None,
                   'command_error': None}
        self.commands.append(command)
        job = asyncio.create_task(self._execute(command, handler, params))
        self._jobs.add(job)
        job.add_done_callback(self._jobs.discard)
        if request.query.get('wait', 'false').lower() == 'true' or name not in _ASYNC_COMMANDS:
            await asyncio.shield(job)
        return web.json_response(command)

    async def _execute(self, command: dict[str, Any], handler, params: dict) -> None:
        try:
            command['command_result'] = await handler(params)
            command['command_status'] = 'SUCCEEDED'
        except CommandError as e:
            command['command_error'] = e.payload
            command['command_status'] = 'FAILED'
        except Exception as e:  # noqa: BLE001 - reported to the conductor like IPA does
            command['command_error'] = {'type': type(e).__name__, 'code': 500,
                                        'message': 'Command execution failed',
                                        'details': str(e)}
            command['command_status'] = 'FAILED'
        self._wake.set()   # IPA heartbeats at once when a command ends

    # -- commands -------------------------------------------------------------------------
    async def _prepare_image(self, params: dict) -> dict:
        info = params.get('image_info') or {}
        await agent_sim_image.write_image(self._session, info, self.disk_path, self.disk_size)
        if params.get('configdrive'):
            await asyncio.to_thread(self._write_text, f'{self.disk_path}.configdrive',
                                    str(params['configdrive']))
        self.images_written += 1
        return {'result': f'prepare_image: image ({info.get("id")}) written to device '
                          f'{self.disk_path} '}

    @staticmethod
    def _write_text(path: str, text: str) -> None:
        with open(path, 'w') as f:
            f.write(text)
    async def _sync(self, params: dict) -> None:
        await asyncio.to_thread(os.sync)
        return None

    async def _power_off(self, params: dict) -> None:
        await asyncio.to_thread(os.sync)
        self.powered_off.set()
        self._wake.set()
        if self.on_power_off is not None:
            result = self.on_power_off(self)
            if asyncio.iscoroutine(result):
                await result
        return None


async def run_fleet(agents: list[SimAgent], ready: Callable[[SimAgent], None]) -> None:
    """Start every agent, report each, run until cancelled, stop them all."""
    try:
        for agent in agents:
            await agent.start()
            ready(agent)
        await asyncio.Event().wait()
    finally:
        await asyncio.gather(*(a.stop() for a in agents), return_exceptions=True)


def _parse_agent(text: str) -> tuple[list[str], str]:
    macs, sep, disk = text.partition('=')
    if not sep or not disk:
        raise argparse.ArgumentTypeError(f'expected MAC[,MAC...]=DISK_PATH, got {text!r}')
    return [m for m in macs.split(',') if m], disk


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog='ironic-lite-agent-sim', description=__doc__.split(
        '\n')[0])
    parser.add_argument('--api-url', required=True, help='ironic_lite API, e.g. '
                                                         'http://127.0.0.1:6385')
    parser.add_argument('--agent', action='append', type=_parse_agent, default=[],
                        metavar='MAC[,MAC]=DISK', help='one simulated node (repeatable)')
    parser.add_argument('--agents-file', help='JSON list of {"macs": [...], "disk": path}')
    parser.add_argument('--host', default='127.0.0.1', help='address the command APIs bind')
    parser.add_argument('--heartbeat-interval', type=float,
                        help='seconds between heartbeats (default: from the lookup config)')
    parser.add_argument('--lookup-interval', type=float, default=1.0)
    parser.add_argument('--api-version', default='1.68')
    parser.add_argument('--enable-auto-tls', action=argparse.BooleanOptionalAction,
                        default=True,
                        help='as IPA: serve the command API over https with a generated '
                             'certificate sent in heartbeats, if the API supports 1.68 '
                             '(default: on)')
    parser.add_argument('--debug', action='store_true')
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.debug else logging.WARNING,
                        format='%(asctime)s %(levelname)s %(name)s %(message)s')
    specs = list(args.agent)
    if args.agents_file:
        with open(args.agents_file) as f:
            specs += [(item['macs'], item['disk']) for item in json.load(f)]
    if not specs:
        parser.error('no agent given (--agent or --agents-file)')

    def ready(agent: SimAgent) -> None:
        print(f'READY {",".join(agent.macs)} {agent.port}', flush=True)

    async def run() -> None:
        agents = [SimAgent(args.api_url, macs, disk, host=args.host,
                           heartbeat_interval=args.heartbeat_interval,
                           lookup_interval=args.lookup_interval, api_version=args.api_version,
                           enable_auto_tls=args.enable_auto_tls)
                  for macs, disk in specs]
        task = asyncio.create_task(run_fleet(agents, ready))
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, task.cancel)
        with contextlib.suppress(asyncio.CancelledError):
            await task

    started = time.monotonic()
    asyncio.run(run())
    LOG.info('agent simulator stopped after %.1f s', time.monotonic() - started)
    return 0


if __name__ == '__main__':  # pragma: no cover
    sys.exit(main())
