"""Database queries of the API resources beyond nodes and ports, mixed into
:class:`ironic_lite.db.api.Connection` (one short transaction per method, like the rest).

Chassis, portgroups, volume connectors/targets, BIOS settings, allocations and deploy templates
share one set of generic methods keyed by model class; what differs per resource (its
"not found" and "duplicate" errors) is in ``_KINDS``.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from oslo_db import exception as db_exc
from oslo_utils import uuidutils
from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import selectinload

from ironic_lite.common import exception
from ironic_lite.common import resource_errors as errors
from ironic_lite.db import models, paging

# model -> (not-found exception and its keyword, {duplicate column: (exception, value key)})
_KINDS: dict[type, tuple[type, str, dict[str, tuple[type, str]]]] = {
    models.Chassis: (errors.ChassisNotFound, 'chassis', {}),
    models.Portgroup: (errors.PortgroupNotFound, 'portgroup', {
        'name': (errors.PortgroupDuplicateName, 'name'),
        'address': (errors.PortgroupMACAlreadyExists, 'mac')}),
    models.VolumeConnector: (errors.VolumeConnectorNotFound, 'connector', {
        'type': (errors.VolumeConnectorTypeAndIdAlreadyExists, ''),
        'connector_id': (errors.VolumeConnectorTypeAndIdAlreadyExists, '')}),
    models.VolumeTarget: (errors.VolumeTargetNotFound, 'target', {
        'boot_index': (errors.VolumeTargetBootIndexAlreadyExists, ''),
        'node_id': (errors.VolumeTargetBootIndexAlreadyExists, '')}),
    models.Allocation: (errors.AllocationNotFound, 'allocation', {
        'name': (errors.AllocationDuplicateName, 'name'),
        'node_id': (errors.NodeAlreadyAllocated, '')}),
    models.DeployTemplate: (errors.DeployTemplateNotFound, 'template', {
        'name': (errors.DeployTemplateDuplicateName, 'name')}),
}
_UUID_EXISTS = {
    models.Chassis: errors.ChassisAlreadyExists, models.Portgroup: errors.PortgroupAlreadyExists,
    models.VolumeConnector: errors.VolumeConnectorAlreadyExists,
    models.VolumeTarget: errors.VolumeTargetAlreadyExists,
    models.Allocation: errors.AllocationAlreadyExists,
    models.DeployTemplate: errors.DeployTemplateAlreadyExists,
}
SORTABLE = ('id', 'uuid', 'name', 'created_at', 'updated_at', 'address', 'node_id', 'state',
            'resource_class', 'type', 'connector_id', 'volume_type', 'boot_index', 'volume_id',
            'description', 'hostname', 'conductor_group', 'owner')


def _duplicate(model: type, values: Mapping[str, Any], err: db_exc.DBDuplicateEntry):
    _, _, dups = _KINDS[model]
    for column in err.columns or ():
        if column in dups:
            exc, key = dups[column]
            if not key:
                return exc(**{k: values.get(k) for k in ('type', 'connector_id', 'boot_index')},
                           node=values.get('node_id'))
            return exc(**{key: values.get(column)})
    return _UUID_EXISTS[model](uuid=values.get('uuid'))


def _not_found(model: type, ident: Any):
    exc, key, _ = _KINDS[model]
    return exc(**{key: ident})


def of_node_project(node_id_column: Any, project: str) -> Any:
    """Rows whose node ``project`` owns or leases: one subquery on nodes (not a join, so
    paging's marker and ordering stay on the listed table)."""
    n = models.Node
    return node_id_column.in_(select(n.id).where(or_(n.owner == project, n.lessee == project)))


class GenericResourcesMixin:
    """Generic CRUD for the resource models, plus the few resource-specific queries."""

    # -- generic --------------------------------------------------------------------------
    def create_resource(self, model: type, values: Mapping[str, Any]) -> Any:
        values = dict(values)
        values.setdefault('uuid', uuidutils.generate_uuid())
        obj = model(**values)
        try:
            with self._writer() as session:
                session.add(obj)
                session.flush()
        except db_exc.DBDuplicateEntry as e:
            raise _duplicate(model, values, e) from e
        except db_exc.DBReferenceError as e:
            raise exception.NodeNotFound(node=values.get('node_id')) from e
        return obj

    def get_resource(self, model: type, ident: str | int) -> Any:
        """By id, UUID or (for models with one) name."""
        if isinstance(ident, int):
            cond = model.id == ident
        elif uuidutils.is_uuid_like(ident):
            cond = model.uuid == ident
        elif hasattr(model, 'name'):
            cond = model.name == ident
        else:
            raise _not_found(model, ident)
        with self._reader() as session:
            obj = session.scalars(select(model).where(cond)).first()
        if obj is None:
            raise _not_found(model, ident)
        return obj

    def list_resources(self, model: type, filters: Mapping[str, Any] | None = None,
                       limit: int | None = None, marker: str | None = None,
                       sort_key: str = 'id', sort_dir: str = 'asc',
                       node_project: str | None = None) -> list:
        """Equality filters on columns (``None`` matches NULL), keyset paging by UUID; with
        ``node_project``, only rows whose node that project owns or leases."""
        paging.check_sort_key(sort_key, [key for key in SORTABLE if hasattr(model, key)])
        query = select(model)
        if node_project is not None:
            query = query.where(of_node_project(model.node_id, node_project))
        for key, value in (filters or {}).items():
            column = getattr(model, key)
            query = query.where(column.is_(None) if value is None else column == value)
        with self._reader() as session:
            return paging.page(session, model, query, limit, marker, sort_key, sort_dir)

    def update_resource(self, model: type, obj_id: int, values: Mapping[str, Any],
                        expected: Mapping[str, Any] | None = None) -> Any:
        """Update one row; with ``expected``, only while those columns hold those values
        (:class:`InvalidState` otherwise)."""
        values = dict(values)
        values['updated_at'] = models.utcnow()
        stmt = update(model).where(model.id == obj_id)
        for key, value in (expected or {}).items():
            column = getattr(model, key)
            stmt = stmt.where(column.is_(None) if value is None else column == value)
        try:
            with self._writer() as session:
                result = session.execute(stmt.values(**values))
                obj = session.scalars(select(model).where(model.id == obj_id)).first()
                if obj is None:
                    raise _not_found(model, obj_id)
                if result.rowcount != 1:
                    raise errors.InvalidState(
                        f'{model.__name__} {obj.uuid} changed while the request was '
                        'processed; please retry.')
                return obj
        except db_exc.DBDuplicateEntry as e:
            raise _duplicate(model, values, e) from e
        except db_exc.DBReferenceError as e:
            raise exception.NodeNotFound(node=values.get('node_id')) from e

    def destroy_resource(self, model: type, obj_id: int,
                         expected: Mapping[str, Any] | None = None) -> None:
        """Delete one row; with ``expected``, only while those columns hold those values
        (:class:`InvalidState` otherwise)."""
        stmt = delete(model).where(model.id == obj_id)
        for key, value in (expected or {}).items():
            column = getattr(model, key)
            stmt = stmt.where(column.is_(None) if value is None else column == value)
        with self._writer() as session:
            result = session.execute(stmt)
            if result.rowcount != 1:
                obj = session.scalars(select(model).where(model.id == obj_id)).first()
                if obj is None:
                    raise _not_found(model, obj_id)
                raise errors.InvalidState(
                    f'{model.__name__} {obj.uuid} changed while the request was processed; '
                    'please retry.')

    def count_resources(self, model: type, filters: Mapping[str, Any]) -> int:
        query = select(func.count()).select_from(model)
        for key, value in filters.items():
            query = query.where(getattr(model, key) == value)
        with self._reader() as session:
            return session.scalar(query)

    # -- specific -------------------------------------------------------------------------
    def destroy_chassis(self, chassis_id: int) -> None:
        """Delete a chassis; :class:`ChassisNotEmpty` while nodes are in it."""
        self._destroy_if_empty(models.Chassis, chassis_id, models.Node.chassis_id,
                               errors.ChassisNotEmpty)

    def destroy_portgroup(self, portgroup_id: int) -> None:
        """Delete a portgroup; :class:`PortgroupNotEmpty` while ports are in it."""
        self._destroy_if_empty(models.Portgroup, portgroup_id, models.Port.portgroup_id,
                               errors.PortgroupNotEmpty)

    def _destroy_if_empty(self, model: type, obj_id: int, member_fk: Any,
                          not_empty: type) -> None:
        """Delete one row of ``model`` in the transaction that checks no row refers to it
        through ``member_fk`` (``not_empty`` raised, keyed like ``_KINDS``, if one does)."""
        with self._writer() as session:
            busy = session.scalar(select(func.count(member_fk)).where(member_fk == obj_id))
            if busy:
                obj = session.scalars(select(model).where(model.id == obj_id)).first()
                _, key, _ = _KINDS[model]
                raise not_empty(**{key: obj.uuid if obj else obj_id})
            result = session.execute(delete(model).where(model.id == obj_id))
        if result.rowcount != 1:
            raise _not_found(model, obj_id)

    def uuids_of(self, model: type, ids: list[int]) -> dict[int, str]:
        """``{id: uuid}`` for rows of ``model`` (nodes, chassis, portgroups…) in one query."""
        ids = [i for i in set(ids) if i is not None]
        if not ids:
            return {}
        with self._reader() as session:
            rows = session.execute(select(model.id, model.uuid).where(model.id.in_(ids)))
            return {row[0]: row[1] for row in rows}

    def get_node_allocation(self, node_id: int) -> models.Allocation | None:
        with self._reader() as session:
            return session.scalars(select(models.Allocation).where(
                models.Allocation.node_id == node_id)).first()

    # -- BIOS settings --------------------------------------------------------------------
    def list_bios_settings(self, node_id: int) -> list[models.BIOSSetting]:
        with self._reader() as session:
            return list(session.scalars(select(models.BIOSSetting).where(
                models.BIOSSetting.node_id == node_id).order_by(models.BIOSSetting.name)))

    def set_bios_settings(self, node_id: int, settings: Mapping[str, str | None]) -> None:
        """Replace the node's cached BIOS settings (what a BIOS interface read back)."""
        with self._writer() as session:
            session.execute(delete(models.BIOSSetting).where(
                models.BIOSSetting.node_id == node_id))
            for name, value in settings.items():
                session.add(models.BIOSSetting(node_id=node_id, name=name, value=value))

    # -- conductors -----------------------------------------------------------------------
    def list_conductors(self, limit: int | None = None, marker: str | None = None,
                        sort_key: str = 'id', sort_dir: str = 'asc') -> list[models.Conductor]:
        paging.check_sort_key(
            sort_key, ('id', 'hostname', 'conductor_group', 'created_at', 'updated_at'))
        with self._reader() as session:
            return paging.page(session, models.Conductor, select(models.Conductor), limit,
                               marker, sort_key, sort_dir,
                               marker_column=models.Conductor.hostname)

    def get_conductor(self, hostname: str) -> models.Conductor:
        with self._reader() as session:
            cond = session.scalars(select(models.Conductor).where(
                models.Conductor.hostname == hostname)).first()
        if cond is None:
            raise exception.ConductorNotFound(conductor=hostname)
        return cond

    # -- allocations ----------------------------------------------------------------------
    def allocation_candidates(self, resource_class: str | None, owner: str | None,
                              node_uuids: list[str] | None) -> list[models.Node]:
        """Nodes an allocation may take: available, not in maintenance, no instance and no
        allocation, of the resource class (and owner, and among the candidates if given)."""
        n = models.Node
        taken = select(models.Allocation.node_id).where(models.Allocation.node_id.is_not(None))
        query = select(n).where(n.provision_state == 'available', n.maintenance.is_(False),
                                n.instance_uuid.is_(None), n.id.not_in(taken))
        if resource_class is not None:
            query = query.where(n.resource_class == resource_class)
        if owner is not None:
            query = query.where(n.owner == owner)
        if node_uuids:
            query = query.where(n.uuid.in_(node_uuids))
        with self._reader() as session:
            return list(session.scalars(query.options(selectinload(n.traits))))
