"""admin console: an append-only audit log, alert episodes (one open episode per rule) and
course page views per day (the funnel's first step)

Revision ID: 4fed0f441dd1
Revises: bfa737e0c4f6
Create Date: 2026-12-02 10:03:52.168350

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '4fed0f441dd1'
down_revision = 'bfa737e0c4f6'
branch_labels = None
depends_on = None

APPEND_ONLY_FUNCTION = """
CREATE FUNCTION audit_log_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$
"""


def upgrade():
    op.create_table('alert_episodes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=40), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('threshold', sa.Float(), nullable=False),
    sa.Column('first_value', sa.Float(), nullable=False),
    sa.Column('last_value', sa.Float(), nullable=False),
    sa.Column('last_checked_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('notified_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('resolved_notified_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alert_episodes'))
    )
    with op.batch_alter_table('alert_episodes', schema=None) as batch_op:
        batch_op.create_index('ix_alert_episodes_started_at', ['started_at'], unique=False)
        batch_op.create_index('uq_alert_episodes_open', ['key'], unique=True, postgresql_where=sa.text('resolved_at IS NULL'))

    op.create_table('audit_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor_email', sa.String(length=320), nullable=False),
    sa.Column('source', sa.String(length=10), nullable=False),
    sa.Column('action', sa.String(length=60), nullable=False),
    sa.Column('target_type', sa.String(length=40), nullable=False),
    sa.Column('target_id', sa.String(length=80), nullable=False),
    sa.Column('target_label', sa.String(length=200), nullable=False),
    sa.Column('before', sa.JSON(), nullable=True),
    sa.Column('after', sa.JSON(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('ip', sa.String(length=45), nullable=True),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_audit_log_actor_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log'))
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_log_action'), ['action'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_log_actor_id'), ['actor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_log_created_at'), ['created_at'], unique=False)
        batch_op.create_index('ix_audit_log_target', ['target_type', 'target_id'], unique=False)
    # Append-only: a row once written cannot be changed or removed, whoever holds the
    # connection. TRUNCATE stays possible (the browser tests empty every table after each test).
    op.execute(APPEND_ONLY_FUNCTION)
    op.execute(
        "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
        "FOR EACH ROW EXECUTE FUNCTION audit_log_refuse_change()"
    )

    op.create_table('course_view_days',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('views', sa.Integer(), nullable=False),
    sa.CheckConstraint('views >= 0', name=op.f('ck_course_view_days_views_not_negative')),
    sa.ForeignKeyConstraint(['course_id'], ['courses.id'], name=op.f('fk_course_view_days_course_id_courses'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('day', 'course_id', name=op.f('pk_course_view_days'))
    )
    with op.batch_alter_table('course_view_days', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_course_view_days_course_id'), ['course_id'], unique=False)



def downgrade():
    with op.batch_alter_table('course_view_days', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_course_view_days_course_id'))

    op.drop_table('course_view_days')
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_log_target')
        batch_op.drop_index(batch_op.f('ix_audit_log_created_at'))
        batch_op.drop_index(batch_op.f('ix_audit_log_actor_id'))
        batch_op.drop_index(batch_op.f('ix_audit_log_action'))

    op.execute("DROP TRIGGER audit_log_append_only ON audit_log")
    op.execute("DROP FUNCTION audit_log_refuse_change()")
    op.drop_table('audit_log')
    with op.batch_alter_table('alert_episodes', schema=None) as batch_op:
        batch_op.drop_index('uq_alert_episodes_open', postgresql_where=sa.text('resolved_at IS NULL'))
        batch_op.drop_index('ix_alert_episodes_started_at')

    op.drop_table('alert_episodes')
