"""The ``redfish`` BIOS interface: the system's ``Bios`` resource, as upstream's redfish bios.

``cache_bios_settings`` stores the BMC's current attributes as the node's BIOS settings
(``GET /v1/nodes/{node}/bios``); the conductor calls it when a node is verified (``manage``).
``apply_configuration`` and ``factory_reset`` are clean and deploy steps (priority 0: manual
cleaning or a deploy template): they write the pending settings (``@Redfish.Settings``) or ask
for ``Bios.ResetBios``, reboot the node so the firmware applies them, check the requested
attributes are now current, then cache them.

Upstream returns from the step while the node reboots and checks on a later pass; here the
step awaits the reboot (``power.reboot`` waits for the target state, off the event loop), so
the node holds its lock and stays in ``cleaning``/``deploying`` until the check is done.
"""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from ironic_lite.common import exception, states
from ironic_lite.drivers import base
from ironic_lite.drivers.modules.redfish import utils as redfish_utils

if TYPE_CHECKING:  # pragma: no cover
    from ironic_lite.drivers.task import Task

LOG = logging.getLogger(__name__)


def _current(system: Any) -> dict[str, str | None]:
    """The BMC's current BIOS attributes, values as strings (as the settings table)."""
    attributes = system.bios.attributes or {}
    return {name: None if value is None else str(value) for name, value in attributes.items()}


class RedfishBIOS(base.BIOSInterface):

    def get_properties(self) -> dict[str, str]:
        return dict(redfish_utils.COMMON_PROPERTIES)

    async def validate(self, task: Task) -> None:
        redfish_utils.parse_driver_info(task.node)

    async def cache_bios_settings(self, task: Task) -> None:
        """Store the BMC's current BIOS attributes as the node's BIOS settings."""
        await self._cache(task)

    async def _cache(self, task: Task) -> dict[str, str | None]:
        current = await redfish_utils.call(redfish_utils.parse_driver_info(task.node),
                                           'get BIOS settings', _current)
        await task.db.set_bios_settings(task.node.id, current)
        return current

    async def _reboot(self, task: Task) -> None:
        """The firmware applies pending BIOS changes when the machine restarts."""
        await task.driver.power.reboot(task)
        await task.save(power_state=states.POWER_ON)

    @base.deploy_step(priority=0, argsinfo=base.BIOS_SETTINGS_ARGSINFO, requires_ramdisk=False)
    @base.clean_step(priority=0, argsinfo=base.BIOS_SETTINGS_ARGSINFO, requires_ramdisk=False)
    async def apply_configuration(self, task: Task, settings: list) -> None:
        wanted = base.bios_settings(settings)
        info = redfish_utils.parse_driver_info(task.node)
        await redfish_utils.call(info, 'apply BIOS settings',
                                 lambda system: system.bios.set_attributes(wanted))
        await self._reboot(task)
        current = await self._cache(task)
        not_applied = {name: value for name, value in wanted.items()
                       if current.get(name) != value}
        if not_applied:
            raise exception.RedfishError(
                bmc=info.address,
                reason='BIOS settings not applied after the reboot: ' + ', '.join(
                    f'{name}={value} (now {current.get(name)})'
                    for name, value in not_applied.items()))
        LOG.info('Node %s: BIOS settings applied: %s', task.node.uuid, ', '.join(wanted))

    @base.deploy_step(priority=0, requires_ramdisk=False)
    @base.clean_step(priority=0, requires_ramdisk=False)
    async def factory_reset(self, task: Task) -> None:
        await redfish_utils.call(redfish_utils.parse_driver_info(task.node),
                                 'reset BIOS settings', lambda system: system.bios.reset_bios())
        await self._reboot(task)
        await self.cache_bios_settings(task)
        LOG.info('Node %s: BIOS settings reset to factory defaults', task.node.uuid)
