"""Client of the ironic-python-agent command API (``{agent_url}/v1/commands/``), on aiohttp.

Wire format as IPA expects it: ``POST {agent_url}/v1/commands/?wait=false&agent_token=…``
with ``{"name": "standby.prepare_image", "params": {...}}``; the answer is one command result
(``id``, ``command_name``, ``command_status`` RUNNING/SUCCEEDED/FAILED, ``command_result``,
``command_error``). ``GET {agent_url}/v1/commands/`` lists every command as ``{"commands":
[...]}``. Every request has a timeout (``[agent]command_timeout``) and connection failures are
retried (tenacity) up to ``[agent]max_command_attempts`` attempts in all; nothing here blocks
the event loop. One :class:`AgentClient` per conductor (its ``direct`` deploy interface owns
it) sends every request through one aiohttp session, closed when the conductor stops.

TLS (``https`` agent URLs), as upstream's ``_get_verify``: the certificate the agent sent in its
heartbeat (``driver_internal_info['agent_verify_ca']``, IPA's automatic TLS from API 1.68) is
the ONLY trust anchor for that agent — no system CAs; without one, ``driver_info/agent_verify_ca``
or ``[agent]verify_ca`` decides (True: system CAs, False: no verification, else a CA file or
directory). SSL contexts are built in a thread and cached per CA, so a heartbeat never loads
certificates on the event loop. A certificate that does not verify is reported at once (not
retried): it will not verify on a second attempt either.
"""
from __future__ import annotations

import asyncio
import collections
import hashlib
import logging
import os
import ssl
import stat
from typing import Any

import aiohttp
import tenacity
from oslo_config import cfg
from oslo_utils import strutils

from ironic_lite.common import exception

LOG = logging.getLogger(__name__)


class AgentConnectionFailed(exception.IronicLiteException):
    _msg_fmt = 'Connection to agent failed: %(reason)s'


class AgentAPIError(exception.IronicLiteException):
    _msg_fmt = ('Agent API for node %(node)s returned HTTP status code %(status)s with '
                'error: %(error)s')


def command_error(command: dict[str, Any]) -> str:
    """The human-readable error of a failed command (IPA sends a dict or a string)."""
    error = command.get('command_error')
    if error is None:
        return 'Invalid agent response: the command failed without an error'
    if isinstance(error, dict):
        return str(error.get('details') or error.get('message') or error)
    return str(error)


# SSL contexts by CA (the agent's PEM digest, or a CA path with its mtime): building one parses
# certificates, which must not happen on the event loop for every heartbeat. Bounded LRU: one
# entry per agent run at most, old runs' certificates age out.
_CONTEXTS: collections.OrderedDict[tuple, ssl.SSLContext] = collections.OrderedDict()
_MAX_CONTEXTS = 512


def _client_context(cadata: str | None = None, cafile: str | None = None,
                    capath: str | None = None) -> ssl.SSLContext:
    # PROTOCOL_TLS_CLIENT checks the host name and requires a certificate, and loads no system
    # CAs: only what is given here is trusted.
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2   # IPA's default tls_min_version
    ctx.load_verify_locations(cafile=cafile, capath=capath, cadata=cadata)
    return ctx


async def _cached_context(key: tuple, **locations: str) -> ssl.SSLContext:
    ctx = _CONTEXTS.get(key)
    if ctx is not None:
        _CONTEXTS.move_to_end(key)
        return ctx
    ctx = await asyncio.to_thread(_client_context, **locations)
    _CONTEXTS[key] = ctx
    while len(_CONTEXTS) > _MAX_CONTEXTS:
        _CONTEXTS.popitem(last=False)
    return ctx


class AgentClient:
    """The agent API client of one conductor (``conf`` is its configuration).

    One aiohttp session for every agent, as aiohttp recommends, created on first use and
    closed by :meth:`close` when the conductor stops. Each request still carries its own TLS
    context (the node's agent certificate) and timeout. Connections are not kept alive
    between requests, as before: an agent is a short-lived server, and the next agent run at
    the same address (after a reboot) must not be sent a command on a dead connection.
    """

    def __init__(self, conf: cfg.ConfigOpts):
        self.conf = conf
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def _current_session(self) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        if self._session is None or self._session.closed or self._loop is not loop:
            self._loop = loop
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(force_close=True),
                # agents set no cookies; one agent's must never reach another
                cookie_jar=aiohttp.DummyCookieJar())
        return self._session

    async def close(self) -> None:
        """Close the session (the conductor stops); a later request opens a new one."""
        session, self._session = self._session, None
        if session is not None and not session.closed and self._loop is asyncio.get_running_loop():
            await session.close()

    def _url(self, node) -> str:
        agent_url = (node.driver_internal_info or {}).get('agent_url')
        if not agent_url:
            raise AgentConnectionFailed(
                reason=f'node {node.uuid} has no agent_url: no agent has heartbeated yet')
        return f'{agent_url.rstrip("/")}/{self.conf.agent.agent_api_version}/commands/'

    def _timeout(self) -> aiohttp.ClientTimeout:
        return aiohttp.ClientTimeout(total=self.conf.agent.command_timeout)

    async def _tls(self, node, url: str) -> tuple[ssl.SSLContext | bool, str]:
        """``(ssl argument for aiohttp, what the agent's certificate is checked against)``."""
        if not url.lower().startswith('https:'):
            return True, 'plain HTTP'
        pem = (node.driver_internal_info or {}).get('agent_verify_ca')
        if pem:
            what = 'the certificate the agent sent in its heartbeat (agent_verify_ca)'
            try:
                ctx = await _cached_context(
                    ('cadata', hashlib.sha256(pem.encode()).digest()), cadata=pem)
            except (ssl.SSLError, ValueError) as e:
                raise AgentConnectionFailed(
                    reason=f'{what} for node {node.uuid} is not a usable CA certificate: '
                           f'{e}') from e
            return ctx, what
        value = (node.driver_info or {}).get('agent_verify_ca')
        source = f'driver_info/agent_verify_ca of node {node.uuid}'
        if value is None:
            value, source = self.conf.agent.verify_ca, '[agent]verify_ca'
        if isinstance(value, str):
            try:
                value = strutils.bool_from_string(value, strict=True)
            except ValueError:
                pass
        if value is True:
            return True, f'the system CA store ({source})'   # aiohttp's prebuilt context
        if value is False:
            return False, f'nothing: verification is disabled by {source}'
        path = str(value)
        try:
            st = await asyncio.to_thread(os.stat, path)   # nothing blocks the event loop
        except OSError:
            raise exception.InvalidParameterValue(
                err=f'Agent CA {path!r} ({source}) is neither a path nor a boolean') from None
        locations = {'capath': path} if stat.S_ISDIR(st.st_mode) else {'cafile': path}
        try:
            ctx = await _cached_context(('path', path, st.st_mtime_ns, st.st_size),
                                        **locations)
        except (ssl.SSLError, OSError) as e:
            raise exception.InvalidParameterValue(
                err=f'Agent CA {path!r} ({source}) cannot be loaded: {e}') from e
        return ctx, f'{path} ({source})'

    async def _request(self, node, method: str, what: str, **kwargs: Any) -> tuple[int, Any]:
        url = self._url(node)
        tls, trusted = await self._tls(node, url)
        attempts = self.conf.agent.max_command_attempts

        async def attempt() -> tuple[int, Any]:
            try:
                async with self._current_session().request(
                        method, url, ssl=tls, timeout=self._timeout(), **kwargs) as resp:
                    text = await resp.text()
                    try:
                        body = await resp.json(content_type=None) if text else None
                    except ValueError:
                        raise exception.IronicLiteException(
                            f'Agent of node {node.uuid} answered {what} with HTTP '
                            f'{resp.status} and a body that is not JSON: '
                            f'{text[:200]!r}') from None
                    return resp.status, body
            except (aiohttp.ClientSSLError, ssl.SSLError) as e:
                # Before ClientConnectionError (its parent): a certificate that does not verify
                # is not a network hiccup, retrying cannot help.
                raise AgentConnectionFailed(
                    reason=f'TLS with the agent of node {node.uuid} at {url} failed for {what}, '
                           f'its certificate was checked against {trusted}: '
                           f'{str(e) or type(e).__name__}') from e
            except (TimeoutError, aiohttp.ClientConnectionError):
                raise   # retried below
            except aiohttp.ClientError as e:
                raise AgentConnectionFailed(
                    reason=f'{what} on the agent of node {node.uuid} failed: {e}') from e

        def unreachable(state: tenacity.RetryCallState) -> str:
            e = state.outcome.exception()
            return (f'could not reach the agent of node {node.uuid} at {url} for {what} '
                    f'(attempt {state.attempt_number} of {attempts}): '
                    f'{str(e) or type(e).__name__}')

        def give_up(state: tenacity.RetryCallState) -> None:
            raise AgentConnectionFailed(reason=unreachable(state)) \
                from state.outcome.exception()

        # Connection failures and time-outs are retried at once, max_command_attempts in all.
        return await tenacity.AsyncRetrying(
            retry=tenacity.retry_if_exception_type((TimeoutError, aiohttp.ClientConnectionError)),
            stop=tenacity.stop_after_attempt(attempts),
            before_sleep=lambda state: LOG.warning('%s; retrying', unreachable(state)),
            retry_error_callback=give_up)(attempt)

    @staticmethod
    def _with_token(node, query: dict[str, str]) -> dict[str, str]:
        """IPA refuses every command endpoint (the GET of results too: 401 'Token
        invalid.', seen with the real IPA 13 on a qemu machine) without the agent token."""
        token = (node.driver_internal_info or {}).get('agent_secret_token')
        if token:
            query['agent_token'] = token
        return query

    async def command(self, node, name: str, params: dict[str, Any],
                      wait: bool = False) -> dict[str, Any]:
        """Send one command; returns the agent's command result."""
        query = self._with_token(node, {'wait': str(wait).lower()})
        LOG.debug('Sending agent command %s to node %s', name, node.uuid)
        status, body = await self._request(node, 'POST', name, params=query,
                                           json={'name': name, 'params': params})
        if status >= 400 or not isinstance(body, dict):
            error = (body or {}).get('faultstring') if isinstance(body, dict) else body
            raise AgentAPIError(node=node.uuid, status=status, error=error)
        return body

    async def get_commands_status(self, node) -> list[dict[str, Any]]:
        status, body = await self._request(node, 'GET', 'get_commands_status',
                                           params=self._with_token(node, {}))
        if status >= 400 or not isinstance(body, dict) or not isinstance(
                body.get('commands'), list):
            raise AgentAPIError(node=node.uuid, status=status, error=body)
        return body['commands']

    async def prepare_image(self, node, image_info: dict[str, Any]) -> dict[str, Any]:
        params: dict[str, Any] = {'image_info': image_info}
        configdrive = (node.instance_info or {}).get('configdrive')
        if configdrive is not None:
            params['configdrive'] = configdrive
        return await self.command(node, 'standby.prepare_image', params)

    async def power_off(self, node) -> dict[str, Any]:
        return await self.command(node, 'standby.power_off', {})

    async def sync(self, node) -> dict[str, Any]:
        return await self.command(node, 'standby.sync', {}, wait=True)
