"""The ``ipmi`` hardware type: machines managed through their BMC over IPMI (pyghmi).

Interfaces in upstream's order of preference. Upstream also offers an ``ipmitool`` vendor
interface (raw bytes passthru); it is not implemented here, so it is not claimed. ``fake`` boot
and deploy stay available as a last resort (e.g. power-only management of a machine), and
``fake`` RAID and inspection for trying steps on a real machine.
"""
from ironic_lite.drivers.hardware_type import HardwareType


class IPMIHardware(HardwareType):
    supported_boot_interfaces = ['ipxe', 'pxe', 'fake']
    supported_deploy_interfaces = ['direct', 'iscsi', 'fake']
    supported_management_interfaces = ['ipmitool']
    supported_power_interfaces = ['ipmitool']
    supported_vendor_interfaces = ['no-vendor', 'fake']
    supported_raid_interfaces = ['no-raid', 'fake']
    supported_inspect_interfaces = ['no-inspect', 'fake']
