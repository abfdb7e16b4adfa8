"""Studio routes (thin: parse, call a service, commit once, render). Upload and video-status
routes live in upload_views.py on the same blueprint."""

from __future__ import annotations

from flask import abort, flash, redirect, send_file, url_for
from flask.typing import ResponseReturnValue
from htmx_flask import request

from app.catalog.models import CourseStatus
from app.checkout.queries import revenue_by_course
from app.core.forms import text
from app.core.htmx import render, wants_partial
from app.core.markdown import render_markdown
from app.core.unit import committing
from app.media.storage import StorageError, get_storage
from app.teaching import bp, covers, queries, services
from app.teaching.access import can_teach, owned_course, studio_required, studio_user
from app.teaching.forms import CoverForm, NewCourseForm
from app.teaching.web import (
    answer,
    course_form,
    currencies,
    details_context,
    publish_context,
)

bp.add_app_template_global(covers.cover_url, "cover_url")
bp.add_app_template_global(can_teach, "can_teach")
DETAILS_PAGE = "teaching/course_edit.html"
PUBLISH_PARTIAL = "teaching/partials/publish_panel.html"
FORM_SLACK = 64 * 1024  # the form's other fields and multipart headers around the file


@bp.get("/")
@studio_required
def dashboard() -> ResponseReturnValue:
    courses = queries.list_studio_courses(studio_user().id)
    revenue = revenue_by_course([c.id for c in courses])
    return render(
        "teaching/dashboard.html", "teaching/dashboard.html", courses=courses, revenue=revenue
    )


@bp.route("/courses/new", methods=["GET", "POST"])
@studio_required
def new_course() -> ResponseReturnValue:
    form = NewCourseForm()
    if form.validate_on_submit():
        details = services.CourseDetails(title=text(form.title), subtitle=text(form.subtitle))
        with committing(form) as unit:
            course = services.create_course(studio_user(), details)
        if unit.ok:
            return redirect(url_for("teaching.edit_course", course_id=course.id), 303)
    status = 422 if form.errors or form.form_errors else 200
    page = "teaching/course_new.html"
    return render(page, page, status, form=form)


@bp.route("/courses/<int:course_id>", methods=["GET", "POST"])
@studio_required
def edit_course(course_id: int) -> ResponseReturnValue:
    course = owned_course(studio_user(), course_id)
    form = course_form(course)
    saved = False
    if form.validate_on_submit():
        with committing(form) as unit:
            services.update_course(course, form.details())
            services.set_prices(course, form.price_choice(currencies()), currencies())
        saved = unit.ok
        if saved and not wants_partial():  # without JS: back to the page, not a re-post
            flash("Saved.", "success")
            return redirect(url_for("teaching.edit_course", course_id=course_id), 303)
    status = 422 if form.errors or form.form_errors else 200
    context = details_context(course, form, saved=saved, oob=request.method == "POST")
    return render(DETAILS_PAGE, "teaching/partials/course_details.html", status, **context)


@bp.post("/markdown-preview")
@studio_required
def markdown_preview() -> ResponseReturnValue:
    html = render_markdown(request.form.get("description", "")[:20_000])
    partial = "teaching/partials/description_preview.html"
    return render(partial, partial, preview_html=html)


def _cover_bytes() -> bytes:
    """The uploaded image's bytes; a body over the limit is refused before it is read."""
    if (request.content_length or 0) > covers.MAX_COVER_BYTES + FORM_SLACK:
        raise covers.CoverRefused("The image is larger than 10 MB.")
    upload = request.files.get("cover")
    if upload is None or not upload.filename:
        raise covers.CoverRefused("Choose an image to upload.")
    return covers.read_limited(upload.stream)


@bp.post("/courses/<int:course_id>/cover")
@studio_required
def upload_cover(course_id: int) -> ResponseReturnValue:
    course = owned_course(studio_user(), course_id, lock=True)
    form = CoverForm()
    with committing(form) as unit:
        covers.set_cover(course, _cover_bytes(), get_storage())
    back = url_for("teaching.edit_course", course_id=course_id)
    partial = "teaching/partials/course_cover.html"
    return answer(DETAILS_PAGE, partial, back, unit.error, course=course, cover_form=form)


@bp.post("/courses/<int:course_id>/publish")
@studio_required
def publish(course_id: int) -> ResponseReturnValue:
    course = owned_course(studio_user(), course_id, lock=True)
    with committing(catch=True) as unit:
        services.publish_course(course)
    back = url_for("teaching.edit_course", course_id=course_id)
    context = publish_context(course, unit.error)
    return answer(DETAILS_PAGE, PUBLISH_PARTIAL, back, unit.error, **context)


@bp.post("/courses/<int:course_id>/unpublish")
@studio_required
def unpublish(course_id: int) -> ResponseReturnValue:
    course = owned_course(studio_user(), course_id, lock=True)
    archive = request.form.get("status") == CourseStatus.ARCHIVED.value
    with committing(catch=True) as unit:
        services.unpublish_course(course, CourseStatus.ARCHIVED if archive else CourseStatus.DRAFT)
    back = url_for("teaching.edit_course", course_id=course_id)
    return answer(DETAILS_PAGE, PUBLISH_PARTIAL, back, unit.error, **publish_context(course))


@bp.get("/covers/<path:key>")
def cover_file(key: str) -> ResponseReturnValue:
    """Covers are public; a key never changes content, so it is cached for a year."""
    if not covers.COVER_KEY.match(key):
        abort(404)
    try:
        handle = get_storage().open(key)
    except StorageError:
        abort(404)
    response = send_file(handle, mimetype=covers.CONTENT_TYPE, max_age=365 * 24 * 3600)
    response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    return response


# The other studio routes, on the same blueprint.
from app.teaching import (  # noqa: F401, E402
    curriculum_views,
    lecture_views,
    upload_views,
)
