"""node traits (API 1.37)

Revision ID: d9a4e1f63b32
Revises: c8f3d0e52a21
"""
import sqlalchemy as sa
from alembic import op

revision = 'd9a4e1f63b32'
down_revision = 'c8f3d0e52a21'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'node_traits',
        sa.Column('node_id', sa.Integer(), nullable=False),
        sa.Column('trait', sa.String(length=255), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=True),
        sa.Column('updated_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['node_id'], ['nodes.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('node_id', 'trait'),
    )
    op.create_index('node_traits_idx', 'node_traits', ['trait'])
