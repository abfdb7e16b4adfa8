"""media providers: a video uploaded to and processed by Mux, with its ids; part sizes in 64 bits

Revision ID: f30c2d1e0001
Revises: e20b1c0d0001
Create Date: 2026-12-02 01:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f30c2d1e0001'
down_revision = 'e20b1c0d0001'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('media_files', schema=None) as batch_op:
        # existing rows are ours (local storage and ffmpeg)
        batch_op.add_column(sa.Column('provider', sa.String(length=24), server_default='local', nullable=False))
        batch_op.add_column(sa.Column('provider_upload_id', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('provider_asset_id', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('playback_id', sa.String(length=255), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_media_files_provider_upload_id'), ['provider_upload_id'])
        batch_op.create_unique_constraint(batch_op.f('uq_media_files_provider_asset_id'), ['provider_asset_id'])
        # A Mux upload is one part as large as the file (up to MEDIA_MAX_UPLOAD_BYTES).
        batch_op.alter_column('part_size', existing_type=sa.Integer(), type_=sa.BigInteger(), existing_nullable=False)
        batch_op.alter_column('provider', server_default=None)  # the model sets it on insert
    op.create_check_constraint(
        op.f('ck_media_files_media_provider'), 'media_files', "provider IN ('local', 'mux')"
    )


def downgrade():
    op.drop_constraint(op.f('ck_media_files_media_provider'), 'media_files', type_='check')
    with op.batch_alter_table('media_files', schema=None) as batch_op:
        batch_op.alter_column('part_size', existing_type=sa.BigInteger(), type_=sa.Integer(), existing_nullable=False)
        batch_op.drop_constraint(batch_op.f('uq_media_files_provider_asset_id'), type_='unique')
        batch_op.drop_constraint(batch_op.f('uq_media_files_provider_upload_id'), type_='unique')
        batch_op.drop_column('playback_id')
        batch_op.drop_column('provider_asset_id')
        batch_op.drop_column('provider_upload_id')
        batch_op.drop_column('provider')
