"""Video uploads straight to storage (seed 000 flow 3, steps 1-4): start, part URLs, resume,
confirm, cancel, and the cleanup of uploads never confirmed. Services: they never commit.

The browser PUTs each part to a URL from here (S3 presigned, or app-signed for local storage),
so no video passes through a web worker's memory. Ownership is checked by the callers.
"""

from __future__ import annotations

import logging
import math
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import PurePosixPath

from flask import current_app
from sqlalchemy import select

from app.core.models import utcnow
from app.extensions import db
from app.media import mux, mux_uploads, processing
from app.media.errors import UploadGone, UploadRefused
from app.media.models import MediaFile, MediaKind, MediaProvider, MediaStatus
from app.media.storage import NoSuchUpload, Storage, StorageError, StoredPart, get_storage

log = logging.getLogger(__name__)

MIB = 1 << 20
BASE_PART_SIZE = 8 * MIB  # S3's minimum is 5 MiB for every part but the last
MAX_PARTS = 10_000  # S3's limit per multipart upload
FIRST_BATCH = 20  # part URLs handed out with the ticket; the client asks for more as it goes
MAX_URLS_AT_ONCE = 1000
HEAD_BYTES = 64
# Accepted by their declared type and by their extension (both must say video).
TYPE_BY_EXTENSION = {
    ".mp4": "video/mp4",
    ".mov": "video/quicktime",
    ".webm": "video/webm",
    ".mkv": "video/x-matroska",
}
# What browsers send for a file they cannot name (Chrome for .mkv): the extension decides.
GENERIC_TYPES = frozenset({"", "application/octet-stream"})
EBML = b"\x1a\x45\xdf\xa3"  # WebM and Matroska


@dataclass(frozen=True)
class PartUrl:
    number: int
    size: int  # exactly this many bytes go to this URL
    url: str


@dataclass(frozen=True)
class UploadTicket:
    media: MediaFile
    part_size: int
    part_count: int
    parts: list[PartUrl]  # the first batch; more from part_urls()
    expires_in_s: int

    @property
    def token(self) -> uuid.UUID:
        return self.media.token


# -- sizes ------------------------------------------------------------------------------------
def part_size_for(file_size: int) -> int:
    """8 MiB, or larger (whole MiB) so that no upload needs more than 10,000 parts."""
    return max(BASE_PART_SIZE, math.ceil(file_size / MAX_PARTS / MIB) * MIB)


def part_count(media: MediaFile) -> int:
    return max(1, math.ceil(media.size_bytes / media.part_size))


def part_length(media: MediaFile, number: int) -> int:
    """The exact size of part `number` (the last one holds the rest)."""
    return min(media.part_size, media.size_bytes - (number - 1) * media.part_size)


# -- starting -----------------------------------------------------------------------------------
def start_video_upload(
    owner_id: int, lecture_id: int | None, file_name: str, file_size: int, content_type: str
) -> UploadTicket:
    """Check the declared file, begin a multipart upload under a random key and add its row."""
    name = _clean_name(file_name)
    kind = _video_type(name, content_type)
    _check_size(file_size)
    if mux.is_configured():
        return _start_mux_upload(owner_id, lecture_id, name, file_size, kind)
    media = new_video_row(owner_id, lecture_id, name, kind)
    media.size_bytes, media.part_size = file_size, part_size_for(file_size)
    begin_storage_upload(media)
    count = part_count(media)
    return UploadTicket(
        media=media,
        part_size=media.part_size,
        part_count=count,
        parts=part_urls(media, range(1, min(count, FIRST_BATCH) + 1)),
        expires_in_s=current_app.config["MEDIA_UPLOAD_URL_SECONDS"],
    )


def begin_storage_upload(media: MediaFile) -> MediaFile:
    """Begin the (unsaved) upload row's multipart upload under a random key in our storage."""
    media.storage_key = f"src/{uuid.uuid4().hex}"
    media.upload_id = get_storage().start_upload(media.storage_key, media.content_type)
    db.session.add(media)
    db.session.flush()
    return media


def new_video_row(owner_id: int, lecture_id: int | None, name: str, kind: str) -> MediaFile:
    """A video upload row before its storage upload begins."""
    return MediaFile(
        kind=MediaKind.VIDEO,
        status=MediaStatus.UPLOADING,
        owner_id=owner_id,
        lecture_id=lecture_id,
        file_name=name,
        content_type=kind,
    )


def _start_mux_upload(
    owner_id: int, lecture_id: int | None, name: str, file_size: int, kind: str
) -> UploadTicket:
    """Mux's direct upload instead of our storage: one part, the whole file PUT to Mux's URL."""
    token = uuid.uuid4()
    upload = mux_uploads.create(token)
    media = MediaFile(
        token=token,
        kind=MediaKind.VIDEO,
        status=MediaStatus.UPLOADING,
        owner_id=owner_id,
        lecture_id=lecture_id,
        file_name=name,
        content_type=kind,
        size_bytes=file_size,
        storage_key=f"mux/{token.hex}",  # nothing is stored under it: Mux keeps the file
        part_size=file_size,
        provider=MediaProvider.MUX,
        provider_upload_id=upload.id,
    )
    db.session.add(media)
    db.session.flush()
    return UploadTicket(
        media=media,
        part_size=file_size,
        part_count=1,
        parts=[PartUrl(1, file_size, upload.url)],
        expires_in_s=current_app.config["MEDIA_UPLOAD_URL_SECONDS"],
    )


def _clean_name(file_name: str) -> str:
    name = PurePosixPath(file_name.replace("\\", "/")).name.strip()[:255]
    if not name:
        raise UploadRefused("Choose a video file to upload.", code="file_name_missing")
    return name


def _video_type(name: str, content_type: str) -> str:
    extension = PurePosixPath(name.lower()).suffix
    by_extension = TYPE_BY_EXTENSION.get(extension)
    declared = content_type.split(";")[0].strip().lower()
    if by_extension is None or (declared not in GENERIC_TYPES and declared != by_extension):
        raise UploadRefused(
            "Upload an MP4, MOV, WebM or MKV video (the file name must end in "
            ".mp4, .mov, .webm or .mkv and match its type).",
            code="unsupported_type",
            field="contentType",
        )
    return by_extension


def _check_size(file_size: int) -> None:
    limit = current_app.config["MEDIA_MAX_UPLOAD_BYTES"]
    if file_size <= 0:
        raise UploadRefused("This file is empty.", code="empty_file", field="fileSize")
    if file_size > limit:
        raise UploadRefused(
            f"Videos may be at most {_human(limit)}; this one is {_human(file_size)}.",
            code="too_large",
            field="fileSize",
        )


def _human(size: int) -> str:
    if size >= 1024**3:
        return f"{size / 1024**3:.1f} GiB"
    return f"{size / MIB:.1f} MiB"


# -- parts and resuming ---------------------------------------------------------------------
def part_urls(media: MediaFile, numbers: Iterable[int]) -> list[PartUrl]:
    """Fresh URLs for these parts (more parts, a retry, or a resumed upload)."""
    _require_uploading(media)
    wanted = sorted(set(numbers))
    count = part_count(media)
    if len(wanted) > MAX_URLS_AT_ONCE or any(not 1 <= n <= count for n in wanted):
        raise UploadRefused(
            f"Ask for at most {MAX_URLS_AT_ONCE} parts at a time, numbered 1 to {count}.",
            code="bad_part_number",
        )
    if media.is_mux:  # Mux's one URL, asked for again (a resumed upload)
        return [PartUrl(1, media.size_bytes, mux_uploads.upload_url(media))]
    storage, expires = get_storage(), current_app.config["MEDIA_UPLOAD_URL_SECONDS"]
    key, upload_id = media.storage_key, media.upload_id
    assert upload_id is not None  # an uploading row always has one
    sizes = {n: part_length(media, n) for n in wanted}
    return [
        PartUrl(n, sizes[n], storage.part_url(key, upload_id, n, sizes[n], expires)) for n in wanted
    ]


def stored_parts(media: MediaFile) -> list[StoredPart]:
    """The parts storage holds so far: a resumed upload sends only the others."""
    _require_uploading(media)
    if media.is_mux:
        return mux_uploads.stored_parts(media)
    assert media.upload_id is not None
    try:
        return get_storage().list_parts(media.storage_key, media.upload_id)
    except NoSuchUpload as exc:
        raise UploadGone("This upload has ended; start it again.") from exc


def _require_uploading(media: MediaFile) -> None:
    if media.status == MediaStatus.ABORTED:
        raise UploadGone("This upload was cancelled; start it again.")
    if media.status != MediaStatus.UPLOADING:
        raise UploadRefused("This upload is already complete.", code="already_confirmed")


# -- confirming -------------------------------------------------------------------------------
def confirm_upload(media: MediaFile) -> MediaFile:
    """Join the parts, check the object is a video, and queue its transcoding after commit.

    Refuses (changing nothing) when the stored parts do not hold exactly the declared size. A
    file that is not a video ends `failed` with its reason, its object deleted. Confirming
    again returns the row as it is and queues nothing.
    """
    media = _locked(media)
    if media.status == MediaStatus.ABORTED:
        raise UploadGone("This upload was cancelled; start it again.")
    if media.status != MediaStatus.UPLOADING:
        return media
    if media.is_mux:  # Mux has the file and processes it; its webhooks say how it went
        return mux_uploads.confirm(media)
    storage = get_storage()
    _complete(media, storage)
    reason = not_a_video_reason(storage.read_head(media.storage_key, HEAD_BYTES))
    media.upload_id = None
    if reason:
        storage.delete(media.storage_key)
        media.status, media.error = MediaStatus.FAILED, reason
        log.info("event=upload_refused media=%s reason=not_a_video", media.token)
        return media
    media.status, media.confirmed_at = MediaStatus.UPLOADED, utcnow()
    processing.enqueue_transcode(media)
    return media


def _locked(media: MediaFile) -> MediaFile:
    """The row again, locked: two confirms (or a confirm and a cancel) take turns."""
    statement = (
        select(MediaFile)
        .where(MediaFile.id == media.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return db.session.execute(statement).scalar_one()


def _complete(media: MediaFile, storage: Storage) -> None:
    assert media.upload_id is not None
    try:
        parts = storage.list_parts(media.storage_key, media.upload_id)
    except NoSuchUpload as exc:
        # Completed by a confirm whose commit was lost: the object is there, carry on.
        if storage.size(media.storage_key) == media.size_bytes:
            return
        raise UploadGone("This upload has ended; start it again.") from exc
    count = part_count(media)
    expected = [(n, part_length(media, n)) for n in range(1, count + 1)]
    if [(p.number, p.size) for p in parts] != expected:
        raise UploadRefused(_mismatch(media, parts, expected), code="size_mismatch")
    size = storage.complete_upload(media.storage_key, media.upload_id, parts)
    if size != media.size_bytes:  # storage joined something else than it listed
        raise StorageError(f"completed {media.storage_key} holds {size} bytes")


def _mismatch(media: MediaFile, parts: list[StoredPart], expected: list[tuple[int, int]]) -> str:
    stored = {p.number: p.size for p in parts}
    wrong = [n for n, size in expected if stored.get(n) != size]
    listed = ", ".join(str(n) for n in wrong[:10]) + (" ..." if len(wrong) > 10 else "")
    held = sum(stored.values())
    return (
        f"Storage holds {held} of the {media.size_bytes} bytes declared; "
        f"parts missing or of the wrong size: {listed or 'extra parts'}."
    )


def not_a_video_reason(head: bytes) -> str | None:
    """None for an MP4/MOV (an `ftyp` box first) or WebM/MKV (EBML) start, else why not."""
    if head[4:8] == b"ftyp" or head[:4] == EBML:
        return None
    return "This file is not an MP4, MOV, WebM or MKV video: its first bytes match none of them."


# -- cancelling and cleaning up -------------------------------------------------------------
def cancel_upload(media: MediaFile) -> MediaFile:
    """Abort the upload in storage (its parts are dropped) and mark the row aborted."""
    media = _locked(media)
    if media.status == MediaStatus.ABORTED:
        return media
    _require_uploading(media)
    _abort(media, get_storage())
    return media


def _abort(media: MediaFile, storage: Storage) -> None:
    if media.upload_id is not None:
        storage.abort_upload(media.storage_key, media.upload_id)
    if not media.is_mux:  # Mux's upload times out on its own; nothing of ours is stored
        storage.delete(media.storage_key)  # a completed object whose confirm never committed
    media.status, media.upload_id = MediaStatus.ABORTED, None


def abort_stale_uploads(now: datetime) -> int:
    """Abort and mark aborted every upload still unconfirmed MEDIA_STALE_UPLOAD_HOURS after
    it started; returns how many. One that storage fails to drop waits for the next run."""
    cutoff = now - timedelta(hours=current_app.config["MEDIA_STALE_UPLOAD_HOURS"])
    statement = (
        select(MediaFile)
        .where(MediaFile.status == MediaStatus.UPLOADING, MediaFile.created_at < cutoff)
        .order_by(MediaFile.id)
        .with_for_update(skip_locked=True)
    )
    storage, aborted = get_storage(), 0
    for media in db.session.execute(statement).scalars():
        try:
            _abort(media, storage)
        except StorageError as exc:
            log.warning("event=stale_upload_abort_failed media=%s error=%s", media.token, exc)
            continue
        media.error = "The upload was not finished within a day."
        aborted += 1
    return aborted
