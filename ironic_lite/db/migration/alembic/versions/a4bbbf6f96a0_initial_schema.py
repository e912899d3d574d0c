"""initial schema

Revision ID: a4bbbf6f96a0
Revises: (none)
Create Date: 2026-11-21 17:00:17.767368
"""
import sqlalchemy as sa
from alembic import op

revision = 'a4bbbf6f96a0'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table('conductors',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('hostname', sa.String(length=255), nullable=False),
    sa.Column('online', sa.Boolean(), nullable=False),
    sa.Column('conductor_group', sa.String(length=255), nullable=False),
    sa.Column('drivers', sa.Text(), nullable=False),
    sa.Column('hardware_interfaces', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('hostname', name='uniq_conductors0hostname')
    )
    op.create_table('nodes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=True),
    sa.Column('driver', sa.String(length=255), nullable=False),
    sa.Column('instance_uuid', sa.String(length=36), nullable=True),
    sa.Column('chassis_id', sa.Integer(), nullable=True),
    sa.Column('power_state', sa.String(length=15), nullable=True),
    sa.Column('target_power_state', sa.String(length=15), nullable=True),
    sa.Column('provision_state', sa.String(length=15), nullable=False),
    sa.Column('target_provision_state', sa.String(length=15), nullable=True),
    sa.Column('provision_updated_at', sa.DateTime(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('maintenance', sa.Boolean(), nullable=False),
    sa.Column('maintenance_reason', sa.Text(), nullable=True),
    sa.Column('fault', sa.String(length=255), nullable=True),
    sa.Column('console_enabled', sa.Boolean(), nullable=False),
    sa.Column('reservation', sa.String(length=255), nullable=True),
    sa.Column('conductor_affinity', sa.Integer(), nullable=True),
    sa.Column('conductor_group', sa.String(length=255), nullable=False),
    sa.Column('driver_info', sa.Text(), nullable=False),
    sa.Column('driver_internal_info', sa.Text(), nullable=False),
    sa.Column('instance_info', sa.Text(), nullable=False),
    sa.Column('properties', sa.Text(), nullable=False),
    sa.Column('extra', sa.Text(), nullable=False),
    sa.Column('clean_step', sa.Text(), nullable=False),
    sa.Column('deploy_step', sa.Text(), nullable=False),
    sa.Column('raid_config', sa.Text(), nullable=False),
    sa.Column('target_raid_config', sa.Text(), nullable=False),
    sa.Column('network_data', sa.Text(), nullable=False),
    sa.Column('resource_class', sa.String(length=80), nullable=True),
    sa.Column('owner', sa.String(length=255), nullable=True),
    sa.Column('lessee', sa.String(length=255), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('automated_clean', sa.Boolean(), nullable=True),
    sa.Column('protected', sa.Boolean(), nullable=False),
    sa.Column('protected_reason', sa.Text(), nullable=True),
    sa.Column('retired', sa.Boolean(), nullable=False),
    sa.Column('retired_reason', sa.Text(), nullable=True),
    sa.Column('inspection_started_at', sa.DateTime(), nullable=True),
    sa.Column('inspection_finished_at', sa.DateTime(), nullable=True),
    sa.Column('bios_interface', sa.String(length=255), nullable=True),
    sa.Column('boot_interface', sa.String(length=255), nullable=True),
    sa.Column('console_interface', sa.String(length=255), nullable=True),
    sa.Column('deploy_interface', sa.String(length=255), nullable=True),
    sa.Column('firmware_interface', sa.String(length=255), nullable=True),
    sa.Column('inspect_interface', sa.String(length=255), nullable=True),
    sa.Column('management_interface', sa.String(length=255), nullable=True),
    sa.Column('network_interface', sa.String(length=255), nullable=True),
    sa.Column('power_interface', sa.String(length=255), nullable=True),
    sa.Column('raid_interface', sa.String(length=255), nullable=True),
    sa.Column('rescue_interface', sa.String(length=255), nullable=True),
    sa.Column('storage_interface', sa.String(length=255), nullable=True),
    sa.Column('vendor_interface', sa.String(length=255), nullable=True),
    sa.Column('intent', sa.String(length=64), nullable=True),
    sa.Column('intent_args', sa.Text(), nullable=False),
    sa.Column('intent_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('instance_uuid', name='uniq_nodes0instance_uuid'),
    sa.UniqueConstraint('name', name='uniq_nodes0name'),
    sa.UniqueConstraint('uuid', name='uniq_nodes0uuid')
    )
    with op.batch_alter_table('nodes', schema=None) as batch_op:
        batch_op.create_index('conductor_group_idx', ['conductor_group'], unique=False)
        batch_op.create_index('provision_state_idx', ['provision_state'], unique=False)
        batch_op.create_index('reservation_idx', ['reservation'], unique=False)

    op.create_table('ports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('address', sa.String(length=18), nullable=False),
    sa.Column('node_id', sa.Integer(), nullable=False),
    sa.Column('extra', sa.Text(), nullable=False),
    sa.Column('local_link_connection', sa.Text(), nullable=False),
    sa.Column('internal_info', sa.Text(), nullable=False),
    sa.Column('pxe_enabled', sa.Boolean(), nullable=False),
    sa.Column('physical_network', sa.String(length=64), nullable=True),
    sa.Column('is_smartnic', sa.Boolean(), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['node_id'], ['nodes.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('address', name='uniq_ports0address'),
    sa.UniqueConstraint('uuid', name='uniq_ports0uuid')
    )
    with op.batch_alter_table('ports', schema=None) as batch_op:
        batch_op.create_index('ports_node_id_idx', ['node_id'], unique=False)


