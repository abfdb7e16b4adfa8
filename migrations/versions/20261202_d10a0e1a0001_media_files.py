"""media files: uploaded sources and what processing made of them; a lecture's video

Revision ID: d10a0e1a0001
Revises: c7a1e5d00006
Create Date: 2026-12-02 01:00:00

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


# revision identifiers, used by Alembic.
revision = 'd10a0e1a0001'
down_revision = 'c7a1e5d00006'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('media_files',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token', sa.Uuid(), nullable=False),
    sa.Column('kind', sa.Enum('video', 'image', 'attachment', name='media_kind', native_enum=False, create_constraint=True, length=24), nullable=False),
    sa.Column('status', sa.Enum('uploading', 'uploaded', 'processing', 'ready', 'failed', 'aborted', name='media_status', native_enum=False, create_constraint=True, length=24), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('lecture_id', sa.Integer(), nullable=True),
    sa.Column('file_name', sa.String(length=255), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('size_bytes', sa.BigInteger(), nullable=False),
    sa.Column('storage_key', sa.String(length=200), nullable=False),
    sa.Column('upload_id', sa.String(length=200), nullable=True),
    sa.Column('part_size', sa.Integer(), nullable=False),
    sa.Column('output_prefix', sa.String(length=200), nullable=True),
    sa.Column('progress', sa.SmallInteger(), nullable=False),
    sa.Column('duration_ms', sa.Integer(), nullable=True),
    sa.Column('width', sa.Integer(), nullable=True),
    sa.Column('height', sa.Integer(), nullable=True),
    sa.Column('renditions', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('thumbnail_key', sa.String(length=200), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ready_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('progress BETWEEN 0 AND 100', name=op.f('ck_media_files_progress_percent')),
    sa.CheckConstraint('size_bytes >= 0', name=op.f('ck_media_files_size_not_negative')),
    sa.ForeignKeyConstraint(['lecture_id'], ['lectures.id'], name=op.f('fk_media_files_lecture_id_lectures'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_media_files_owner_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_media_files')),
    sa.UniqueConstraint('storage_key', name=op.f('uq_media_files_storage_key')),
    sa.UniqueConstraint('token', name=op.f('uq_media_files_token'))
    )
    with op.batch_alter_table('media_files', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_media_files_lecture_id'), ['lecture_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_media_files_owner_id'), ['owner_id'], unique=False)

    # The lecture's current video; a replacement is a new media file that takes over when ready.
    with op.batch_alter_table('lectures', schema=None) as batch_op:
        batch_op.add_column(sa.Column('media_file_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_lectures_media_file_id'), ['media_file_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_lectures_media_file_id_media_files'), 'media_files', ['media_file_id'], ['id'], ondelete='SET NULL')


def downgrade():
    with op.batch_alter_table('lectures', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_lectures_media_file_id_media_files'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_lectures_media_file_id'))
        batch_op.drop_column('media_file_id')

    with op.batch_alter_table('media_files', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_media_files_owner_id'))
        batch_op.drop_index(batch_op.f('ix_media_files_lecture_id'))

    op.drop_table('media_files')
