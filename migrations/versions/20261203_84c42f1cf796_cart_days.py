"""cart_days: carts the idle cleanup deleted, per day they were created (the funnel counts them)

Revision ID: 84c42f1cf796
Revises: 4fed0f441dd1
Create Date: 2026-12-03 10:47:11.764528

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '84c42f1cf796'
down_revision = '4fed0f441dd1'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('cart_days',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('deleted', sa.Integer(), nullable=False),
    sa.CheckConstraint('deleted >= 0', name=op.f('ck_cart_days_deleted_not_negative')),
    sa.PrimaryKeyConstraint('day', name=op.f('pk_cart_days'))
    )


def downgrade():
    op.drop_table('cart_days')
