"""Target RAID configuration of a node (API 1.12): validated and stored for the node's RAID
interface to apply during cleaning.

RAID is not a loaded interface type here: a node's ``raid_interface`` is ``no-raid`` (no RAID
support: UnsupportedDriverExtension, which the API answers with 404 as upstream) or ``fake``
(the configuration is validated and recorded).
"""
from __future__ import annotations

from typing import Any

from ironic_lite.common import exception
from ironic_lite.conductor.task_manager import acquire

RAID_LEVELS = ('0', '1', '2', '5', '6', '1+0', '5+0', '6+0', 'JBOD')


def _check(config: dict[str, Any]) -> None:
    disks = config.get('logical_disks')
    if not isinstance(disks, list) or not disks:
        raise exception.InvalidParameterValue(
            err='RAID config must have a non-empty "logical_disks" list.')
    for disk in disks:
        if not isinstance(disk, dict):
            raise exception.InvalidParameterValue(err='Each logical disk must be an object.')
        size = disk.get('size_gb')
        if size != 'MAX' and (not isinstance(size, int) or isinstance(size, bool)
                              or size < 1):
            raise exception.InvalidParameterValue(
                err=f'Invalid size_gb {size!r}: a positive integer or "MAX".')
        if disk.get('raid_level') not in RAID_LEVELS:
            raise exception.InvalidParameterValue(
                err=f'Invalid raid_level {disk.get("raid_level")!r}; expected one of '
                    f'{", ".join(RAID_LEVELS)}.')


async def set_target_raid_config(res, node_id: str, target_raid_config: dict) -> None:
    async with acquire(res, node_id, purpose='setting target RAID config') as task:
        if (task.node.raid_interface or 'no-raid') != 'fake':
            raise exception.UnsupportedDriverExtension(driver=task.node.driver,
                                                       extension='raid')
        if target_raid_config:
            _check(target_raid_config)
        await task.save(target_raid_config=target_raid_config)
