"""Deploy, rebuild and tear down: the work behind the ``deploy``/``rebuild``/``delete`` intents.

Each ``start_*`` runs under the node's exclusive lock, moves the state machine and hands the
slow part to a worker (which keeps the lock). Failures land in ``last_error`` and the failure
state; they never leave the node in ``deploying`` or ``deleting``.

A deploy is ``deploy.prepare`` followed by the node's deploy steps (``conductor/steps.py``
works them out, ``conductor/step_runner.py`` runs them): steps with priority > 100 before the
core step ``deploy.deploy``, the others after it — also when ``deploy.deploy`` waits for a
ramdisk, in which case the deploy interface has them run through ``task.resume_steps()``.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Any

from ironic_lite.common import configdrive as configdrive_builder
from ironic_lite.common import exception, states
from ironic_lite.common.intent_acceptance import CLEARED
from ironic_lite.conductor import cleaning, step_runner, steps, utils

LOG = logging.getLogger(__name__)


async def start_deploy(task, event: str, configdrive: Any = None,
                       deploy_steps: list[dict] | None = None, **_: Any) -> None:
    """Intent ``deploy`` or ``rebuild``: validate, store the configdrive and the request's
    deploy steps (API 1.69), start the worker."""
    instance_info = dict(task.node.instance_info)
    if isinstance(configdrive, dict):  # API 1.56: built into the ISO ramdisks expect
        configdrive = await asyncio.to_thread(configdrive_builder.build, task.node.uuid,
                                              task.node.name, configdrive)
    if configdrive:
        instance_info['configdrive'] = configdrive
    info = dict(task.node.driver_internal_info)
    kind = step_runner.KINDS['deploy']
    for key in ('agent_url', 'agent_last_heartbeat', 'agent_secret_token',
                *kind.info_keys, *kind.request_keys):
        info.pop(key, None)
    extra = {**CLEARED, 'last_error': None, 'instance_info': instance_info,
             'driver_internal_info': info, 'deploy_step': {}}
    results = await utils.validate_interfaces(task, ('power', 'deploy'))
    try:
        utils.raise_if_invalid(results)
        # as upstream before it accepts a deploy: instance traits and the steps of the deploy
        # templates they match, and the request's deploy steps, must be valid for this node
        await steps.validated_template_steps(task)
        if deploy_steps:
            steps.validated_user_deploy_steps(task, deploy_steps)
    except exception.InvalidParameterValue as e:
        await task.process_event(event, extra=extra)
        await utils.fail_task(task, 'fail', f'Failed to deploy: {e}')
        return
    if deploy_steps:  # read by steps.all_deploy_steps once the deploy is prepared
        info[step_runner.USER_DEPLOY_STEPS] = deploy_steps
    await task.process_event(event, callback=_do_deploy, extra=extra)


async def _do_deploy(task) -> None:
    try:
        await task.driver.deploy.prepare(task)
    except Exception as e:
        _log_unexpected(task, e)
        await step_runner.fail(task, utils.error_message('Deploy', e))
        return
    try:
        # templates are read again: they may have changed since the request was accepted
        deploy_steps = await steps.all_deploy_steps(task)
    except Exception as e:
        _log_unexpected(task, e)
        await step_runner.fail(task, 'Error while getting deploy steps; cannot deploy to node '
                                     f'{task.node.uuid}. Error: {e}')
        return
    if not deploy_steps:
        await step_runner.fail(task, 'Error while getting deploy steps: no steps returned for '
                                     f'node {task.node.uuid}')
        return
    await step_runner.run(task, 'deploy', new_steps=deploy_steps)
    LOG.info('Deploy of node %s: %s', task.node.uuid, task.node.provision_state)


def _log_unexpected(task, err: Exception) -> None:
    if not isinstance(err, exception.IronicLiteException):
        LOG.exception('Unexpected error deploying node %s', task.node.uuid)


async def start_tear_down(task, **_: Any) -> None:
    """Intent ``delete`` (undeploy): tear down, then automated cleaning."""
    await task.process_event('delete', callback=_do_tear_down, extra={**CLEARED})


async def _do_tear_down(task) -> None:
    try:
        await task.driver.deploy.tear_down(task)
        await task.driver.boot.clean_up_instance(task)
        await task.driver.deploy.clean_up(task)
    except Exception as e:
        if not isinstance(e, exception.IronicLiteException):
            LOG.exception('Unexpected error tearing down node %s', task.node.uuid)
        await utils.fail_task(task, 'error', utils.error_message('Tear down', e))
        return
    # what one deployment left (its ramdisk's agent_* keys, deploy_* keys of its interface
    # and steps) goes; what the hardware keeps (e.g. its boot device) stays
    info = {k: v for k, v in task.node.driver_internal_info.items()
            if not k.startswith(('agent_', 'deploy_'))}
    await task.save(instance_info={}, instance_uuid=None, driver_internal_info=info,
                    power_state=states.POWER_OFF)
    await task.process_event('clean')
    await cleaning.run_cleaning(task, manual=False)
