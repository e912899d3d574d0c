"""Provisioning actions other than deploy and tear down: manage, provide, clean, inspect,
adopt, abort, rescue, unrescue, unhold, service.

Each handler runs under the node's exclusive lock with the accepted intent's arguments; the
intent table that maps an intent to its handler is ``conductor/intent_runner.py``.
"""
from __future__ import annotations

import logging
from typing import Any

from ironic_lite.common import exception, states
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
    try:
        await task.driver.bios.cache_bios_settings(task)
    except Exception:   # as upstream: a BIOS that cannot be read does not fail verification
        LOG.exception('Node %s: caching its BIOS settings failed; verification goes on',
                      task.node.uuid)
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


async def _inspect(task) -> None:
    """inspecting → manageable with what the inspect interface found (upstream's
    ``inspect_hardware``): power and inspect must validate; any failure → inspect failed."""
    try:
        utils.raise_if_invalid(await utils.validate_interfaces(task, ('power', 'inspect')))
        new_state = await task.driver.inspect.inspect_hardware(task)
    except Exception as e:
        reason = e.kwargs['error'] if isinstance(e, exception.HardwareInspectionFailure) \
            else str(e) or e.__class__.__name__
        await utils.fail_task(task, 'fail', f'Failed to inspect hardware. Reason: {reason}')
        return
    if new_state == states.MANAGEABLE:
        await task.process_event('done')
    elif new_state == states.INSPECTWAIT:
        await task.process_event('wait')
    else:
        await utils.fail_task(task, 'fail', 'Failed to inspect hardware. Reason: the inspect '
                                            f'interface returned the unexpected state {new_state}')


async def inspect(task, **_: Any) -> None:
    await task.process_event('inspect', callback=_inspect, extra={**CLEARED})


async def _finish_at_once(task) -> None:
    """Adopt and service have no driver work in shipped drivers."""
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


adopt = _simple('adopt')
service = _simple('service')


async def unhold(task, **_: Any) -> None:
    await task.process_event('unhold', extra={**CLEARED})
