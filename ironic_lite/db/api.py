"""Database access: one short transaction per method, synchronous (run off the event loop
through :mod:`ironic_lite.db.aio`).

Locks and accepted intents are single-statement compare-and-set ``UPDATE``s whose row count says
who won; on SQLite the write is the transaction's first statement so concurrent writer processes
never see ``database is locked`` on a read-then-write upgrade.
"""
from __future__ import annotations

import contextlib
import datetime
import threading
from collections.abc import Iterable, Mapping
from typing import Any

from oslo_db import exception as db_exc
from oslo_db.sqlalchemy import enginefacade
from oslo_utils import uuidutils
from sqlalchemy import and_, delete, event, func, or_, pool, select, update

from ironic_lite.common import exception
from ironic_lite.db import models, paging
from ironic_lite.db.api_generic import GenericResourcesMixin, of_node_project
from ironic_lite.db.api_traits import TraitsMixin

_SORTABLE_NODE_KEYS = frozenset({
    'id', 'uuid', 'name', 'created_at', 'updated_at', 'provision_state', 'provision_updated_at',
    'power_state', 'driver', 'instance_uuid', 'maintenance', 'resource_class', 'conductor_group',
    'owner', 'lessee', 'fault', 'retired', 'protected', 'automated_clean', 'description',
    'target_provision_state', 'target_power_state', 'maintenance_reason',
    *models.NODE_INTERFACE_FIELDS})

_SORTABLE_PORT_KEYS = frozenset({'id', 'uuid', 'address', 'created_at', 'updated_at',
                                 'pxe_enabled', 'physical_network', 'is_smartnic', 'name'})


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    # WAL lets the API read while a conductor writes. SQLite cannot change the journal mode
    # inside a transaction, so it is set here, per connection, in the ``connect`` event,
    # before oslo.db opens one.
    cur = dbapi_conn.cursor()
    cur.execute('PRAGMA journal_mode=WAL')
    cur.execute('PRAGMA synchronous=NORMAL')
    cur.execute('PRAGMA busy_timeout=10000')
    cur.close()


# Pooled SQLite connections: oslo.db swaps SQLAlchemy's QueuePool for a NullPool on file
# databases, so every transaction opened a new sqlite3 connection, ran the connect PRAGMAs and
# closed it again (the last close of a WAL database also checkpoints it). Keep them open.
_SQLITE_POOL_SIZE = 10
_SQLITE_POOL_OVERFLOW = 20


def _pooled(engine):
    old = engine.pool
    if not isinstance(old, pool.NullPool):
        return
    engine.pool = pool.QueuePool(
        old._creator, pool_size=_SQLITE_POOL_SIZE, max_overflow=_SQLITE_POOL_OVERFLOW,
        timeout=60, recycle=old._recycle, pre_ping=False, reset_on_return=old._reset_on_return,
        echo=old.echo, logging_name=old._orig_logging_name, dialect=old._dialect,
        _dispatch=old.dispatch)  # keeps oslo.db's and our connect/checkin listeners
    old.dispose()


class Connection(TraitsMixin, GenericResourcesMixin):
    """All database operations of ironic_lite."""

    def __init__(self, connection_url: str, **engine_opts: Any):
        self.url = connection_url
        self._ctx = enginefacade.transaction_context()
        # thread_checkin adds a sleep(0) on every connection check-in so that eventlet green
        # threads can run; ironic_lite has none, and it cost ~10 % of a GET's CPU.
        opts = {'connection': connection_url, 'sqlite_fk': True, 'thread_checkin': False}
        if connection_url.startswith('sqlite'):
            opts['sqlite_synchronous'] = False
        opts.update(engine_opts)
        self._ctx.configure(**opts)
        self._started = threading.Lock()
        self._engine = None
        # SQLite has one writer at a time; writer threads of this process that collide wait in
        # SQLite's busy handler, which sleeps 1-100 ms per try. Queue them on a lock instead
        # (other processes still go through busy_timeout).
        self._write_lock = threading.Lock() if connection_url.startswith('sqlite') else None

    # -- plumbing -------------------------------------------------------------------------
    @property
    def engine(self):
        with self._started:
            if self._engine is None:
                engine = self._ctx.writer.get_engine()
                if engine.dialect.name == 'sqlite':
                    event.listen(engine, 'connect', _sqlite_pragmas)
                    engine.dispose()  # connections made before the listener lack the pragmas
                    if engine.url.database not in (None, '', ':memory:'):
                        _pooled(engine)
                self._engine = engine
        return self._engine

    @contextlib.contextmanager
    def _writer(self):
        self.engine  # noqa: B018 - makes sure the pragmas are installed first
        if self._write_lock is None:
            with self._ctx.writer.using(_Ctx()) as session:
                yield session
        else:
            with self._write_lock, self._ctx.writer.using(_Ctx()) as session:
                yield session

    def _reader(self):
        self.engine  # noqa: B018
        return self._ctx.reader.using(_Ctx())

    def dispose(self) -> None:
        if self._engine is not None:
            self._engine.dispose()

    # -- nodes ----------------------------------------------------------------------------
    def create_node(self, values: Mapping[str, Any]) -> models.Node:
        values = dict(values)
        values.setdefault('uuid', uuidutils.generate_uuid())
        node = models.Node(**values)
        try:
            with self._writer() as session:
                session.add(node)
                session.flush()
        except db_exc.DBDuplicateEntry as e:
            if 'name' in e.columns:
                raise exception.DuplicateName(name=values.get('name')) from e
            if 'instance_uuid' in e.columns:
                raise exception.InstanceAssociated(
                    instance_uuid=values['instance_uuid'], node=values['uuid']) from e
            raise exception.NodeAlreadyExists(uuid=values['uuid']) from e
        return node

    @staticmethod
    def _node_cond(ident: str | int):
        if isinstance(ident, int):
            return models.Node.id == ident
        if uuidutils.is_uuid_like(ident):
            return models.Node.uuid == ident
        return models.Node.name == ident

    def get_node(self, ident: str | int) -> models.Node:
        """A node by id, UUID or name."""
        with self._reader() as session:
            node = session.scalars(select(models.Node).where(self._node_cond(ident))).first()
        if node is None:
            raise exception.NodeNotFound(node=ident)
        return node

    def get_node_with_related(self, ident: str | int, with_traits: bool = False
                              ) -> tuple[models.Node, dict[str, Any]]:
        """A node and the UUIDs of its chassis and allocation (and its trait names), in one
        transaction: what showing one node at the latest API version needs."""
        with self._reader() as session:
            row = session.execute(
                select(models.Node, models.Chassis.uuid, models.Allocation.uuid)
                .outerjoin(models.Chassis, models.Chassis.id == models.Node.chassis_id)
                .outerjoin(models.Allocation, models.Allocation.node_id == models.Node.id)
                .where(self._node_cond(ident))).first()
            if row is None:
                raise exception.NodeNotFound(node=ident)
            node, chassis_uuid, allocation_uuid = row
            related = {'chassis_uuid': chassis_uuid, 'allocation_uuid': allocation_uuid}
            if with_traits:
                related['traits'] = self._node_trait_names(session, node.id)
        return node, related

    def get_node_by_instance(self, instance_uuid: str) -> models.Node:
        with self._reader() as session:
            node = session.scalars(select(models.Node).where(
                models.Node.instance_uuid == instance_uuid)).first()
        if node is None:
            raise exception.NodeNotFound(node=instance_uuid)
        return node

    def list_nodes(self, filters: Mapping[str, Any] | None = None, limit: int | None = None,
                   marker: str | None = None, sort_key: str = 'id',
                   sort_dir: str = 'asc') -> list[models.Node]:
        paging.check_sort_key(sort_key, _SORTABLE_NODE_KEYS)
        query = select(models.Node)
        for key, value in (filters or {}).items():
            query = query.where(_node_filter(key, value))
        with self._reader() as session:
            return paging.page(session, models.Node, query, limit, marker, sort_key, sort_dir)

    def allocation_uuids_of_nodes(self, node_ids: Iterable[int]) -> dict[int, str]:
        """``{node id: allocation uuid}`` for the nodes that have an allocation (one query
        for a whole page of nodes)."""
        ids = list(set(node_ids))
        if not ids:
            return {}
        with self._reader() as session:
            return dict(session.execute(select(
                models.Allocation.node_id, models.Allocation.uuid).where(
                    models.Allocation.node_id.in_(ids))).all())

    def chassis_uuids_of(self, chassis_ids: Iterable[int | None]) -> dict[int, str]:
        """``{chassis id: chassis uuid}`` for a page of nodes' ``chassis_id`` values."""
        ids = [i for i in set(chassis_ids) if i is not None]
        if not ids:
            return {}
        with self._reader() as session:
            return dict(session.execute(select(models.Chassis.id, models.Chassis.uuid).where(
                models.Chassis.id.in_(ids))).all())

    def update_node(self, node_id: int, values: Mapping[str, Any],
                    expected: Mapping[str, Any] | None = None) -> models.Node:
        """Update a node; with ``expected``, only if those columns still hold those values.

        Raises :class:`NodeStateChanged` when the compare-and-set loses, NodeNotFound when the
        node is gone. This is how the API records accepted intents and how a task writes only
        while it still holds the node's lock.
        """
        values = dict(values)
        values['updated_at'] = models.utcnow()
        stmt = update(models.Node).where(models.Node.id == node_id)
        for key, value in (expected or {}).items():
            column = getattr(models.Node, key)
            stmt = stmt.where(column.is_(None) if value is None else column == value)
        try:
            with self._writer() as session:
                result = session.execute(stmt.values(**values))
                if result.rowcount != 1:
                    exists = session.scalar(select(models.Node.uuid).where(
                        models.Node.id == node_id))
                    if exists is None:
                        raise exception.NodeNotFound(node=node_id)
                    raise exception.NodeStateChanged(node=exists)
                return session.scalars(select(models.Node).where(
                    models.Node.id == node_id)).one()
        except db_exc.DBDuplicateEntry as e:
            if 'name' in e.columns:
                raise exception.DuplicateName(name=values.get('name')) from e
            if 'instance_uuid' in e.columns:
                raise exception.InstanceAssociated(
                    instance_uuid=values.get('instance_uuid'), node=node_id) from e
            raise

    def destroy_node(self, node_id: int) -> None:
        with self._writer() as session:
            session.execute(delete(models.Port).where(models.Port.node_id == node_id))
            result = session.execute(delete(models.Node).where(
                models.Node.id == node_id, models.Node.reservation.is_(None)))
            if result.rowcount != 1:
                node = session.scalars(select(models.Node).where(
                    models.Node.id == node_id)).first()
                if node is None:
                    raise exception.NodeNotFound(node=node_id)
                raise exception.NodeLocked(node=node.uuid, host=node.reservation)

    # -- node locks -----------------------------------------------------------------------
    def reserve_node(self, tag: str, ident: int | str) -> models.Node:
        """Take the node's exclusive lock for ``tag``: one atomic compare-and-set."""
        return self.reserve_node_with_ports(tag, ident, with_ports=False)[0]

    def reserve_node_with_ports(self, tag: str, ident: int | str, with_ports: bool = True
                                ) -> tuple[models.Node, list[models.Port]]:
        """Lock the node (id, UUID or name) for ``tag`` and read it and its ports, in one
        transaction: what starting an exclusive task needs."""
        cond = self._node_cond(ident)
        with self._writer() as session:
            result = session.execute(
                update(models.Node).where(cond, models.Node.reservation.is_(None))
                .values(reservation=tag))
            node = session.scalars(select(models.Node).where(cond)).first()
            ports = (list(session.scalars(select(models.Port).where(
                models.Port.node_id == node.id).order_by(models.Port.id)))
                if with_ports and node is not None and result.rowcount == 1 else [])
        if node is None:
            raise exception.NodeNotFound(node=ident)
        if result.rowcount != 1:
            raise exception.NodeLocked(node=node.uuid, host=node.reservation)
        return node, ports

    def get_node_with_ports(self, ident: int | str) -> tuple[models.Node, list[models.Port]]:
        """A node (id, UUID or name) and its ports, in one transaction (shared tasks)."""
        with self._reader() as session:
            node = session.scalars(select(models.Node).where(self._node_cond(ident))).first()
            if node is None:
                raise exception.NodeNotFound(node=ident)
            ports = list(session.scalars(select(models.Port).where(
                models.Port.node_id == node.id).order_by(models.Port.id)))
        return node, ports

    def release_node(self, tag: str, node_id: int) -> None:
        with self._writer() as session:
            result = session.execute(
                update(models.Node)
                .where(models.Node.id == node_id, models.Node.reservation == tag)
                .values(reservation=None))
        if result.rowcount != 1:
            raise exception.NodeNotLocked(node=node_id)

    def clear_node_reservations_for_conductor(self, hostname: str) -> int:
        with self._writer() as session:
            result = session.execute(
                update(models.Node).where(models.Node.reservation == hostname)
                .values(reservation=None))
        return result.rowcount

    # -- ports ----------------------------------------------------------------------------
    def create_port(self, values: Mapping[str, Any]) -> models.Port:
        values = dict(values)
        values.setdefault('uuid', uuidutils.generate_uuid())
        port = models.Port(**values)
        try:
            with self._writer() as session:
                session.add(port)
                session.flush()
        except db_exc.DBDuplicateEntry as e:
            if 'address' in e.columns:
                raise exception.MACAlreadyExists(mac=values['address']) from e
            raise exception.PortAlreadyExists(uuid=values['uuid']) from e
        return port

    def get_port(self, ident: str | int) -> models.Port:
        if isinstance(ident, int):
            cond = models.Port.id == ident
        elif uuidutils.is_uuid_like(ident):
            cond = models.Port.uuid == ident
        else:
            cond = models.Port.address == ident
        with self._reader() as session:
            port = session.scalars(select(models.Port).where(cond)).first()
        if port is None:
            raise exception.PortNotFound(port=ident)
        return port

    def list_ports(self, node_id: int | None = None, address: str | None = None,
                   limit: int | None = None, marker: str | None = None,
                   sort_key: str = 'id', sort_dir: str = 'asc',
                   portgroup_id: int | None = None,
                   node_project: str | None = None) -> list[models.Port]:
        """One page of ports; with ``node_project``, only those of nodes that project owns
        or leases."""
        paging.check_sort_key(sort_key, _SORTABLE_PORT_KEYS)
        query = select(models.Port)
        if node_project is not None:
            query = query.where(of_node_project(models.Port.node_id, node_project))
        if node_id is not None:
            query = query.where(models.Port.node_id == node_id)
        if address is not None:
            query = query.where(models.Port.address == address)
        if portgroup_id is not None:
            query = query.where(models.Port.portgroup_id == portgroup_id)
        with self._reader() as session:
            return paging.page(session, models.Port, query, limit, marker, sort_key, sort_dir)

    def get_ports_by_addresses(self, addresses: Iterable[str]) -> list[models.Port]:
        with self._reader() as session:
            return list(session.scalars(select(models.Port).where(
                models.Port.address.in_(list(addresses)))))

    def update_port(self, port_id: int, values: Mapping[str, Any]) -> models.Port:
        values = dict(values)
        values['updated_at'] = models.utcnow()
        try:
            with self._writer() as session:
                result = session.execute(update(models.Port).where(
                    models.Port.id == port_id).values(**values))
                if result.rowcount != 1:
                    raise exception.PortNotFound(port=port_id)
                return session.scalars(select(models.Port).where(
                    models.Port.id == port_id)).one()
        except db_exc.DBDuplicateEntry as e:
            raise exception.MACAlreadyExists(mac=values.get('address')) from e

    def destroy_port(self, port_id: int) -> None:
        with self._writer() as session:
            result = session.execute(delete(models.Port).where(models.Port.id == port_id))
        if result.rowcount != 1:
            raise exception.PortNotFound(port=port_id)

    # -- conductors -----------------------------------------------------------------------
    def register_conductor(self, hostname: str, drivers: list[str], conductor_group: str,
                           hardware_interfaces: dict) -> models.Conductor:
        """Register (or re-register after a restart) a conductor and mark it online."""
        values = {'online': True, 'drivers': drivers, 'conductor_group': conductor_group,
                  'hardware_interfaces': hardware_interfaces, 'updated_at': models.utcnow()}
        with self._writer() as session:
            result = session.execute(update(models.Conductor).where(
                models.Conductor.hostname == hostname).values(**values))
            if result.rowcount == 0:
                session.add(models.Conductor(hostname=hostname, **values))
                session.flush()
            return session.scalars(select(models.Conductor).where(
                models.Conductor.hostname == hostname)).one()

    def touch_conductor(self, hostname: str) -> None:
        with self._writer() as session:
            result = session.execute(update(models.Conductor).where(
                models.Conductor.hostname == hostname).values(
                    updated_at=models.utcnow(), online=True))
        if result.rowcount != 1:
            raise exception.ConductorNotFound(conductor=hostname)

    def unregister_conductor(self, hostname: str) -> None:
        with self._writer() as session:
            session.execute(update(models.Conductor).where(
                models.Conductor.hostname == hostname).values(online=False))

    def get_online_conductors(self, timeout_s: int) -> list[models.Conductor]:
        """Conductors online whose last heartbeat is younger than ``timeout_s``."""
        limit = models.utcnow() - datetime.timedelta(seconds=timeout_s)
        with self._reader() as session:
            return list(session.scalars(select(models.Conductor).where(
                models.Conductor.online.is_(True), models.Conductor.updated_at > limit)))

    def count_nodes(self) -> int:
        with self._reader() as session:
            return session.scalar(select(func.count(models.Node.id)))


def _node_filter(key: str, value: Any):
    """One list filter; keys follow the API's query parameters."""
    n = models.Node
    if key == 'associated':
        return n.instance_uuid.is_not(None) if value else n.instance_uuid.is_(None)
    if key == 'provision_state_in':
        return n.provision_state.in_(list(value))
    if key == 'intent_before':
        return and_(n.intent.is_not(None), n.intent_at < value)
    if key == 'provision_updated_before':
        return n.provision_updated_at < value
    if key == 'reserved':
        return n.reservation.is_not(None) if value else n.reservation.is_(None)
    if key == 'reserved_by':
        return n.reservation == value
    if key == 'description_contains':
        return n.description.contains(value, autoescape=True)
    if key == 'project':  # the node's owner or its lessee
        return or_(n.owner == value, n.lessee == value)
    column = getattr(n, key, None)
    if column is None:
        raise exception.InvalidParameterValue(err=f'Unknown filter {key}')
    return column.is_(None) if value is None else column == value


class _Ctx:
    """The minimal context object oslo.db's enginefacade attaches its session to."""
