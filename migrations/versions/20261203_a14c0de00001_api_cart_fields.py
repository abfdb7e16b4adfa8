"""cart fields for the API (seed 002: period, analytics_data)

Revision ID: a14c0de00001
Revises: bfa25f2b9460
Create Date: 2026-12-03

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


# revision identifiers, used by Alembic.
revision = 'a14c0de00001'
down_revision = 'bfa25f2b9460'
branch_labels = None
depends_on = None


def upgrade():
    # Seed 002's analytics_data ([{key, value}]) as sent when the cart was made, and copied
    # onto the order placed from it.
    op.add_column('carts', sa.Column('analytics_data', postgresql.JSONB(), nullable=True))
    op.add_column('orders', sa.Column('analytics_data', postgresql.JSONB(), nullable=True))
    # Seed 002's product period ({value, unit}) chosen for a cart line: the access it buys.
    op.add_column('cart_items', sa.Column('period_value', sa.Integer(), nullable=True))
    op.add_column('cart_items', sa.Column('period_unit', sa.String(length=5), nullable=True))
    op.create_check_constraint(
        op.f('ck_cart_items_period_whole'),
        'cart_items',
        "(period_value IS NULL AND period_unit IS NULL) OR "
        "(period_value > 0 AND period_unit IN ('day', 'week', 'month', 'year'))",
    )


def downgrade():
    op.drop_constraint(op.f('ck_cart_items_period_whole'), 'cart_items', type_='check')
    op.drop_column('cart_items', 'period_unit')
    op.drop_column('cart_items', 'period_value')
    op.drop_column('orders', 'analytics_data')
    op.drop_column('carts', 'analytics_data')
