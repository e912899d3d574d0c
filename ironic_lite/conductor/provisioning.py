"""Provisioning actions other than deploy and tear down: manage, provide, clean, inspect,
adopt, abort, rescue, unrescue, unhold, service.

Each handler runs under the node's exclusive lock with the accepted intent's arguments; the
intent table that maps an intent to its handler is ``conductor/intent_runner.py``.
"""
from __future__ import annotations

import logging
from typing import Any

from ironic_lite.common import states
from ironic_lite.common.intent_acceptance import CLEARED
from ironic_lite.conductor import cleaning, step_runner, utils

LOG = logging.getLogger(__name__)


async def manage(task, **_: Any) -> None:
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


async def provide(task, **_: Any) -> None:
    await task.process_event('provide', callback=cleaning.run_cleaning, call_args=(False,),
                             extra={**CLEARED})


async def clean(task, clean_steps: list | None = None, disable_ramdisk: bool = False,
                **_: Any) -> None:
    await task.process_event('clean', callback=cleaning.run_cleaning,
                             call_args=(True, clean_steps, bool(disable_ramdisk)),
                             extra={**CLEARED, 'target_provision_state': states.MANAGEABLE})


async def abort(task, **_: Any) -> None:
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


inspect = _simple('inspect')
adopt = _simple('adopt')
service = _simple('service')


async def unhold(task, **_: Any) -> None:
    await task.process_event('unhold', extra={**CLEARED})
