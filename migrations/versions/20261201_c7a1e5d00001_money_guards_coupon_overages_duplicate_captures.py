"""money guards coupon overages duplicate captures

Orders remember the cart they came from (one open order per cart); payments can be flagged
(charged twice) and refunded by the shop itself; coupon uses honoured past their limit are
recorded as coupon events and counted in the daily report.

Revision ID: c7a1e5d00001
Revises: 133e499e02e2
Create Date: 2026-12-01 19:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c7a1e5d00001'
down_revision = '133e499e02e2'
branch_labels = None
depends_on = None

OLD_SOURCES = "'admin', 'student', 'provider'"
NEW_SOURCES = "'admin', 'student', 'provider', 'duplicate'"


def upgrade():
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cart_token', sa.String(length=36), nullable=True))
        batch_op.create_index(batch_op.f('ix_orders_cart_token'), ['cart_token'], unique=False)

    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('flag', sa.String(length=24), nullable=True))
        batch_op.add_column(sa.Column('flagged_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('flag_reason', sa.Text(), nullable=True))
        batch_op.create_index(batch_op.f('ix_payments_flag'), ['flag'], unique=False)
    op.create_check_constraint(
        op.f('ck_payments_payment_flag'), 'payments', "flag IN ('duplicate')"
    )

    op.drop_constraint(op.f('ck_refunds_refund_source'), 'refunds', type_='check')
    op.create_check_constraint(
        op.f('ck_refunds_refund_source'), 'refunds', f"source IN ({NEW_SOURCES})"
    )

    with op.batch_alter_table('daily_reports', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('coupon_overages', sa.Integer(), nullable=False, server_default='0')
        )
        batch_op.alter_column('coupon_overages', server_default=None)

    op.create_table('coupon_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('coupon_id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('overage', 'user_overage', name='coupon_event_kind', native_enum=False, create_constraint=True, length=24), nullable=False),
    sa.Column('uses_before', sa.Integer(), nullable=False),
    sa.Column('use_limit', sa.Integer(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['coupon_id'], ['coupons.id'], name=op.f('fk_coupon_events_coupon_id_coupons')),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_coupon_events_order_id_orders')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_coupon_events_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_coupon_events')),
    sa.UniqueConstraint('order_id', 'kind', name=op.f('uq_coupon_events_order_id_kind'))
    )
    with op.batch_alter_table('coupon_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_coupon_events_coupon_id'), ['coupon_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_coupon_events_created_at'), ['created_at'], unique=False)


def downgrade():
    with op.batch_alter_table('coupon_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_coupon_events_created_at'))
        batch_op.drop_index(batch_op.f('ix_coupon_events_coupon_id'))
    op.drop_table('coupon_events')

    with op.batch_alter_table('daily_reports', schema=None) as batch_op:
        batch_op.drop_column('coupon_overages')

    # Refunds the shop made itself read as admin refunds once the source is gone.
    op.execute("UPDATE refunds SET source = 'admin' WHERE source = 'duplicate'")
    op.drop_constraint(op.f('ck_refunds_refund_source'), 'refunds', type_='check')
    op.create_check_constraint(
        op.f('ck_refunds_refund_source'), 'refunds', f"source IN ({OLD_SOURCES})"
    )

    op.drop_constraint(op.f('ck_payments_payment_flag'), 'payments', type_='check')
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payments_flag'))
        batch_op.drop_column('flag_reason')
        batch_op.drop_column('flagged_at')
        batch_op.drop_column('flag')

    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_orders_cart_token'))
        batch_op.drop_column('cart_token')
