"""Periodic power state sync: compare each node's recorded power state with its hardware.

Only nodes this conductor owns, not locked, not in maintenance, not enrolling and not in the
middle of an operation are looked at, ``[conductor]sync_power_state_workers`` at a time, under a
shared lock (upgraded only to write). A mismatch is repaired per
``force_power_state_during_sync``; after ``power_state_sync_max_retries`` consecutive failures
the node goes to maintenance with ``fault = "power failure"``.
"""
from __future__ import annotations

import asyncio
import dataclasses
import logging

from ironic_lite.common import exception, faults, states
from ironic_lite.conductor.env import ConductorEnv
from ironic_lite.conductor.task_manager import acquire

LOG = logging.getLogger(__name__)

_QUERY_TIMEOUT = 60


@dataclasses.dataclass
class SyncResult:
    checked: int = 0
    in_sync: int = 0
    repaired: int = 0
    recorded: int = 0
    failed: int = 0
    to_maintenance: int = 0
    skipped: int = 0


class PowerSync:
    """Keeps the per-node failure counts between passes (as upstream does, in memory)."""

    def __init__(self, env: ConductorEnv):
        self.env = env
        self.failures: dict[str, int] = {}

    def _eligible(self, node) -> bool:
        return not (node.maintenance or node.reservation or node.intent
                    or node.target_power_state
                    or node.provision_state == states.ENROLL
                    or node.provision_state in states.WORKING_STATES_FAIL_EVENT)

    async def run_once(self) -> SyncResult:
        env = self.env
        result = SyncResult()
        nodes = await env.db.list_nodes({'maintenance': False, 'reserved': False})
        mine = [n for n in nodes if self._eligible(n) and n.driver in env.drivers.hardware_types
                and await env.ring.owns(env.host, n.uuid, n.driver, n.conductor_group)]
        result.skipped = len(nodes) - len(mine)
        sem = asyncio.Semaphore(env.conf.conductor.sync_power_state_workers)

        async def one(node) -> None:
            async with sem:
                await self._sync_node(node, result)

        await asyncio.gather(*(one(n) for n in mine))
        return result

    async def _sync_node(self, node, result: SyncResult) -> None:
        try:
            async with acquire(self.env, node.id, shared=True, purpose='power state sync') as task:
                if not self._eligible(task.node):
                    result.skipped += 1
                    return
                result.checked += 1
                try:
                    actual = await asyncio.wait_for(
                        task.driver.power.get_power_state(task), _QUERY_TIMEOUT)
                except Exception as e:  # any driver/BMC failure counts against the node
                    await self._failed(task, f'Failed to get the power state: {e}', result)
                    return
                await self._compare(task, actual, result)
        except (exception.NodeNotFound, exception.NodeLocked):
            result.skipped += 1

    async def _compare(self, task, actual: str, result: SyncResult) -> None:
        node = task.node
        expected = node.power_state
        if actual == expected:
            self.failures.pop(node.uuid, None)
            result.in_sync += 1
            return
        await task.upgrade_lock()
        node = task.node
        if not self._eligible_locked(node):
            result.skipped += 1
            return
        if node.power_state is None or not self.env.conf.conductor.force_power_state_during_sync:
            LOG.warning('Node %s: power state recorded as %s, hardware says %s; recording '
                        'the hardware state', node.uuid, node.power_state, actual)
            await task.save(power_state=actual)
            self.failures.pop(node.uuid, None)
            result.recorded += 1
            return
        LOG.warning('Node %s: hardware is %s but should be %s; setting it back', node.uuid,
                    actual, expected)
        try:
            await task.driver.power.set_power_state(task, expected)
        except Exception as e:  # noqa: BLE001 - reported on the node
            await self._failed(task, f'Failed to set the power state back to {expected}: {e}',
                               result)
            return
        self.failures.pop(node.uuid, None)
        result.repaired += 1

    @staticmethod
    def _eligible_locked(node) -> bool:
        return not (node.maintenance or node.intent or node.target_power_state
                    or node.provision_state in states.WORKING_STATES_FAIL_EVENT)

    async def _failed(self, task, message: str, result: SyncResult) -> None:
        node = task.node
        count = self.failures.get(node.uuid, 0) + 1
        self.failures[node.uuid] = count
        result.failed += 1
        limit = self.env.conf.conductor.power_state_sync_max_retries
        LOG.warning('Node %s: power sync failure %d of %d: %s', node.uuid, count, limit,
                    message)
        if count < limit:
            return
        try:
            await task.upgrade_lock()
            await task.save(maintenance=True, fault=faults.POWER_FAILURE,
                            maintenance_reason=f'During sync_power_state, {count} consecutive '
                                               f'failures: {message}',
                            last_error=message)
            self.failures.pop(task.node.uuid, None)
            result.to_maintenance += 1
        except exception.NodeLocked:
            pass
