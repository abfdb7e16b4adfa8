"""Video uploads when Mux processes them: a direct upload at Mux instead of our multipart upload.

The uploader keeps its protocol: a ticket with one part (the whole file) whose URL is Mux's
upload URL, PUT in one request. "Resume" asks Mux whether the file arrived; confirming marks
the file `processing` (Mux works on it on its side) and Mux's webhooks finish the story
(app/media/mux_events.py). Services: they never commit.
"""

from __future__ import annotations

import logging
import uuid

from flask import current_app

from app.core.errors import DomainError
from app.core.models import utcnow
from app.media import mux
from app.media.errors import UploadGone, UploadRefused
from app.media.models import MediaFile, MediaStatus
from app.media.storage import StoredPart

log = logging.getLogger(__name__)


class VideoServiceError(DomainError):
    """Mux refused or could not be reached: nothing changed, try again."""

    code = "video_service_error"
    status = 502


def _client() -> mux.MuxClient:
    return mux.MuxClient.from_config()


def create(token: uuid.UUID) -> mux.DirectUpload:
    """A direct upload whose asset names our file (`passthrough` is its public token)."""
    cfg = current_app.config
    origin = cfg.get("PUBLIC_URL") or "*"  # the browser PUTs from our pages
    try:
        return _client().create_upload(
            str(token), origin, mux.signed_playback(), int(cfg["MEDIA_UPLOAD_URL_SECONDS"])
        )
    except mux.MuxError as exc:
        log.warning("event=mux_upload_refused error=%s", exc)
        raise VideoServiceError("The video service is not answering; try again shortly.") from exc


def _upload(media: MediaFile) -> mux.DirectUpload:
    assert media.provider_upload_id is not None  # a Mux file always has one
    try:
        return _client().get_upload(media.provider_upload_id)
    except mux.MuxError as exc:
        if exc.status == 404:
            raise UploadGone("This upload has ended; start it again.") from exc
        raise VideoServiceError("The video service is not answering; try again shortly.") from exc


def upload_url(media: MediaFile) -> str:
    """The upload's URL again, while Mux still waits for the file."""
    upload = _upload(media)
    if upload.status in mux.UPLOAD_ENDED:
        raise UploadGone("This upload has ended; start it again.")
    if upload.status != mux.UPLOAD_WAITING:
        raise UploadRefused("Mux already has this file; confirm the upload.", code="uploaded")
    return upload.url


def stored_parts(media: MediaFile) -> list[StoredPart]:
    """The one part, once Mux has the file (it made an asset of it); none before."""
    upload = _upload(media)
    if upload.status in mux.UPLOAD_ENDED:
        raise UploadGone("This upload has ended; start it again.")
    if upload.status == mux.UPLOAD_ASSET_CREATED:
        return [StoredPart(1, media.size_bytes, upload.asset_id or "")]
    return []


def confirm(media: MediaFile) -> MediaFile:
    """The browser's PUT finished: the (locked, uploading) file is `processing` at Mux. Mux may
    take a moment to make the asset, so a still-waiting upload is trusted; the webhooks (or the
    sweep, asking Mux) settle it. An upload Mux ended fails with its reason."""
    upload = _upload(media)
    media.confirmed_at, media.upload_id = utcnow(), None
    if upload.status in mux.UPLOAD_ENDED:
        media.status = MediaStatus.FAILED
        media.error = upload.error or f"Mux did not receive the file (upload {upload.status})."
        return media
    media.status, media.progress, media.attempts = MediaStatus.PROCESSING, 0, media.attempts + 1
    media.provider_asset_id = media.provider_asset_id or upload.asset_id
    log.info("event=mux_upload_confirmed media=%s upload=%s", media.token, upload.id)
    return media
