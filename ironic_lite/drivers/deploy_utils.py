"""Steps shared by deploy interfaces, expressed through the task's state machine.

A deploy is a list of deploy steps (``conductor/steps.py`` works it out: the driver's enabled
steps plus those of matching deploy templates, highest priority first) stored in
``driver_internal_info['deploy_steps']``; :func:`run_deploy_steps` runs them in order, showing
the running one in ``node.deploy_step`` and its position in ``deploy_step_index``. When the
core step ``deploy.deploy`` waits for its ramdisk (``wait call-back``), the deploy interface
ends the deploy later through :func:`finish_deploy`, which runs the steps after it (those
with priority < 100) before the node goes ``active``. Both live here, next to the deploy
interfaces, so that drivers never import the conductor.
"""
from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from ironic_lite.common import exception, states
from ironic_lite.common.intent_acceptance import CLEARED
from ironic_lite.drivers import base

LOG = logging.getLogger(__name__)

# Per kind of steps: the node field showing the running step and the driver_internal_info
# keys of the operation's steps; all of them go when the operation ends (success or failure).
STEP_FIELDS = {'deploy': ('deploy_step', ('deploy_steps', 'deploy_step_index')),
               'clean': ('clean_step', ('clean_steps', 'clean_step_index'))}
STEP_KEYS = STEP_FIELDS['deploy'][1]


def step_id(step: dict[str, Any]) -> str:
    """``<interface>.<step>``, how upstream names a step in messages."""
    return f"{step.get('interface')}.{step.get('step')}"


def cleared_step_values(node: Any, kinds: tuple[str, ...] = ('deploy',)) -> dict[str, Any]:
    """Node fields that forget the steps of ``kinds`` ('deploy', 'clean'), for a save or a
    state change."""
    keys = {key for kind in kinds for key in STEP_FIELDS[kind][1]}
    info = {k: v for k, v in (node.driver_internal_info or {}).items() if k not in keys}
    return {**{STEP_FIELDS[kind][0]: {} for kind in kinds}, 'driver_internal_info': info}


async def run_deploy_steps(task, start: int,
                           new_steps: list[dict[str, Any]] | None = None) -> None:
    """Run the node's deploy steps from index ``start`` on, then move it to ``active``.

    ``new_steps`` starts a deploy: they replace the stored ``deploy_steps`` with the first
    step's save.

    Runs under the node's exclusive lock with the node in ``deploying``. A step returning
    ``states.DEPLOYWAIT`` leaves the node in ``wait call-back`` (its interface finishes with
    :func:`finish_deploy`); a failing step fails the deploy with a ``last_error`` naming it.
    """
    steps = list(new_steps if new_steps is not None
                 else (task.node.driver_internal_info or {}).get('deploy_steps') or [])
    for index in range(start, len(steps)):
        step = steps[index]
        info = dict(task.node.driver_internal_info)
        if new_steps is not None:
            info['deploy_steps'] = steps
        info['deploy_step_index'] = index
        await task.save(deploy_step=step, driver_internal_info=info)
        LOG.info('Node %s: executing deploy step %s', task.node.uuid, step_id(step))
        try:
            result = await base.execute_step(task, step, 'deploy')
        except Exception as e:
            if not isinstance(e, exception.IronicLiteException):
                LOG.exception('Unexpected error in deploy step %s of node %s', step_id(step),
                              task.node.uuid)
            await fail_deploy(task, f'Deploy step {step_id(step)} failed: '
                                    f'{e or e.__class__.__name__}',
                              task.driver.deploy.clean_up)
            return
        if result == states.DEPLOYWAIT:
            LOG.info('Node %s: deploy step %s goes on asynchronously', task.node.uuid,
                     step_id(step))
            if task.node.provision_state != states.DEPLOYWAIT:
                await task.process_event('wait')
            return
        if result is not None:
            await fail_deploy(task, f'Deploy step {step_id(step)} returned an unexpected '
                                    f'value: {result!r}', task.driver.deploy.clean_up)
            return
        if task.node.provision_state != states.DEPLOYING:
            # the step's interface ended the deploy itself (e.g. failed it)
            return
    await task.process_event('done', extra=cleared_step_values(task.node))


async def finish_deploy(task) -> None:
    """Where a deploy interface ends a deploy whose ``deploy.deploy`` step waited for its
    ramdisk: the instance is in place and bootable. Runs the remaining deploy steps, then the
    node goes ``active`` (or ``deploy failed`` when a step fails).

    Runs under the node's exclusive lock, in ``deploying`` (``wait call-back`` is resumed).
    """
    if task.node.provision_state == states.DEPLOYWAIT:
        await task.process_event('resume')
    info = task.node.driver_internal_info or {}
    index = info.get('deploy_step_index')
    if index is None or not info.get('deploy_steps'):
        # a deploy started without steps (e.g. before an upgrade): nothing else to run
        await task.process_event('done', extra=cleared_step_values(task.node))
        return
    await run_deploy_steps(task, index + 1)


async def resume_and_finish_deploy(task) -> None:
    """A ramdisk called back and the image is in place: boot the instance, run the remaining
    deploy steps, go active (``wait call-back`` → ``deploying`` → ``active``).
    """
    if task.node.provision_state == states.DEPLOYWAIT:
        await task.process_event('resume')
    await task.driver.boot.prepare_instance(task)
    await finish_deploy(task)


async def power_off_after_failure(task) -> None:
    """As upstream, a failed deploy leaves the machine off (seen on a qemu machine: it kept
    running its ramdisk); ``[deploy]power_off_after_deploy_failure``. Best effort: a BMC error
    is logged, the deploy already failed."""
    if not task.conf.deploy.power_off_after_deploy_failure:
        return
    try:
        await task.driver.power.set_power_state(task, states.POWER_OFF)
        await task.save(power_state=states.POWER_OFF, target_power_state=None)
    except Exception as e:
        LOG.warning('Node %s: powering off after the failed deploy failed: %s',
                    task.node.uuid, e)


async def fail_deploy(task, message: str,
                      clean_up: Callable[[Any], Awaitable[None]]) -> None:
    """Put the node in ``deploy failed`` with ``message`` as its last_error, then remove the
    deploy's files with ``clean_up(task)`` (whose own failure is only logged).

    A node no longer in a state that can fail (e.g. already torn down) just gets the error.
    """
    LOG.error('Node %s: %s', task.node.uuid, message)
    values = {'last_error': message, 'target_power_state': None, **CLEARED,
              **cleared_step_values(task.node)}
    if states.is_valid_event(task.node.provision_state, 'fail'):
        await task.process_event('fail', extra=values)
    else:
        await task.save(**values)
    await power_off_after_failure(task)
    try:
        await clean_up(task)
    except Exception:
        LOG.exception('Clean up after the failed deploy of node %s failed', task.node.uuid)
