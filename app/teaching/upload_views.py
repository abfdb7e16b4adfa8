"""Lecture video uploads and processing status in the studio (JSON for the uploader, HTMX
partials for the page).

The uploader (static/js/uploader.js) speaks JSON with the page's CSRF token in `X-CSRFToken`:
start an upload, ask for part URLs, read what storage holds (resume), confirm, cancel. The
parts themselves go straight to storage (S3 presigned, or the local backend's signed route),
never through these views. Errors are JSON `{"success": false, "status", "error": {"code",
"message", "field"?}}`; a visitor gets 401 and anyone who is not the owner 404.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any, Concatenate, ParamSpec, cast

from flask import current_app, flash, jsonify, make_response, render_template, request, url_for
from flask.wrappers import Response

from app.accounts.access import viewer
from app.accounts.models import User
from app.catalog.models import Lecture
from app.core.errors import DomainError, NotFound, json_error
from app.core.htmx import redirect_to, wants_partial
from app.core.models import utcnow
from app.core.readonly import read_only
from app.core.security import is_safe_redirect
from app.core.unit import committing
from app.core.web import wants_json
from app.extensions import db
from app.media import processing, queries, uploads
from app.media.errors import UploadRefused
from app.media.models import MediaFile, MediaStatus
from app.media.storage import StoredPart
from app.teaching import bp
from app.teaching.access import can_teach, owned_lecture, owned_media, studio_user

P = ParamSpec("P")

PARTIAL = "teaching/partials/lecture_video.html"
MAX_FILE_NAME = 1000  # longer names are refused; the service keeps the last 255 characters

# The partial may be included without a `video` (it then loads its own).
bp.add_app_template_global(queries.lecture_video, "lecture_video")


class BodyInvalid(DomainError):
    """The body is not a JSON object."""

    code = "invalid_json"
    status = 400


class FieldMissing(DomainError):
    code = "missing_field"
    status = 422


class FieldInvalid(DomainError):
    code = "invalid_field"
    status = 422


# -- JSON plumbing ----------------------------------------------------------------------------
def json_api(view: Callable[Concatenate[User, P], Response]) -> Callable[P, Response]:
    """A JSON endpoint of the studio: the signed-in teacher or admin is passed in; a visitor
    gets 401, anyone else 404, and every domain error its JSON answer (never an HTML page)."""

    @wraps(view)
    def wrapped(*args: P.args, **kwargs: P.kwargs) -> Response:
        user = viewer()
        if user is None:
            return json_error("login_required", "Log in to continue.", 401)
        if not can_teach(user):
            return json_error("not_found", "No such page.", 404)
        try:
            return view(user, *args, **kwargs)
        except DomainError as err:
            return json_error(err.code, err.message, err.status, err.field)

    return wrapped


def json_requested() -> bool:
    """JSON by the Accept header (preferred to HTML) or by `?format=json`."""
    return request.args.get("format") == "json" or wants_json()


def body() -> dict[str, Any]:
    data = request.get_json(silent=True) if request.is_json else None
    if not isinstance(data, dict):
        raise BodyInvalid("Send a JSON object with Content-Type: application/json.")
    return data


def text_field(data: dict[str, Any], name: str, *, required: bool = True) -> str:
    value = data.get(name)
    if value is None:
        if required:
            raise FieldMissing(f"{name} is required.", field=name)
        return ""
    if not isinstance(value, str) or len(value) > MAX_FILE_NAME:
        raise FieldInvalid(
            f"{name} must be a string of at most {MAX_FILE_NAME} characters.", field=name
        )
    return value


def int_field(data: dict[str, Any], name: str) -> int:
    value = data.get(name)
    if value is None:
        raise FieldMissing(f"{name} is required.", field=name)
    if isinstance(value, bool) or not isinstance(value, int):
        raise FieldInvalid(f"{name} must be a whole number of bytes.", field=name)
    return value


def part_numbers(data: dict[str, Any]) -> list[int]:
    value = data.get("partNumbers")
    if value is None:
        raise FieldMissing("partNumbers is required.", field="partNumbers")
    valid = isinstance(value, list) and value and len(value) <= uploads.MAX_URLS_AT_ONCE
    if not valid or not all(isinstance(n, int) and not isinstance(n, bool) for n in value):
        raise FieldInvalid(
            f"partNumbers must be a list of 1 to {uploads.MAX_URLS_AT_ONCE} part numbers.",
            field="partNumbers",
        )
    return cast(list[int], value)


def token_field(data: dict[str, Any]) -> uuid.UUID:
    """`uploadId`, or the seed's `fileId`: the token the upload started with."""
    name = "uploadId" if "uploadId" in data else "fileId"
    raw = text_field(data, name)
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise FieldInvalid(f"{name} is not an upload id.", field=name) from None


# -- answers ----------------------------------------------------------------------------------
def expires_at(seconds: int) -> str:
    return (utcnow() + timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z")


def links(media: MediaFile) -> dict[str, str]:
    token = media.token
    found = {
        "self": url_for("teaching.upload_state", token=token),
        "parts": url_for("teaching.upload_parts", token=token),
        "cancel": url_for("teaching.cancel_upload", token=token),
        "retry": url_for("teaching.retry_processing", token=token),
    }
    if media.lecture_id is not None:
        found["confirm"] = url_for("teaching.confirm_upload", lecture_id=media.lecture_id)
        found["status"] = url_for("teaching.lecture_status", lecture_id=media.lecture_id)
    return found


def media_json(media: MediaFile) -> dict[str, Any]:
    return {
        "uploadId": str(media.token),
        "status": media.status.value,
        "progress": 100 if media.status is MediaStatus.READY else int(media.progress),
        "error": media.error,
        "fileName": media.file_name,
        "fileSize": media.size_bytes,
        "partSize": media.part_size,
        "partCount": uploads.part_count(media),
        "links": links(media),
    }


def parts_json(parts: list[uploads.PartUrl]) -> list[dict[str, Any]]:
    return [{"partNumber": p.number, "url": p.url, "size": p.size} for p in parts]


def stored_json(parts: list[StoredPart]) -> list[dict[str, Any]]:
    return [{"partNumber": p.number, "size": p.size, "etag": p.etag} for p in parts]


def video_partial(lecture: Lecture, status: int = 200) -> Response:
    video = queries.lecture_video(lecture.id)
    response = make_response(render_template(PARTIAL, lecture=lecture, video=video), status)
    response.vary.add("HX-Request")
    response.vary.add("Accept")
    return response


def lecture_of(user: User, media: MediaFile) -> Lecture:
    if media.lecture_id is None:
        raise NotFound("This upload no longer belongs to a lecture.")
    return owned_lecture(user, media.lecture_id)[0]


# -- the uploader's JSON endpoints ------------------------------------------------------------
@bp.post("/lectures/<int:lecture_id>/upload")
@json_api
def start_upload(user: User, lecture_id: int) -> Response:
    lecture, _course = owned_lecture(user, lecture_id)
    data = body()
    name, size = text_field(data, "fileName"), int_field(data, "fileSize")
    content_type = text_field(data, "contentType", required=False)
    if not queries.lecture_video(lecture.id).can_upload:
        raise UploadRefused(
            "This lecture's video is still being processed; upload again once it is done.",
            code="busy",
        )
    with committing():
        ticket = uploads.start_video_upload(user.id, lecture.id, name, size, content_type)
        answer = media_json(ticket.media)  # before commit expires the row
    answer["parts"] = parts_json(ticket.parts)
    answer["expiresAt"] = expires_at(ticket.expires_in_s)
    response = jsonify(answer)
    response.status_code = 201
    return response


@bp.post("/uploads/<uuid:token>/parts")
@json_api
def upload_parts(user: User, token: uuid.UUID) -> Response:
    media = owned_media(user, token)
    parts = uploads.part_urls(media, part_numbers(body()))
    seconds = int(current_app.config["MEDIA_UPLOAD_URL_SECONDS"])
    return jsonify(
        {"uploadId": str(token), "parts": parts_json(parts), "expiresAt": expires_at(seconds)}
    )


@bp.get("/uploads/<uuid:token>")
@read_only
@json_api
def upload_state(user: User, token: uuid.UUID) -> Response:
    media = owned_media(user, token)
    answer = media_json(media)
    stored = uploads.stored_parts(media) if media.status is MediaStatus.UPLOADING else []
    answer["uploadedParts"] = stored_json(stored)
    answer["uploadedBytes"] = sum(p.size for p in stored)
    return jsonify(answer)


@bp.post("/lectures/<int:lecture_id>/confirm-upload")
@json_api
def confirm_upload(user: User, lecture_id: int) -> Response:
    lecture, _course = owned_lecture(user, lecture_id)
    media = owned_media(user, token_field(body()))
    if media.lecture_id != lecture.id:
        raise NotFound("No such upload for this lecture.")
    with committing():
        media = uploads.confirm_upload(media)
        answer = media_json(media)
    return jsonify(answer)


@bp.delete("/uploads/<uuid:token>")
@json_api
def cancel_upload(user: User, token: uuid.UUID) -> Response:
    media = owned_media(user, token)
    with committing():
        media = uploads.cancel_upload(media)
        answer = media_json(media)
    return jsonify(answer)


# -- status and "Retry processing" (HTML, HTMX and JSON) --------------------------------------
@json_api
def _status_json(user: User, lecture_id: int) -> Response:
    lecture, _course = owned_lecture(user, lecture_id)
    video = queries.lecture_video(lecture.id)
    shown = video.shown
    return jsonify(
        {
            "status": video.status,
            "progress": video.progress,
            "error": video.pending.error if video.pending is not None else None,
            "uploadId": str(shown.token) if shown is not None else None,
            "duration": video.duration_s,
            "thumbnailUrl": video.thumbnail_url(),
            "hasVideo": video.is_ready,
        }
    )


@bp.get("/lectures/<int:lecture_id>/status")
@read_only
def lecture_status(lecture_id: int) -> Response:
    """The seed's status JSON, or the lecture's video partial (which polls while busy)."""
    if json_requested():
        response = _status_json(lecture_id)
    else:
        response = video_partial(owned_lecture(studio_user(), lecture_id)[0])
    response.vary.add("Accept")
    return response


@json_api
def _retry_json(user: User, token: uuid.UUID) -> Response:
    media = owned_media(user, token)
    with committing():
        db.session.refresh(media, with_for_update=True)  # a double click queues one job
        answer = media_json(processing.retry(media))
    return jsonify(answer)


@bp.post("/uploads/<uuid:token>/retry")
def retry_processing(token: uuid.UUID) -> Response:
    """ "Retry processing": JSON, the HTMX partial, or a plain form that redirects back."""
    if json_requested():
        return _retry_json(token)
    user = studio_user()
    media = owned_media(user, token)
    lecture = lecture_of(user, media)
    with committing(catch=not wants_partial()) as unit:  # HTMX: the error fragment instead
        db.session.refresh(media, with_for_update=True)
        processing.retry(media)
    if wants_partial():
        return video_partial(lecture)
    if unit.error is not None:
        flash(unit.error.message, "error")
    target = request.form.get("next", "")
    fallback = url_for("teaching.lecture_status", lecture_id=lecture.id)
    return redirect_to(target if is_safe_redirect(target) else fallback)
