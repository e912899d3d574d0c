"""Keyset paging of the list queries (``limit``, ``marker``, ``sort_key``, ``sort_dir``), the
same for every table: rows come ordered by the sort column with NULLs first ascending (last
descending) on every backend and the primary key breaking ties, so a marker row always names a
single place in the order and the next page starts right after it. A marker that names no row
is the collection's own "not found" (404), as upstream looks the marker up with ``get_by_uuid``.
"""
from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import and_, or_, select

from ironic_lite.common import exception
from ironic_lite.common import resource_errors as errors
from ironic_lite.db import models

# The "not found" of each listed table, raised for an unknown marker (upstream looks the marker
# up with ``objects.<Kind>.get_by_uuid`` / ``Conductor.get_by_hostname``: 404).
_MARKER_NOT_FOUND: dict[type, tuple[type, str]] = {
    models.Node: (exception.NodeNotFound, 'node'),
    models.Port: (exception.PortNotFound, 'port'),
    models.Conductor: (exception.ConductorNotFound, 'conductor'),
    models.Chassis: (errors.ChassisNotFound, 'chassis'),
    models.Portgroup: (errors.PortgroupNotFound, 'portgroup'),
    models.VolumeConnector: (errors.VolumeConnectorNotFound, 'connector'),
    models.VolumeTarget: (errors.VolumeTargetNotFound, 'target'),
    models.Allocation: (errors.AllocationNotFound, 'allocation'),
    models.DeployTemplate: (errors.DeployTemplateNotFound, 'template'),
}


def check_sort_key(sort_key: str, sortable: Collection[str]) -> None:
    if sort_key not in sortable:
        raise exception.InvalidParameterValue(
            err=f'The sort_key value "{sort_key}" is an invalid field for sorting')


def marker_not_found(model: type, marker: Any) -> exception.NotFound:
    exc, key = _MARKER_NOT_FOUND.get(model, (None, ''))
    if exc is None:
        return exception.NotFound(f'{model.__name__} {marker} could not be found.')
    return exc(**{key: marker})


def page(session, model: type, query, limit: int | None, marker: Any, sort_key: str,
         sort_dir: str, marker_column=None) -> list:
    """Run ``query`` (a select of ``model``) for one page: at most ``limit`` rows after the row
    whose ``marker_column`` (``model.uuid`` by default) is ``marker``; an unknown marker is the
    table's not-found (:func:`marker_not_found`, e.g. :class:`NodeNotFound`)."""
    column = getattr(model, sort_key)
    if marker is not None:
        marker_column = model.uuid if marker_column is None else marker_column
        mark = session.scalars(select(model).where(marker_column == marker)).first()
        if mark is None:
            raise marker_not_found(model, marker)
        query = query.where(_after(column, model.id, mark, sort_key, sort_dir))
    query = query.order_by(*_ordering(column, model.id, sort_dir))
    if limit:
        query = query.limit(limit)
    return list(session.scalars(query))


def _ordering(column, id_column, sort_dir: str) -> tuple:
    if sort_dir == 'asc':
        order = (column.is_(None).desc(), column.asc(), id_column.asc())
    else:
        order = (column.is_(None).asc(), column.desc(), id_column.desc())
    return order if column.nullable else order[1:]


def _after(column, id_column, mark, sort_key: str, sort_dir: str):
    """Rows after ``mark`` in :func:`_ordering`'s order (NULL-safe keyset condition)."""
    value = getattr(mark, sort_key)
    if sort_dir == 'asc':
        if value is None:
            return or_(and_(column.is_(None), id_column > mark.id), column.is_not(None))
        return or_(column > value, and_(column == value, id_column > mark.id))
    if value is None:
        return and_(column.is_(None), id_column < mark.id)
    return or_(column < value, and_(column == value, id_column < mark.id), column.is_(None))
