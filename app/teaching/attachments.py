"""Downloadable lecture attachments (PDF, zip): checked by their first bytes, size-limited,
stored under a random key as a ready MediaFile of kind `attachment` on the lecture."""

from __future__ import annotations

import re
import unicodedata
import uuid
from dataclasses import dataclass
from pathlib import Path

from app.accounts.models import User
from app.catalog.models import Lecture
from app.core.errors import DomainError
from app.core.models import utcnow
from app.extensions import db
from app.jobs.queues import QueueName, enqueue_after_commit
from app.media.models import MediaFile, MediaKind, MediaStatus
from app.media.processing import CLEANUP_JOB
from app.media.storage import Storage

# What the file starts with decides its type, never its name or the browser's claim.
MAGIC = (
    (b"%PDF-", "application/pdf"),
    (b"PK\x03\x04", "application/zip"),
    (b"PK\x05\x06", "application/zip"),  # an empty archive
)
MAX_ATTACHMENTS = 20


class AttachmentRefused(DomainError):
    code = "attachment_refused"
    status = 422

    def __init__(self, message: str) -> None:
        super().__init__(message, field="file")


@dataclass(frozen=True)
class IncomingFile:
    """An uploaded file already spooled to disk by the web server."""

    name: str
    path: Path
    size: int


def sniff(head: bytes) -> str | None:
    """The content type the first bytes prove, or None."""
    return next((kind for magic, kind in MAGIC if head.startswith(magic)), None)


def display_name(name: str) -> str:
    """The uploader's file name as shown on the page (never part of a storage key)."""
    base = unicodedata.normalize("NFC", name.replace("\\", "/").rsplit("/", 1)[-1])
    base = re.sub(r"[\x00-\x1f\x7f]", "", base).strip()
    return base[:200] or "attachment"


def add_attachment(
    owner: User, lecture: Lecture, incoming: IncomingFile, storage: Storage, limit: int
) -> MediaFile:
    """Store a PDF or zip on the lecture, refusing anything else and anything over `limit`."""
    if incoming.size <= 0:
        raise AttachmentRefused("Choose a file to attach.")
    if incoming.size > limit:
        raise AttachmentRefused(f"Attachments are limited to {limit // (1024 * 1024)} MB.")
    with incoming.path.open("rb") as handle:
        content_type = sniff(handle.read(8))
    if content_type is None:
        raise AttachmentRefused("Attach a PDF or a zip file.")
    count = (
        db.session.query(MediaFile)
        .filter(MediaFile.lecture_id == lecture.id, MediaFile.kind == MediaKind.ATTACHMENT)
        .count()
    )
    if count >= MAX_ATTACHMENTS:
        raise AttachmentRefused(f"A lecture has at most {MAX_ATTACHMENTS} attachments.")
    key = f"att/{uuid.uuid4().hex}"
    storage.put_file(key, incoming.path, content_type)
    now = utcnow()
    media = MediaFile(
        kind=MediaKind.ATTACHMENT,
        status=MediaStatus.READY,
        owner_id=owner.id,
        lecture_id=lecture.id,
        file_name=display_name(incoming.name),
        content_type=content_type,
        size_bytes=incoming.size,
        storage_key=key,
        part_size=0,
        progress=100,
        confirmed_at=now,
        ready_at=now,
    )
    db.session.add(media)
    db.session.flush()
    return media


def delete_attachment(media: MediaFile) -> None:
    """Remove the attachment; its stored object goes once this is committed."""
    if media.kind is not MediaKind.ATTACHMENT:
        raise DomainError("That is not an attachment.", code="not_attachment")
    enqueue_after_commit(CLEANUP_JOB, media.storage_key, queue=QueueName.LOW)
    db.session.delete(media)
    db.session.flush()
