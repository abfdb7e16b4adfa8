"""One lecture in the studio: title, description, preview flag, its video (upload_views.py)
and its attachments."""

from __future__ import annotations

import tempfile
import uuid
from pathlib import Path

from flask import current_app, redirect
from flask.typing import ResponseReturnValue
from htmx_flask import request
from werkzeug.datastructures import FileStorage

from app.catalog.models import Course, Lecture
from app.core.errors import DomainError
from app.core.forms import text
from app.core.htmx import render
from app.core.unit import committing
from app.media import queries as media_queries
from app.media.queries import lecture_video
from app.media.storage import get_storage
from app.teaching import attachments, bp, curriculum
from app.teaching.access import owned_attachment, owned_lecture, studio_required, studio_user
from app.teaching.forms import AttachmentForm, LectureForm
from app.teaching.web import answer, lecture_back

PAGE = "teaching/lecture_edit.html"
CHUNK = 1 << 20
FORM_SLACK = 64 * 1024  # the form's other fields and multipart headers around the file


def _context(lecture: Lecture, course: Course, **extra: object) -> dict[str, object]:
    return {
        "lecture": lecture,
        "course": course,
        "video": lecture_video(lecture.id),
        "attachments": media_queries.list_attachments(lecture.id),
        "attachment_form": AttachmentForm(formdata=None),
        **extra,
    }


@bp.route("/lectures/<int:lecture_id>", methods=["GET", "POST"])
@studio_required
def edit_lecture(lecture_id: int) -> ResponseReturnValue:
    lecture, course = owned_lecture(studio_user(), lecture_id)
    form = LectureForm(obj=None if request.method == "POST" else lecture)
    if request.method == "GET":
        form.description.data = lecture.description_md
    saved = False
    if form.validate_on_submit():
        with committing(form) as unit:
            curriculum.update_lecture(
                lecture, text(form.title), text(form.description), bool(form.is_preview.data)
            )
        saved = unit.ok
    status = 422 if form.errors or form.form_errors else 200
    context = _context(lecture, course, form=form, saved=saved)
    return render(PAGE, "teaching/partials/lecture_details.html", status, **context)


def _spool(upload: FileStorage, limit: int) -> attachments.IncomingFile:
    """The upload copied to a temporary file in chunks, counting bytes (never all in memory);
    stops reading past the limit."""
    handle = tempfile.NamedTemporaryFile(prefix="attachment-", delete=False)  # noqa: SIM115
    size = 0
    with handle:
        while chunk := upload.stream.read(CHUNK):
            size += len(chunk)
            if size > limit:
                break
            handle.write(chunk)
    return attachments.IncomingFile(upload.filename or "", Path(handle.name), size)


@bp.post("/lectures/<int:lecture_id>/attachments")
@studio_required
def add_attachment(lecture_id: int) -> ResponseReturnValue:
    user = studio_user()
    lecture, course = owned_lecture(user, lecture_id)
    limit = current_app.config["MEDIA_MAX_ATTACHMENT_BYTES"]
    if (request.content_length or 0) > limit + FORM_SLACK:  # refused before the body is read
        too_big = attachments.AttachmentRefused(f"Attachments are limited to {limit >> 20} MB.")
        return _attachments_answer(lecture, course, too_big)
    upload = request.files.get("file")
    incoming = _spool(upload, limit) if upload and upload.filename else None
    try:
        with committing(catch=True) as unit:
            if incoming is None:
                raise attachments.AttachmentRefused("Choose a file to attach.")
            attachments.add_attachment(user, lecture, incoming, get_storage(), limit)
    finally:
        if incoming is not None:
            incoming.path.unlink(missing_ok=True)
    return _attachments_answer(lecture, course, unit.error)


def _attachments_answer(
    lecture: Lecture, course: Course, error: DomainError | None
) -> ResponseReturnValue:
    partial = "teaching/partials/attachments.html"
    return answer(PAGE, partial, lecture_back(lecture), error, **_context(lecture, course))


@bp.get("/attachments/<uuid:token>")
@studio_required
def download_attachment(token: uuid.UUID) -> ResponseReturnValue:
    media, _, _ = owned_attachment(studio_user(), token)
    seconds = current_app.config["MEDIA_SIGNED_URL_SECONDS"]
    url = get_storage().signed_url(media.storage_key, seconds, media.content_type, media.file_name)
    return redirect(url)


@bp.post("/attachments/<uuid:token>/delete")
@studio_required
def delete_attachment(token: uuid.UUID) -> ResponseReturnValue:
    media, lecture, course = owned_attachment(studio_user(), token)
    with committing(catch=True) as unit:
        attachments.delete_attachment(media)
    return _attachments_answer(lecture, course, unit.error)
