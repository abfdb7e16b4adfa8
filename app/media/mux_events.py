"""What Mux tells us about a video, applied to its media file: from a verified, stored webhook
(payments' inbox calls `apply_event`) or from asking Mux when a webhook seems lost (`reconcile`).

Idempotent: every change is guarded by the file's status, so an event delivered twice, late or
out of order (an asset's `ready` before its upload's `asset_created`) changes the file once.
Services: they never commit.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select

from app.core.models import utcnow
from app.extensions import db
from app.jobs.queues import QueueName, enqueue_after_commit
from app.media import mux, processing
from app.media.models import MediaFile, MediaProvider, MediaStatus

log = logging.getLogger(__name__)

PROVIDER = "mux"  # the webhook inbox's provider name for Mux's events
UPLOAD_ASSET_CREATED = "video.upload.asset_created"
UPLOAD_ERRORED = "video.upload.errored"
ASSET_READY = "video.asset.ready"
ASSET_ERRORED = "video.asset.errored"
# Before these, the file is still Mux's to finish (a webhook may beat the browser's confirm).
OPEN = (MediaStatus.UPLOADING, MediaStatus.PROCESSING)
QUIET_MINUTES = 15  # a Mux file this long without news is asked about (reconcile)


def apply_event(event_type: str, payload: Mapping[str, Any]) -> bool:
    """Act on one Mux event; False when it is not about one of our files (or not one we use)."""
    data = payload.get("data")
    if not isinstance(data, dict) or not data.get("id"):
        return False
    if event_type in (UPLOAD_ASSET_CREATED, UPLOAD_ERRORED):
        upload = mux.upload_from(data)
        media = _find(upload_id=upload.id, passthrough=_passthrough(data))
        return media is not None and _apply_upload(media, upload)
    if event_type in (ASSET_READY, ASSET_ERRORED):
        asset = mux.asset_from(data)
        media = _find(asset.id, asset.upload_id, asset.passthrough)
        return media is not None and _apply_asset(media, asset)
    return False


def _passthrough(upload: Mapping[str, Any]) -> str | None:
    settings = upload.get("new_asset_settings")
    return settings.get("passthrough") if isinstance(settings, dict) else None


def _find(
    asset_id: str | None = None, upload_id: str | None = None, passthrough: str | None = None
) -> MediaFile | None:
    """Our Mux file by any id Mux gave it (or our token it carries), locked."""
    wanted = []
    if asset_id:
        wanted.append(MediaFile.provider_asset_id == asset_id)
    if upload_id:
        wanted.append(MediaFile.provider_upload_id == upload_id)
    token = _token(passthrough)
    if token is not None:
        wanted.append(MediaFile.token == token)
    if not wanted:
        return None
    statement = (
        select(MediaFile)
        .where(MediaFile.provider == MediaProvider.MUX, or_(*wanted))
        .order_by(MediaFile.id)
        .limit(1)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return db.session.execute(statement).scalar_one_or_none()


def _token(passthrough: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(passthrough) if passthrough else None
    except ValueError:
        return None


def _apply_upload(media: MediaFile, upload: mux.DirectUpload) -> bool:
    if upload.asset_id:
        if media.status is MediaStatus.ABORTED:  # cancelled here, finished there: drop it
            enqueue_after_commit(processing.MUX_DELETE_JOB, upload.asset_id, queue=QueueName.LOW)
            return True
        media.provider_asset_id = media.provider_asset_id or upload.asset_id
        _start_processing(media)
        return True
    if upload.status in mux.UPLOAD_ENDED and media.status in OPEN:
        _start_processing(media)
        reason = upload.error or f"Mux did not receive the file ({upload.status})."
        processing.fail(media.id, reason)
        return True
    return False


def _start_processing(media: MediaFile) -> None:
    """A Mux event arrived before the browser's confirm (or instead of it)."""
    if media.status is MediaStatus.UPLOADING:
        media.status, media.confirmed_at, media.upload_id = MediaStatus.PROCESSING, utcnow(), None
        media.attempts += 1
    media.updated_at = utcnow()  # news from Mux: reconcile waits again


def _apply_asset(media: MediaFile, asset: mux.Asset) -> bool:
    if media.status not in OPEN:
        return True  # already ready or failed (a duplicate, or an asset we dropped)
    media.provider_asset_id = media.provider_asset_id or asset.id
    _start_processing(media)
    if asset.status == "ready" and asset.playback_id:
        media.playback_id = asset.playback_id
        done = processing.Processed(
            duration_ms=asset.duration_ms or 0,
            width=asset.width,
            height=asset.height,
            renditions=[],
            thumbnail_key=None,  # Mux serves the thumbnail by playback id
        )
        processing.make_ready(media, done)
        log.info("event=mux_asset_ready media=%s asset=%s", media.token, asset.id)
        return True
    if asset.status == "errored":
        reason = asset.error or "Mux could not process this video."
        processing.fail(media.id, f"Mux could not process this video: {reason}")
        return True
    return False


def reconcile(now: datetime) -> int:
    """Ask Mux about files processing there with no news for QUIET_MINUTES (a webhook lost
    or not configured) and apply its answer as an event would; returns how many changed."""
    quiet = db.session.scalars(
        select(MediaFile.id).where(
            MediaFile.provider == MediaProvider.MUX,
            MediaFile.status == MediaStatus.PROCESSING,
            MediaFile.updated_at < now - timedelta(minutes=QUIET_MINUTES),
        )
    ).all()
    client, changed = mux.MuxClient.from_config(), 0
    for media_id in quiet:
        media = db.session.get(MediaFile, media_id)
        if media is None:
            continue
        try:
            changed += _ask(client, media)
        except mux.MuxError as exc:
            log.warning("event=mux_reconcile_failed media=%s error=%s", media.token, exc)
        media.updated_at = now  # asked: the next sweep waits another QUIET_MINUTES
    return changed


def _ask(client: mux.MuxClient, media: MediaFile) -> int:
    if media.provider_asset_id is None and media.provider_upload_id is not None:
        upload = client.get_upload(media.provider_upload_id)
        _apply_upload(media, upload)
    if media.provider_asset_id is None or media.status is not MediaStatus.PROCESSING:
        return int(media.status is not MediaStatus.PROCESSING)
    asset = client.get_asset(media.provider_asset_id)
    return int(_apply_asset(media, asset) and media.status is not MediaStatus.PROCESSING)
