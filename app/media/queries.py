"""Media reads: a lecture's video as the studio shows it, and uploads by their public token."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import and_, or_, select

from app.catalog.models import Lecture
from app.extensions import db
from app.media.models import MediaFile, MediaKind, MediaStatus
from app.media.storage import get_storage

# An upload the teacher is still dealing with: unfinished, being processed, or failed.
PENDING = (MediaStatus.UPLOADING, MediaStatus.UPLOADED, MediaStatus.PROCESSING, MediaStatus.FAILED)


@dataclass(frozen=True)
class LectureVideo:
    """The video a lecture plays now (`current`, ready) and the newest upload for it that is not
    ready yet (`pending`: uploading, queued, processing or failed), each None when there is none.
    A pending upload older than the current video is left out: it was overtaken."""

    lecture_id: int
    current: MediaFile | None = None
    pending: MediaFile | None = None

    @property
    def shown(self) -> MediaFile | None:
        """The file whose state the studio reports: the pending upload first."""
        return self.pending or self.current

    @property
    def is_empty(self) -> bool:
        return self.shown is None

    @property
    def is_uploading(self) -> bool:
        """An upload was started and not confirmed (the browser may resume it)."""
        return self.pending is not None and self.pending.status is MediaStatus.UPLOADING

    @property
    def is_busy(self) -> bool:
        """Queued or processing: the status partial keeps polling."""
        return self.pending is not None and self.pending.status.is_busy

    @property
    def is_failed(self) -> bool:
        return self.pending is not None and self.pending.status is MediaStatus.FAILED

    @property
    def can_retry(self) -> bool:
        """Failed after a confirmed upload, so the source is stored and can be processed again
        (a file refused as not a video was deleted: it needs a new upload)."""
        return self.is_failed and self.pending is not None and self.pending.can_reprocess

    @property
    def is_ready(self) -> bool:
        return self.current is not None

    @property
    def can_upload(self) -> bool:
        """A new upload may start: nothing is queued or processing for the lecture."""
        return not self.is_busy

    @property
    def status(self) -> str:
        """The status the status endpoint reports: the shown file's, or "none"."""
        shown = self.shown
        return shown.status.value if shown is not None else "none"

    @property
    def progress(self) -> int:
        shown = self.shown
        if shown is None:
            return 0
        return 100 if shown.status is MediaStatus.READY else int(shown.progress)

    @property
    def duration_s(self) -> int | None:
        if self.current is None or self.current.duration_ms is None:
            return None
        return round(self.current.duration_ms / 1000)

    def thumbnail_url(self) -> str | None:
        """A short-lived signed URL of the current video's thumbnail (None without one)."""
        current, expires = self.current, current_app.config["MEDIA_SIGNED_URL_SECONDS"]
        if current is not None and current.is_mux and current.playback_id:
            from app.media import mux  # only where Mux processes the videos

            return mux.thumbnail_url(current.playback_id, expires)
        key = current.thumbnail_key if current is not None else None
        if not key:
            return None
        return get_storage().signed_url(key, expires, "image/jpeg")


def lecture_video(lecture_id: int) -> LectureVideo:
    """The lecture's current and pending video (one query)."""
    return list_lecture_videos([lecture_id])[lecture_id]


def list_lecture_videos(lecture_ids: Iterable[int]) -> dict[int, LectureVideo]:
    """`lecture_video` for many lectures at once (a curriculum's rows), in one query; every
    id asked for is in the answer, lectures without any video too."""
    ids = sorted(set(lecture_ids))
    if not ids:
        return {}
    statement = (
        select(Lecture.id, MediaFile)
        .join(
            MediaFile,
            or_(
                MediaFile.id == Lecture.media_file_id,
                and_(MediaFile.lecture_id == Lecture.id, MediaFile.status.in_(PENDING)),
            ),
        )
        .where(Lecture.id.in_(ids), MediaFile.kind == MediaKind.VIDEO)
        .order_by(Lecture.id, MediaFile.id.desc())
    )
    current: dict[int, MediaFile] = {}
    pending: dict[int, MediaFile] = {}
    for lecture_id, media in db.session.execute(statement):
        if media.status is MediaStatus.READY:
            current[lecture_id] = media
        elif media.status in PENDING:
            pending.setdefault(lecture_id, media)  # newest first: the first one seen
    videos = {}
    for lecture_id in ids:
        now, waiting = current.get(lecture_id), pending.get(lecture_id)
        if now is not None and waiting is not None and waiting.id < now.id:
            waiting = None
        videos[lecture_id] = LectureVideo(lecture_id, now, waiting)
    return videos


def get_media_by_token(token: uuid.UUID) -> MediaFile | None:
    """A media file by its public token (callers check who may see it)."""
    return db.session.execute(
        select(MediaFile).where(MediaFile.token == token)
    ).scalar_one_or_none()


def list_attachments(lecture_id: int) -> list[MediaFile]:
    """The lecture's downloadable files, oldest first."""
    return list(
        db.session.scalars(
            select(MediaFile)
            .where(MediaFile.lecture_id == lecture_id, MediaFile.kind == MediaKind.ATTACHMENT)
            .order_by(MediaFile.created_at, MediaFile.id)
        )
    )


def get_attachment(lecture_id: int, token: uuid.UUID) -> MediaFile | None:
    """One of the lecture's attachments by its token (None for anything else)."""
    return db.session.scalars(
        select(MediaFile).where(
            MediaFile.token == token,
            MediaFile.lecture_id == lecture_id,
            MediaFile.kind == MediaKind.ATTACHMENT,
        )
    ).one_or_none()
