"""Starting accepted intents: from a cast, or from the periodic re-drive when a cast was lost
or the worker pool was full. Whichever comes first starts the work; the other finds no intent.
"""
from __future__ import annotations

import logging

from ironic_lite.common import exception, intents
from ironic_lite.conductor import deployments, power, provisioning, utils
from ironic_lite.conductor.task_manager import acquire

LOG = logging.getLogger(__name__)


async def _dispatch(task, intent: str, args: dict) -> None:
    if intent in ('deploy', 'rebuild'):
        await deployments.start_deploy(task, intent, **args)
    elif intent == 'delete':
        await deployments.start_tear_down(task, **args)
    elif intent == intents.POWER:
        await power.start_power_change(task, **args)
    else:
        await provisioning.start(task, intent, **args)


async def run_intent(res, node_id: int | str, context: dict | None = None) -> bool:
    """Start the node's pending intent, if any. Returns True when work was started."""
    try:
        started = await _start_locked(res, node_id, context)
    except exception.NoFreeConductorWorker:
        # Expected under load: the request stays accepted; now that the node's lock is
        # released, a free worker re-drives it.
        res.workers.requeue()
        return False
    except exception.NodeNotFound:
        return False
    except exception.NodeLocked:
        # Someone else is working on it; the periodic re-drive tries again later.
        return False
    return started


async def _start_locked(res, node_id: int | str, context: dict | None) -> bool:
    async with acquire(res, node_id, purpose='accepted request', context=context) as task:
        intent = task.node.intent
        if intent is None:
            LOG.debug('Node %s has no pending request (duplicate message)', task.node.uuid)
            return False
        try:
            task.reserve_worker()
        except exception.NoFreeConductorWorker:
            LOG.info('No free worker for %s on node %s; it stays queued',
                     intent, task.node.uuid)
            raise
        task.purpose = _PURPOSES.get(intent, intent)
        args = dict(task.node.intent_args)
        from_state = args.pop(intents.FROM_STATE, None)
        if from_state is not None:  # the API made the first transition when it accepted
            task.accepted = (intent, from_state)
        try:
            await _dispatch(task, intent, args)
        except exception.InvalidStateRequested as e:
            # Recorded by an older API without its first transition, and the node moved on.
            await utils.refuse_accepted(task, str(e))
        return True


_PURPOSES = {'deploy': 'deployment', 'rebuild': 'rebuild', 'delete': 'tear down',
             intents.POWER: 'power state change', 'manage': 'verification',
             'provide': 'cleaning', 'clean': 'manual cleaning', 'inspect': 'inspection',
             'adopt': 'adoption', 'rescue': 'rescue', 'unrescue': 'unrescue',
             'service': 'servicing'}
