"""Virtual network interfaces (VIFs) of a node, through its network interface."""
from __future__ import annotations

from typing import Any

from ironic_lite.conductor.task_manager import acquire


async def vif_list(env, node_id: str) -> list[dict[str, str]]:
    async with acquire(env, node_id, shared=True, purpose='list vifs') as task:
        return await task.driver.network.vif_list(task)


async def vif_attach(env, node_id: str, vif_info: dict[str, Any]) -> None:
    async with acquire(env, node_id, purpose='attach vif') as task:
        await task.driver.network.validate(task)
        await task.driver.network.vif_attach(task, vif_info)


async def vif_detach(env, node_id: str, vif_id: str) -> None:
    async with acquire(env, node_id, purpose='detach vif') as task:
        await task.driver.network.validate(task)
        await task.driver.network.vif_detach(task, vif_id)
