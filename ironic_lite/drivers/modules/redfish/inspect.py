"""The ``redfish`` inspect interface: out-of-band inspection through the BMC, as upstream's.

What the ComputerSystem reports becomes the node's properties: ``cpus`` (logical CPUs, the
processors' threads), ``cpu_arch``, ``memory_mb`` (``MemorySummary``) and ``local_gb`` (the
smallest disk or volume of at least 4 GiB, in GiB, minus 1, as upstream; 0 on a disk-less
node), plus ``boot_mode`` in the capabilities unless the operator already set one. A port is
created for each enabled NIC whose MAC has no port yet (``pxe_enabled`` true: the default, as
upstream, which cannot tell the boot NIC out of band). Missing essentials fail the inspection.
"""
from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import sushy
from sushy import exceptions as sushy_exc

from ironic_lite.common import exception, states
from ironic_lite.drivers import base
from ironic_lite.drivers.modules import pxe_utils
from ironic_lite.drivers.modules.redfish import management
from ironic_lite.drivers.modules.redfish import utils as redfish_utils

if TYPE_CHECKING:  # pragma: no cover
    from ironic_lite.drivers.task import Task

LOG = logging.getLogger(__name__)
T = TypeVar('T')

GIB = 1024 ** 3
MIN_DISK_BYTES = 4 * GIB   # smaller devices are not where an image goes (upstream's floor)
CPU_ARCH_MAP = {sushy.PROCESSOR_ARCH_x86: 'x86_64', sushy.PROCESSOR_ARCH_IA_64: 'ia64',
                sushy.PROCESSOR_ARCH_ARM: 'arm', sushy.PROCESSOR_ARCH_MIPS: 'mips',
                sushy.PROCESSOR_ARCH_OEM: 'oem'}
ESSENTIAL_PROPERTIES = ('cpus', 'cpu_arch', 'memory_mb', 'local_gb')


@dataclasses.dataclass
class Findings:
    """What one read of the ComputerSystem found (None: not reported)."""

    cpus: int | None = None
    cpu_arch: str | None = None
    memory_mb: int | None = None
    local_gb: int = 0
    boot_mode: str | None = None
    enabled_macs: list[str] = dataclasses.field(default_factory=list)


def _smallest_usable(sizes: Any) -> int:
    usable = [size for size in sizes or () if size and size >= MIN_DISK_BYTES]
    return min(usable, default=0)


def _local_gb(node_uuid: str, system: Any) -> int:
    """Upstream's rule: the smallest disk of at least 4 GiB among SimpleStorage devices and
    Storage volumes (or drives when there are no volumes), in GiB minus 1."""
    simple = storage = 0
    try:
        if system.simple_storage:
            simple = _smallest_usable(system.simple_storage.disks_sizes_bytes)
    except sushy_exc.SushyError as e:   # optional resources: absent on many BMCs
        LOG.debug('Node %s: no SimpleStorage information: %s', node_uuid, e)
    try:
        if system.storage:
            storage = (_smallest_usable(system.storage.volumes_sizes_bytes)
                       or _smallest_usable(system.storage.drives_sizes_bytes))
    except sushy_exc.SushyError as e:
        LOG.debug('Node %s: no Storage information: %s', node_uuid, e)
    size = min(simple, storage) if simple and storage else max(simple, storage)
    return max(0, int(size / GIB - 1))


def _optional(node_uuid: str, read: Callable[[], T]) -> T | None:
    """A sub-resource the BMC may not publish (``Processors``, ``EthernetInterfaces``…):
    None instead of failing the whole read, so what is missing can be named."""
    try:
        return read()
    except sushy_exc.MissingAttributeError as e:
        LOG.debug('Node %s: %s', node_uuid, e)
        return None


def read_system(node_uuid: str, system: Any) -> Findings:
    """Everything inspection reads (blocking: runs in the Redfish thread pool)."""
    found = Findings()
    memory_gib = _optional(node_uuid, lambda: system.memory_summary.size_gib)
    if memory_gib:
        found.memory_mb = memory_gib * 1024
    summary = _optional(node_uuid, lambda: system.processors.summary)
    if summary is not None:
        count, arch = summary
        found.cpus = count or None
        if arch is not None:
            found.cpu_arch = CPU_ARCH_MAP.get(arch)
            if found.cpu_arch is None:
                LOG.warning('Node %s: unknown CPU architecture %s', node_uuid, arch)
    found.local_gb = _local_gb(node_uuid, system)
    found.boot_mode = management.REDFISH_TO_BOOT_MODE.get(system.boot.mode)
    nics = _optional(node_uuid, lambda: system.ethernet_interfaces.summary) or {}
    found.enabled_macs = [mac.lower() for mac, state in nics.items()
                          if state == sushy.STATE_ENABLED]
    return found


class RedfishInspect(base.InspectInterface):

    def get_properties(self) -> dict[str, str]:
        return dict(redfish_utils.COMMON_PROPERTIES)

    async def validate(self, task: Task) -> None:
        redfish_utils.parse_driver_info(task.node)

    async def inspect_hardware(self, task: Task) -> str:
        node = task.node
        info = redfish_utils.parse_driver_info(node)
        found = await redfish_utils.call(info, 'inspect hardware',
                                         lambda system: read_system(node.uuid, system))
        properties = dict(node.properties or {})
        # as upstream: memory_mb and local_gb are strings, cpus an integer
        if found.memory_mb:
            properties['memory_mb'] = str(found.memory_mb)
        if found.cpus:
            properties['cpus'] = found.cpus
        if found.cpu_arch:
            properties['cpu_arch'] = found.cpu_arch
        if not found.local_gb:
            LOG.warning('Node %s: no disk of at least 4 GiB found; assuming a disk-less node',
                        node.uuid)
        properties['local_gb'] = str(found.local_gb)
        caps = pxe_utils.parse_capabilities(properties.get('capabilities'), 'properties')
        if found.boot_mode and 'boot_mode' not in caps:   # never override the operator's
            caps['boot_mode'] = found.boot_mode
            properties['capabilities'] = ','.join(f'{k}:{v}' for k, v in caps.items())
        missing = [key for key in ESSENTIAL_PROPERTIES if key not in properties]
        if missing:
            raise exception.HardwareInspectionFailure(
                error=f'the BMC at {info.address} did not report {", ".join(missing)} '
                      f'for node {node.uuid}')
        await task.save(properties=properties)
        await self._create_ports(task, found.enabled_macs)
        return states.MANAGEABLE

    @staticmethod
    async def _create_ports(task: Task, macs: list[str]) -> None:
        if not macs:
            LOG.warning('Node %s: the BMC reports no enabled NIC; no port created',
                        task.node.uuid)
            return
        for mac in macs:
            try:
                await task.db.create_port({'address': mac, 'node_id': task.node.id})
            except exception.MACAlreadyExists:   # this node's or another's: left as it is
                LOG.info('Node %s: a port with MAC %s already exists', task.node.uuid, mac)
            else:
                LOG.info('Node %s: created a port for MAC %s', task.node.uuid, mac)
