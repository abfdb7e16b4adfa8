"""Media jobs: ids in, idempotent, each commits its own work."""

from __future__ import annotations

import logging
import time

from flask import current_app
from sqlalchemy import func, update

from app.accounts.queries import get_user
from app.catalog.models import Lecture
from app.core.models import utcnow
from app.core.unit import committing
from app.extensions import db
from app.media import ffmpeg, mux, mux_events, processing, uploads
from app.media.models import MediaFile, MediaStatus
from app.media.storage import get_storage
from app.notifications.models import NotificationKind
from app.notifications.services import notify

log = logging.getLogger(__name__)


def _last_attempt() -> bool:
    from rq import get_current_job  # imported when a job runs: web processes skip RQ

    job = get_current_job()
    return job is None or not job.retries_left


def _progress_writer(media_id: int) -> ffmpeg.ProgressCallback:
    """Progress in its own short transaction (the poller must see it while the job runs), never
    lower than what is stored: a retried attempt does not send the bar backwards."""

    def write(percent: int) -> None:
        with db.engine.begin() as conn:
            conn.execute(
                update(MediaFile)
                .where(MediaFile.id == media_id, MediaFile.status == MediaStatus.PROCESSING)
                .values(progress=func.greatest(MediaFile.progress, min(percent, 99)))
            )

    return write


def transcode_media(media_id: int) -> str | None:
    """Process an uploaded video (queue `media`, retried with MEDIA_RETRY). Claim (commit),
    transcode with no transaction open, finish (commit). A job that runs twice, or again after a
    killed worker, ends with the file processed once; a transient failure on the last attempt,
    and any file that is not a video, ends `failed` with a reason the teacher sees."""
    with committing():
        claimed = processing.claim(media_id)
    if claimed is None:
        log.info("event=transcode_skipped media_id=%s", media_id)
        return None
    started = time.monotonic()
    processing.remove_stale_workdirs(current_app.config["MEDIA_JOB_TIMEOUT"])
    bins = ffmpeg.binaries(current_app.config["FFMPEG_BINARY"] or None)
    try:
        done = processing.transcode(claimed, get_storage(), bins, _progress_writer(media_id))
    except processing.NotProcessable as exc:
        with committing():
            processing.fail(media_id, exc.reason)
        return MediaStatus.FAILED.value
    except Exception:
        if _last_attempt():
            with committing():
                processing.fail(media_id, "Processing kept failing; try again later.")
        raise  # RQ retries it (or keeps it in the failed registry after the last attempt)
    with committing():
        media = processing.finish(claimed, done)
    log.info(
        "event=transcoded media_id=%s attempt=%s seconds=%.1f",
        media_id,
        claimed.attempt,
        time.monotonic() - started,
    )
    return media.status.value if media else None


def send_media_notice(media_id: int) -> None:
    """ "Video ready" or "video failed" to its teacher, in-app and by email, once per outcome."""
    media = db.session.get(MediaFile, media_id)
    if media is None or media.status not in (MediaStatus.READY, MediaStatus.FAILED):
        return
    owner = get_user(media.owner_id)
    if owner is None:
        return
    kind = (
        NotificationKind.VIDEO_READY
        if media.status is MediaStatus.READY
        else NotificationKind.VIDEO_FAILED
    )
    with committing():
        lecture = db.session.get(Lecture, media.lecture_id) if media.lecture_id else None
        notify(owner, f"{kind}:{media.id}:{media.attempts}", kind, media=media, lecture=lecture)


def delete_media_outputs(prefix: str) -> int:
    """Delete what a retired or abandoned processing attempt stored (idempotent)."""
    deleted = get_storage().delete_prefix(prefix)
    log.info("event=media_outputs_deleted prefix=%s count=%d", prefix, deleted)
    return deleted


def delete_mux_asset(asset_id: str) -> bool:
    """Delete a retired or abandoned video's asset at Mux (idempotent: gone is fine)."""
    deleted = mux.MuxClient.from_config().delete_asset(asset_id)
    log.info("event=mux_asset_deleted asset=%s found=%s", asset_id, deleted)
    return deleted


def sweep_media() -> tuple[int, int]:
    """Every 15 minutes: requeue confirmed uploads whose job was lost, fail files left
    `processing` by workers that kept dying, and ask Mux about its files with no news for a
    while (idempotent)."""
    with committing():
        queued, failed = processing.sweep(utcnow(), current_app.config["MEDIA_JOB_TIMEOUT"])
    if mux.is_configured():
        with committing():
            settled = mux_events.reconcile(utcnow())
        if settled:
            log.warning("event=mux_reconciled settled=%d", settled)
    if queued or failed:
        log.warning("event=media_swept requeued=%d failed=%d", queued, failed)
    return queued, failed


def clean_up_uploads() -> int:
    """Daily: abort uploads never confirmed within MEDIA_STALE_UPLOAD_HOURS (idempotent)."""
    with committing():
        aborted = uploads.abort_stale_uploads(utcnow())
    log.info("event=stale_uploads_aborted count=%d", aborted)
    return aborted
