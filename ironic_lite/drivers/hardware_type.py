"""Hardware types: which interface implementations a kind of machine supports.

Interface names are in order of preference: the first one that is enabled is the default.
"""
from __future__ import annotations

from typing import ClassVar


class HardwareType:
    supported_boot_interfaces: ClassVar[list[str]] = []
    supported_deploy_interfaces: ClassVar[list[str]] = []
    supported_management_interfaces: ClassVar[list[str]] = []
    supported_power_interfaces: ClassVar[list[str]] = []
    supported_vendor_interfaces: ClassVar[list[str]] = ['no-vendor']
    supported_bios_interfaces: ClassVar[list[str]] = ['no-bios']
    supported_console_interfaces: ClassVar[list[str]] = ['no-console']
    supported_network_interfaces: ClassVar[list[str]] = ['noop', 'flat']
    supported_rescue_interfaces: ClassVar[list[str]] = ['no-rescue']
    supported_storage_interfaces: ClassVar[list[str]] = ['noop']
    supported_raid_interfaces: ClassVar[list[str]] = ['no-raid']
    supported_inspect_interfaces: ClassVar[list[str]] = ['no-inspect']

    def supported(self, interface_type: str) -> list[str]:
        return list(getattr(self, f'supported_{interface_type}_interfaces'))
