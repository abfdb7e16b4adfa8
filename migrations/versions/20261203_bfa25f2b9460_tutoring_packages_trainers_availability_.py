"""tutoring: packages, trainers, availability, purchases, allocations, sessions; package lines in carts and orders

Revision ID: bfa25f2b9460
Revises: 84c42f1cf796
Create Date: 2026-12-03 11:12:18.850355

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = 'bfa25f2b9460'
down_revision = '84c42f1cf796'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('trainers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('specialties', postgresql.ARRAY(sa.String(length=60)), nullable=False),
    sa.Column('languages', postgresql.ARRAY(sa.String(length=8)), nullable=False),
    sa.Column('gender', sa.String(length=10), nullable=True),
    sa.Column('timezone', sa.String(length=60), nullable=False),
    sa.Column('online', sa.Boolean(), nullable=False),
    sa.Column('in_person', sa.Boolean(), nullable=False),
    sa.Column('area', sa.String(length=80), nullable=True),
    sa.Column('latitude', sa.Float(), nullable=True),
    sa.Column('longitude', sa.Float(), nullable=True),
    sa.Column('max_distance_km', sa.Float(), nullable=True),
    sa.Column('capacity', sa.Integer(), nullable=False),
    sa.Column('active_students', sa.Integer(), nullable=False),
    sa.Column('accepting', sa.Boolean(), nullable=False),
    sa.Column('bio', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("gender IN ('female', 'male', 'other')", name=op.f('ck_trainers_gender_known')),
    sa.CheckConstraint('active_students >= 0 AND active_students <= capacity', name=op.f('ck_trainers_within_capacity')),
    sa.CheckConstraint('capacity >= 0', name=op.f('ck_trainers_capacity_not_negative')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_trainers_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_trainers')),
    sa.UniqueConstraint('user_id', name=op.f('uq_trainers_user_id'))
    )
    op.create_table('trainer_availability',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('trainer_id', sa.Integer(), nullable=False),
    sa.Column('weekday', sa.Integer(), nullable=False),
    sa.Column('starts', sa.Time(), nullable=False),
    sa.Column('ends', sa.Time(), nullable=False),
    sa.CheckConstraint('ends > starts', name=op.f('ck_trainer_availability_ends_after_start')),
    sa.CheckConstraint('weekday BETWEEN 1 AND 7', name=op.f('ck_trainer_availability_weekday_iso')),
    sa.ForeignKeyConstraint(['trainer_id'], ['trainers.id'], name=op.f('fk_trainer_availability_trainer_id_trainers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_trainer_availability'))
    )
    with op.batch_alter_table('trainer_availability', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_trainer_availability_trainer_id'), ['trainer_id'], unique=False)

    op.create_table('trainer_time_off',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('trainer_id', sa.Integer(), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.CheckConstraint('ends_at > starts_at', name=op.f('ck_trainer_time_off_ends_after_start')),
    sa.ForeignKeyConstraint(['trainer_id'], ['trainers.id'], name=op.f('fk_trainer_time_off_trainer_id_trainers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_trainer_time_off'))
    )
    with op.batch_alter_table('trainer_time_off', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_trainer_time_off_trainer_id'), ['trainer_id'], unique=False)

    op.create_table('tutoring_packages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('sessions', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.CheckConstraint('sessions IN (10, 20, 30)', name=op.f('ck_tutoring_packages_sessions_tier')),
    sa.ForeignKeyConstraint(['course_id'], ['courses.id'], name=op.f('fk_tutoring_packages_course_id_courses'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tutoring_packages')),
    sa.UniqueConstraint('course_id', 'sessions', name=op.f('uq_tutoring_packages_course_id_sessions'))
    )
    with op.batch_alter_table('tutoring_packages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tutoring_packages_course_id'), ['course_id'], unique=False)

    op.create_table('tutoring_package_prices',
    sa.Column('package_id', sa.Integer(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('amount_minor', sa.Integer(), nullable=False),
    sa.CheckConstraint('amount_minor > 0', name=op.f('ck_tutoring_package_prices_amount_positive')),
    sa.ForeignKeyConstraint(['package_id'], ['tutoring_packages.id'], name=op.f('fk_tutoring_package_prices_package_id_tutoring_packages'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('package_id', 'currency', name=op.f('pk_tutoring_package_prices'))
    )
    op.create_table('tutoring_purchases',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=80), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('package_id', sa.Integer(), nullable=True),
    sa.Column('tier', sa.Integer(), nullable=False),
    sa.Column('details', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('mode', sa.Enum('online', 'in_person', name='tutoring_mode', native_enum=False, create_constraint=True, length=24), nullable=False),
    sa.Column('source', sa.Enum('purchase', 'admin', name='purchase_source', native_enum=False, create_constraint=True, length=24), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=True),
    sa.Column('order_item_id', sa.Integer(), nullable=True),
    sa.Column('purchased_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('ended_reason', sa.String(length=200), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('tier IN (10, 20, 30)', name=op.f('ck_tutoring_purchases_tier_known')),
    sa.ForeignKeyConstraint(['course_id'], ['courses.id'], name=op.f('fk_tutoring_purchases_course_id_courses')),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_tutoring_purchases_order_id_orders')),
    sa.ForeignKeyConstraint(['order_item_id'], ['order_items.id'], name=op.f('fk_tutoring_purchases_order_item_id_order_items')),
    sa.ForeignKeyConstraint(['package_id'], ['tutoring_packages.id'], name=op.f('fk_tutoring_purchases_package_id_tutoring_packages'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_tutoring_purchases_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tutoring_purchases')),
    sa.UniqueConstraint('key', name=op.f('uq_tutoring_purchases_key')),
    sa.UniqueConstraint('order_item_id', name=op.f('uq_tutoring_purchases_order_item_id'))
    )
    with op.batch_alter_table('tutoring_purchases', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tutoring_purchases_course_id'), ['course_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_tutoring_purchases_order_id'), ['order_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_tutoring_purchases_user_id'), ['user_id'], unique=False)

    op.create_table('trainer_allocations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('purchase_id', sa.Integer(), nullable=False),
    sa.Column('trainer_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.Enum('approved', 'pending', 'rejected', name='allocation_status', native_enum=False, create_constraint=True, length=24), nullable=False),
    sa.Column('score', sa.Float(), nullable=True),
    sa.Column('reasons', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('candidates', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('note', sa.String(length=300), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_trainer_allocations_decided_by_id_users')),
    sa.ForeignKeyConstraint(['purchase_id'], ['tutoring_purchases.id'], name=op.f('fk_trainer_allocations_purchase_id_tutoring_purchases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['trainer_id'], ['trainers.id'], name=op.f('fk_trainer_allocations_trainer_id_trainers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_trainer_allocations'))
    )
    with op.batch_alter_table('trainer_allocations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_trainer_allocations_purchase_id'), ['purchase_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_trainer_allocations_trainer_id'), ['trainer_id'], unique=False)
        batch_op.create_index('uq_trainer_allocations_one_approved', ['purchase_id'], unique=True, postgresql_where=sa.text("status = 'approved'"))

    op.create_table('tutoring_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('purchase_id', sa.Integer(), nullable=False),
    sa.Column('trainer_id', sa.Integer(), nullable=True),
    sa.Column('student_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('duration_min', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('scheduled', 'done', 'no_show', 'canceled', 'pending_reassignment', name='tutoring_session_status', native_enum=False, create_constraint=True, length=24), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('marked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('duration_min IN (45, 60, 90)', name=op.f('ck_tutoring_sessions_duration_known')),
    sa.ForeignKeyConstraint(['purchase_id'], ['tutoring_purchases.id'], name=op.f('fk_tutoring_sessions_purchase_id_tutoring_purchases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['student_id'], ['users.id'], name=op.f('fk_tutoring_sessions_student_id_users')),
    sa.ForeignKeyConstraint(['trainer_id'], ['trainers.id'], name=op.f('fk_tutoring_sessions_trainer_id_trainers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tutoring_sessions')),
    sa.UniqueConstraint('purchase_id', 'number', name=op.f('uq_tutoring_sessions_purchase_id_number'))
    )
    with op.batch_alter_table('tutoring_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tutoring_sessions_purchase_id'), ['purchase_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_tutoring_sessions_student_id'), ['student_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_tutoring_sessions_trainer_id'), ['trainer_id'], unique=False)
        batch_op.create_index('ix_tutoring_sessions_trainer_starts', ['trainer_id', 'starts_at'], unique=False)

    with op.batch_alter_table('cart_items', schema=None) as batch_op:
        batch_op.add_column(sa.Column('package_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('details', postgresql.JSONB(astext_type=sa.Text()), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_cart_items_package_id_tutoring_packages'), 'tutoring_packages', ['package_id'], ['id'], ondelete='CASCADE')

    with op.batch_alter_table('order_items', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sessions', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('package_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('details', postgresql.JSONB(astext_type=sa.Text()), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_order_items_package_id_tutoring_packages'), 'tutoring_packages', ['package_id'], ['id'], ondelete='SET NULL')
        batch_op.create_check_constraint(batch_op.f('ck_order_items_sessions_tier'), 'sessions IS NULL OR sessions IN (10, 20, 30)')



def downgrade():
    with op.batch_alter_table('order_items', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_order_items_sessions_tier'), type_='check')
        batch_op.drop_constraint(batch_op.f('fk_order_items_package_id_tutoring_packages'), type_='foreignkey')
        batch_op.drop_column('details')
        batch_op.drop_column('package_id')
        batch_op.drop_column('sessions')

    with op.batch_alter_table('cart_items', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_cart_items_package_id_tutoring_packages'), type_='foreignkey')
        batch_op.drop_column('details')
        batch_op.drop_column('package_id')

    with op.batch_alter_table('tutoring_sessions', schema=None) as batch_op:
        batch_op.drop_index('ix_tutoring_sessions_trainer_starts')
        batch_op.drop_index(batch_op.f('ix_tutoring_sessions_trainer_id'))
        batch_op.drop_index(batch_op.f('ix_tutoring_sessions_student_id'))
        batch_op.drop_index(batch_op.f('ix_tutoring_sessions_purchase_id'))

    op.drop_table('tutoring_sessions')
    with op.batch_alter_table('trainer_allocations', schema=None) as batch_op:
        batch_op.drop_index('uq_trainer_allocations_one_approved', postgresql_where=sa.text("status = 'approved'"))
        batch_op.drop_index(batch_op.f('ix_trainer_allocations_trainer_id'))
        batch_op.drop_index(batch_op.f('ix_trainer_allocations_purchase_id'))

    op.drop_table('trainer_allocations')
    with op.batch_alter_table('tutoring_purchases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tutoring_purchases_user_id'))
        batch_op.drop_index(batch_op.f('ix_tutoring_purchases_order_id'))
        batch_op.drop_index(batch_op.f('ix_tutoring_purchases_course_id'))

    op.drop_table('tutoring_purchases')
    op.drop_table('tutoring_package_prices')
    with op.batch_alter_table('tutoring_packages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tutoring_packages_course_id'))

    op.drop_table('tutoring_packages')
    with op.batch_alter_table('trainer_time_off', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_trainer_time_off_trainer_id'))

    op.drop_table('trainer_time_off')
    with op.batch_alter_table('trainer_availability', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_trainer_availability_trainer_id'))

    op.drop_table('trainer_availability')
    op.drop_table('trainers')
