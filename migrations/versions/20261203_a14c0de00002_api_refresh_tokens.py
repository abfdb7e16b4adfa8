"""API refresh tokens (rotation, families)

Revision ID: a14c0de00002
Revises: a14c0de00001
Create Date: 2026-12-03

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a14c0de00002'
down_revision = 'a14c0de00001'
branch_labels = None
depends_on = None


def upgrade():
    # Every existing login is a browser's.
    op.add_column(
        "login_sessions",
        sa.Column("kind", sa.String(length=10), server_default="web", nullable=False),
    )
    op.create_table(
        "refresh_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("login_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["login_id"],
            ["login_sessions.id"],
            name=op.f("fk_refresh_tokens_login_id_login_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refresh_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_refresh_tokens_token_hash")),
    )
    op.create_index(
        op.f("ix_refresh_tokens_login_id"), "refresh_tokens", ["login_id"], unique=False
    )


def downgrade():
    op.drop_index(op.f("ix_refresh_tokens_login_id"), table_name="refresh_tokens")
    op.drop_table("refresh_tokens")
    op.drop_column("login_sessions", "kind")
