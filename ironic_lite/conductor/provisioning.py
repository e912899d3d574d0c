"""Provisioning actions other than deploy and tear down: manage, provide, clean, inspect,
adopt, abort, rescue, unrescue, unhold, service.

Each ``start`` runs under the node's exclusive lock with the accepted intent's arguments.
"""
from __future__ import annotations

import logging
from typing import Any

from ironic_lite.common import exception, states
from ironic_lite.common.intents import CLEARED
from ironic_lite.conductor import cleaning, rescue, step_runner, utils

LOG = logging.getLogger(__name__)


async def start(task, action: str, **args: Any) -> None:
    handler = _HANDLERS.get(action)
    if handler is None:
        raise exception.InvalidParameterValue(err=f'Unknown provisioning action {action}')
    await handler(task, **args)


async def _manage(task, **_: Any) -> None:
    if task.source_state == states.ENROLL:
        await task.process_event('manage', callback=_verify, extra={**CLEARED})
    else:
        await task.process_event('manage', extra={**CLEARED})


async def _verify(task) -> None:
    """enroll → verifying → manageable: credentials must work (power state is read)."""
    try:
        utils.raise_if_invalid(await utils.validate_interfaces(task, ('power', 'management')))
        power_state = await task.driver.power.get_power_state(task)
    except Exception as e:
        await utils.fail_task(task, 'fail', utils.error_message('Verification', e))
        return
    await task.process_event('done', extra={'power_state': power_state})


async def _provide(task, **_: Any) -> None:
    await task.process_event('provide', callback=cleaning.run_cleaning, call_args=(False,),
                             extra={**CLEARED})


async def _clean(task, clean_steps: list | None = None, **_: Any) -> None:
    await task.process_event('clean', callback=cleaning.run_cleaning,
                             call_args=(True, clean_steps),
                             extra={**CLEARED, 'target_provision_state': states.MANAGEABLE})


async def _abort(task, **_: Any) -> None:
    state = task.source_state
    message = f'Aborted by user request in state "{state}".'
    extra = {**CLEARED, 'last_error': message}
    if state == states.DEPLOYWAIT:  # the deploy's steps end with it
        extra.update(step_runner.step_clearing_values(task.node, ('deploy',)))
    await task.process_event('abort', extra=extra)
    if state == states.DEPLOYWAIT:
        await step_runner.clean_up_deploy(task)


async def _finish_at_once(task) -> None:
    """Inspect, adopt and service have no driver work in shipped drivers."""
    try:
        await task.driver.power.validate(task)
    except Exception as e:
        await utils.fail_task(task, 'fail', utils.error_message(task.purpose, e))
        return
    await task.process_event('done')


def _simple(event: str):
    async def handler(task, **args: Any) -> None:
        await task.process_event(event, callback=_finish_at_once, extra={**CLEARED})
    return handler


async def _unhold(task, **_: Any) -> None:
    await task.process_event('unhold', extra={**CLEARED})


_HANDLERS = {
    'manage': _manage,
    'provide': _provide,
    'clean': _clean,
    'abort': _abort,
    'inspect': _simple('inspect'),
    'adopt': _simple('adopt'),
    'rescue': rescue.start_rescue,
    'unrescue': rescue.start_unrescue,
    'service': _simple('service'),
    'unhold': _unhold,
}
