"""The environment a conductor's tasks and periodic jobs run in: its host name, configuration,
database, drivers, worker pool, hash ring and the node locks it holds.

One :class:`ConductorEnv` per conductor process, built by ``ConductorService`` and passed to
every task and periodic job (as ``env``); drivers never see it (they get the task contract,
``drivers/task.py``)."""
from __future__ import annotations

import dataclasses

from oslo_config import cfg

from ironic_lite.common.hash_ring import HashRingManager
from ironic_lite.conductor.held_locks import HeldLocks
from ironic_lite.conductor.workers import WorkerPool
from ironic_lite.db.aio import AsyncConnection
from ironic_lite.drivers.factory import DriverFactory


@dataclasses.dataclass
class ConductorEnv:
    host: str
    conf: cfg.ConfigOpts
    db: AsyncConnection
    drivers: DriverFactory
    workers: WorkerPool
    ring: HashRingManager
    held: HeldLocks = dataclasses.field(default_factory=HeldLocks)
