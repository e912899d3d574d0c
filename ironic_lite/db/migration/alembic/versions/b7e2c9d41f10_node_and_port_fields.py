"""node and port fields up to the declared API microversion

Every node and port column up to API 1.68 already exists in the initial schema (owner, lessee,
description, protected, retired, network_data, is_smartnic, …); what the list filters of
``GET /v1/nodes`` need are indexes, so that ``driver=``, ``owner=``, ``lessee=`` and
``resource_class=`` never scan the whole table.

Revision ID: b7e2c9d41f10
Revises: a4bbbf6f96a0
"""
from alembic import op

revision = 'b7e2c9d41f10'
down_revision = 'a4bbbf6f96a0'
branch_labels = None
depends_on = None

_INDEXES = (('driver_idx', 'driver'), ('owner_idx', 'owner'), ('lessee_idx', 'lessee'),
            ('resource_class_idx', 'resource_class'))


def upgrade() -> None:
    with op.batch_alter_table('nodes', schema=None) as batch_op:
        for name, column in _INDEXES:
            batch_op.create_index(name, [column], unique=False)
