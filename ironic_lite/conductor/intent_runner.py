"""The intent runner: starts a node's accepted intent (recorded by the API, see
``common/intent_acceptance.py``), from a cast or from the periodic re-drive when a cast was
lost or the worker pool was full. Whichever comes first starts the work; the other finds no
intent.

:data:`INTENTS` is the one table of what each intent does: the purpose the task holds the
node's lock for (it names the work in log lines and errors) and the handler that starts it,
called under the lock with the intent's stored arguments.
"""
from __future__ import annotations

import dataclasses
import functools
import logging
from collections.abc import Awaitable, Callable

from ironic_lite.common import exception, intent_acceptance, request_context
from ironic_lite.conductor import deployments, power, provisioning, rescue, utils
from ironic_lite.conductor.task_manager import acquire

LOG = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class Intent:
    purpose: str
    # handler(task, **intent_args): the arguments the API stored with the intent
    start: Callable[..., Awaitable[None]]


INTENTS: dict[str, Intent] = {
    'deploy': Intent('deployment', functools.partial(deployments.start_deploy, event='deploy')),
    'rebuild': Intent('rebuild', functools.partial(deployments.start_deploy, event='rebuild')),
    'delete': Intent('tear down', deployments.start_tear_down),
    intent_acceptance.POWER: Intent('power state change', power.start_power_change),
    'manage': Intent('verification', provisioning.manage),
    'provide': Intent('cleaning', provisioning.provide),
    'clean': Intent('manual cleaning', provisioning.clean),
    'abort': Intent('abort', provisioning.abort),
    'inspect': Intent('inspection', provisioning.inspect),
    'adopt': Intent('adoption', provisioning.adopt),
    'rescue': Intent('rescue', rescue.start_rescue),
    'unrescue': Intent('unrescue', rescue.start_unrescue),
    'service': Intent('servicing', provisioning.service),
    'unhold': Intent('unhold', provisioning.unhold),
}


async def run_intent(env, node_id: int | str,
                     context: request_context.RequestContext | None = None) -> bool:
    """Start the node's pending intent, if any. Returns True when work was started.

    The work runs under the context of the request that was accepted (stored with the
    intent), whoever starts it: the cast of that request or a later re-drive."""
    try:
        with request_context.bound(request_context.current()):  # undone on return
            started = await _start_locked(env, node_id, context)
    except exception.NoFreeConductorWorker:
        # Expected under load: the request stays accepted; now that the node's lock is
        # released, a free worker re-drives it.
        env.workers.requeue()
        return False
    except exception.NodeNotFound:
        return False
    except exception.NodeLocked:
        # Someone else is working on it; the periodic re-drive tries again later.
        return False
    return started


async def _start_locked(env, node_id: int | str,
                        context: request_context.RequestContext | None) -> bool:
    async with acquire(env, node_id, purpose='accepted request', context=context) as task:
        name = task.node.intent
        if name is None:
            LOG.debug('Node %s has no pending request (duplicate message)', task.node.uuid)
            return False
        intent = INTENTS.get(name)
        if intent is None:
            raise exception.InvalidParameterValue(err=f'Unknown provisioning action {name}')
        try:
            task.reserve_worker()
        except exception.NoFreeConductorWorker:
            LOG.info('No free worker for %s on node %s; it stays queued',
                     name, task.node.uuid)
            raise
        task.purpose = intent.purpose
        args = dict(task.node.intent_args)
        args.pop(intent_acceptance.CONTEXT, None)
        accepted_by = intent_acceptance.accepted_context(task.node.intent_args)
        if accepted_by is not None:
            task.context = accepted_by
            request_context.set_current(accepted_by)  # the worker started below inherits it
        from_state = args.pop(intent_acceptance.FROM_STATE, None)
        if from_state is not None:  # the API made the first transition when it accepted
            task.accepted = (name, from_state)
        try:
            await intent.start(task, **args)
        except exception.InvalidStateRequested as e:
            # Recorded by an older API without its first transition, and the node moved on.
            await utils.refuse_accepted(task, str(e))
        return True
