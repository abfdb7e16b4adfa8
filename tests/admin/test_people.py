"""Users in the console: role change, deactivation (their logins end), grant/revoke, each
confirmed first and audited; bad input changes nothing."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from app.accounts.models import AuditEntry, Role, User
from app.extensions import db
from app.learning.models import EnrollmentSource, EnrollmentStatus
from app.learning.queries import get_enrollment
from tests.admin.conftest import client_as
from tests.factories import make_course, make_user


def _audit(action: str) -> list[AuditEntry]:
    return list(db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == action)))


def test_list_search_filter_csv_and_fragment(admin_client: FlaskClient) -> None:
    make_user(Role.TEACHER, email="tina.teach@example.com", name="Tina")
    make_user(Role.STUDENT, email="sam.student@example.com")
    page = admin_client.get("/admin/users?q=tina").get_data(as_text=True)
    assert "tina.teach@example.com" in page and "sam.student" not in page
    only = admin_client.get("/admin/users?role=student").get_data(as_text=True)
    assert "sam.student@example.com" in only and "tina.teach" not in only
    fragment = admin_client.get("/admin/users?q=sam", headers={"HX-Request": "true"})
    assert fragment.get_data(as_text=True).lstrip().startswith('<div id="user-rows">')
    csv = admin_client.get("/admin/users?format=csv&q=sam").get_data(as_text=True)
    assert csv.splitlines()[0].startswith("id,email") and "sam.student@example.com" in csv


def test_role_change_is_confirmed_then_audited(admin_client: FlaskClient) -> None:
    user = make_user(Role.STUDENT)
    form = {"role-role": "teacher", "role-reason": "runs the SQL course"}
    first = admin_client.post(f"/admin/users/{user.id}/role", data=form)
    assert "Confirm" in first.get_data(as_text=True)
    db.session.refresh(user)
    assert user.role is Role.STUDENT and not _audit("user.role")
    done = admin_client.post(f"/admin/users/{user.id}/role", data={**form, "confirmed": "yes"})
    assert done.status_code == 303
    db.session.refresh(user)
    assert user.role is Role.TEACHER
    (row,) = _audit("user.role")
    assert (row.before, row.after, row.reason) == (
        {"role": "student"},
        {"role": "teacher"},
        "runs the SQL course",
    )


def test_role_picker_starts_at_the_users_role(admin_client: FlaskClient) -> None:
    teacher = make_user(Role.TEACHER)
    page = admin_client.get(f"/admin/users/{teacher.id}").get_data(as_text=True)
    assert '<option selected value="teacher">' in page
    assert '<option selected value="student">' not in page


def test_role_change_without_reason_is_refused(admin_client: FlaskClient) -> None:
    user = make_user(Role.STUDENT)
    data = {"role-role": "admin", "role-reason": "", "confirmed": "yes"}
    answer = admin_client.post(f"/admin/users/{user.id}/role", data=data)
    assert answer.status_code == 422 and "Say why" in answer.get_data(as_text=True)
    db.session.refresh(user)
    assert user.role is Role.STUDENT and not _audit("user.role")


def test_admin_cannot_change_own_role(admin_client: FlaskClient, admin: User) -> None:
    data = {"role-role": "student", "role-reason": "oops", "confirmed": "yes"}
    answer = admin_client.post(f"/admin/users/{admin.id}/role", data=data)
    assert answer.status_code == 422 and "your own role" in answer.get_data(as_text=True)


def test_deactivation_ends_the_users_sessions(app: Flask, admin_client: FlaskClient) -> None:
    their_client, user = client_as(app, Role.STUDENT)
    assert their_client.get("/account").status_code == 200
    data = {"active-reason": "chargeback fraud", "confirmed": "yes"}
    assert admin_client.post(f"/admin/users/{user.id}/active", data=data).status_code == 303
    db.session.refresh(user)
    assert user.active is False
    (row,) = _audit("user.deactivate")
    assert row.after == {"active": False, "sessions_ended": 1}
    after = their_client.get("/account")
    assert after.status_code == 302 and "/login" in after.headers["Location"]
    assert admin_client.post(f"/admin/users/{user.id}/active", data=data).status_code == 303
    db.session.refresh(user)
    assert user.active is True and len(_audit("user.reactivate")) == 1


def test_grant_and_revoke_enrollment(admin_client: FlaskClient) -> None:
    user = make_user(Role.STUDENT)
    course = make_course("Admin Granted", prices={"USD": 1000})
    grant = {"grant-course_id": str(course.id), "grant-reason": "paid by bank transfer"}
    first = admin_client.post(f"/admin/users/{user.id}/enrollments", data=grant)
    assert "Confirm" in first.get_data(as_text=True)
    assert get_enrollment(user.id, course.id) is None
    admin_client.post(f"/admin/users/{user.id}/enrollments", data={**grant, "confirmed": "yes"})
    enrollment = get_enrollment(user.id, course.id)
    assert enrollment is not None and enrollment.source is EnrollmentSource.ADMIN
    assert len(_audit("enrollment.grant")) == 1
    page = admin_client.get(f"/admin/users/{user.id}").get_data(as_text=True)
    assert "Admin Granted" in page
    refused = {"revoke-course_id": str(course.id), "revoke-reason": "", "confirmed": "yes"}
    assert (
        admin_client.post(f"/admin/users/{user.id}/enrollments/revoke", data=refused).status_code
        == 422
    )
    revoke = {"revoke-course_id": str(course.id), "revoke-reason": "refunded offline"}
    admin_client.post(
        f"/admin/users/{user.id}/enrollments/revoke", data={**revoke, "confirmed": "yes"}
    )
    db.session.refresh(enrollment)
    assert enrollment.status is EnrollmentStatus.DROPPED
    (row,) = _audit("enrollment.revoke")
    assert row.reason == "refunded offline" and row.before["status"] == "active"
