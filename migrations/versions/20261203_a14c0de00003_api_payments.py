"""API payments and payment sessions (seed 000, 004)

Revision ID: a14c0de00003
Revises: a14c0de00002
Create Date: 2026-12-03

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a14c0de00003'
down_revision = 'a14c0de00002'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
