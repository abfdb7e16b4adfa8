"""lecture descriptions: Markdown and its sanitised HTML, written together by the studio

Revision ID: e20b1c0d0001
Revises: d10a0e1a0001
Create Date: 2026-12-02 02:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e20b1c0d0001'
down_revision = 'd10a0e1a0001'
branch_labels = None
depends_on = None


def upgrade():
    # server defaults: existing rows get an empty description without a rewrite of the table
    op.add_column('lectures', sa.Column('description_md', sa.Text(), server_default='', nullable=False))
    op.add_column('lectures', sa.Column('description_html', sa.Text(), server_default='', nullable=False))


def downgrade():
    op.drop_column('lectures', 'description_html')
    op.drop_column('lectures', 'description_md')
