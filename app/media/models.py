"""Media files: an uploaded source object and what processing made of it."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Integer,
    SmallInteger,
    String,
    Text,
    Uuid,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.core.models import TimestampMixin, str_enum
from app.extensions import db


class MediaKind(StrEnum):
    VIDEO = "video"
    IMAGE = "image"
    ATTACHMENT = "attachment"


class MediaStatus(StrEnum):
    UPLOADING = "uploading"  # upload started; parts arriving straight to storage
    UPLOADED = "uploaded"  # confirmed and checked; waiting for a worker
    PROCESSING = "processing"
    READY = "ready"
    FAILED = "failed"
    ABORTED = "aborted"  # cancelled, or never confirmed (cleaned up after 24 h)

    @property
    def is_final(self) -> bool:
        return self in (MediaStatus.READY, MediaStatus.FAILED, MediaStatus.ABORTED)

    @property
    def is_busy(self) -> bool:
        """Something is still happening to it: the status partial keeps polling."""
        return self in (MediaStatus.UPLOADED, MediaStatus.PROCESSING)


class MediaProvider(StrEnum):
    LOCAL = "local"  # our storage and ffmpeg
    MUX = "mux"  # uploaded to and processed by Mux (app/media/mux.py)


class MediaFile(TimestampMixin, db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "media_files"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The id in URLs; row ids are never shown.
    token: Mapped[uuid.UUID] = mapped_column(Uuid, default=uuid.uuid4, unique=True, nullable=False)
    kind: Mapped[MediaKind] = mapped_column(str_enum(MediaKind, "media_kind"), nullable=False)
    status: Mapped[MediaStatus] = mapped_column(
        str_enum(MediaStatus, "media_status"), default=MediaStatus.UPLOADING, nullable=False
    )
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False, index=True)
    # The lecture this file was uploaded for; the lecture's current video is
    # Lecture.media_file_id (a replacement plays only once it is ready).
    lecture_id: Mapped[int | None] = mapped_column(
        ForeignKey("lectures.id", ondelete="SET NULL"), index=True
    )
    # What the uploader called it: shown, never used in a storage key.
    file_name: Mapped[str] = mapped_column(String(255), nullable=False)
    content_type: Mapped[str] = mapped_column(String(100), nullable=False)
    # Declared when the upload starts; confirming checks the stored object against it.
    size_bytes: Mapped[int] = mapped_column(BigInteger, nullable=False)
    # Random ("src/<hex>"); the source object.
    storage_key: Mapped[str] = mapped_column(String(200), unique=True, nullable=False)
    # S3's multipart UploadId, or the local backend's upload directory id.
    upload_id: Mapped[str | None] = mapped_column(String(200))
    # Big: a Mux upload is one part holding the whole file.
    part_size: Mapped[int] = mapped_column(BigInteger, nullable=False)
    provider: Mapped[MediaProvider] = mapped_column(
        str_enum(MediaProvider, "media_provider"), default=MediaProvider.LOCAL, nullable=False
    )
    # Mux's direct upload, the asset it made, and the playback id players use.
    provider_upload_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    provider_asset_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    playback_id: Mapped[str | None] = mapped_column(String(255))
    # Where processing wrote its outputs ("hls/<hex>/": master.m3u8, renditions, thumbnail).
    output_prefix: Mapped[str | None] = mapped_column(String(200))
    progress: Mapped[int] = mapped_column(SmallInteger, default=0, nullable=False)
    duration_ms: Mapped[int | None] = mapped_column(Integer)
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    # [{"name": "720p", "height": 720, "bandwidth": 2800000, "playlist": "720p/index.m3u8"}]
    renditions: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list, nullable=False)
    thumbnail_key: Mapped[str | None] = mapped_column(String(200))
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ready_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    @property
    def is_mux(self) -> bool:
        return self.provider is MediaProvider.MUX

    @property
    def can_reprocess(self) -> bool:
        """Failed with its source in our storage, so processing can run again (Mux keeps no
        source we could resend: a failed Mux video needs a new upload)."""
        return (
            self.status is MediaStatus.FAILED
            and self.confirmed_at is not None
            and self.provider is MediaProvider.LOCAL
        )

    __table_args__ = (
        CheckConstraint("progress BETWEEN 0 AND 100", name="progress_percent"),
        CheckConstraint("size_bytes >= 0", name="size_not_negative"),
    )
