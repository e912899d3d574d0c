"""Database operations on node traits, mixed into :class:`ironic_lite.db.api.Connection`.

Every write is one short transaction whose first statement is a write (see ``db/api.py`` on
SQLite); callers (the conductor) hold the node's lock, so there is one writer per node.
"""
from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import delete, insert, select

from ironic_lite.common import exception
from ironic_lite.db import models_traits


class TraitsMixin:
    """``get_node_traits``, ``set_node_traits``, ``add_node_traits``, ``delete_node_trait(s)``."""

    @staticmethod
    def _node_trait_names(session, node_id: int) -> list[str]:
        return sorted(session.scalars(select(models_traits.NodeTrait.trait).where(
            models_traits.NodeTrait.node_id == node_id)))

    def get_node_traits(self, node_id: int) -> list[str]:
        with self._reader() as session:
            return self._node_trait_names(session, node_id)

    def traits_of_nodes(self, node_ids: Iterable[int]) -> dict[int, list[str]]:
        """``{node id: sorted trait names}`` for a page of nodes, in one query."""
        ids = list(set(node_ids))
        out: dict[int, list[str]] = {i: [] for i in ids}
        if not ids:
            return out
        with self._reader() as session:
            rows = session.execute(select(
                models_traits.NodeTrait.node_id, models_traits.NodeTrait.trait).where(
                    models_traits.NodeTrait.node_id.in_(ids)))
            for node_id, trait in rows:
                out[node_id].append(trait)
        for traits in out.values():
            traits.sort()
        return out

    def set_node_traits(self, node_id: int, traits: Iterable[str]) -> list[str]:
        """Replace all the node's traits."""
        wanted = sorted(set(traits))
        with self._writer() as session:
            session.execute(delete(models_traits.NodeTrait).where(
                models_traits.NodeTrait.node_id == node_id))
            if wanted:
                session.execute(insert(models_traits.NodeTrait),
                                [{'node_id': node_id, 'trait': t} for t in wanted])
        return wanted

    def add_node_traits(self, node_id: int, traits: Iterable[str]) -> list[str]:
        """Add traits the node does not have yet; returns all of the node's traits."""
        with self._writer() as session:
            # a write first (see db/api.py): touch nothing, but take SQLite's write lock
            session.execute(delete(models_traits.NodeTrait).where(
                models_traits.NodeTrait.node_id == node_id,
                models_traits.NodeTrait.trait.in_(list(traits))))
            session.execute(insert(models_traits.NodeTrait),
                            [{'node_id': node_id, 'trait': t} for t in sorted(set(traits))])
            return self._node_trait_names(session, node_id)

    def delete_node_trait(self, node_id: int, trait: str) -> None:
        """Remove one trait; NodeTraitNotFound (404) when the node does not have it."""
        with self._writer() as session:
            result = session.execute(delete(models_traits.NodeTrait).where(
                models_traits.NodeTrait.node_id == node_id,
                models_traits.NodeTrait.trait == trait))
        if result.rowcount != 1:
            raise exception.NodeTraitNotFound(node=node_id, trait=trait)

    def delete_node_traits(self, node_id: int) -> None:
        with self._writer() as session:
            session.execute(delete(models_traits.NodeTrait).where(
                models_traits.NodeTrait.node_id == node_id))
