"""The fake-hardware hardware type: every interface has a fake that needs no real machine."""
from ironic_lite.drivers.hardware_type import HardwareType


class FakeHardware(HardwareType):
    supported_boot_interfaces = ['fake', 'pxe', 'ipxe']
    supported_deploy_interfaces = ['fake', 'iscsi', 'direct']
    supported_management_interfaces = ['fake', 'ipmitool']
    supported_power_interfaces = ['fake', 'ipmitool']
    supported_vendor_interfaces = ['fake', 'no-vendor']
    supported_bios_interfaces = ['fake', 'no-bios']
    supported_console_interfaces = ['fake', 'no-console']
    supported_network_interfaces = ['noop', 'flat']
    supported_rescue_interfaces = ['fake', 'no-rescue']
    supported_storage_interfaces = ['fake', 'noop']
    supported_raid_interfaces = ['fake', 'no-raid']
    supported_inspect_interfaces = ['fake', 'no-inspect']
