"""Target RAID configuration of a node (API 1.12): validated and stored for the node's RAID
interface to build in cleaning (``raid.create_configuration``) or a deploy template
(``raid.apply_configuration``).

A node's ``raid_interface`` is ``no-raid`` (no RAID support: UnsupportedDriverExtension, which
the API answers with 404 as upstream) or ``fake``, whose steps record the result in
``raid_config``.
"""
from __future__ import annotations

from ironic_lite.common import exception
from ironic_lite.conductor.task_manager import acquire
from ironic_lite.drivers import base


async def set_target_raid_config(env, node_id: str, target_raid_config: dict) -> None:
    async with acquire(env, node_id, purpose='setting target RAID config') as task:
        iface = base.get_interface(task, 'raid')
        if iface is None:
            raise exception.UnsupportedDriverExtension(driver=task.node.driver,
                                                       extension='raid')
        if target_raid_config:
            iface.validate_raid_config(task, target_raid_config)
        await task.save(target_raid_config=target_raid_config)
