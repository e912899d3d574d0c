"""What a conductor's tasks share: its name, configuration, database, drivers and workers."""
from __future__ import annotations

import dataclasses

from oslo_config import cfg

from ironic_lite.common.hash_ring import HashRingManager
from ironic_lite.conductor.held_locks import HeldLocks
from ironic_lite.conductor.workers import WorkerPool
from ironic_lite.db.aio import AsyncConnection
from ironic_lite.drivers.factory import DriverFactory


@dataclasses.dataclass
class Resources:
    host: str
    conf: cfg.ConfigOpts
    db: AsyncConnection
    drivers: DriverFactory
    workers: WorkerPool
    ring: HashRingManager
    held: HeldLocks = dataclasses.field(default_factory=HeldLocks)
