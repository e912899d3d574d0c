"""Client of the ironic-python-agent command API (``{agent_url}/v1/commands/``), on aiohttp.

Wire format as IPA expects it: ``POST {agent_url}/v1/commands/?wait=false&agent_token=…``
with ``{"name": "standby.prepare_image", "params": {...}}``; the answer is one command result
(``id``, ``command_name``, ``command_status`` RUNNING/SUCCEEDED/FAILED, ``command_result``,
``command_error``). ``GET {agent_url}/v1/commands/`` lists every command as ``{"commands":
[...]}``. Every request has a timeout (``[agent]command_timeout``) and connection failures are
retried ``[agent]max_command_attempts`` times; nothing here blocks the event loop.
"""
from __future__ import annotations

import logging
from typing import Any

import aiohttp
from oslo_config import cfg

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


class AgentClient:
    """One client per operation; ``conf`` is the service configuration."""

    def __init__(self, conf: cfg.ConfigOpts):
        self.conf = conf

    def _url(self, node) -> str:
        agent_url = (node.driver_internal_info or {}).get('agent_url')
        if not agent_url:
            raise AgentConnectionFailed(
                reason=f'node {node.uuid} has no agent_url: no agent has heartbeated yet')
        return f'{agent_url.rstrip("/")}/{self.conf.agent.agent_api_version}/commands/'

    def _timeout(self) -> aiohttp.ClientTimeout:
        return aiohttp.ClientTimeout(total=self.conf.agent.command_timeout)

    async def _request(self, node, method: str, what: str, **kwargs: Any) -> tuple[int, Any]:
        url = self._url(node)
        attempts = self.conf.agent.max_command_attempts
        for attempt in range(1, attempts + 1):
            try:
                async with aiohttp.ClientSession(timeout=self._timeout()) as session:
                    async with session.request(method, url, **kwargs) as resp:
                        text = await resp.text()
                        try:
                            body = await resp.json(content_type=None) if text else None
                        except ValueError:
                            raise exception.IronicLiteException(
                                f'Agent of node {node.uuid} answered {what} with HTTP '
                                f'{resp.status} and a body that is not JSON: '
                                f'{text[:200]!r}') from None
                        return resp.status, body
            except (TimeoutError, aiohttp.ClientConnectionError) as e:
                reason = (f'could not reach the agent of node {node.uuid} at {url} for '
                          f'{what} (attempt {attempt} of {attempts}): '
                          f'{str(e) or type(e).__name__}')
                if attempt == attempts:
                    raise AgentConnectionFailed(reason=reason) from e
                LOG.warning('%s; retrying', reason)
            except aiohttp.ClientError as e:
                raise AgentConnectionFailed(
                    reason=f'{what} on the agent of node {node.uuid} failed: {e}') from e
        raise AssertionError('unreachable')  # pragma: no cover

    async def command(self, node, name: str, params: dict[str, Any],
                      wait: bool = False) -> dict[str, Any]:
        """Send one command; returns the agent's command result."""
        query = {'wait': str(wait).lower()}
        token = (node.driver_internal_info or {}).get('agent_secret_token')
        if token:
            query['agent_token'] = token
        LOG.debug('Sending agent command %s to node %s', name, node.uuid)
        status, body = await self._request(node, 'POST', name, params=query,
                                           json={'name': name, 'params': params})
        if status >= 400 or not isinstance(body, dict):
            error = (body or {}).get('faultstring') if isinstance(body, dict) else body
            raise AgentAPIError(node=node.uuid, status=status, error=error)
        return body

    async def get_commands_status(self, node) -> list[dict[str, Any]]:
        status, body = await self._request(node, 'GET', 'get_commands_status')
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
