"""Node traits (API 1.37): changed under the node's exclusive lock, as upstream.

A node carries at most ``MAX_TRAITS_PER_NODE`` traits (upstream's limit, 50).
"""
from __future__ import annotations

from ironic_lite.common import exception
from ironic_lite.conductor.task_manager import acquire

MAX_TRAITS_PER_NODE = 50


def _check_count(node_uuid: str, count: int) -> None:
    if count > MAX_TRAITS_PER_NODE:
        raise exception.InvalidParameterValue(
            err=f'Could not modify traits for node {node_uuid} as it would exceed the '
                f'maximum number of traits per node ({count} vs. {MAX_TRAITS_PER_NODE})')


async def add_node_traits(env, node_id: str, traits: list[str], replace: bool = False) -> None:
    """Add ``traits`` to the node, or with ``replace`` make them its only traits."""
    async with acquire(env, node_id, purpose='add node traits') as task:
        db = env.db
        if replace:
            _check_count(task.node.uuid, len(set(traits)))
            await db.set_node_traits(task.node.id, traits)
        else:
            current = await db.get_node_traits(task.node.id)
            _check_count(task.node.uuid, len(set(current) | set(traits)))
            await db.add_node_traits(task.node.id, traits)


async def remove_node_traits(env, node_id: str, traits: list[str] | None) -> None:
    """Remove the named traits (NodeTraitNotFound, 404, for one it lacks), or all."""
    async with acquire(env, node_id, purpose='remove node traits') as task:
        db = env.db
        if traits is None:
            await db.delete_node_traits(task.node.id)
            return
        for trait in traits:
            try:
                await db.delete_node_trait(task.node.id, trait)
            except exception.NodeTraitNotFound:
                raise exception.NodeTraitNotFound(node=task.node.uuid, trait=trait) from None
