"""Bounded pool of background operations (deploys, tear-downs, power actions) on the event loop.

A slot is reserved *before* a task changes any state, so an operation is either started with a
worker or not started at all (its accepted intent stays in the database and is re-driven later).
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from ironic_lite.common import exception

LOG = logging.getLogger(__name__)


class Slot:
    """A reserved place in the pool; ``start`` it once or ``release`` it."""

    def __init__(self, pool: WorkerPool):
        self._pool = pool
        self._used = False

    def start(self, coro: Awaitable[None], name: str) -> asyncio.Task:
        assert not self._used, 'slot already used'
        self._used = True
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self._pool._running.add(task)
        task.add_done_callback(self._pool._finished)
        self._pool._reserved -= 1
        return task

    def release(self) -> None:
        if not self._used:
            self._used = True
            self._pool._reserved -= 1
            self._pool._notify_free()


class WorkerPool:
    def __init__(self, size: int, on_free: Callable[[], None] | None = None):
        self.size = size
        self._running: set[asyncio.Task] = set()
        self._reserved = 0
        self._on_free = on_free
        self.accepting = True
        self.refused = 0  # how many reservations were refused since the last free slot

    @property
    def busy(self) -> int:
        """Workers running or reserved (a reserved one has no task yet)."""
        return len(self._running) + self._reserved

    @property
    def running(self) -> frozenset[asyncio.Task]:
        """The workers' tasks running now (a copy: waiting on it is safe while they end)."""
        return frozenset(self._running)

    def reserve(self) -> Slot:
        if not self.accepting or self.busy >= self.size:
            self.refused += 1
            raise exception.NoFreeConductorWorker()
        self._reserved += 1
        return Slot(self)

    def _finished(self, task: asyncio.Task) -> None:
        self._running.discard(task)
        if not task.cancelled() and task.exception() is not None:
            LOG.error('Worker %s crashed', task.get_name(), exc_info=task.exception())
        self._notify_free()

    def requeue(self) -> None:
        """A refused request is queued again and its node lock released: make sure a free
        worker re-drives it — now, if one freed while the lock was being released (a re-drive
        started in that window found the node still locked and skipped it)."""
        self.refused += 1
        if self.busy < self.size:
            self._notify_free()

    def _notify_free(self) -> None:
        if self.refused and self._on_free is not None and self.accepting:
            self.refused = 0
            self._on_free()

    async def shutdown(self, timeout: float) -> None:
        """Stop accepting; wait up to ``timeout`` for running work, then cancel the rest.

        Cancelled workers fail their node with a clear last_error and release its lock
        (see TaskManager._run_worker) before this returns.
        """
        self.accepting = False
        if not self._running:
            return
        _done, pending = await asyncio.wait(set(self._running), timeout=timeout)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending)
