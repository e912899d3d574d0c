"""SQLAlchemy models: nodes, ports, conductors.

JSON-valued fields are stored as text (portable across SQLite, PostgreSQL and MariaDB).
Timestamps are naive UTC, as upstream stores them.
"""
from __future__ import annotations

import datetime
import json

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator


def utcnow() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC).replace(tzinfo=None)


class JSONEncoded(TypeDecorator):
    """A dict or list stored as JSON text; ``None`` reads back as the empty default."""

    impl = Text
    cache_ok = True

    def __init__(self, default_type=dict):
        super().__init__()
        self.default_type = default_type

    def process_bind_param(self, value, dialect):
        if value is None:
            value = self.default_type()
        return json.dumps(value)

    def process_result_value(self, value, dialect):
        if value is None:
            return self.default_type()
        return json.loads(value)


class Base(DeclarativeBase):
    created_at: Mapped[datetime.datetime | None] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime.datetime | None] = mapped_column(DateTime, onupdate=utcnow)

    def as_dict(self) -> dict:
        return {c.key: getattr(self, c.key) for c in self.__table__.columns}


NODE_INTERFACE_FIELDS = (
    'bios_interface', 'boot_interface', 'console_interface', 'deploy_interface',
    'firmware_interface', 'inspect_interface', 'management_interface', 'network_interface',
    'power_interface', 'raid_interface', 'rescue_interface', 'storage_interface',
    'vendor_interface',
)


class Node(Base):
    __tablename__ = 'nodes'
    __table_args__ = (
        UniqueConstraint('uuid', name='uniq_nodes0uuid'),
        UniqueConstraint('name', name='uniq_nodes0name'),
        UniqueConstraint('instance_uuid', name='uniq_nodes0instance_uuid'),
        Index('reservation_idx', 'reservation'),
        Index('provision_state_idx', 'provision_state'),
        Index('conductor_group_idx', 'conductor_group'),
        # list filters of GET /v1/nodes (migration b7e2c9d41f10)
        Index('driver_idx', 'driver'),
        Index('owner_idx', 'owner'),
        Index('lessee_idx', 'lessee'),
        Index('resource_class_idx', 'resource_class'),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36))
    name: Mapped[str | None] = mapped_column(String(255))
    driver: Mapped[str] = mapped_column(String(255))
    instance_uuid: Mapped[str | None] = mapped_column(String(36))
    chassis_id: Mapped[int | None] = mapped_column(Integer)
    power_state: Mapped[str | None] = mapped_column(String(15))
    target_power_state: Mapped[str | None] = mapped_column(String(15))
    provision_state: Mapped[str] = mapped_column(String(15))
    target_provision_state: Mapped[str | None] = mapped_column(String(15))
    provision_updated_at: Mapped[datetime.datetime | None] = mapped_column(DateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    maintenance: Mapped[bool] = mapped_column(Boolean, default=False)
    maintenance_reason: Mapped[str | None] = mapped_column(Text)
    fault: Mapped[str | None] = mapped_column(String(255))
    console_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    reservation: Mapped[str | None] = mapped_column(String(255))
    conductor_affinity: Mapped[int | None] = mapped_column(Integer)
    conductor_group: Mapped[str] = mapped_column(String(255), default='')
    driver_info: Mapped[dict] = mapped_column(JSONEncoded(), default=dict)
    driver_internal_info: Mapped[dict] = mapped_column(JSONEncoded(), default=dict)
    instance_info: Mapped[dict] = mapped_column(JSONEncoded(), default=dict)
    properties: Mapped[dict] = mapped_column(JSONEncoded(), default=dict)
    extra: Mapped[dict] = mapped_column(JSONEncoded(), default=dict)
    clean_step: Mapped[dict] = mapped_column(JSONEncoded(), default=dict)
    deploy_step: Mapped[dict] = mapped_column(JSONEncoded(), default=dict)
    raid_config: Mapped[dict] = mapped_column(JSONEncoded(), default=dict)
    target_raid_config: Mapped[dict] = mapped_column(JSONEncoded(), default=dict)
    network_data: Mapped[dict] = mapped_column(JSONEncoded(), default=dict)
    resource_class: Mapped[str | None] = mapped_column(String(80))
    owner: Mapped[str | None] = mapped_column(String(255))
    lessee: Mapped[str | None] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text)
    automated_clean: Mapped[bool | None] = mapped_column(Boolean)
    protected: Mapped[bool] = mapped_column(Boolean, default=False)
    protected_reason: Mapped[str | None] = mapped_column(Text)
    retired: Mapped[bool] = mapped_column(Boolean, default=False)
    retired_reason: Mapped[str | None] = mapped_column(Text)
    inspection_started_at: Mapped[datetime.datetime | None] = mapped_column(DateTime)
    inspection_finished_at: Mapped[datetime.datetime | None] = mapped_column(DateTime)
    bios_interface: Mapped[str | None] = mapped_column(String(255))
    boot_interface: Mapped[str | None] = mapped_column(String(255))
    console_interface: Mapped[str | None] = mapped_column(String(255))
    deploy_interface: Mapped[str | None] = mapped_column(String(255))
    firmware_interface: Mapped[str | None] = mapped_column(String(255))
    inspect_interface: Mapped[str | None] = mapped_column(String(255))
    management_interface: Mapped[str | None] = mapped_column(String(255))
    network_interface: Mapped[str | None] = mapped_column(String(255))
    power_interface: Mapped[str | None] = mapped_column(String(255))
    raid_interface: Mapped[str | None] = mapped_column(String(255))
    rescue_interface: Mapped[str | None] = mapped_column(String(255))
    storage_interface: Mapped[str | None] = mapped_column(String(255))
    vendor_interface: Mapped[str | None] = mapped_column(String(255))
    # Accepted-but-not-yet-started request (see conductor/intent_runner.py): written by the API
    # with a compare-and-set before it casts, cleared by the conductor when it starts the work.
    intent: Mapped[str | None] = mapped_column(String(64))
    intent_args: Mapped[dict] = mapped_column(JSONEncoded(), default=dict)
    intent_at: Mapped[datetime.datetime | None] = mapped_column(DateTime)


class Port(Base):
    __tablename__ = 'ports'
    __table_args__ = (
        UniqueConstraint('uuid', name='uniq_ports0uuid'),
        UniqueConstraint('address', name='uniq_ports0address'),
        Index('ports_node_id_idx', 'node_id'),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36))
    address: Mapped[str] = mapped_column(String(18))
    node_id: Mapped[int] = mapped_column(Integer, ForeignKey('nodes.id'))
    extra: Mapped[dict] = mapped_column(JSONEncoded(), default=dict)
    local_link_connection: Mapped[dict] = mapped_column(JSONEncoded(), default=dict)
    internal_info: Mapped[dict] = mapped_column(JSONEncoded(), default=dict)
    pxe_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    physical_network: Mapped[str | None] = mapped_column(String(64))
    is_smartnic: Mapped[bool] = mapped_column(Boolean, default=False)
    name: Mapped[str | None] = mapped_column(String(255))
    # the port's portgroup (engineer E's migration c8f3d0e52a21 adds the column)
    portgroup_id: Mapped[int | None] = mapped_column(Integer)


class Conductor(Base):
    __tablename__ = 'conductors'
    __table_args__ = (UniqueConstraint('hostname', name='uniq_conductors0hostname'),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    hostname: Mapped[str] = mapped_column(String(255))
    online: Mapped[bool] = mapped_column(Boolean, default=True)
    conductor_group: Mapped[str] = mapped_column(String(255), default='')
    drivers: Mapped[list] = mapped_column(JSONEncoded(list), default=list)
    # {hardware_type: {interface_type: {"enabled": [...], "default": name}}}
    hardware_interfaces: Mapped[dict] = mapped_column(JSONEncoded(), default=dict)


# --- API resources beyond nodes and ports (migration c8f3d0e52a21) -------------------------
# Rows that belong to a node go with it: ON DELETE CASCADE on every node_id below.
def _node_fk() -> ForeignKey:
    return ForeignKey('nodes.id', ondelete='CASCADE')


class Chassis(Base):
    __tablename__ = 'chassis'
    __table_args__ = (UniqueConstraint('uuid', name='uniq_chassis0uuid'),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36))
    description: Mapped[str | None] = mapped_column(String(255))
    extra: Mapped[dict] = mapped_column(JSONEncoded(), default=dict)


class Portgroup(Base):
    __tablename__ = 'portgroups'
    __table_args__ = (
        UniqueConstraint('uuid', name='uniq_portgroups0uuid'),
        UniqueConstraint('address', name='uniq_portgroups0address'),
        UniqueConstraint('name', name='uniq_portgroups0name'),
        Index('portgroups_node_id_idx', 'node_id'),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36))
    name: Mapped[str | None] = mapped_column(String(255))
    node_id: Mapped[int] = mapped_column(Integer, _node_fk())
    address: Mapped[str | None] = mapped_column(String(18))
    extra: Mapped[dict] = mapped_column(JSONEncoded(), default=dict)
    internal_info: Mapped[dict] = mapped_column(JSONEncoded(), default=dict)
    standalone_ports_supported: Mapped[bool] = mapped_column(Boolean, default=True)
    mode: Mapped[str | None] = mapped_column(String(255))
    properties: Mapped[dict] = mapped_column(JSONEncoded(), default=dict)


class VolumeConnector(Base):
    __tablename__ = 'volume_connectors'
    __table_args__ = (
        UniqueConstraint('uuid', name='uniq_volumeconnectors0uuid'),
        UniqueConstraint('type', 'connector_id', name='uniq_volumeconnectors0type0connector_id'),
        Index('volume_connectors_node_id_idx', 'node_id'),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36))
    node_id: Mapped[int] = mapped_column(Integer, _node_fk())
    type: Mapped[str] = mapped_column(String(32))
    connector_id: Mapped[str] = mapped_column(String(255))
    extra: Mapped[dict] = mapped_column(JSONEncoded(), default=dict)


class VolumeTarget(Base):
    __tablename__ = 'volume_targets'
    __table_args__ = (
        UniqueConstraint('uuid', name='uniq_volumetargets0uuid'),
        UniqueConstraint('node_id', 'boot_index', name='uniq_volumetargets0node_id0boot_index'),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36))
    node_id: Mapped[int] = mapped_column(Integer, _node_fk())
    volume_type: Mapped[str] = mapped_column(String(64))
    properties: Mapped[dict] = mapped_column(JSONEncoded(), default=dict)
    boot_index: Mapped[int] = mapped_column(Integer)
    volume_id: Mapped[str] = mapped_column(String(36))
    extra: Mapped[dict] = mapped_column(JSONEncoded(), default=dict)


class BIOSSetting(Base):
    __tablename__ = 'bios_settings'

    node_id: Mapped[int] = mapped_column(Integer, _node_fk(), primary_key=True)
    name: Mapped[str] = mapped_column(String(255), primary_key=True)
    value: Mapped[str | None] = mapped_column(Text)


class Allocation(Base):
    __tablename__ = 'allocations'
    __table_args__ = (
        UniqueConstraint('uuid', name='uniq_allocations0uuid'),
        UniqueConstraint('name', name='uniq_allocations0name'),
        # one allocation per node: two conductors can never hand out the same node
        UniqueConstraint('node_id', name='uniq_allocations0node_id'),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36))
    name: Mapped[str | None] = mapped_column(String(255))
    node_id: Mapped[int | None] = mapped_column(Integer, _node_fk())
    state: Mapped[str] = mapped_column(String(15))
    owner: Mapped[str | None] = mapped_column(String(255))
    last_error: Mapped[str | None] = mapped_column(Text)
    resource_class: Mapped[str | None] = mapped_column(String(80))
    traits: Mapped[list] = mapped_column(JSONEncoded(list), default=list)
    candidate_nodes: Mapped[list] = mapped_column(JSONEncoded(list), default=list)
    extra: Mapped[dict] = mapped_column(JSONEncoded(), default=dict)
    conductor_affinity: Mapped[str | None] = mapped_column(String(255))


class DeployTemplate(Base):
    __tablename__ = 'deploy_templates'
    __table_args__ = (
        UniqueConstraint('uuid', name='uniq_deploytemplates0uuid'),
        UniqueConstraint('name', name='uniq_deploytemplates0name'),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36))
    name: Mapped[str] = mapped_column(String(255))
    extra: Mapped[dict] = mapped_column(JSONEncoded(), default=dict)
    # [{"interface", "step", "args", "priority"}], kept in the order given
    steps: Mapped[list] = mapped_column(JSONEncoded(list), default=list)
