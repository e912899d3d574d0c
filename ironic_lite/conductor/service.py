"""The conductor service: start-up recovery, RPC server, periodic tasks, graceful stop.

Start: load drivers, release locks held in this host's name by a previous life, register,
fail nodes orphaned in working states, serve RPC, run periodics. Stop (SIGTERM): stop taking
messages, let in-flight work finish for ``graceful_shutdown_timeout`` then fail it cleanly,
release every lock, go offline.
"""
from __future__ import annotations

import asyncio
import logging
from functools import partial

from oslo_config import cfg

from ironic_lite.common import rpc
from ironic_lite.common.hash_ring import HashRingManager
from ironic_lite.conductor import periodics
from ironic_lite.conductor.env import ConductorEnv
from ironic_lite.conductor.manager import ConductorManager
from ironic_lite.conductor.power_sync import PowerSync
from ironic_lite.conductor.workers import WorkerPool
from ironic_lite.db.aio import AsyncConnection
from ironic_lite.drivers.factory import DriverFactory

LOG = logging.getLogger(__name__)

# Passes of the re-drive per [conductor]intent_redrive_after.
REDRIVE_PASSES = 6


def redrive_schedule(conf: cfg.ConfigOpts) -> tuple[float, float]:
    """``(period, min_age)`` of the re-drive of accepted requests no conductor has started.

    A pass every ``intent_redrive_after / 6`` seconds (at least 1 s) that starts requests
    older than ``intent_redrive_after`` minus that period: each such request is started by
    the time it is ``intent_redrive_after`` old, as documented — not up to a
    ``check_provision_state_interval`` later. Starting one whose message is still on its way
    is harmless: the conductor clears the intent in the update that starts the work, so only
    one start wins.
    """
    after = conf.conductor.intent_redrive_after
    period = max(1.0, after / REDRIVE_PASSES)
    return period, max(0.0, after - period)


class ConductorService:
    def __init__(self, conf: cfg.ConfigOpts, db: AsyncConnection,
                 ring: HashRingManager | None = None):
        self.conf = conf
        self.host = conf.host
        drivers = DriverFactory(conf)
        workers = WorkerPool(conf.conductor.workers_pool_size, on_free=self._kick_redrive)
        self.env = ConductorEnv(host=self.host, conf=conf, db=db, drivers=drivers,
                             workers=workers, ring=ring or HashRingManager(db, conf))
        self.manager = ConductorManager(self.env)
        self.power_sync = PowerSync(self.env)
        self._rpc = rpc.RPCServer(conf, self.host, self.manager)
        self._periodic_tasks: list[asyncio.Task] = []
        self._background: set[asyncio.Task] = set()

    async def start(self) -> None:
        env = self.env
        cleared = await env.db.clear_node_reservations_for_conductor(self.host)
        if cleared:
            LOG.warning('Released %d node locks left by a previous run of %s', cleared,
                        self.host)
        await env.db.register_conductor(self.host, list(env.drivers.hardware_types),
                                        self.conf.conductor.conductor_group,
                                        env.drivers.hardware_interfaces)
        await env.ring.refresh(force=True)
        take_over = periodics.TakeOver(env)
        take_over.remember()
        await periodics.fail_orphans(env)
        await self._rpc.start()
        cond = self.conf.conductor
        redrive_period, redrive_age = redrive_schedule(self.conf)
        schedule = [
            ('keepalive', cond.heartbeat_interval, partial(periodics.keepalive, env)),
            ('redrive_intents', redrive_period,
             partial(periodics.redrive_intents, env, min_age=redrive_age)),
            ('redrive_allocations', redrive_period,
             partial(periodics.redrive_allocations, env, min_age=redrive_age)),
            ('check_deploy_timeouts', cond.check_provision_state_interval,
             partial(periodics.check_deploy_timeouts, env)),
            ('fail_orphans', cond.check_provision_state_interval,
             partial(periodics.fail_orphans, env)),
            ('recover_own_locks', cond.check_provision_state_interval,
             partial(periodics.recover_own_locks, env)),
            ('take_over', cond.hash_ring_reset_interval, take_over),
        ]
        if cond.sync_power_state_interval > 0:
            schedule.append(('sync_power_states', cond.sync_power_state_interval,
                             self.power_sync.run_once))
        self._periodic_tasks = [
            asyncio.create_task(periodics.run_forever(name, interval, fn), name=name)
            for name, interval, fn in schedule]
        # Requests accepted while no conductor was running are started now.
        self._spawn(periodics.redrive_intents(env, min_age=0))
        LOG.info('Conductor %s started with hardware types %s', self.host,
                 ', '.join(env.drivers.hardware_types))

    def _spawn(self, coro) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def _kick_redrive(self) -> None:
        """A worker freed after a request was refused for lack of workers: start it now."""
        self._spawn(periodics.redrive_intents(self.env, min_age=0))

    async def drain(self, timeout: float = 30) -> None:
        """Wait until no background work is left (for tests and benchmarks)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self.env.workers.busy or self._background or rpc.LOCAL_CASTS.pending:
            if loop.time() > deadline:
                raise TimeoutError('conductor still busy')
            pending = (self.env.workers.running | set(self._background)
                       | set(rpc.LOCAL_CASTS.tasks))
            if pending:
                await asyncio.wait(pending, timeout=deadline - loop.time())
            else:
                # a worker slot is reserved but its task not created yet
                await asyncio.sleep(0.002)

    async def stop(self) -> None:
        LOG.info('Conductor %s stopping', self.host)
        await self._rpc.stop()
        for task in self._periodic_tasks:
            task.cancel()
        await self.env.workers.shutdown(self.conf.conductor.graceful_shutdown_timeout)
        for task in list(self._background):
            task.cancel()
        await asyncio.gather(*self._periodic_tasks, *self._background,
                             return_exceptions=True)
        await self.env.drivers.close()
        await self.env.db.unregister_conductor(self.host)
        await self.env.db.clear_node_reservations_for_conductor(self.host)
        LOG.info('Conductor %s stopped', self.host)
