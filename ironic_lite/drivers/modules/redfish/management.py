"""The ``redfish`` management interface: boot device and mode, secure boot, NMI, indicator.

Boot device and mode are the system's ``Boot`` override (``BootSourceOverrideTarget``,
``…Enabled`` Once/Continuous, ``…Mode`` UEFI/Legacy), as upstream's redfish management.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import sushy

from ironic_lite.common import boot_devices, exception
from ironic_lite.drivers import base
from ironic_lite.drivers.modules.redfish import utils as redfish_utils

if TYPE_CHECKING:  # pragma: no cover
    from ironic_lite.drivers.task import Task

BOOT_DEVICE_TO_REDFISH = {
    boot_devices.PXE: sushy.BOOT_SOURCE_TARGET_PXE,
    boot_devices.DISK: sushy.BOOT_SOURCE_TARGET_HDD,
    boot_devices.CDROM: sushy.BOOT_SOURCE_TARGET_CD,
    boot_devices.BIOS: sushy.BOOT_SOURCE_TARGET_BIOS_SETUP,
    boot_devices.UEFIHTTP: sushy.BOOT_SOURCE_TARGET_UEFI_HTTP,
}
REDFISH_TO_BOOT_DEVICE = {v: k for k, v in BOOT_DEVICE_TO_REDFISH.items()}

BOOT_MODE_UEFI, BOOT_MODE_BIOS = 'uefi', 'bios'   # upstream's boot mode names
BOOT_MODE_TO_REDFISH = {BOOT_MODE_UEFI: sushy.BOOT_SOURCE_MODE_UEFI,
                        BOOT_MODE_BIOS: sushy.BOOT_SOURCE_MODE_BIOS}
REDFISH_TO_BOOT_MODE = {v: k for k, v in BOOT_MODE_TO_REDFISH.items()}

# Indicators as upstream: the system's IndicatorLED (component "system", name "led").
INDICATOR_STATES = {sushy.INDICATOR_LED_LIT: 'ON', sushy.INDICATOR_LED_BLINKING: 'BLINKING',
                    sushy.INDICATOR_LED_OFF: 'OFF'}
_INDICATORS = {'system': {'led': {'readonly': False, 'states': ['BLINKING', 'ON', 'OFF']}}}


def _info(task: Task) -> redfish_utils.RedfishInfo:
    return redfish_utils.parse_driver_info(task.node)


class RedfishManagement(base.ManagementInterface):

    def get_properties(self) -> dict[str, str]:
        return dict(redfish_utils.COMMON_PROPERTIES)

    async def validate(self, task: Task) -> None:
        redfish_utils.parse_driver_info(task.node)

    def get_supported_boot_devices(self, task: Task) -> list[str]:
        return list(BOOT_DEVICE_TO_REDFISH)

    async def set_boot_device(self, task: Task, device: str, persistent: bool = False) -> None:
        if device not in BOOT_DEVICE_TO_REDFISH:
            raise exception.InvalidParameterValue(
                err=f'Invalid boot device {device} specified; supported: '
                    f'{", ".join(BOOT_DEVICE_TO_REDFISH)}.')
        enabled = sushy.BOOT_SOURCE_ENABLED_CONTINUOUS if persistent else \
            sushy.BOOT_SOURCE_ENABLED_ONCE
        await redfish_utils.call(
            _info(task), f'set boot device {device}',
            lambda system: system.set_system_boot_options(BOOT_DEVICE_TO_REDFISH[device],
                                                          enabled=enabled))

    async def get_boot_device(self, task: Task) -> dict[str, Any]:
        def read(system: Any) -> dict[str, Any]:
            device = REDFISH_TO_BOOT_DEVICE.get(system.boot.target)
            if device is None:
                return {'boot_device': None, 'persistent': None}
            return {'boot_device': device,
                    'persistent': system.boot.enabled == sushy.BOOT_SOURCE_ENABLED_CONTINUOUS}
        return await redfish_utils.call(_info(task), 'get boot device', read)

    def get_supported_boot_modes(self, task: Task) -> list[str]:
        return list(BOOT_MODE_TO_REDFISH)

    async def get_boot_mode(self, task: Task) -> str | None:
        """``uefi``, ``bios``, or None when the BMC does not say."""
        return await redfish_utils.call(_info(task), 'get boot mode',
                                        lambda system: REDFISH_TO_BOOT_MODE.get(system.boot.mode))

    async def set_boot_mode(self, task: Task, mode: str) -> None:
        if mode not in BOOT_MODE_TO_REDFISH:
            raise exception.InvalidParameterValue(
                err=f'Invalid boot mode {mode} specified; supported: '
                    f'{", ".join(BOOT_MODE_TO_REDFISH)}.')

        def apply(system: Any) -> None:
            # keep the current override target, as upstream: only the mode changes
            system.set_system_boot_options(mode=BOOT_MODE_TO_REDFISH[mode])
        await redfish_utils.call(_info(task), f'set boot mode {mode}', apply)

    async def get_secure_boot_state(self, task: Task) -> bool:
        return await redfish_utils.call(_info(task), 'get secure boot state',
                                        lambda system: bool(system.secure_boot.enabled))

    async def set_secure_boot_state(self, task: Task, state: bool) -> None:
        await redfish_utils.call(_info(task), f'set secure boot {"on" if state else "off"}',
                                 lambda system: system.secure_boot.set_enabled(bool(state)))

    async def inject_nmi(self, task: Task) -> None:
        await redfish_utils.call(_info(task), 'inject NMI',
                                 lambda system: system.reset_system(sushy.RESET_NMI))

    async def get_supported_indicators(self, task: Task) -> dict[str, dict]:
        return _INDICATORS

    @staticmethod
    def _check_indicator(component: str, indicator: str) -> None:
        if indicator not in _INDICATORS.get(component, {}):
            raise exception.InvalidParameterValue(
                err=f'Indicator {indicator}@{component} is not supported by this driver; '
                    'supported: led@system.')

    async def get_indicator_state(self, task: Task, component: str, indicator: str) -> str:
        self._check_indicator(component, indicator)
        return await redfish_utils.call(
            _info(task), 'get indicator state',
            lambda system: INDICATOR_STATES.get(system.indicator_led, 'UNKNOWN'))

    async def set_indicator_state(self, task: Task, component: str, indicator: str,
                                  state: str) -> None:
        self._check_indicator(component, indicator)
        to_redfish = {v: k for k, v in INDICATOR_STATES.items()}
        if state not in to_redfish:
            raise exception.InvalidParameterValue(
                err=f'Invalid indicator state {state}; supported: BLINKING, ON, OFF.')
        await redfish_utils.call(_info(task), f'set indicator {state}',
                                 lambda system: system.set_indicator_led(to_redfish[state]))
