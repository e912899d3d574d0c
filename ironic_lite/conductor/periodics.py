"""Periodic tasks of a conductor, each a plain coroutine that does one pass.

* keepalive — heartbeat in the conductors table;
* redrive_intents — start accepted requests whose cast was lost or found no free worker;
* redrive_allocations — process allocations whose ``create_allocation`` cast was lost;
* check_deploy_timeouts — ``wait call-back`` too long → ``deploy failed``;
* fail_orphans — nodes left in a working state with no lock and no pending intent (their
  conductor died mid-operation) are failed, and locks held by dead conductors are released;
* TakeOver — every ``hash_ring_reset_interval``: when a conductor has stopped heartbeating for
  ``heartbeat_timeout``, release its locks, fail the nodes it left in working states and start
  the requests accepted for its nodes, at once (this and the API's ring refresh bound a
  takeover by ``heartbeat_timeout + hash_ring_reset_interval``);
* recover_own_locks — locks in this conductor's name that no task of this process holds (a
  task could not write its end while the database was unreachable) are released, and their
  nodes failed with a clear ``last_error`` when they were left in a working state.

Each only touches nodes this conductor owns on the hash ring. ``run_forever`` loops them.
"""
from __future__ import annotations

import asyncio
import datetime
import hashlib
import logging
import time
from collections.abc import Awaitable, Callable

from ironic_lite.common import db_outage as outage
from ironic_lite.common import (
    exception,
    intent_acceptance,
    log_limit,
    request_context,
    states,
)
from ironic_lite.conductor import allocations, intent_runner, step_runner, utils
from ironic_lite.conductor.env import ConductorEnv
from ironic_lite.conductor.task_manager import acquire, adopt_orphaned_lock
from ironic_lite.db import models

LOG = logging.getLogger(__name__)
# A failing task fails the same way every period: one line per task and kind every minute.
_REPEATS = log_limit.RepeatLimiter(interval=60.0)


async def keepalive(env: ConductorEnv) -> None:
    try:
        await env.db.touch_conductor(env.host)
    except exception.ConductorNotFound:
        await env.db.register_conductor(env.host, list(env.drivers.hardware_types),
                                        env.conf.conductor.conductor_group,
                                        env.drivers.hardware_interfaces)


async def _owned(env: ConductorEnv, nodes: list[models.Node]) -> list[models.Node]:
    owned = []
    for node in nodes:
        if node.driver in env.drivers.hardware_types and await env.ring.owns(
                env.host, node.uuid, node.driver, node.conductor_group):
            owned.append(node)
    return owned


async def redrive_intents(env: ConductorEnv, min_age: float | None = None) -> int:
    age = env.conf.conductor.intent_redrive_after if min_age is None else min_age
    before = models.utcnow() - datetime.timedelta(seconds=age)
    nodes = await env.db.list_nodes({'intent_before': before, 'reserved': False})
    started = 0
    for node in await _owned(env, nodes):
        if env.workers.busy >= env.workers.size:
            # Counted as a refusal so that the next free worker re-drives the rest at once
            # instead of leaving them to the next periodic pass.
            env.workers.refused += 1
            break
        with request_context.bound(intent_acceptance.accepted_context(node.intent_args)):
            LOG.info('Starting accepted %s of node %s (its request message was not handled)',
                     node.intent, node.uuid)
            started += await intent_runner.run_intent(env, node.id)
    return started


def _allocation_owner(allocation_uuid: str, hosts: list[str]) -> str:
    """Allocations belong to no node: one live conductor, picked by a stable hash of the
    allocation's UUID, re-drives each, so two conductors never process the same one."""
    digest = int(hashlib.sha256(allocation_uuid.encode()).hexdigest(), 16)
    return sorted(hosts)[digest % len(hosts)]


async def redrive_allocations(env: ConductorEnv, min_age: float | None = None) -> int:
    age = env.conf.conductor.intent_redrive_after if min_age is None else min_age
    before = models.utcnow() - datetime.timedelta(seconds=age)
    pending = await env.db.list_resources(models.Allocation,
                                          {'state': allocations.ALLOCATING})
    if not pending:
        return 0
    live = [c.hostname for c in await env.db.get_online_conductors(
        env.conf.conductor.heartbeat_timeout)] or [env.host]
    started = 0
    for alloc in pending:
        if (alloc.updated_at or alloc.created_at) > before:
            continue  # its cast is probably still on the way
        if _allocation_owner(alloc.uuid, live) != env.host:
            continue
        LOG.info('Processing allocation %s (its request message was not handled)', alloc.uuid)
        await allocations.do_allocate(env, alloc.uuid)
        started += 1
    return started


async def check_deploy_timeouts(env: ConductorEnv) -> None:
    timeout = env.conf.conductor.deploy_callback_timeout
    if not timeout:
        return
    before = models.utcnow() - datetime.timedelta(seconds=timeout)
    nodes = await env.db.list_nodes({'provision_state': states.DEPLOYWAIT,
                                     'provision_updated_before': before, 'reserved': False})
    for node in await _owned(env, nodes):
        try:
            async with acquire(env, node.id, purpose='deploy callback timeout') as task:
                n = task.node
                if n.provision_state != states.DEPLOYWAIT or n.provision_updated_at >= before:
                    continue
                if n.maintenance:
                    continue
                await task.fail_steps(
                    f'Timeout reached while waiting for callback for node {n.uuid} '
                    f'(no ramdisk callback in {timeout} seconds, '
                    f'[conductor]deploy_callback_timeout).')
        except (exception.NodeLocked, exception.NodeNotFound):
            continue


async def fail_orphans(env: ConductorEnv) -> None:
    live = {c.hostname for c in await env.db.get_online_conductors(
        env.conf.conductor.heartbeat_timeout)}
    live.add(env.host)
    for node in await env.db.list_nodes({'reserved': True}):
        if node.reservation not in live:
            LOG.warning('Releasing lock on node %s held by dead conductor %s',
                        node.uuid, node.reservation)
            try:
                await env.db.release_node(node.reservation, node.id)
            except exception.NodeNotLocked:
                pass
    working = list(states.WORKING_STATES_FAIL_EVENT)
    # a node with an intent was accepted but not started yet (its working state is the
    # request's first transition, made by the API): the re-drive starts it, it is no orphan
    nodes = await env.db.list_nodes({'provision_state_in': working, 'reserved': False,
                                     'intent': None})
    for node in await _owned(env, nodes):
        try:
            async with acquire(env, node.id, purpose='orphan recovery') as task:
                state = task.node.provision_state
                event = states.WORKING_STATES_FAIL_EVENT.get(state)
                if event is None or task.node.intent:
                    continue
                await utils.fail_task(
                    task, event,
                    f'The conductor handling node {task.node.uuid} stopped or died while it '
                    f'was "{state}"; the operation was aborted (recovered by {env.host}).',
                    target_power_state=None, **step_runner.step_clearing_values(task.node))
        except (exception.NodeLocked, exception.NodeNotFound):
            continue


class TakeOver:
    """Notice conductors leaving the ring and take over their nodes without waiting for the
    slower periodic passes (``check_provision_state_interval``, ``intent_redrive_after``).

    Requests the API routed to the dead conductor before it left the API's ring sit in the
    dead conductor's queue; they are recorded intents, so they are started here, whatever
    their age. This pass and the next one do it, in case the API noticed the death a little
    later than this conductor did (another clock, another process).
    """

    def __init__(self, env: ConductorEnv):
        self.env = env
        self.known: frozenset[str] = frozenset()
        self._passes_left = 0

    def remember(self) -> None:
        """Take the ring's current members as the known ones (at start-up)."""
        self.known = self.env.ring.hosts

    async def __call__(self) -> None:
        env = self.env
        await env.ring.refresh(force=True)
        gone = self.known - env.ring.hosts
        self.known = env.ring.hosts
        if gone:
            LOG.warning('Conductor(s) %s stopped heartbeating for more than %s s; %s takes '
                        'over their nodes', ', '.join(sorted(gone)),
                        env.conf.conductor.heartbeat_timeout, env.host)
            self._passes_left = 2
        if self._passes_left:
            self._passes_left -= 1
            await fail_orphans(env)
            await redrive_intents(env, min_age=0)


async def run_forever(name: str, interval: float,
                      fn: Callable[[], Awaitable[object]]) -> None:
    """Run ``fn`` every ``interval`` seconds on the event loop until cancelled.

    Not futurist's periodics: they run synchronous callables in their own threads, while these
    tasks are coroutines that must run on the conductor's event loop (the futurist dependency
    was dropped for that reason)."""
    while True:
        await asyncio.sleep(interval)
        try:
            await fn()
        except asyncio.CancelledError:
            raise
        except Exception as e:
            if outage.is_unavailable(e):   # one line per task and interval, no traceback
                _REPEATS.log(LOG, logging.WARNING, (name, 'db'),
                             'Periodic task %s: database unavailable (%s)', name,
                             outage.summary(e))
            else:
                _REPEATS.log(LOG, logging.ERROR, (name, type(e).__name__),
                             'Periodic task %s failed', name, exc_info=e)


async def recover_own_locks(env: ConductorEnv) -> int:
    """Recover nodes locked in this conductor's name with no task of this process running.

    A node with an accepted request not started yet (``intent``) only gets its lock back: the
    intent re-drive starts it. Returns how many locks were recovered.
    """
    since = time.monotonic()
    recovered = 0
    for node in await env.db.list_nodes({'reserved_by': env.host}):
        if not env.held.orphaned(node, since):
            continue
        recovered += 1
        try:
            async with adopt_orphaned_lock(env, node, 'lock recovery') as task:
                await _recover(task)
        except (exception.NodeStateChanged, exception.NodeNotFound):
            continue  # released or deleted meanwhile: nothing left to recover
    return recovered


async def _recover(task) -> None:
    node, host = task.node, task.env.host
    state = node.provision_state
    if node.intent is not None:
        LOG.warning('Releasing the lock of node %s left by conductor %s before its accepted '
                    '%s started; the request stays queued', node.uuid, host, node.intent)
        return
    msg = (f'Node {node.uuid} was left locked by conductor {host} in state "{state}" with no '
           f'operation running (the operation ended while the database was unreachable and '
           f'its end could not be recorded); the operation was aborted.')
    event = states.WORKING_STATES_FAIL_EVENT.get(state)
    if event is not None:
        await utils.fail_task(task, event, msg, target_power_state=None,
                              **step_runner.step_clearing_values(node))
    elif node.target_power_state:
        LOG.error('Node %s: %s', node.uuid, msg)
        await task.save(target_power_state=None, last_error=msg)
    else:
        LOG.warning('Releasing the lock of node %s left by conductor %s with no task running',
                    node.uuid, host)
