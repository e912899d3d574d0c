"""The ``redfish`` power interface: ComputerSystem.Reset through sushy, waiting for the result.

As upstream: power on ``On``, power off ``ForceOff``, soft power off ``GracefulShutdown``,
reboot ``ForceRestart`` (``On`` when off), soft reboot ``GracefulRestart`` (``On`` when off),
NMI ``Nmi`` (management). Every change is polled until the BMC reports the target state within
``[conductor]power_state_change_timeout`` (hard) or ``soft_power_off_timeout`` (soft), or the
request's own timeout.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import sushy
import tenacity

from ironic_lite.common import exception, states
from ironic_lite.conf import CONF
from ironic_lite.drivers import base
from ironic_lite.drivers.modules.redfish import utils as redfish_utils

if TYPE_CHECKING:  # pragma: no cover
    from ironic_lite.drivers.task import Task

POLL_INTERVAL = 0.5   # seconds between two power state reads while waiting for a change

_POWER_STATES = {
    sushy.POWER_STATE_ON: states.POWER_ON,
    sushy.POWER_STATE_POWERING_ON: states.POWER_ON,
    sushy.POWER_STATE_OFF: states.POWER_OFF,
    sushy.POWER_STATE_POWERING_OFF: states.POWER_OFF,
}


async def get_power(info: redfish_utils.RedfishInfo) -> str:
    return await redfish_utils.call(
        info, 'get power state',
        lambda system: _POWER_STATES.get(system.power_state, states.ERROR))


async def reset(info: redfish_utils.RedfishInfo, reset_type: Any, what: str) -> None:
    await redfish_utils.call(info, what, lambda system: system.reset_system(reset_type))


async def _wait_for(info: redfish_utils.RedfishInfo, node: Any, target: str,
                    timeout: float) -> None:
    """Poll until the BMC reports ``target``; PowerStateFailure after ``timeout`` s."""
    waiting = tenacity.AsyncRetrying(
        stop=tenacity.stop_after_delay(timeout), wait=tenacity.wait_fixed(POLL_INTERVAL),
        retry=tenacity.retry_if_result(lambda state: state != target),
        retry_error_callback=lambda retry_state: retry_state.outcome.result())
    state = await waiting(get_power, info)
    if state != target:
        raise exception.PowerStateFailure(
            f'Node {node.uuid} did not reach "{target}" within {timeout} s; the BMC at '
            f'{info.address} still reports "{state}".')


class RedfishPower(base.PowerInterface):
    """Power through the Redfish ComputerSystem.Reset action."""

    def get_properties(self) -> dict[str, str]:
        return dict(redfish_utils.COMMON_PROPERTIES)

    async def validate(self, task: Task) -> None:
        redfish_utils.parse_driver_info(task.node)

    async def get_power_state(self, task: Task) -> str:
        return await get_power(redfish_utils.parse_driver_info(task.node))

    def get_supported_power_states(self, task: Task) -> list[str]:
        return [states.POWER_ON, states.POWER_OFF, states.REBOOT, states.SOFT_REBOOT,
                states.SOFT_POWER_OFF]

    async def set_power_state(self, task: Task, power_state: str,
                              timeout: int | None = None) -> None:
        info = redfish_utils.parse_driver_info(task.node)
        hard = timeout or CONF.conductor.power_state_change_timeout
        soft = timeout or CONF.conductor.soft_power_off_timeout
        if power_state == states.POWER_ON:
            await reset(info, sushy.RESET_ON, 'power on')
            await _wait_for(info, task.node, states.POWER_ON, hard)
        elif power_state == states.POWER_OFF:
            await reset(info, sushy.RESET_FORCE_OFF, 'power off')
            await _wait_for(info, task.node, states.POWER_OFF, hard)
        elif power_state == states.SOFT_POWER_OFF:
            await reset(info, sushy.RESET_GRACEFUL_SHUTDOWN, 'soft power off')
            await _wait_for(info, task.node, states.POWER_OFF, soft)
        elif power_state == states.REBOOT:
            await self.reboot(task, timeout)
        elif power_state == states.SOFT_REBOOT:
            if await get_power(info) == states.POWER_ON:
                await reset(info, sushy.RESET_GRACEFUL_RESTART, 'soft reboot')
            else:
                await reset(info, sushy.RESET_ON, 'power on')
            await _wait_for(info, task.node, states.POWER_ON, soft)
        else:
            raise exception.InvalidParameterValue(
                err=f'set_power_state called with an invalid power state: {power_state}.')

    async def reboot(self, task: Task, timeout: int | None = None) -> None:
        """ForceRestart when on (the firmware boots again, applying the boot device), On
        when off; the node ends powered on."""
        info = redfish_utils.parse_driver_info(task.node)
        if await get_power(info) == states.POWER_ON:
            await reset(info, sushy.RESET_FORCE_RESTART, 'reboot')
        else:
            await reset(info, sushy.RESET_ON, 'power on')
        await _wait_for(info, task.node, states.POWER_ON,
                        timeout or CONF.conductor.power_state_change_timeout)
