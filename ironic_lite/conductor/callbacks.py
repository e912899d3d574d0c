"""Ramdisk callbacks: agent heartbeats, vendor passthru (pass_deploy_info…), continue deploy.

All run under the node's exclusive lock. Errors while a deploy waits for its callback fail the
deploy with the error as ``last_error``.
"""
from __future__ import annotations

import logging
from typing import Any

from oslo_utils import timeutils

from ironic_lite.common import agent_run, exception, states
from ironic_lite.conductor import utils
from ironic_lite.conductor.task_manager import acquire

LOG = logging.getLogger(__name__)

_DEPLOY_STATES = (states.DEPLOYWAIT, states.DEPLOYING)


async def _handle_error(task, what: str, err: Exception) -> None:
    if not isinstance(err, exception.IronicLiteException):
        LOG.exception('Unexpected error in %s of node %s', what, task.node.uuid)
    if task.node.provision_state in _DEPLOY_STATES:
        await task.fail_steps(utils.error_message(what, err))
    else:
        await task.save(last_error=utils.error_message(what, err))


async def heartbeat(env, node_id: str, callback_url: str, agent_version: str | None = None,
                    agent_verify_ca: str | None = None, agent_token: str | None = None,
                    check_token: bool = False, **kwargs: Any) -> None:
    """Record the agent (URL, version, time, TLS certificate, the status it reports), then
    the deploy interface acts.

    The API checked the token before casting; with ``check_token`` (RPC 1.2) it is checked
    again under the lock, as upstream's conductor does: a heartbeat that passed the API just
    before its agent run ended (token wiped) must not record that agent on the node again.

    ``agent_verify_ca`` is the PEM certificate of an agent with automatic TLS; the agent client
    trusts only it for this agent. As upstream, it is fixed for one agent run: a heartbeat
    bringing a different one is refused (the API refuses it first; this check holds under the
    lock) and it goes with the other agent keys when the run ends.
    """
    async with acquire(env, node_id, purpose='heartbeat') as task:
        info = task.node.driver_internal_info or {}
        if check_token and not agent_run.token_matches(info.get('agent_secret_token'),
                                                       agent_token):
            LOG.info('Heartbeat for node %s ignored: its agent token is not the node\'s (the '
                     'agent run it belongs to is over)', task.node.uuid)
            return
        if agent_run.verify_ca_changed(info.get('agent_verify_ca'), agent_verify_ca):
            LOG.error('Heartbeat for node %s refused: detected change in ramdisk provided '
                      '"agent_verify_ca"', task.node.uuid)
            return
        record = {'agent_url': callback_url, 'agent_version': agent_version,
                  'agent_last_heartbeat': timeutils.utcnow().isoformat()}
        if agent_verify_ca:
            record['agent_verify_ca'] = agent_verify_ca
        for key in ('agent_status', 'agent_status_message'):   # API 1.72, kept as upstream
            if kwargs.get(key):
                record[key] = kwargs[key]
        await task.set_driver_internal_info(**record)
        if task.node.maintenance:
            return
        try:
            await task.driver.deploy.heartbeat(task, callback_url, agent_version, **kwargs)
        except Exception as e:
            await _handle_error(task, 'Heartbeat', e)


async def vendor_passthru(env, node_id: str, driver_method: str, http_method: str,
                          info: dict) -> None:
    async with acquire(env, node_id, purpose=f'vendor passthru {driver_method}') as task:
        try:
            deploy = task.driver.deploy
            if driver_method in getattr(deploy, 'passthru_methods', {}):
                # Ramdisk callbacks of a deploy interface (iscsi: pass_deploy_info...).
                await deploy.passthru(task, driver_method, info)
                return
            await task.driver.vendor.validate(task, method=driver_method, data=info)
            await task.driver.vendor.call(task, driver_method, http_method, info)
        except Exception as e:
            await _handle_error(task, f'Vendor passthru {driver_method}', e)

