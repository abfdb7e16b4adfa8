"""Enrollment rules: unique per user and course, idempotent to grant and to drop; a
time-limited enrollment ends one access period after its payment, and buying again extends it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, case, func, literal, or_, update
from sqlalchemy.dialects.postgresql import insert

from app.core.models import utcnow
from app.core.periods import AccessPeriod
from app.extensions import db
from app.learning.certificates import revoke_certificate
from app.learning.models import ACCESS_STATUSES, Enrollment, EnrollmentSource, EnrollmentStatus
from app.learning.progress import recount_enrollment
from app.learning.queries import get_enrollment

E = EnrollmentStatus


@dataclass(frozen=True)
class AccessTerm:
    """How long a grant gives access: `period` from `start` (the payment; None: now), or for
    good when there is no period."""

    period: AccessPeriod | None = None
    start: datetime | None = None


FOR_GOOD = AccessTerm()


def _interval(period: AccessPeriod) -> ColumnElement[object]:
    """The period as a PostgreSQL interval: months and years add calendar months, which
    PostgreSQL clamps to the month's last day (31 Jan + 1 month = 28/29 Feb), as
    AccessPeriod.after does."""
    months = period.value * {"month": 1, "year": 12}.get(period.unit, 0)
    days = period.value * {"day": 1, "week": 7}.get(period.unit, 0)
    return func.make_interval(0, months, 0, days)


def _ends_at(term: AccessTerm, start: datetime) -> ColumnElement[object]:
    """When the term ends, computed in SQL from the row as it is under its lock: from the
    current end while that is later than the payment (buying again extends), else from the
    payment. The arithmetic is done on UTC wall-clock time, so the session's TimeZone cannot
    move a calendar day."""
    if term.period is None:
        return literal(None)
    running = and_(Enrollment.status.in_(ACCESS_STATUSES), Enrollment.expires_at > start)
    base = case((running, Enrollment.expires_at), else_=literal(start))
    utc = func.timezone("UTC", base) + _interval(term.period)
    return func.timezone("UTC", utc)


def _status_after_grant() -> ColumnElement[object]:
    """Access again: a course finished before its access ended stays completed (and its
    certificate valid); a refunded one starts again as active, as does every new row."""
    status = Enrollment.status
    return case(
        (status.in_(ACCESS_STATUSES), status),
        (and_(status == E.EXPIRED, Enrollment.completed_at.is_not(None)), _enum(E.COMPLETED)),
        else_=_enum(E.ACTIVE),
    )


def _enum(status: EnrollmentStatus) -> ColumnElement[object]:
    return literal(status, Enrollment.status.type)


def _changes(order_id: int | None) -> ColumnElement[bool]:
    """Which existing rows a grant changes: any without access, and time-limited ones; never
    a lifetime one with access, and never again for the order that changed it last."""
    changes = or_(Enrollment.status.in_([E.DROPPED, E.EXPIRED]), Enrollment.expires_at.is_not(None))
    if order_id is None:
        return changes
    return and_(changes, Enrollment.order_id.is_distinct_from(order_id))


def grant_enrollment(
    user_id: int,
    course_id: int,
    source: EnrollmentSource,
    order_id: int | None = None,
    term: AccessTerm = FOR_GOOD,
) -> Enrollment:
    """The user can watch the course: created once, a dropped or expired one reactivated, a
    time-limited one extended (by the term's period, from its current end while it runs) or
    made lifetime (a term without a period). A lifetime enrollment with access is left as it
    is. The same order never extends twice.

    A single INSERT ... ON CONFLICT DO UPDATE, so concurrent grants (webhook and return
    handler, or two orders) end with exactly one row and every extension counted: the
    conflicting row is locked and the new end computed from its latest version.
    """
    now = utcnow()
    start = term.start or now
    first_end = term.period.after(start) if term.period is not None else None
    reactivated = Enrollment.status.in_([E.DROPPED, E.EXPIRED])
    stmt = insert(Enrollment).values(
        user_id=user_id,
        course_id=course_id,
        source=source.value,
        order_id=order_id,
        status=E.ACTIVE.value,
        enrolled_at=start,  # access starts with the payment
        expires_at=first_end,
        created_at=now,
        updated_at=now,
        progress=0,
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=["user_id", "course_id"],
        set_={
            "status": _status_after_grant(),
            "source": source.value,
            "order_id": func.coalesce(order_id, Enrollment.order_id),
            "expires_at": _ends_at(term, start),
            "dropped_at": None,
            # Access starts again with this payment; an extension keeps the first start.
            "enrolled_at": case((reactivated, start), else_=Enrollment.enrolled_at),
            "updated_at": now,
        },
        where=_changes(order_id),
    )
    # The row comes back when it was inserted or changed; one left as it was is read (fresh).
    returning = stmt.returning(Enrollment).execution_options(populate_existing=True)
    enrollment = db.session.scalars(returning).first()
    if enrollment is None:
        enrollment = get_enrollment(user_id, course_id)
        assert enrollment is not None
        db.session.refresh(enrollment)
    elif enrollment.status is E.ACTIVE and enrollment.completed_lectures > 0:
        # Bought again after a refund: what was watched still counts, and a course watched to
        # the end is completed again (its certificate reinstated) without watching it twice.
        recount_enrollment(enrollment.id)
        db.session.refresh(enrollment)
    return enrollment


def shorten_enrollment(enrollment: Enrollment, period: AccessPeriod, order_id: int) -> Enrollment:
    """A refunded extension: its period comes off the end (calendar arithmetic in SQL, on the
    locked row, as when it was added) and the enrollment is the earlier order's again; when
    that leaves no time, access ends as a refund ends it (dropped, certificate revoked)."""
    utc = func.timezone("UTC", Enrollment.expires_at) - _interval(period)
    stmt = (
        update(Enrollment)
        .where(Enrollment.id == enrollment.id)
        .values(expires_at=func.timezone("UTC", utc), order_id=order_id, updated_at=utcnow())
        .returning(Enrollment.expires_at)
    )
    ends = db.session.scalar(stmt)
    db.session.refresh(enrollment)
    if ends is None or ends <= utcnow():
        drop_enrollment(enrollment.user_id, enrollment.course_id)
    return enrollment


def drop_enrollment(user_id: int, course_id: int) -> Enrollment | None:
    """Revoke access and the certificate (after a full refund); a no-op when already dropped
    or never enrolled."""
    enrollment = get_enrollment(user_id, course_id)
    if enrollment is None or enrollment.status == EnrollmentStatus.DROPPED:
        return enrollment
    enrollment.status = EnrollmentStatus.DROPPED
    enrollment.dropped_at = utcnow()
    revoke_certificate(enrollment.id, "refunded")
    return enrollment
