"""Enrollments, progress and certificates for apps (issue 14, seed 000 flows 2 and 4, seed
004's enrollment endpoints):

    GET   /api/v1/enrollments/me                              the caller's enrollments
    GET   /api/v1/enrollments/course/<course id>              the caller's, in that course
    POST  /api/v1/enrollments              {courseId, ...}    free courses (admins: any)
    PATCH /api/v1/enrollments/course/<course id>/progress     {progressPercentage, totalWatchTime}
    GET   /api/v1/certificates/<code>/verify                  public

The seeds' paths (/api/course/enrollments/..., /api/payments/enrollments...) are aliases
(app/api/aliases.py); seed 004's GET /api/payments/enrollments is "me".

Only the caller's own enrollments are reachable: another user's course answers 404, as a
course they are not enrolled in does. Progress reports are clamped as heartbeats are (the
rules are app/learning/progress_reports.py's docstring).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import request
from flask.wrappers import Response
from pydantic import Field
from sqlalchemy.orm import joinedload, selectinload

from app.accounts.audit import Actor
from app.accounts.models import User
from app.admin.people import grant_course
from app.api import bp
from app.api.auth import rate_key
from app.api.spec import Body, Reply, ok
from app.api.spec import operation as op
from app.catalog.models import Course
from app.catalog.queries import can_view
from app.checkout.services import enroll_free
from app.core.errors import DomainError, NotFound, PermissionDenied
from app.core.models import utcnow
from app.core.unit import committing
from app.core.urls import absolute_url
from app.extensions import db, limiter
from app.learning.certificates import get_certificate_page, list_certificates
from app.learning.dashboard import EndReason, end_reason
from app.learning.models import Certificate, Enrollment
from app.learning.progress_reports import ProgressReport, record_progress_report
from app.learning.queries import list_enrollments

TAG = "Enrollments"
MAX_ID = 2**31 - 1


class PaymentRequired(DomainError):
    code = "PAYMENT_REQUIRED"
    status = 402


class CourseRef(Reply):
    id: int
    title: str
    slug: str


class EnrollmentReply(Reply):
    id: int
    courseId: int
    course: CourseRef
    status: str
    progressPercentage: int
    totalWatchTime: int
    completedLectures: int
    enrolledAt: str
    completedAt: str | None
    expiresAt: str | None
    lastAccessedAt: str | None
    certificate: dict[str, str] | None


class EnrollmentsReply(Reply):
    enrollments: list[EnrollmentReply]


class OneEnrollmentReply(Reply):
    enrollment: EnrollmentReply


class ProgressReply(Reply):
    enrollment: EnrollmentReply
    credited: int
    courseCompleted: bool


class CertificateReply(Reply):
    valid: bool
    code: str
    studentName: str
    courseTitle: str
    teacherName: str
    issuedAt: str
    revokedAt: str | None
    url: str


class CreateEnrollment(Body):
    courseId: int = Field(ge=1, le=MAX_ID)
    userId: int | None = Field(default=None, ge=1, le=MAX_ID)  # admins only
    reason: str = Field(default="", max_length=300)


class ProgressBody(Body):
    progressPercentage: float = Field(ge=0, le=100, allow_inf_nan=False)
    totalWatchTime: int = Field(ge=0, le=10**8)  # seconds, the enrollment's total


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _certificate(cert: Certificate | None) -> dict[str, str] | None:
    if cert is None:
        return None
    return {"code": cert.code, "url": absolute_url("learning.certificate_page", code=cert.code)}


def enrollment_json(enrollment: Enrollment, cert: Certificate | None) -> dict[str, Any]:
    """One enrollment as the API shows it; a passed end date reads "expired" at once."""
    course: Course = enrollment.course
    expired = end_reason(enrollment, utcnow()) is EndReason.EXPIRED
    return {
        "id": enrollment.id,
        "courseId": course.id,
        "course": {"id": course.id, "title": course.title, "slug": course.slug},
        "status": "expired" if expired else enrollment.status.value,
        "progressPercentage": enrollment.progress,
        "totalWatchTime": enrollment.total_time_spent_s,
        "completedLectures": enrollment.completed_lectures,
        "enrolledAt": enrollment.enrolled_at.isoformat(),
        "completedAt": _iso(enrollment.completed_at),
        "expiresAt": _iso(enrollment.expires_at),
        "lastAccessedAt": _iso(enrollment.last_accessed_at),
        "certificate": _certificate(cert),
    }


def _with_certificates(enrollments: list[Enrollment], user_id: int) -> list[dict[str, Any]]:
    certs = {c.enrollment_id: c for c in list_certificates(user_id)} if enrollments else {}
    return [enrollment_json(e, certs.get(e.id)) for e in enrollments]


def _own(user_id: int, course_id: int) -> dict[str, Any]:
    found = _with_certificates(list_enrollments(user_id, course_id), user_id)
    if not found:
        raise NotFound("You are not enrolled in this course.", code="ENROLLMENT_NOT_FOUND")
    return found[0]


def _course(course_id: int) -> Course | None:
    options = (selectinload(Course.prices), joinedload(Course.teacher))
    return db.session.get(Course, course_id, options=options)


def _enroll(user: User, course: Course, body: CreateEnrollment) -> int:
    """Admins enroll anyone in anything (audited); others only themselves, in a free course.
    The enrolled user's id."""
    if user.is_admin:
        who = db.session.get(User, body.userId) if body.userId else user
        if who is None:
            raise NotFound("No user with this id.", field="userId")
        actor = Actor(user, "api", request.remote_addr)
        grant_course(who, course.id, actor, body.reason or "Enrolled through the API")
        return who.id
    if body.userId not in (None, user.id):
        raise PermissionDenied("Only admins enroll other people.", code="FORBIDDEN")
    if not (course.is_published and course.is_free):
        raise PaymentRequired("This course must be bought: create a payment for it.")
    enroll_free(user, course, course.prices[0].currency)
    return user.id


@op(bp, "GET", "/enrollments/me", summary="My enrollments", tag=TAG, response=EnrollmentsReply,
    errors=(401,), aliases=("/api/payments/enrollments",))  # fmt: skip
def api_my_enrollments(user: User) -> Response:
    enrollments = _with_certificates(list_enrollments(user.id), user.id)
    return ok({"enrollments": enrollments})


@op(bp, "GET", "/enrollments/course/<int:course_id>", summary="My enrollment in a course",
    tag=TAG, response=OneEnrollmentReply, errors=(401, 404))  # fmt: skip
def api_course_enrollment(user: User, course_id: int) -> Response:
    return ok({"enrollment": _own(user.id, course_id)})


@op(bp, "POST", "/enrollments", summary="Enroll in a free course (admins: any course, anyone)",
    tag=TAG, body=CreateEnrollment, response=OneEnrollmentReply, status=201,
    errors=(401, 402, 403, 404, 422))  # fmt: skip
def api_create_enrollment(user: User, body: CreateEnrollment) -> Response:
    course = _course(body.courseId)
    if course is None or not can_view(course, user):
        raise NotFound("No course with this id.", field="courseId")
    with committing():
        owner_id = _enroll(user, course, body)
    return ok({"enrollment": _own(owner_id, course.id)}, 201)


@op(bp, "PATCH", "/enrollments/course/<int:course_id>/progress", summary="Report progress",
    tag=TAG, body=ProgressBody, response=ProgressReply, errors=(401, 403, 404, 422),
    decorators=(
        limiter.limit("120 per minute", key_func=rate_key, override_defaults=False),
    ))  # fmt: skip
def api_report_progress(user: User, course_id: int, body: ProgressBody) -> Response:
    report = ProgressReport(body.progressPercentage, body.totalWatchTime)
    with committing():
        result = record_progress_report(user.id, course_id, report)
    data = {"enrollment": _own(user.id, course_id), "credited": result.credited_s}
    return ok({**data, "courseCompleted": result.course_completed})


@op(bp, "GET", "/certificates/<code>/verify", summary="Verify a certificate", tag="Certificates",
    auth="none", response=CertificateReply, errors=(404,),
    decorators=(limiter.limit("60 per minute", override_defaults=False),))  # fmt: skip
def api_verify_certificate(code: str) -> Response:
    found = get_certificate_page(code[:64])
    if found is None:
        raise NotFound("No certificate has this code.", code="CERTIFICATE_NOT_FOUND")
    cert = found.certificate
    return ok(
        {
            "valid": cert.is_valid,
            "code": cert.code,
            "studentName": cert.student_name,
            "courseTitle": cert.course_title,
            "teacherName": cert.teacher_name,
            "issuedAt": cert.issued_at.isoformat(),
            "revokedAt": _iso(cert.revoked_at),
            "url": absolute_url("learning.certificate_page", code=cert.code),
        }
    )
