"""A task: one unit of work on one node, holding its lock, its state machine and its driver.

::

    async with acquire(env, node_id, purpose='node deployment') as task:
        task.reserve_worker()
        await task.process_event('deploy', callback=do_deploy)

``TaskManager`` implements the drivers' task contract (:class:`ironic_lite.drivers.task.Task`):
drivers see only that part of it; the rest (``env``, locks, ``accepted``) is the conductor's.

Exclusive locks are the node's ``reservation`` column, taken with a single compare-and-set
statement and retried on NodeLocked (``[conductor]node_locked_retry_*``; *patient* tasks wait
until they get it). Work handed to a worker with ``process_event(callback=…)`` or
``spawn_after`` keeps the lock until the worker ends — on success, error, or shutdown — and
every other exit from the ``async with`` block releases it.

The end of a task — recording a failure, releasing the lock — is retried while the database is
unreachable (``END_WRITE_RETRY_SECONDS``); a lock whose release still could not be written is
left to the conductor's periodic ``recover_own_locks``, which finds locks held in this
conductor's name that no task of this process holds (``env.held``).
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import tenacity

from ironic_lite.common import exception, lock_wait, request_context, states
from ironic_lite.common.db_outage import is_unavailable
from ironic_lite.common.request_context import RequestContext
from ironic_lite.conductor import step_runner
from ironic_lite.conductor.workers import Slot
from ironic_lite.db import models
from ironic_lite.drivers.task import WorkerFn

if TYPE_CHECKING:  # pragma: no cover
    from oslo_config import cfg

    from ironic_lite.conductor.env import ConductorEnv
    from ironic_lite.db.aio import AsyncConnection
    from ironic_lite.drivers.factory import Driver

LOG = logging.getLogger(__name__)

# How long a task keeps retrying the writes that end it (its failure record, its lock release)
# while the database is unreachable, before leaving them to the periodic recovery.
END_WRITE_RETRY_SECONDS = 30.0


def _log_retry(state: tenacity.RetryCallState) -> None:
    LOG.warning('Database unreachable while ending a task (%s); retrying in %.1f s',
                state.outcome.exception().__class__.__name__, state.upcoming_sleep)


async def retry_end_write(fn: Callable[..., Awaitable[Any]], *args: Any, **kwargs: Any) -> Any:
    """Run a write that ends a task, retrying it while the database is unreachable."""
    retrying = tenacity.AsyncRetrying(
        retry=tenacity.retry_if_exception(is_unavailable),
        wait=tenacity.wait_exponential(multiplier=0.25, max=5),
        stop=tenacity.stop_after_delay(END_WRITE_RETRY_SECONDS),
        before_sleep=_log_retry, reraise=True)
    return await retrying(fn, *args, **kwargs)


def acquire(env: ConductorEnv, node_id: int | str, *, shared: bool = False, purpose: str = '',
            patient: bool = False, context: RequestContext | None = None) -> TaskManager:
    """A task on ``node_id`` (id, UUID or name); use as ``async with``."""
    return TaskManager(env, node_id, shared=shared, purpose=purpose, patient=patient,
                       context=context)


def adopt_orphaned_lock(env: ConductorEnv, node: models.Node, purpose: str) -> TaskManager:
    """A task over a lock the database shows in this conductor's name but that no task of
    this process holds (``env.held.orphaned(node, …)`` was just checked, on this same tick of
    the event loop). Its writes still require the reservation; it loads no driver."""
    task = TaskManager(env, node.id, shared=False, purpose=purpose, patient=False,
                       context=None)
    task.node = node
    task._adopted = True
    task._locked = True
    env.held.add(node.id)
    return task


class TaskManager:
    def __init__(self, env: ConductorEnv, node_id: int | str, *, shared: bool, purpose: str,
                 patient: bool, context: RequestContext | None):
        self.env = env
        self.node_ident = node_id
        self.shared = shared
        self.purpose = purpose
        self.patient = patient
        # who asked for this work (request id, user, project): the caller's, else the current
        self.context = context or request_context.current()
        self.node: models.Node = None  # type: ignore[assignment]
        self.ports: list[models.Port] = []
        self.driver: Driver = None  # type: ignore[assignment]
        self._slot: Slot | None = None
        self._spawn: tuple[WorkerFn, tuple, dict] | None = None
        self._locked = False
        self._adopted = False
        # (event, provision state before it) of an accepted request whose first transition
        # the API's accepting compare-and-set already made (common/intent_acceptance.py)
        self.accepted: tuple[str, str] | None = None

    @property
    def conf(self) -> cfg.ConfigOpts:
        return self.env.conf

    @property
    def db(self) -> AsyncConnection:
        return self.env.db

    @property
    def source_state(self) -> str:
        """The provision state the running request starts from: for an accepted request,
        the state the node was in when the API accepted it."""
        return self.accepted[1] if self.accepted else self.node.provision_state

    # -- lifecycle ----------------------------------------------------------------------
    async def __aenter__(self) -> TaskManager:
        # node and ports come with the lock in one transaction: one database round trip
        if self._adopted:
            return self
        if self.shared:
            self.node, self.ports = await self.env.db.get_node_with_ports(self.node_ident)
        else:
            await self._lock(self.node_ident)
        try:
            self.driver = self.env.drivers.get_driver(self.node)
        except BaseException:
            await self.release_resources()
            raise
        return self

    async def __aexit__(self, exc_type, exc, tb) -> None:
        if exc_type is None and self._spawn is not None:
            fn, args, kwargs = self._spawn
            self._spawn = None
            slot, self._slot = self._slot, None
            slot.start(self._run_worker(fn, args, kwargs),
                       name=f'{self.purpose} {self.node.uuid}')
            return  # the worker owns the lock now
        await self.release_resources()

    async def _lock(self, node_ident: int | str) -> None:
        retrying = lock_wait.retrying(
            self.env.conf, tenacity.retry_if_exception_type(exception.NodeLocked),
            patient=self.patient)
        # Counted as held from before the reservation is written: a reservation that commits
        # while its answer is lost is then orphaned, never mistaken for a live task's.
        self.env.held.add(node_ident)
        try:
            async for attempt in retrying:
                with attempt:
                    self.node, self.ports = await self.env.db.reserve_node_with_ports(
                        self.env.host, node_ident)
            self.env.held.add(self.node.id)
        finally:
            self.env.held.discard(node_ident)
        self._locked = True
        LOG.debug('Node %s locked for %s', self.node.uuid, self.purpose)

    async def upgrade_lock(self) -> None:
        """Turn a shared task into an exclusive one (re-reads the node)."""
        if self.shared:
            await self._lock(self.node.id)
            self.shared = False

    async def release_resources(self) -> None:
        if self._slot is not None:
            self._slot.release()
            self._slot = None
        if self._locked:
            self._locked = False
            try:
                await retry_end_write(self.env.db.release_node, self.env.host, self.node.id)
            except (exception.NodeNotLocked, exception.NodeNotFound):
                LOG.warning('Node %s was not locked by %s on release', self.node.uuid,
                            self.env.host)
            except Exception as e:
                if not is_unavailable(e):
                    raise
                LOG.error('Could not release the lock of node %s: the database is '
                          'unreachable (%s); the periodic lock recovery will release it',
                          self.node.uuid, e.__class__.__name__)
            finally:
                self.env.held.released(self.node.id)
                self.env.held.discard(self.node.id)

    # -- node updates -------------------------------------------------------------------
    async def save(self, **values: Any) -> models.Node:
        """Write fields of this task's node, only while this conductor still holds the lock."""
        if self.shared:
            raise exception.IronicLiteException(
                f'Cannot update node {self.node.uuid} under a shared lock ({self.purpose})')
        self.node = await self.env.db.update_node(
            self.node.id, values, expected={'reservation': self.env.host})
        return self.node

    async def set_driver_internal_info(self, **items: Any) -> None:
        info = dict(self.node.driver_internal_info)
        for key, value in items.items():
            if value is None:
                info.pop(key, None)
            else:
                info[key] = value
        await self.save(driver_internal_info=info)

    async def process_event(self, event: str, *, callback: WorkerFn | None = None,
                            call_args: tuple = (), extra: dict[str, Any] | None = None) -> None:
        """Move the node's provision state through the state machine (and save it).

        ``extra`` fields are written in the same update. With ``callback``, the callback runs
        in a worker after the ``async with`` block ends, still holding the lock. The event of
        an accepted request is evaluated from the state the node was accepted in (the API
        already wrote its destination).
        """
        source = self.node.provision_state
        if self.accepted is not None and self.accepted[0] == event:
            source = self.accepted[1]
            self.accepted = None
        new_state, target = states.next_state(source, event)
        values: dict[str, Any] = {
            'provision_state': new_state,
            'target_provision_state': target,
            'provision_updated_at': models.utcnow(),
        }
        values.update(extra or {})
        await self.save(**values)
        # logged once written: the log never claims a move the database did not record
        LOG.info('Node %s moved from %s to %s (event %s)', self.node.uuid, source,
                 new_state, event)
        if callback is not None:
            self.spawn_after(callback, *call_args)

    # -- steps: how a driver reaches the conductor's step runner ------------------------
    async def resume_steps(self) -> None:
        """The step that went on outside the conductor (``deploy.deploy`` waiting for its
        ramdisk) is done: resume the node from its wait state and run the remaining steps of
        its operation, which then ends (``active``) or fails."""
        await step_runner.resume(self)

    async def fail_steps(self, reason: str) -> None:
        """Fail the node's step operation (deploy, cleaning) with ``reason`` as its
        last_error: the failure state, its steps cleared, the kind's clean-up (a failed deploy
        powers off and removes its boot files). The one failure path of step operations."""
        await step_runner.fail(self, reason)

    # -- background work ----------------------------------------------------------------
    def reserve_worker(self) -> None:
        """Reserve a worker before changing state; raises NoFreeConductorWorker when full."""
        if self._slot is None:
            self._slot = self.env.workers.reserve()

    def spawn_after(self, fn: WorkerFn, *args: Any, **kwargs: Any) -> None:
        """Run ``fn(task, *args)`` in a worker once the ``async with`` block exits."""
        if self._slot is None:
            self.reserve_worker()
        self._spawn = (fn, args, kwargs)

    async def _run_worker(self, fn: WorkerFn, args: tuple, kwargs: dict) -> None:
        try:
            await fn(self, *args, **kwargs)
        except asyncio.CancelledError:
            await self._fail_interrupted('the conductor was stopped')
        except Exception as e:
            if is_unavailable(e):
                LOG.error('%s of node %s stopped: the database is unreachable (%s)',
                          self.purpose.capitalize(), self.node.uuid, e.__class__.__name__)
                await self._fail_interrupted('the database could not be reached')
            else:
                LOG.exception('Unexpected error in %s of node %s', self.purpose,
                              self.node.uuid)
                await self._fail_interrupted('an unexpected error occurred')
        finally:
            await self.release_resources()

    async def _fail_interrupted(self, why: str) -> None:
        """Leave no node in a working state when its worker ends abnormally."""
        event = states.WORKING_STATES_FAIL_EVENT.get(self.node.provision_state)
        extra: dict[str, Any] = {'target_power_state': None}
        try:
            if event is None:
                await retry_end_write(self.save, **extra)
                return
            msg = (f'{self.purpose.capitalize()} of node {self.node.uuid} was interrupted '
                   f'in state "{self.node.provision_state}" because {why} '
                   f'(conductor {self.env.host}).')
            extra['last_error'] = msg
            extra.update(step_runner.step_clearing_values(self.node))
            await retry_end_write(self.process_event, event, extra=extra)
            LOG.error(msg)
        except Exception as e:
            if not is_unavailable(e):
                LOG.exception('Could not record the failure of node %s', self.node.uuid)
                return
            LOG.error('Could not record the failure of node %s: the database is unreachable '
                      '(%s); the periodic lock recovery will fail it', self.node.uuid,
                      e.__class__.__name__)
