"""The ``redfish`` hardware type: machines managed through their BMC's Redfish API (sushy).

Interfaces in upstream's order of preference, limited to those implemented here: ``redfish``
power, management, (out-of-band) inspection and BIOS; iPXE/PXE boot, then ``redfish-virtual-media``
(last, as upstream: not every BMC implements virtual media well);
``fake`` boot and deploy as a last resort (power-only management), ``fake`` RAID and inspection
for trying steps on a real machine, as the ``ipmi`` hardware type. Upstream's default inspect
interface for ``redfish`` is ``redfish`` when enabled (then ``inspector``, ``no-inspect``).
"""
from ironic_lite.drivers.hardware_type import HardwareType


class RedfishHardware(HardwareType):
    supported_boot_interfaces = ['ipxe', 'pxe', 'redfish-virtual-media', 'fake']
    supported_deploy_interfaces = ['direct', 'iscsi', 'fake']
    supported_management_interfaces = ['redfish']
    supported_power_interfaces = ['redfish']
    supported_vendor_interfaces = ['no-vendor', 'fake']
    supported_raid_interfaces = ['no-raid', 'fake']
    supported_inspect_interfaces = ['redfish', 'no-inspect', 'fake']
    supported_bios_interfaces = ['redfish', 'no-bios']
