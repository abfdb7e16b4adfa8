"""Processing an uploaded video: claim it, transcode it to HLS outside any transaction, store the
outputs, and point the lecture at it once it is ready.

The job (media/jobs.py) runs the three steps with a commit after the first and the last, so a
transcode that takes minutes holds no database transaction, and the status a teacher polls
shows `processing` (with progress) while it runs.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import select

from app.catalog.models import Lecture
from app.core.metrics import timed_video_processing
from app.core.models import utcnow
from app.extensions import db
from app.jobs.queues import MEDIA_RETRY, QueueName, enqueue_after_commit
from app.media import ffmpeg
from app.media.errors import UploadRefused
from app.media.models import MediaFile, MediaProvider, MediaStatus
from app.media.storage import Storage

log = logging.getLogger(__name__)

CONTENT_TYPES = {
    ".m3u8": "application/vnd.apple.mpegurl",
    ".ts": "video/mp2t",
    ".m4s": "video/iso.segment",
    ".mp4": "video/mp4",
    ".jpg": "image/jpeg",
}
MASTER = "master.m3u8"
THUMBNAIL = "thumbnail.jpg"
WORKDIR_PREFIX = "cf-transcode-"
TRANSCODE_JOB = "app.media.jobs.transcode_media"
NOTICE_JOB = "app.media.jobs.send_media_notice"
CLEANUP_JOB = "app.media.jobs.delete_media_outputs"
MUX_DELETE_JOB = "app.media.jobs.delete_mux_asset"


@dataclass(frozen=True)
class Claim:
    """What the transcoding step needs, read while the row was locked."""

    media_id: int
    storage_key: str
    output_prefix: str
    attempt: int


@dataclass(frozen=True)
class Processed:
    duration_ms: int
    width: int | None
    height: int | None
    renditions: list[dict[str, Any]]
    thumbnail_key: str | None


class NotProcessable(Exception):
    """The file is not a video ffmpeg can read, or ffmpeg failed on it for good."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def enqueue_transcode(media: MediaFile) -> None:
    """Transcode after commit, on the media queue, retried (a killed worker, a transient error)."""
    enqueue_after_commit(
        TRANSCODE_JOB,
        media.id,
        queue=QueueName.MEDIA,
        retry=MEDIA_RETRY,
        job_timeout=current_app.config["MEDIA_JOB_TIMEOUT"],
    )


def _locked(media_id: int) -> MediaFile | None:
    statement = (
        select(MediaFile)
        .where(MediaFile.id == media_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return db.session.execute(statement).scalar_one_or_none()


def claim(media_id: int) -> Claim | None:
    """Mark the file processing (one more attempt) and return what to transcode; None when there
    is nothing to do: already ready or failed, cancelled, or not confirmed yet. A retry after a
    killed worker finds it `processing` and starts again, into a fresh output folder."""
    media = _locked(media_id)
    if media is None or media.status not in (MediaStatus.UPLOADED, MediaStatus.PROCESSING):
        return None
    if media.provider is not MediaProvider.LOCAL:  # Mux processes it on its side
        return None
    if media.output_prefix:  # a killed attempt's partial outputs
        enqueue_after_commit(CLEANUP_JOB, media.output_prefix, queue=QueueName.LOW)
    media.status = MediaStatus.PROCESSING
    media.attempts += 1
    media.output_prefix = f"hls/{uuid.uuid4().hex}/"
    media.error = None
    return Claim(media.id, media.storage_key, media.output_prefix, media.attempts)


def remove_stale_workdirs(older_than_s: int, root: Path | None = None) -> int:
    """Work folders of transcodes killed mid-way (kill -9 skips their cleanup). One older than a
    job may run belongs to no running job. Returns how many were removed."""
    cutoff = time.time() - older_than_s
    removed = 0
    for path in Path(root or tempfile.gettempdir()).glob(f"{WORKDIR_PREFIX}*"):
        try:
            stale = path.is_dir() and path.stat().st_mtime < cutoff
        except OSError:  # another worker removed it meanwhile
            continue
        if stale:
            shutil.rmtree(path, ignore_errors=True)
            removed += 1
    return removed


@timed_video_processing
def transcode(
    claimed: Claim, storage: Storage, bins: ffmpeg.Binaries, on_progress: ffmpeg.ProgressCallback
) -> Processed:
    """Download the source, transcode it to HLS and store every output under the claim's prefix.
    No database work: this runs for minutes. Raises NotProcessable for a file that will never
    work, and lets transient failures (ffmpeg killed, disk full, storage errors) propagate."""
    with tempfile.TemporaryDirectory(prefix=WORKDIR_PREFIX) as tmp:
        source, out = Path(tmp) / "source", Path(tmp) / "out"
        storage.download(claimed.storage_key, source)
        try:
            probe = ffmpeg.probe(source, bins)
            output = ffmpeg.transcode_hls(source, out, ffmpeg.plan_for(probe, bins), on_progress)
        except ffmpeg.NotAVideo as exc:
            raise NotProcessable(exc.reason) from exc
        except ffmpeg.TranscodeFailed as exc:
            if exc.transient:
                raise
            raise NotProcessable(str(exc)) from exc
        # Playlists last: a player never finds a playlist naming a segment not stored yet.
        files = sorted(output.files, key=lambda name: name.endswith(".m3u8"))
        for name in files:
            content_type = CONTENT_TYPES.get(Path(name).suffix, "application/octet-stream")
            storage.put_file(claimed.output_prefix + name, out / name, content_type)
    renditions = [
        {"name": v.name, "height": v.height, "bandwidth": v.bandwidth, "playlist": v.playlist}
        for v in output.variants
    ]
    return Processed(
        duration_ms=output.duration_ms,
        width=probe.width,
        height=probe.height,
        renditions=renditions,
        thumbnail_key=claimed.output_prefix + output.thumbnail.name,
    )


def finish(claimed: Claim, done: Processed) -> MediaFile | None:
    """The file is ready: its lecture plays it from now on, with its duration; the video it
    replaces is deleted after commit. None when the row changed meanwhile (another attempt
    finished first, or the upload was replaced): this attempt's outputs are dropped."""
    media = _locked(claimed.media_id)
    if (
        media is None
        or media.status is not MediaStatus.PROCESSING
        or media.output_prefix != claimed.output_prefix
    ):
        enqueue_after_commit(CLEANUP_JOB, claimed.output_prefix, queue=QueueName.LOW)
        return None
    return make_ready(media, done)


def make_ready(media: MediaFile, done: Processed) -> MediaFile:
    """The (locked, processing) file is ready, whoever processed it (ffmpeg here, or Mux): its
    lecture switches to it, the video it replaces is retired, the teacher hears once."""
    media.status, media.progress, media.ready_at = MediaStatus.READY, 100, utcnow()
    media.duration_ms, media.width, media.height = done.duration_ms, done.width, done.height
    media.renditions, media.thumbnail_key = done.renditions, done.thumbnail_key
    if media.lecture_id is not None:
        lecture = db.session.execute(
            select(Lecture).where(Lecture.id == media.lecture_id).with_for_update()
        ).scalar_one()
        replaced = lecture.media_file_id
        lecture.media_file_id = media.id
        lecture.duration_s = round(done.duration_ms / 1000)
        if replaced is not None and replaced != media.id:
            _retire(replaced)
    enqueue_after_commit(NOTICE_JOB, media.id, queue=QueueName.LOW)
    return media


def _retire(media_id: int) -> None:
    """The lecture's previous video: its outputs and source go once the new one is committed."""
    old = db.session.get(MediaFile, media_id)
    if old is None:
        return
    old.status = MediaStatus.ABORTED
    if old.provider_asset_id:  # a Mux video: Mux deletes the asset and its playback ids
        enqueue_after_commit(MUX_DELETE_JOB, old.provider_asset_id, queue=QueueName.LOW)
    local = old.provider is MediaProvider.LOCAL
    for prefix in (old.output_prefix, old.storage_key if local else None):
        if prefix:
            enqueue_after_commit(CLEANUP_JOB, prefix, queue=QueueName.LOW)
    old.output_prefix, old.thumbnail_key = None, None


def fail(media_id: int, reason: str) -> MediaFile | None:
    """Processing ended for good: the teacher sees why (and may retry)."""
    media = _locked(media_id)
    if media is None or media.status is not MediaStatus.PROCESSING:
        return None
    media.status, media.error = MediaStatus.FAILED, reason[:2000]
    if media.output_prefix:
        enqueue_after_commit(CLEANUP_JOB, media.output_prefix, queue=QueueName.LOW)
        media.output_prefix = None
    enqueue_after_commit(NOTICE_JOB, media.id, queue=QueueName.LOW)
    log.info("event=media_failed media=%s reason=%r", media.token, reason)
    return media


def sweep(now: datetime, job_timeout_s: int) -> tuple[int, int]:
    """What a lost job left behind: uploads confirmed 10 minutes ago and still waiting (their job
    never reached Redis) are queued again; files `processing` with no progress for longer than
    a job may run (every retry killed) end failed. Returns (queued, failed)."""
    waiting = db.session.scalars(
        select(MediaFile)
        .where(
            MediaFile.status == MediaStatus.UPLOADED,
            MediaFile.updated_at < now - timedelta(minutes=10),
        )
        .with_for_update(skip_locked=True)
    ).all()
    for media in waiting:
        media.updated_at = now  # the next sweep waits another 10 minutes for this one
        enqueue_transcode(media)
    stuck = db.session.scalars(
        select(MediaFile.id).where(
            MediaFile.status == MediaStatus.PROCESSING,
            MediaFile.provider == MediaProvider.LOCAL,  # Mux files: mux_events.reconcile
            MediaFile.updated_at < now - timedelta(seconds=job_timeout_s + 600),
        )
    ).all()
    for media_id in stuck:
        fail(media_id, "Processing stopped unexpectedly. Choose Retry processing to try again.")
    return len(waiting), len(stuck)


def retry(media: MediaFile) -> MediaFile:
    """ "Retry processing" on a failed video whose source is still stored: queue it again."""
    if media.status is MediaStatus.FAILED and media.is_mux:
        raise UploadRefused(
            "Mux keeps no copy to process again: upload the video again.", code="upload_again"
        )
    if not media.can_reprocess:
        raise UploadRefused("Only a failed video can be processed again.", code="not_failed")
    media.status, media.error, media.progress = MediaStatus.UPLOADED, None, 0
    enqueue_transcode(media)
    return media
