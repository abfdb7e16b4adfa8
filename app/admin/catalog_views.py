"""Courses: search, filter by status and teacher, CSV; a course's page with feature/unfeature,
unpublish, archive and reassign teacher (the last three confirmed first); every action audited."""

from __future__ import annotations

from flask import flash, redirect, url_for
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm

from app.admin import bp
from app.admin import catalog_admin as courses
from app.admin.access import actor
from app.admin.forms import FeatureForm, ReasonForm, ReassignForm
from app.admin.user_views import run_sensitive
from app.admin.web import PER_PAGE, csv_response, list_args
from app.core.forms import text
from app.core.htmx import render
from app.core.unit import committing


@bp.get("/courses")
def course_list() -> ResponseReturnValue:
    args = list_args("status", "teacher")
    if args.export:
        return csv_response("courses.csv", courses.COURSE_CSV_HEADER, courses.course_csv_rows(args))
    teachers = [(str(uid), label) for uid, label in courses.teacher_choices()]
    return render(
        "admin/course_list.html",
        "admin/partials/course_rows.html",
        args=args,
        courses=courses.list_courses(args, PER_PAGE),
        statuses=courses.STATUSES,
        teachers=teachers,
    )


def _course_page(course_id: int, status: int = 200, **given: FlaskForm) -> ResponseReturnValue:
    forms: dict[str, FlaskForm] = {
        "unpublish_form": ReasonForm(formdata=None, prefix="unpublish"),
        "archive_form": ReasonForm(formdata=None, prefix="archive"),
        "reassign_form": ReassignForm(formdata=None, prefix="reassign"),
        "feature_form": FeatureForm(formdata=None),
        **given,
    }
    forms["reassign_form"].teacher_id.choices = courses.teacher_choices()
    course = courses.get_course(course_id)
    return render(
        "admin/course_detail.html",
        "admin/partials/course_actions.html",
        status,
        course=course,
        **forms,
    )


@bp.get("/courses/<int:course_id>")
def course_detail(course_id: int) -> ResponseReturnValue:
    return _course_page(course_id)


def _here(course_id: int) -> str:
    return url_for("admin.course_detail", course_id=course_id)


@bp.post("/courses/<int:course_id>/feature")
def course_feature(course_id: int) -> ResponseReturnValue:
    course = courses.get_course(course_id)
    form = FeatureForm()
    if not form.validate_on_submit():
        return _course_page(course_id, 422, feature_form=form)
    featured = form.featured.data == "yes"
    with committing(form) as unit:
        courses.feature_course(course, featured, actor())
    if not unit.ok:
        return _course_page(course_id, 422, feature_form=form)
    flash("Featured on the storefront." if featured else "No longer featured.", "success")
    return redirect(_here(course_id), 303)


@bp.post("/courses/<int:course_id>/unpublish")
def course_unpublish(course_id: int) -> ResponseReturnValue:
    course = courses.get_course(course_id)
    form = ReasonForm(prefix="unpublish")
    summary = [
        f"{course.title} leaves the catalog (back to draft).",
        "Enrolled students keep access.",
    ]
    return run_sensitive(
        form,
        lambda: _course_page(course_id, 422, unpublish_form=form),
        ("Unpublish course", url_for("admin.course_unpublish", course_id=course_id), summary),
        lambda: courses.unpublish_course(course, actor(), text(form.reason)),
        (f"{course.title} is unpublished.", _here(course_id)),
    )


@bp.post("/courses/<int:course_id>/archive")
def course_archive(course_id: int) -> ResponseReturnValue:
    course = courses.get_course(course_id)
    form = ReasonForm(prefix="archive")
    summary = [
        f"{course.title} is archived: off the catalog, nobody new can buy it.",
        "Enrolled students keep access.",
    ]
    return run_sensitive(
        form,
        lambda: _course_page(course_id, 422, archive_form=form),
        ("Archive course", url_for("admin.course_archive", course_id=course_id), summary),
        lambda: courses.archive_course(course, actor(), text(form.reason)),
        (f"{course.title} is archived.", _here(course_id)),
    )


@bp.post("/courses/<int:course_id>/teacher")
def course_reassign(course_id: int) -> ResponseReturnValue:
    course = courses.get_course(course_id)
    form = ReassignForm(prefix="reassign")
    form.teacher_id.choices = courses.teacher_choices()
    new = dict(form.teacher_id.choices).get(form.teacher_id.data, "?")
    summary = [f"{course.title}: {course.teacher.email} → {new}."]
    return run_sensitive(
        form,
        lambda: _course_page(course_id, 422, reassign_form=form),
        ("Reassign teacher", url_for("admin.course_reassign", course_id=course_id), summary),
        lambda: courses.reassign_course(course, form.teacher_id.data, actor(), text(form.reason)),
        (f"{course.title} now belongs to {new}.", _here(course_id)),
    )
