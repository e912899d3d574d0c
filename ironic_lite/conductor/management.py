"""Management operations on a node: boot device, NMI, indicators (LEDs).

Each runs in a task on the node: reads under a shared lock, changes under the node's exclusive
lock (NodeLocked -> 409 when another operation holds it past the retries).
"""
from __future__ import annotations

from typing import Any

from ironic_lite.common import exception
from ironic_lite.conductor.task_manager import acquire


async def get_boot_device(env, node_id: str) -> dict[str, Any]:
    async with acquire(env, node_id, purpose='getting boot device') as task:
        mgmt = task.driver.management
        await mgmt.validate(task)
        return await mgmt.get_boot_device(task)


async def set_boot_device(env, node_id: str, device: str, persistent: bool = False) -> None:
    async with acquire(env, node_id, purpose='setting boot device') as task:
        mgmt = task.driver.management
        await mgmt.validate(task)
        if device not in mgmt.get_supported_boot_devices(task):
            raise exception.InvalidParameterValue(
                err=f'Invalid boot device {device} specified.')
        await mgmt.set_boot_device(task, device, persistent=persistent)


async def get_supported_boot_devices(env, node_id: str) -> list[str]:
    async with acquire(env, node_id, shared=True, purpose='getting boot devices') as task:
        return list(task.driver.management.get_supported_boot_devices(task))


async def inject_nmi(env, node_id: str) -> None:
    async with acquire(env, node_id, purpose='inject nmi') as task:
        mgmt = task.driver.management
        await mgmt.validate(task)
        await mgmt.inject_nmi(task)


async def get_supported_indicators(env, node_id: str) -> dict[str, dict]:
    """``{component: {indicator: {'readonly': bool, 'states': [...]}}}``."""
    async with acquire(env, node_id, shared=True, purpose='get supported indicators') as task:
        mgmt = task.driver.management
        await mgmt.validate(task)
        return await mgmt.get_supported_indicators(task)


async def get_indicator_state(env, node_id: str, component: str, indicator: str) -> str:
    async with acquire(env, node_id, shared=True, purpose='get indicator state') as task:
        mgmt = task.driver.management
        await mgmt.validate(task)
        return await mgmt.get_indicator_state(task, component, indicator)


async def set_indicator_state(env, node_id: str, component: str, indicator: str,
                              state: str) -> None:
    async with acquire(env, node_id, purpose='setting indicator state') as task:
        mgmt = task.driver.management
        await mgmt.validate(task)
        await mgmt.set_indicator_state(task, component, indicator, state)
