"""Enrollment rules: unique per user and course, idempotent to grant and to drop."""

from __future__ import annotations

from sqlalchemy import func
from sqlalchemy.dialects.postgresql import insert

from app.core.models import utcnow
from app.extensions import db
from app.learning.models import Enrollment, EnrollmentSource, EnrollmentStatus
from app.learning.queries import get_enrollment


def grant_enrollment(
    user_id: int, course_id: int, source: EnrollmentSource, order_id: int | None = None
) -> Enrollment:
    """The user can watch the course: created once, a dropped or expired one reactivated.

    A single INSERT ... ON CONFLICT, so concurrent grants (webhook and return handler) end
    with exactly one row.
    """
    now = utcnow()
    stmt = (
        insert(Enrollment)
        .values(
            user_id=user_id,
            course_id=course_id,
            source=source.value,
            order_id=order_id,
            status=EnrollmentStatus.ACTIVE.value,
            enrolled_at=now,
            created_at=now,
            updated_at=now,
            progress=0,
        )
        .on_conflict_do_update(
            index_elements=["user_id", "course_id"],
            set_={
                "status": EnrollmentStatus.ACTIVE.value,
                "source": source.value,
                "order_id": func.coalesce(order_id, Enrollment.order_id),
                "dropped_at": None,
                "enrolled_at": now,
                "updated_at": now,
            },
            where=Enrollment.status.in_(
                [EnrollmentStatus.DROPPED.value, EnrollmentStatus.EXPIRED.value]
            ),
        )
    )
    # The row comes back when it was inserted or reactivated; an active one is read (fresh).
    returning = stmt.returning(Enrollment).execution_options(populate_existing=True)
    enrollment = db.session.scalars(returning).first()
    if enrollment is None:
        enrollment = get_enrollment(user_id, course_id)
        assert enrollment is not None
        db.session.refresh(enrollment)
    return enrollment


def drop_enrollment(user_id: int, course_id: int) -> Enrollment | None:
    """Revoke access (after a refund); a no-op when already dropped or never enrolled."""
    enrollment = get_enrollment(user_id, course_id)
    if enrollment is None or enrollment.status == EnrollmentStatus.DROPPED:
        return enrollment
    enrollment.status = EnrollmentStatus.DROPPED
    enrollment.dropped_at = utcnow()
    return enrollment
