"""Node traits: the ``node_traits`` table (API 1.37), one row per (node, trait).

Kept apart from ``models.py`` so the trait feature stays in one place; importing this module
(``db/api_traits.py`` does) gives every ``Node`` a ``traits`` relationship. It is loaded only
where traits are used — the API when a view shows them (``traits_of_nodes``: one query per
page) and allocation matching (``selectinload``) — not with every node the conductor loads;
touching it unloaded raises instead of looking empty. Rows go with their node
(``ON DELETE CASCADE``).
"""
from __future__ import annotations

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship
from sqlalchemy.orm.base import NO_VALUE

from ironic_lite.db.models import Base, Node


class NodeTrait(Base):
    __tablename__ = 'node_traits'
    __table_args__ = (Index('node_traits_idx', 'trait'),)

    node_id: Mapped[int] = mapped_column(
        Integer, ForeignKey('nodes.id', ondelete='CASCADE'), primary_key=True)
    trait: Mapped[str] = mapped_column(String(255), primary_key=True)

    node = relationship(Node, backref=backref('traits', lazy='raise', viewonly=True),
                        viewonly=True)


def trait_names(node: Node) -> list[str]:
    """The node's trait names, sorted; ``[]`` when they were not loaded with the node
    (a node object built by ``create_node`` has none yet)."""
    # the instance dict holds loaded attributes only; ``inspect(node).attrs`` would build a
    # view of every attribute per call (most of the time of rendering a detail list)
    loaded = sa_inspect(node).dict.get('traits', NO_VALUE)
    if loaded is NO_VALUE or loaded is None:
        return []
    return sorted(t.trait for t in loaded)
