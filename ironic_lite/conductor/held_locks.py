"""Which node locks the tasks of this conductor process hold right now.

A node's ``reservation`` column says which conductor holds its lock; this registry says which
of those locks a running task of *this process* holds. A lock reserved in this conductor's name
that no task here holds is orphaned — its task could not write its end (the database was
unreachable) or a reservation committed while its answer was lost — and the periodic
``recover_own_locks`` recovers that node (see ``conductor/periodics.py``).

Everything here runs on the event loop, so plain counters are enough.
"""
from __future__ import annotations

import collections
import time
from typing import Any


class HeldLocks:
    def __init__(self) -> None:
        # node ident (id, or the UUID/name a task is still locking by) → how many tasks
        self._held: collections.Counter = collections.Counter()
        # node id → monotonic time this process last released its lock
        self._released: dict[int, float] = {}

    def add(self, ident: int | str) -> None:
        self._held[ident] += 1

    def discard(self, ident: int | str) -> None:
        self._held[ident] -= 1
        if self._held[ident] <= 0:
            del self._held[ident]

    def released(self, node_id: int) -> None:
        self._released[node_id] = time.monotonic()

    def orphaned(self, node: Any, since: float) -> bool:
        """True when no task of this process holds or is taking ``node``'s lock, and none
        released it after ``since`` (a ``time.monotonic()`` taken before ``node`` was read:
        a lock released and taken again meanwhile is a live task's, not an orphan)."""
        if any(ident in self._held for ident in (node.id, node.uuid, node.name)
               if ident is not None):
            return False
        return self._released.get(node.id, float('-inf')) < since
