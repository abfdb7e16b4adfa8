"""password reset email verification notification tokens

Revision ID: c7a1e5d00004
Revises: c7a1e5d00003
Create Date: 2026-12-01 20:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c7a1e5d00004'
down_revision = 'c7a1e5d00003'
branch_labels = None
depends_on = None


def upgrade():
    # Set by following a mailed link (issue 8, item 8). Existing accounts start unverified: no
    # address was ever proven, so they get the banner and its "resend" button like new ones.
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('email_verified_at', sa.DateTime(timezone=True), nullable=True))

    # Mark-read URLs name a notification by a random token, never its id (issue 8, item 9).
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('token', sa.String(length=36), nullable=True))
    op.execute("UPDATE notifications SET token = gen_random_uuid()::text")
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.alter_column('token', existing_type=sa.String(length=36), nullable=False)
        batch_op.create_unique_constraint(batch_op.f('uq_notifications_token'), ['token'])
        batch_op.create_index(
            'ix_notifications_user_id_unread',
            ['user_id'],
            unique=False,
            postgresql_where=sa.text('read_at IS NULL'),
        )


def downgrade():
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_index('ix_notifications_user_id_unread', postgresql_where=sa.text('read_at IS NULL'))
        batch_op.drop_constraint(batch_op.f('uq_notifications_token'), type_='unique')
        batch_op.drop_column('token')

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('email_verified_at')
