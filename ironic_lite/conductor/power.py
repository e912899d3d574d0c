"""Power actions requested through the API (``power`` intent)."""
from __future__ import annotations

import logging
from typing import Any

from ironic_lite.common import exception, intent_acceptance, states
from ironic_lite.common.intent_acceptance import CLEARED

LOG = logging.getLogger(__name__)

_REBOOTS = (states.REBOOT, states.SOFT_REBOOT)


async def start_power_change(task, power_state: str, timeout: int | None = None,
                             **_: Any) -> None:
    await task.save(target_power_state=intent_acceptance.power_target(power_state), **CLEARED)
    task.spawn_after(_do_power_change, power_state, timeout)


async def _do_power_change(task, power_state: str, timeout: int | None) -> None:
    power = task.driver.power
    try:
        await power.validate(task)
        if power_state not in power.get_supported_power_states(task):
            raise exception.InvalidParameterValue(
                err=f'The {power_state} power state is not supported by node '
                    f'{task.node.uuid}')
        if power_state in _REBOOTS:
            await power.reboot(task, timeout=timeout)
            final = states.POWER_ON
        else:
            await power.set_power_state(task, power_state, timeout=timeout)
            final = states.POWER_OFF if power_state == states.SOFT_POWER_OFF else power_state
    except Exception as e:
        if not isinstance(e, exception.IronicLiteException):
            LOG.exception('Unexpected power error on node %s', task.node.uuid)
        msg = f'Failed to change power state to "{power_state}": {e}'
        LOG.error('Node %s: %s', task.node.uuid, msg)
        await task.save(target_power_state=None, last_error=msg)
        return
    await task.save(power_state=final, target_power_state=None, last_error=None)
