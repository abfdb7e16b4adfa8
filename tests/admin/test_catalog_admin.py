"""Courses in the console: list, feature, unpublish, archive, reassign — confirmed, audited."""

from __future__ import annotations

import sqlalchemy as sa
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from app.accounts.models import AuditEntry, Role
from app.catalog.models import CourseStatus
from app.extensions import db
from tests.factories import make_course, make_user


def _audit(action: str) -> list[AuditEntry]:
    return list(db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == action)))


def test_list_filters_csv_and_fragment(admin_client: FlaskClient) -> None:
    make_course("Rust for Pythonistas", prices={"USD": 1000})
    make_course("Draft Only Course", status=CourseStatus.DRAFT)
    page = admin_client.get("/admin/courses?q=rust").get_data(as_text=True)
    assert "Rust for Pythonistas" in page and "Draft Only" not in page
    drafts = admin_client.get("/admin/courses?status=draft").get_data(as_text=True)
    assert "Draft Only Course" in drafts and "Rust for" not in drafts
    fragment = admin_client.get("/admin/courses", headers={"HX-Request": "true"})
    assert fragment.get_data(as_text=True).lstrip().startswith('<div id="course-rows">')
    csv = admin_client.get("/admin/courses?format=csv&q=rust").get_data(as_text=True)
    assert csv.startswith("id,slug,title") and "Rust for Pythonistas" in csv


def test_feature_and_refused_for_a_draft(admin_client: FlaskClient) -> None:
    course = make_course("Featured One", prices={"USD": 1000})
    draft = make_course("Not Yet", status=CourseStatus.DRAFT)
    assert (
        admin_client.post(
            f"/admin/courses/{course.id}/feature", data={"featured": "yes"}
        ).status_code
        == 303
    )
    db.session.refresh(course)
    assert course.is_featured and len(_audit("course.feature")) == 1
    refused = admin_client.post(f"/admin/courses/{draft.id}/feature", data={"featured": "yes"})
    assert refused.status_code == 422 and "Only a published course" in refused.get_data(
        as_text=True
    )
    db.session.refresh(draft)
    assert not draft.is_featured and len(_audit("course.feature")) == 1


def test_unpublish_needs_confirmation_and_reason(admin_client: FlaskClient) -> None:
    course = make_course("To Unpublish", prices={"USD": 1000})
    url = f"/admin/courses/{course.id}/unpublish"
    assert (
        admin_client.post(url, data={"unpublish-reason": "", "confirmed": "yes"}).status_code == 422
    )
    shown = admin_client.post(url, data={"unpublish-reason": "copyright claim"})
    assert "Confirm" in shown.get_data(as_text=True)
    db.session.refresh(course)
    assert course.status is CourseStatus.PUBLISHED
    admin_client.post(url, data={"unpublish-reason": "copyright claim", "confirmed": "yes"})
    db.session.refresh(course)
    assert course.status is CourseStatus.DRAFT
    (row,) = _audit("course.unpublish")
    assert row.before["status"] == "published" and row.after["status"] == "draft"
    again = admin_client.post(url, data={"unpublish-reason": "x", "confirmed": "yes"})
    assert again.status_code == 422 and len(_audit("course.unpublish")) == 1


def test_archive(admin_client: FlaskClient) -> None:
    course = make_course("To Archive", prices={"USD": 1000})
    url = f"/admin/courses/{course.id}/archive"
    admin_client.post(url, data={"archive-reason": "retired", "confirmed": "yes"})
    db.session.refresh(course)
    assert course.status is CourseStatus.ARCHIVED and len(_audit("course.archive")) == 1


def test_reassign_teacher(admin_client: FlaskClient, db_session: Session) -> None:
    course = make_course("Handed Over", prices={"USD": 1000})
    new = make_user(Role.TEACHER, email="new.teacher@example.com")
    student = make_user(Role.STUDENT)
    url = f"/admin/courses/{course.id}/teacher"
    bad = {"reassign-teacher_id": str(student.id), "reassign-reason": "x", "confirmed": "yes"}
    assert admin_client.post(url, data=bad).status_code == 422  # not a choice
    data = {"reassign-teacher_id": str(new.id), "reassign-reason": "old teacher left"}
    admin_client.post(url, data={**data, "confirmed": "yes"})
    db.session.refresh(course)
    assert course.teacher_id == new.id
    (row,) = _audit("course.reassign")
    assert row.after == {"teacher": "new.teacher@example.com"}
