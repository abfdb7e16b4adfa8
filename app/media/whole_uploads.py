"""One-PUT uploads for API clients (seed 000 flow 3): a single presigned or signed URL for the
whole file, then the same checks and transcoding as the studio's multipart uploads."""

from __future__ import annotations

from flask import current_app

from app.extensions import db
from app.media import mux, mux_uploads
from app.media.errors import UploadRefused
from app.media.models import MediaFile, MediaStatus
from app.media.storage import NoSuchUpload, get_storage
from app.media.uploads import (
    UploadTicket,
    _check_size,
    _clean_name,
    _human,
    _locked,
    _require_uploading,
    _start_mux_upload,
    _video_type,
    begin_storage_upload,
    confirm_upload,
    new_video_row,
    part_count,
)

# -- one PUT of the whole file (the JSON API, seed 000 flow 3) ---------------------------------
MAX_WHOLE_FILE_BYTES = 5 * 1024**3  # S3's largest part; larger videos use the studio's parts


def start_whole_file_upload(
    owner_id: int, lecture_id: int | None, file_name: str, max_size: int, content_type: str
) -> UploadTicket:
    """An upload the client sends in one PUT (seed 000's presigned URL): a one-part upload whose
    part may hold up to `max_size` bytes. The declared size is a limit, not a promise: the seed
    declares 10 MiB and sends its test file; confirming records what arrived
    (`confirm_whole_file_upload`). The URL comes from `whole_file_url` (or the caller's signed
    receiver for local storage); with Mux it is Mux's own upload URL, in `parts`."""
    name = _clean_name(file_name)
    kind = _video_type(name, content_type)
    _check_size(max_size)
    if max_size > MAX_WHOLE_FILE_BYTES:
        raise UploadRefused(
            f"One upload may be at most {_human(MAX_WHOLE_FILE_BYTES)}; "
            "use the studio's uploader for larger videos.",
            code="too_large",
            field="fileSize",
        )
    if mux.is_configured():
        return _start_mux_upload(owner_id, lecture_id, name, max_size, kind)
    media = new_video_row(owner_id, lecture_id, name, kind)
    media.size_bytes = media.part_size = max_size
    begin_storage_upload(media)
    return UploadTicket(
        media=media,
        part_size=max_size,
        part_count=1,
        parts=[],
        expires_in_s=current_app.config["MEDIA_UPLOAD_URL_SECONDS"],
    )


def whole_file_url(media: MediaFile, expires_s: int) -> str | None:
    """Where the client PUTs a whole-file upload: Mux's URL, or on S3 a presigned PUT of part 1
    without a signed length (S3 caps a part at 5 GiB; confirming checks the size against the
    declared limit). None for local storage: the API's own signed receiver takes it."""
    _require_uploading(media)
    if media.is_mux:
        return mux_uploads.upload_url(media)
    from app.media.storage.s3 import S3Storage  # boto3 is imported only when it is used

    storage = get_storage()
    if not isinstance(storage, S3Storage):
        return None
    params = {
        "Bucket": storage.bucket,
        "Key": media.storage_key,
        "UploadId": media.upload_id,
        "PartNumber": 1,
    }
    # Presigning is computed locally (no request to S3), so it needs no StorageError mapping.
    return storage.client.generate_presigned_url("upload_part", Params=params, ExpiresIn=expires_s)


def confirm_whole_file_upload(media: MediaFile) -> MediaFile:
    """`confirm_upload` for a one-part upload whose part may be smaller than declared: the
    stored part's size becomes the file's (a part larger than declared is refused by
    confirm_upload's size check, as is an upload with nothing stored)."""
    media = _locked(media)
    if (
        media.status == MediaStatus.UPLOADING
        and not media.is_mux
        and media.upload_id is not None
        and part_count(media) == 1
    ):
        try:
            parts = get_storage().list_parts(media.storage_key, media.upload_id)
        except NoSuchUpload:
            parts = []  # confirm_upload tells a lost commit from an ended upload
        if len(parts) == 1 and parts[0].number == 1 and 0 < parts[0].size <= media.size_bytes:
            media.size_bytes = media.part_size = parts[0].size
            db.session.flush()
    return confirm_upload(media)
