"""Enrollments over the API: the caller's own only, progress reports clamped as heartbeats are
(app/learning/progress_reports.py), completion and its certificate, free enrollment, and the
public certificate check."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.accounts.models import AuditEntry, Role, User
from app.catalog.models import Course
from app.core.models import utcnow
from app.extensions import db
from app.learning.models import Certificate, Enrollment, EnrollmentStatus, LectureProgress
from app.learning.progress import MAX_CLAIM_S
from app.learning.queries import get_enrollment
from tests.api.tokens import bearer
from tests.factories import make_course, make_user
from tests.learning.builders import certificate, enrol, lectures_of, ready_video

ME = "/api/v1/enrollments/me"


def _course(seconds: tuple[int, ...] = (60, 60), reading: bool = False) -> Course:
    lectures = tuple((f"Lecture {i + 1}", s) for i, s in enumerate(seconds))
    if reading:
        lectures += (("Reading", 0),)
    course = make_course("Watching Well", chapters=(("One", lectures),))
    for lecture in lectures_of(course)[: len(seconds)]:
        ready_video(lecture, seconds=lecture.duration_s)
    return course


def _enrolled(user: User, course: Course, idle_s: int | None = None) -> Enrollment:
    """An enrollment whose previous activity was `idle_s` seconds ago (None: never active)."""
    enrollment = enrol(user.id, course)
    enrollment.enrolled_at = utcnow() - timedelta(days=1)
    if idle_s is not None:
        enrollment.last_accessed_at = utcnow() - timedelta(seconds=idle_s)
    db.session.flush()
    return enrollment


def _report(client: FlaskClient, user: User, course: Course, percent: float, total: int) -> Any:
    return client.patch(
        f"/api/v1/enrollments/course/{course.id}/progress",
        json={"progressPercentage": percent, "totalWatchTime": total},
        headers=bearer(user),
    )


def _fresh(enrollment: Enrollment) -> Enrollment:
    db.session.refresh(enrollment)
    return enrollment


@pytest.fixture
def student(db_session: Session) -> User:
    return make_user(name="Sam Student")


def test_me_lists_the_callers_enrollments_only(client: FlaskClient, student: User) -> None:
    course, other_course = _course(), _course()
    _enrolled(student, course)
    enrol(make_user().id, other_course)
    answer = client.get(ME, headers=bearer(student))
    assert answer.status_code == 200, answer.json
    (item,) = answer.json["data"]["enrollments"]
    assert item["course"] == {"id": course.id, "title": course.title, "slug": course.slug}
    assert item["status"] == "active" and item["progressPercentage"] == 0
    assert item["totalWatchTime"] == 0 and item["completedAt"] is None
    assert item["enrolledAt"] and item["expiresAt"] is None
    assert client.get(ME).status_code == 401


def test_another_users_enrollment_is_unreachable(client: FlaskClient, student: User) -> None:
    owner, course = make_user(), _course()
    theirs = _enrolled(owner, course, idle_s=1000)
    path = f"/api/v1/enrollments/course/{course.id}"
    assert client.get(path, headers=bearer(owner)).status_code == 200
    answer = client.get(path, headers=bearer(student))
    assert answer.status_code == 404 and answer.json["code"] == "ENROLLMENT_NOT_FOUND"
    assert _report(client, student, course, 100, 120).status_code == 404
    assert _fresh(theirs).total_time_spent_s == 0 and theirs.progress == 0


def test_a_report_is_credited_at_most_the_wall_time_since_the_last_activity(
    client: FlaskClient, student: User
) -> None:
    course = _course((600, 600))
    enrollment = _enrolled(student, course, idle_s=100)
    answer = _report(client, student, course, 100, 100_000)
    assert answer.status_code == 200, answer.json
    data = answer.json["data"]
    # 100 s of wall time plus the 7 % allowance (a second or two for the request itself).
    assert 100 <= data["credited"] <= 110
    assert data["enrollment"]["totalWatchTime"] == data["credited"]
    assert data["enrollment"]["progressPercentage"] == 0 and not data["courseCompleted"]
    assert _fresh(enrollment).status is EnrollmentStatus.ACTIVE
    # At once again: no wall time has passed since that report.
    assert _report(client, student, course, 100, 100_000).json["data"]["credited"] <= 2


def test_one_report_claims_at_most_an_hour(client: FlaskClient, student: User) -> None:
    course = _course((5000, 5000))
    _enrolled(student, course, idle_s=86_400)
    answer = _report(client, student, course, 50, 100_000)
    assert answer.json["data"]["credited"] == MAX_CLAIM_S


def test_a_fresh_enrollments_first_report_is_clocked_from_enrolling(
    client: FlaskClient, student: User
) -> None:
    course = _course()
    enrol(student.id, course)  # enrolled just now, never watched
    answer = _report(client, student, course, 100, 120)
    assert answer.json["data"]["credited"] <= 2
    assert answer.json["data"]["enrollment"]["status"] == "active"


def test_honest_watching_completes_the_course_and_issues_its_certificate(
    client: FlaskClient, student: User
) -> None:
    course = _course((60, 60))
    enrollment = _enrolled(student, course, idle_s=1000)
    answer = _report(client, student, course, 100, 120)
    assert answer.status_code == 200, answer.json
    data = answer.json["data"]
    assert data["credited"] == 120 and data["courseCompleted"] is True
    item = data["enrollment"]
    assert item["status"] == "completed" and item["progressPercentage"] == 100
    assert item["completedAt"] and item["completedLectures"] == 2
    assert item["certificate"]["code"].startswith("CF-")
    cert = db.session.scalars(
        select(Certificate).where(Certificate.enrollment_id == enrollment.id)
    ).one()
    assert cert.code == item["certificate"]["code"] and cert.student_name == "Sam Student"
    # Each lecture got what the 90 % rule needs (54 of 60 s), in course order.
    rows = db.session.scalars(
        select(LectureProgress)
        .where(LectureProgress.enrollment_id == enrollment.id)
        .order_by(LectureProgress.lecture_id)
    ).all()
    assert [(r.watched_s, r.completed_at is not None) for r in rows] == [(54, True), (54, True)]


def test_progress_never_exceeds_the_claim_nor_the_watched_time(
    client: FlaskClient, student: User
) -> None:
    course = _course((60, 60), reading=True)  # two videos and a reading: thirds
    _enrolled(student, course, idle_s=1000)
    # Time enough for both videos, but the app claims a third: the first lecture only.
    first = _report(client, student, course, 33.3, 120).json["data"]["enrollment"]
    assert (first["progressPercentage"], first["completedLectures"]) == (33, 1)
    # The claim grows with no new time: the second video was watched already, so it counts;
    # the reading is done on the app's word once the claim covers it.
    second = _report(client, student, course, 66.7, 120).json["data"]["enrollment"]
    assert (second["progressPercentage"], second["completedLectures"]) == (66, 2)
    third = _report(client, student, course, 100, 120).json["data"]
    assert third["courseCompleted"] and third["enrollment"]["status"] == "completed"
    assert third["enrollment"]["totalWatchTime"] == 120


def test_a_claim_without_the_time_behind_it_completes_nothing(
    client: FlaskClient, student: User
) -> None:
    course = _course((60, 60))
    enrollment = _enrolled(student, course, idle_s=70)
    # 70 s of wall time: the first lecture (54 s) is done, the second is not (16 s of 54).
    data = _report(client, student, course, 100, 120).json["data"]
    assert data["enrollment"]["completedLectures"] == 1
    assert data["enrollment"]["progressPercentage"] == 50 and not data["courseCompleted"]
    assert _fresh(enrollment).status is EnrollmentStatus.ACTIVE


def test_watch_time_never_goes_down(client: FlaskClient, student: User) -> None:
    course = _course((600,))
    enrollment = _enrolled(
        student,
        course,
        idle_s=1000,
    )
    enrollment.total_time_spent_s = 500
    db.session.flush()
    data = _report(client, student, course, 10, 100).json["data"]
    assert data["credited"] == 0 and data["enrollment"]["totalWatchTime"] == 500


def test_an_ended_enrollment_records_nothing(client: FlaskClient, student: User) -> None:
    course = _course()
    enrol(student.id, course, status=EnrollmentStatus.DROPPED)
    answer = _report(client, student, course, 100, 120)
    assert answer.status_code == 403 and answer.json["code"] == "no_access"


def test_the_report_body_is_validated(client: FlaskClient, student: User) -> None:
    course = _course()
    _enrolled(student, course)
    path = f"/api/v1/enrollments/course/{course.id}/progress"
    for body, field in (
        ({"progressPercentage": 101, "totalWatchTime": 1}, "progressPercentage"),
        ({"progressPercentage": 5, "totalWatchTime": -1}, "totalWatchTime"),
        ({"progressPercentage": 5}, "totalWatchTime"),
        ({"progressPercentage": 5, "totalWatchTime": 1, "x": 1}, "x"),
    ):
        answer = client.patch(path, json=body, headers=bearer(student))
        assert answer.status_code == 422 and answer.json["field"] == field, answer.json


def test_free_courses_enroll_paid_ones_must_be_bought(client: FlaskClient, student: User) -> None:
    free = make_course(prices={"USD": 0})
    paid = make_course(prices={"USD": 1999})
    answer = client.post("/api/v1/enrollments", json={"courseId": free.id}, headers=bearer(student))
    assert answer.status_code == 201, answer.json
    assert answer.json["data"]["enrollment"]["course"]["id"] == free.id
    answer = client.post("/api/v1/enrollments", json={"courseId": paid.id}, headers=bearer(student))
    assert answer.status_code == 402 and answer.json["code"] == "PAYMENT_REQUIRED"
    assert get_enrollment(student.id, paid.id) is None
    someone = {"courseId": free.id, "userId": make_user().id}
    answer = client.post("/api/v1/enrollments", json=someone, headers=bearer(student))
    assert answer.status_code == 403


def test_admins_enroll_anyone_in_any_course_audited(client: FlaskClient, student: User) -> None:
    admin, paid = make_user(Role.ADMIN), make_course(prices={"USD": 1999})
    body = {"courseId": paid.id, "userId": student.id, "reason": "Support ticket 7"}
    answer = client.post("/api/v1/enrollments", json=body, headers=bearer(admin))
    assert answer.status_code == 201, answer.json
    enrollment = get_enrollment(student.id, paid.id)
    assert enrollment is not None and enrollment.status is EnrollmentStatus.ACTIVE
    entry = db.session.scalars(
        select(AuditEntry).where(AuditEntry.target_id == str(enrollment.id))
    ).one()
    assert (entry.action, entry.actor_id, entry.reason) == (
        "enrollment.grant",
        admin.id,
        "Support ticket 7",
    )


def test_certificates_verify_publicly(client: FlaskClient, student: User) -> None:
    course = _course()
    done = enrol(student.id, course, status=EnrollmentStatus.COMPLETED)
    cert = certificate(done)
    answer = client.get(f"/api/v1/certificates/{cert.code.lower()}/verify")
    assert answer.status_code == 200, answer.json
    data = answer.json["data"]
    assert data["valid"] is True and data["code"] == cert.code
    assert (data["studentName"], data["courseTitle"]) == ("A Student", course.title)
    assert data["issuedAt"] and data["revokedAt"] is None
    assert data["url"].endswith(f"/certificates/{cert.code}")
    revoked = certificate(enrol(make_user().id, course), revoked=True)
    data = client.get(f"/api/v1/certificates/{revoked.code}/verify").json["data"]
    assert data["valid"] is False and data["revokedAt"]
    unknown = client.get("/api/v1/certificates/CF-2222-3333-4444/verify")
    assert unknown.status_code == 404 and unknown.json["code"] == "CERTIFICATE_NOT_FOUND"
