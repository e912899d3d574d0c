"""tables for API resources beyond nodes and ports (portgroups, chassis, allocations, …)

Chassis, portgroups (and ports.portgroup_id), volume connectors and targets, BIOS settings,
allocations and deploy templates. Rows belonging to a node are deleted with it (ON DELETE
CASCADE).

Revision ID: c8f3d0e52a21
Revises: b7e2c9d41f10
"""
import sqlalchemy as sa
from alembic import op

revision = 'c8f3d0e52a21'
down_revision = 'b7e2c9d41f10'
branch_labels = None
depends_on = None


def _timestamps() -> list:
    return [sa.Column('created_at', sa.DateTime(), nullable=True),
            sa.Column('updated_at', sa.DateTime(), nullable=True)]


def _node_fk(nullable: bool = False) -> sa.Column:
    return sa.Column('node_id', sa.Integer(), sa.ForeignKey('nodes.id', ondelete='CASCADE'),
                     nullable=nullable)


def upgrade() -> None:
    op.create_table(
        'chassis',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('uuid', sa.String(36), nullable=False),
        sa.Column('description', sa.String(255), nullable=True),
        sa.Column('extra', sa.Text(), nullable=False),
        *_timestamps(),
        sa.UniqueConstraint('uuid', name='uniq_chassis0uuid'))
    op.create_table(
        'portgroups',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('uuid', sa.String(36), nullable=False),
        sa.Column('name', sa.String(255), nullable=True),
        _node_fk(),
        sa.Column('address', sa.String(18), nullable=True),
        sa.Column('extra', sa.Text(), nullable=False),
        sa.Column('internal_info', sa.Text(), nullable=False),
        sa.Column('standalone_ports_supported', sa.Boolean(), nullable=False),
        sa.Column('mode', sa.String(255), nullable=True),
        sa.Column('properties', sa.Text(), nullable=False),
        *_timestamps(),
        sa.UniqueConstraint('uuid', name='uniq_portgroups0uuid'),
        sa.UniqueConstraint('address', name='uniq_portgroups0address'),
        sa.UniqueConstraint('name', name='uniq_portgroups0name'),
        sa.Index('portgroups_node_id_idx', 'node_id'))
    with op.batch_alter_table('ports') as batch:
        batch.add_column(sa.Column('portgroup_id', sa.Integer(), nullable=True))
    op.create_table(
        'volume_connectors',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('uuid', sa.String(36), nullable=False),
        _node_fk(),
        sa.Column('type', sa.String(32), nullable=False),
        sa.Column('connector_id', sa.String(255), nullable=False),
        sa.Column('extra', sa.Text(), nullable=False),
        *_timestamps(),
        sa.UniqueConstraint('uuid', name='uniq_volumeconnectors0uuid'),
        sa.UniqueConstraint('type', 'connector_id',
                            name='uniq_volumeconnectors0type0connector_id'),
        sa.Index('volume_connectors_node_id_idx', 'node_id'))
    op.create_table(
        'volume_targets',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('uuid', sa.String(36), nullable=False),
        _node_fk(),
        sa.Column('volume_type', sa.String(64), nullable=False),
        sa.Column('properties', sa.Text(), nullable=False),
        sa.Column('boot_index', sa.Integer(), nullable=False),
        sa.Column('volume_id', sa.String(36), nullable=False),
        sa.Column('extra', sa.Text(), nullable=False),
        *_timestamps(),
        sa.UniqueConstraint('uuid', name='uniq_volumetargets0uuid'),
        sa.UniqueConstraint('node_id', 'boot_index',
                            name='uniq_volumetargets0node_id0boot_index'))
    op.create_table(
        'bios_settings',
        sa.Column('node_id', sa.Integer(), sa.ForeignKey('nodes.id', ondelete='CASCADE'),
                  primary_key=True),
        sa.Column('name', sa.String(255), primary_key=True),
        sa.Column('value', sa.Text(), nullable=True),
        *_timestamps())
    op.create_table(
        'allocations',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('uuid', sa.String(36), nullable=False),
        sa.Column('name', sa.String(255), nullable=True),
        _node_fk(nullable=True),
        sa.Column('state', sa.String(15), nullable=False),
        sa.Column('owner', sa.String(255), nullable=True),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.Column('resource_class', sa.String(80), nullable=True),
        sa.Column('traits', sa.Text(), nullable=False),
        sa.Column('candidate_nodes', sa.Text(), nullable=False),
        sa.Column('extra', sa.Text(), nullable=False),
        sa.Column('conductor_affinity', sa.String(255), nullable=True),
        *_timestamps(),
        sa.UniqueConstraint('uuid', name='uniq_allocations0uuid'),
        sa.UniqueConstraint('name', name='uniq_allocations0name'),
        sa.UniqueConstraint('node_id', name='uniq_allocations0node_id'))
    op.create_table(
        'deploy_templates',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('uuid', sa.String(36), nullable=False),
        sa.Column('name', sa.String(255), nullable=False),
        sa.Column('extra', sa.Text(), nullable=False),
        sa.Column('steps', sa.Text(), nullable=False),
        *_timestamps(),
        sa.UniqueConstraint('uuid', name='uniq_deploytemplates0uuid'),
        sa.UniqueConstraint('name', name='uniq_deploytemplates0name'))
