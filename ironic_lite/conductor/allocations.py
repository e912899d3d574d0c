"""Allocation processing: pick an available node matching an allocation and bind it.

``create_allocation`` (an RPC cast) lands here. Candidates are nodes that are ``available``,
not in maintenance, without instance or allocation, of the allocation's resource class (and
owner, and among its ``candidate_nodes`` if given) and carrying all its traits. They are tried
in random order (so concurrent allocations spread out) under each node's exclusive lock, where
the node is checked again; the allocation is bound with a compare-and-set (``allocating`` ->
``active``) and the unique ``allocations.node_id`` makes a node impossible to hand out twice.
The node's ``instance_uuid`` becomes the allocation's UUID, as upstream. No match ends the
allocation in ``error`` with a ``last_error`` saying what was asked for.
"""
from __future__ import annotations

import logging
import random

from ironic_lite.common import exception, states
from ironic_lite.common import resource_errors as errors
from ironic_lite.conductor.env import ConductorEnv
from ironic_lite.conductor.task_manager import acquire
from ironic_lite.db import models
from ironic_lite.db.models_traits import trait_names

LOG = logging.getLogger(__name__)

ALLOCATING, ACTIVE, ERROR = 'allocating', 'active', 'error'


def _describe(alloc: models.Allocation) -> str:
    parts = [f'resource class {alloc.resource_class}']
    if alloc.traits:
        parts.append(f'traits {", ".join(alloc.traits)}')
    if alloc.owner:
        parts.append(f'owner {alloc.owner}')
    if alloc.candidate_nodes:
        parts.append(f'candidate nodes {", ".join(alloc.candidate_nodes)}')
    return ' and '.join(parts)


def _still_free(node: models.Node) -> bool:
    return (node.provision_state == states.AVAILABLE and not node.maintenance
            and node.instance_uuid is None)


async def do_allocate(env: ConductorEnv, allocation_id: str) -> None:
    """Process one allocation; a duplicated message finds it no longer ``allocating``."""
    try:
        alloc = await env.db.get_resource(models.Allocation, allocation_id)
    except errors.AllocationNotFound:
        LOG.info('Allocation %s was deleted before it was processed', allocation_id)
        return
    if alloc.state != ALLOCATING:
        return
    try:
        node = await _pick_node(env, alloc)
    except Exception as e:  # noqa: BLE001 - any failure must end the allocation, not hang it
        LOG.exception('Allocation %s failed', alloc.uuid)
        await _fail(env, alloc, f'Failed to process allocation {alloc.uuid}: {e}')
        return
    if node is None:
        await _fail(env, alloc, f'No available nodes match the {_describe(alloc)} of '
                                f'allocation {alloc.uuid}.')
        return
    LOG.info('Allocation %s got node %s', alloc.uuid, node.uuid)


def _still_allocating(alloc: models.Allocation) -> dict:
    # the UUID too: SQLite reuses the id of a deleted last row, so a stale id may already name
    # an allocation created after this one was deleted
    return {'state': ALLOCATING, 'uuid': alloc.uuid}


async def _fail(env: ConductorEnv, alloc: models.Allocation, message: str) -> None:
    try:
        await env.db.update_resource(models.Allocation, alloc.id,
                                     {'state': ERROR, 'last_error': message},
                                     expected=_still_allocating(alloc))
    except (errors.AllocationNotFound, errors.InvalidState):
        pass  # deleted or processed meanwhile


async def _pick_node(env: ConductorEnv, alloc: models.Allocation) -> models.Node | None:
    nodes = await env.db.allocation_candidates(alloc.resource_class, alloc.owner,
                                               alloc.candidate_nodes or None)
    wanted = set(alloc.traits)
    nodes = [n for n in nodes if wanted <= set(trait_names(n))]
    random.shuffle(nodes)
    for candidate in nodes:
        try:
            async with acquire(env, candidate.id, purpose='allocating') as task:
                if not _still_free(task.node):
                    continue
                try:
                    await env.db.update_resource(
                        models.Allocation, alloc.id, {'node_id': task.node.id, 'state': ACTIVE},
                        expected=_still_allocating(alloc))
                except errors.NodeAlreadyAllocated:
                    continue
                except (errors.AllocationNotFound, errors.InvalidState):
                    return None  # deleted (or processed) meanwhile: leave the node alone
                await task.save(instance_uuid=alloc.uuid)
                return task.node
        except (exception.NodeLocked, exception.NodeNotFound):
            continue
    return None
