"""Reads of enrollments."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from app.catalog.models import Course
from app.extensions import db
from app.learning.models import ACCESS_STATUSES, Enrollment


def owned_course_ids(user_id: int, course_ids: Iterable[int] | None = None) -> set[int]:
    """Ids of the courses the user can watch (of the given ones, or all)."""
    stmt = select(Enrollment.course_id).where(
        Enrollment.user_id == user_id, Enrollment.status.in_(ACCESS_STATUSES)
    )
    if course_ids is not None:
        stmt = stmt.where(Enrollment.course_id.in_(list(course_ids)))
    return set(db.session.scalars(stmt))


def get_enrollment(user_id: int, course_id: int) -> Enrollment | None:
    """The user's enrollment in the course, whatever its status."""
    stmt = select(Enrollment).where(
        Enrollment.user_id == user_id, Enrollment.course_id == course_id
    )
    return db.session.scalars(stmt).first()


def list_learning(user_id: int) -> list[Enrollment]:
    """The courses the user can watch, most recent first, with what their cards show."""
    stmt = (
        select(Enrollment)
        .where(Enrollment.user_id == user_id, Enrollment.status.in_(ACCESS_STATUSES))
        .options(
            joinedload(Enrollment.course).options(
                joinedload(Course.teacher), selectinload(Course.prices)
            )
        )
        .order_by(Enrollment.enrolled_at.desc(), Enrollment.id.desc())
    )
    return list(db.session.scalars(stmt).unique())


def list_enrollments_for_order(order_id: int) -> list[Enrollment]:
    """Every enrollment an order created."""
    stmt = select(Enrollment).where(Enrollment.order_id == order_id).order_by(Enrollment.id)
    return list(db.session.scalars(stmt))


def list_enrollments(user_id: int, course_id: int | None = None) -> list[Enrollment]:
    """Every enrollment of the user, whatever its status (of one course, when given), with its
    course loaded, most recent first (the API's "my enrollments")."""
    stmt = (
        select(Enrollment)
        .where(Enrollment.user_id == user_id)
        .options(joinedload(Enrollment.course))
        .order_by(Enrollment.enrolled_at.desc(), Enrollment.id.desc())
    )
    if course_id is not None:
        stmt = stmt.where(Enrollment.course_id == course_id)
    return list(db.session.scalars(stmt))
