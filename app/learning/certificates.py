"""Certificates of completion: one per enrollment, what it says frozen when it is issued, the
PDF rendered once by a job, revoked by a full refund.

A certificate that was revoked (the course refunded) is reinstated — same code, same text, the
links the student shared work again — when they buy the course again and complete it: the
certificate belongs to the enrollment, and it is the same enrollment. An access period that
ends does not revoke it: the course was completed, and stays completed.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import joinedload

from app.catalog.models import Course
from app.core.models import utcnow
from app.extensions import db
from app.jobs.queues import NOTIFY_RETRY, QueueName, enqueue_after_commit
from app.learning.models import Certificate, Enrollment, EnrollmentStatus

# 31 symbols, none mistaken for another when read aloud or typed: no 0/O, no 1/I/L.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_PREFIX = "CF"
CODE_GROUPS, GROUP_LENGTH = 3, 4  # 31^12: about 59 bits, unguessable
CODE_ATTEMPTS = 5
RENDER_JOB = "app.learning.jobs.render_certificate"  # the job module imports this one
NAME_LENGTH = 200  # the snapshot columns


class CodeCollision(RuntimeError):
    """Fresh random codes kept colliding with existing ones (never, short of a broken RNG)."""


def new_code() -> str:
    """A random certificate code such as "CF-7KQ2-M9XD-4H3P"."""
    groups = (
        "".join(secrets.choice(ALPHABET) for _ in range(GROUP_LENGTH)) for _ in range(CODE_GROUPS)
    )
    return "-".join((CODE_PREFIX, *groups))


def normalize_code(text: str) -> str:
    """The code as it is stored: what people type, upper-cased and trimmed."""
    return text.strip().upper()


@dataclass(frozen=True)
class CertificatePage:
    certificate: Certificate
    course_slug: str | None  # None when the course is no longer published


def get_certificate(certificate_id: int) -> Certificate | None:
    """The certificate by id, read fresh (jobs)."""
    stmt = (
        select(Certificate)
        .where(Certificate.id == certificate_id)
        .execution_options(populate_existing=True)
    )
    return db.session.scalars(stmt).first()


def get_certificate_page(code: str) -> CertificatePage | None:
    """The certificate with this code and its course's page, if the course is still sold."""
    stmt = (
        select(Certificate, Course)
        .join(Course, Course.id == Certificate.course_id)
        .where(Certificate.code == normalize_code(code))
    )
    row = db.session.execute(stmt).first()
    if row is None:
        return None
    certificate, course = row
    return CertificatePage(certificate, course.slug if course.is_published else None)


def list_certificates(user_id: int) -> list[Certificate]:
    """The user's valid certificates, newest first (the dashboard's list)."""
    stmt = (
        select(Certificate)
        .where(Certificate.user_id == user_id, Certificate.revoked_at.is_(None))
        .order_by(Certificate.issued_at.desc(), Certificate.id.desc())
    )
    return list(db.session.scalars(stmt))


MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip


def long_date(day: date) -> str:
    """Day month year in words ("3 March 2025"), the same whatever the process's locale."""
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def _completed_enrollment(enrollment_id: int) -> Enrollment | None:
    stmt = (
        select(Enrollment)
        .where(Enrollment.id == enrollment_id)
        .options(
            joinedload(Enrollment.user),
            joinedload(Enrollment.course).joinedload(Course.teacher),
        )
        .execution_options(populate_existing=True)  # the caller may have updated it in SQL
    )
    enrollment = db.session.scalars(stmt).first()
    if enrollment is None or enrollment.status is not EnrollmentStatus.COMPLETED:
        return None
    return enrollment


def _insert(enrollment: Enrollment) -> Certificate | None:
    """One INSERT; the row, or None when any unique key (enrollment or code) was taken."""
    stmt = (
        insert(Certificate)
        .values(
            code=new_code(),
            enrollment_id=enrollment.id,
            user_id=enrollment.user_id,
            course_id=enrollment.course_id,
            student_name=enrollment.user.name[:NAME_LENGTH],
            course_title=enrollment.course.title[:NAME_LENGTH],
            teacher_name=enrollment.course.teacher.name[:NAME_LENGTH],
            issued_at=enrollment.completed_at or utcnow(),
        )
        # No conflict target: a taken code is skipped like a taken enrollment, and told apart
        # below, so a collision needs no savepoint to retry.
        .on_conflict_do_nothing()
        .returning(Certificate)
        .execution_options(populate_existing=True)
    )
    return db.session.scalars(stmt).first()


def _of_enrollment(enrollment_id: int) -> Certificate | None:
    stmt = (
        select(Certificate)
        .where(Certificate.enrollment_id == enrollment_id)
        .execution_options(populate_existing=True)
    )
    return db.session.scalars(stmt).first()


def _enqueue_render(certificate: Certificate) -> None:
    enqueue_after_commit(RENDER_JOB, certificate.id, queue=QueueName.DEFAULT, retry=NOTIFY_RETRY)


def award_certificate(enrollment_id: int) -> Certificate | None:
    """Issue the completed enrollment's certificate once and render it after commit.

    Returns the certificate when this call issued it or reinstated a revoked one; None when a
    valid one existed already (concurrent calls: one issues, the others get None) or the
    enrollment is not completed.
    """
    enrollment = _completed_enrollment(enrollment_id)
    if enrollment is None:
        return None
    for _ in range(CODE_ATTEMPTS):
        certificate = _insert(enrollment)
        if certificate is not None:
            _enqueue_render(certificate)
            return certificate
        existing = _of_enrollment(enrollment_id)
        if existing is not None:
            return _reinstate(existing)
    raise CodeCollision(f"no free certificate code in {CODE_ATTEMPTS} attempts")


def _reinstate(certificate: Certificate) -> Certificate | None:
    if certificate.revoked_at is None:
        return None
    certificate.revoked_at = None
    certificate.revoked_reason = None
    db.session.flush()
    _enqueue_render(certificate)  # a no-op when its PDF is still stored
    return certificate


def revoke_certificate(enrollment_id: int, reason: str) -> Certificate | None:
    """The enrollment's certificate is revoked (now, or kept as revoked before, with its first
    date and reason); None when it has none."""
    stmt = (
        update(Certificate)
        .where(Certificate.enrollment_id == enrollment_id, Certificate.revoked_at.is_(None))
        .values(revoked_at=utcnow(), revoked_reason=reason)
        .returning(Certificate)
        .execution_options(populate_existing=True)
    )
    revoked = db.session.scalars(stmt).first()
    return revoked if revoked is not None else _of_enrollment(enrollment_id)
