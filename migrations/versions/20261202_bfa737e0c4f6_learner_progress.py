"""learner progress: what each student watched of each lecture, certificates, invoice numbers
and credit notes, buyers' tax details, and access periods on prices and order lines

Revision ID: bfa737e0c4f6
Revises: f30c2d1e0001
Create Date: 2026-12-02 05:54:20.635915

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'bfa737e0c4f6'
down_revision = 'f30c2d1e0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('invoice_counters',
    sa.Column('series', sa.String(length=40), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('last_number', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('series', 'year', name=op.f('pk_invoice_counters'))
    )
    op.create_table('credit_notes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=40), nullable=False),
    sa.Column('amount_minor', sa.Integer(), nullable=False),
    sa.Column('tax_minor', sa.Integer(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('lines', sa.JSON(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('amount_minor > 0', name=op.f('ck_credit_notes_amount_positive')),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_credit_notes_order_id_orders'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_notes')),
    sa.UniqueConstraint('number', name=op.f('uq_credit_notes_number'))
    )
    with op.batch_alter_table('credit_notes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_credit_notes_order_id'), ['order_id'], unique=False)

    op.create_table('certificates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=24), nullable=False),
    sa.Column('enrollment_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('student_name', sa.String(length=200), nullable=False),
    sa.Column('course_title', sa.String(length=200), nullable=False),
    sa.Column('teacher_name', sa.String(length=200), nullable=False),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('storage_key', sa.String(length=300), nullable=True),
    sa.Column('rendered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_reason', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['course_id'], ['courses.id'], name=op.f('fk_certificates_course_id_courses')),
    sa.ForeignKeyConstraint(['enrollment_id'], ['enrollments.id'], name=op.f('fk_certificates_enrollment_id_enrollments'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_certificates_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_certificates')),
    sa.UniqueConstraint('code', name=op.f('uq_certificates_code')),
    sa.UniqueConstraint('enrollment_id', name=op.f('uq_certificates_enrollment_id'))
    )
    with op.batch_alter_table('certificates', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_certificates_user_id'), ['user_id'], unique=False)

    op.create_table('lecture_progress',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('enrollment_id', sa.Integer(), nullable=False),
    sa.Column('lecture_id', sa.Integer(), nullable=False),
    sa.Column('position_s', sa.Integer(), nullable=False),
    sa.Column('watched_s', sa.Integer(), nullable=False),
    sa.Column('last_credit_s', sa.Integer(), nullable=False),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_heartbeat_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('position_s >= 0 AND watched_s >= 0', name=op.f('ck_lecture_progress_not_negative')),
    sa.ForeignKeyConstraint(['enrollment_id'], ['enrollments.id'], name=op.f('fk_lecture_progress_enrollment_id_enrollments'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['lecture_id'], ['lectures.id'], name=op.f('fk_lecture_progress_lecture_id_lectures'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lecture_progress')),
    sa.UniqueConstraint('enrollment_id', 'lecture_id', name=op.f('uq_lecture_progress_enrollment_id_lecture_id'))
    )
    with op.batch_alter_table('lecture_progress', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lecture_progress_lecture_id'), ['lecture_id'], unique=False)

    with op.batch_alter_table('course_prices', schema=None) as batch_op:
        batch_op.add_column(sa.Column('access_period_value', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('access_period_unit', sa.String(length=5), nullable=True))
        batch_op.create_check_constraint(
            'access_period_whole',
            "(access_period_value IS NULL AND access_period_unit IS NULL) OR "
            "(access_period_value > 0 AND access_period_unit IN ('day', 'week', 'month', 'year'))",
        )

    with op.batch_alter_table('enrollments', schema=None) as batch_op:
        batch_op.create_check_constraint('progress_range', 'progress BETWEEN 0 AND 100')
        batch_op.add_column(sa.Column('current_lecture_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('completed_lectures', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('total_time_spent_s', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('streak_days', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('last_active_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('last_accessed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index('ix_enrollments_expires_at_open', ['expires_at'], unique=False, postgresql_where=sa.text("expires_at IS NOT NULL AND status IN ('active', 'completed')"))
        batch_op.create_foreign_key(batch_op.f('fk_enrollments_current_lecture_id_lectures'), 'lectures', ['current_lecture_id'], ['id'], ondelete='SET NULL')

    with op.batch_alter_table('order_items', schema=None) as batch_op:
        batch_op.add_column(sa.Column('access_period_value', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('access_period_unit', sa.String(length=5), nullable=True))

    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('buyer_name', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('buyer_tax_id', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('buyer_region', sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column('invoice_number', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('invoiced_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_orders_invoice_number'), ['invoice_number'])



def downgrade():
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_orders_invoice_number'), type_='unique')
        batch_op.drop_column('invoiced_at')
        batch_op.drop_column('invoice_number')
        batch_op.drop_column('buyer_region')
        batch_op.drop_column('buyer_tax_id')
        batch_op.drop_column('buyer_name')

    with op.batch_alter_table('order_items', schema=None) as batch_op:
        batch_op.drop_column('access_period_unit')
        batch_op.drop_column('access_period_value')

    with op.batch_alter_table('enrollments', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_enrollments_progress_range'), type_='check')
        batch_op.drop_constraint(batch_op.f('fk_enrollments_current_lecture_id_lectures'), type_='foreignkey')
        batch_op.drop_index('ix_enrollments_expires_at_open', postgresql_where=sa.text("expires_at IS NOT NULL AND status IN ('active', 'completed')"))
        batch_op.drop_column('last_accessed_at')
        batch_op.drop_column('last_active_on')
        batch_op.drop_column('streak_days')
        batch_op.drop_column('total_time_spent_s')
        batch_op.drop_column('completed_lectures')
        batch_op.drop_column('current_lecture_id')

    with op.batch_alter_table('course_prices', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_course_prices_access_period_whole'), type_='check')
        batch_op.drop_column('access_period_unit')
        batch_op.drop_column('access_period_value')

    with op.batch_alter_table('lecture_progress', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lecture_progress_lecture_id'))

    op.drop_table('lecture_progress')
    with op.batch_alter_table('certificates', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_certificates_user_id'))

    op.drop_table('certificates')
    with op.batch_alter_table('credit_notes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_credit_notes_order_id'))

    op.drop_table('credit_notes')
    op.drop_table('invoice_counters')
