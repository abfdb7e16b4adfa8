"""Users: search and filter, a user's page with enrollments and orders, role changes,
deactivation (their logins end) and manual enrollments, each confirmed first and audited."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from flask import flash, redirect, url_for
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm

from app.accounts.models import Role
from app.admin import bp, people
from app.admin.access import actor
from app.admin.catalog_admin import course_choices
from app.admin.forms import GrantForm, ReasonForm, RevokeForm, RoleForm
from app.admin.web import PER_PAGE, confirm_page, confirmed, csv_response, list_args
from app.core.forms import text
from app.core.htmx import render
from app.core.unit import committing


def run_sensitive(
    form: FlaskForm,
    again: Callable[[], ResponseReturnValue],
    confirm: tuple[str, str, Sequence[str]],
    run: Callable[[], Any],
    done: tuple[str, str],
) -> ResponseReturnValue:
    """The sensitive-action flow: a form that does not validate (or a refusal) shows the page
    again with the error and nothing changed; a valid one is confirmed first (`confirm` =
    title, action URL, summary lines), then run in one transaction (`done` = message, URL)."""
    if not form.validate_on_submit():
        return again()
    if not confirmed():
        title, action, summary = confirm
        return confirm_page(title, action, summary=summary, danger=True)
    with committing(form) as unit:
        run()
    if not unit.ok:
        return again()
    flash(done[0], "success")
    return redirect(done[1], 303)


@bp.get("/users")
def user_list() -> ResponseReturnValue:
    args = list_args("role", "state")
    if args.export:
        return csv_response("users.csv", people.USER_CSV_HEADER, people.user_csv_rows(args))
    return render(
        "admin/user_list.html",
        "admin/partials/user_rows.html",
        args=args,
        users=people.list_users(args, PER_PAGE),
        roles=people.ROLES,
        states=people.STATES,
    )


def _forms(current_role: Role, **given: FlaskForm) -> dict[str, FlaskForm]:
    forms: dict[str, FlaskForm] = {
        # The picker starts at the user's role: an admin choosing nothing changes nothing.
        "role_form": RoleForm(formdata=None, prefix="role", role=current_role.value),
        "active_form": ReasonForm(formdata=None, prefix="active"),
        "grant_form": GrantForm(formdata=None, prefix="grant"),
        "revoke_form": RevokeForm(formdata=None, prefix="revoke"),
    }
    forms.update(given)
    forms["grant_form"].course_id.choices = course_choices()
    return forms


def _user_page(user_id: int, status: int = 200, **given: FlaskForm) -> ResponseReturnValue:
    info = people.get_user_page(user_id)
    return render(
        "admin/user_detail.html",
        "admin/partials/user_summary.html",
        status,
        info=info,
        **_forms(info.user.role, **given),
    )


@bp.get("/users/<int:user_id>")
def user_detail(user_id: int) -> ResponseReturnValue:
    return _user_page(user_id)


def _here(user_id: int) -> str:
    return url_for("admin.user_detail", user_id=user_id)


@bp.post("/users/<int:user_id>/role")
def user_role(user_id: int) -> ResponseReturnValue:
    user = people.get_user(user_id)
    form = RoleForm(prefix="role")
    role = Role(form.role.data) if form.role.data in {r.value for r in Role} else Role.STUDENT
    summary = [f"{user.email}: {user.role.value} → {role.value}.", f"Reason: {form.reason.data}"]
    return run_sensitive(
        form,
        lambda: _user_page(user_id, 422, role_form=form),
        ("Change role", url_for("admin.user_role", user_id=user_id), summary),
        lambda: people.set_role(user, role, actor(), text(form.reason)),
        (f"{user.email} is now {role.value}.", _here(user_id)),
    )


@bp.post("/users/<int:user_id>/active")
def user_set_active(user_id: int) -> ResponseReturnValue:
    user = people.get_user(user_id)
    form = ReasonForm(prefix="active")
    active = not user.active
    verb = "Reactivate" if active else "Deactivate"
    effect = "They can log in again." if active else "Every login of theirs ends now."
    return run_sensitive(
        form,
        lambda: _user_page(user_id, 422, active_form=form),
        (f"{verb} {user.email}", url_for("admin.user_set_active", user_id=user_id), [effect]),
        lambda: people.set_active(user, active, actor(), text(form.reason)),
        (f"{user.email} {'reactivated' if active else 'deactivated'}.", _here(user_id)),
    )


@bp.post("/users/<int:user_id>/enrollments")
def enrollment_grant(user_id: int) -> ResponseReturnValue:
    user = people.get_user(user_id)
    form = GrantForm(prefix="grant")
    form.course_id.choices = course_choices()
    title = dict(form.course_id.choices).get(form.course_id.data, "?")
    summary = [f"{user.email} gets {title} for good (source: admin), with no payment."]
    return run_sensitive(
        form,
        lambda: _user_page(user_id, 422, grant_form=form),
        ("Grant enrollment", url_for("admin.enrollment_grant", user_id=user_id), summary),
        lambda: people.grant_course(user, form.course_id.data, actor(), text(form.reason)),
        (f"{user.email} is enrolled in {title}.", _here(user_id)),
    )


@bp.post("/users/<int:user_id>/enrollments/revoke")
def enrollment_revoke(user_id: int) -> ResponseReturnValue:
    user = people.get_user(user_id)
    form = RevokeForm(prefix="revoke")
    raw = text(form.course_id)
    course_id = int(raw) if raw.isdigit() else 0
    summary = [f"{user.email} loses access to course {course_id}; any certificate is revoked."]
    return run_sensitive(
        form,
        lambda: _user_page(user_id, 422, revoke_form=form),
        ("Revoke enrollment", url_for("admin.enrollment_revoke", user_id=user_id), summary),
        lambda: people.revoke_course(user, course_id, actor(), text(form.reason)),
        ("Enrollment revoked.", _here(user_id)),
    )
