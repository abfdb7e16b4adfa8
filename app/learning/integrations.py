"""Access granted or ended by another system (seed 000's /internal/enrollments/complete and
/drop, signed service calls): the same grant and drop as the checkout and the console, audited
with the calling service as the actor. Both are idempotent: a call that changes nothing writes
no audit row."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.accounts.audit import Actor, Diff, Target, record_audit
from app.accounts.queries import get_user
from app.catalog.models import Course
from app.core.errors import DomainError, NotFound
from app.extensions import db
from app.learning.models import ACCESS_STATUSES, Enrollment, EnrollmentSource
from app.learning.queries import get_enrollment
from app.learning.services import drop_enrollment, grant_enrollment

# There is no "integration" source: ADMIN is the one for access given outside our checkout
# (no order of ours paid for it), as an admin's grant is.
SERVICE_SOURCE = EnrollmentSource.ADMIN


class PaidHere(DomainError):
    """An integration may not end access a Coursefront order paid for: refund the order."""

    code = "ORDER_PAID"
    status = 409


@dataclass(frozen=True)
class ServiceChange:
    enrollment: Enrollment
    changed: bool  # False: it was already so (a retried call)


def _state(enrollment: Enrollment | None) -> dict[str, Any] | None:
    if enrollment is None:
        return None
    return {
        "status": enrollment.status.value,
        "source": enrollment.source.value,
        "expires_at": enrollment.expires_at.isoformat() if enrollment.expires_at else None,
    }


def _label(user_email: str, course: Course | None, course_id: int) -> str:
    return f"{user_email} · {course.title if course else course_id}"


def complete_for_service(
    user_id: int, course_id: int, payment_id: str, who: Actor, service_id: str
) -> ServiceChange:
    """The user can watch the course for good (another system took the payment `payment_id`);
    a retry, or access already held for good, changes nothing."""
    user = get_user(user_id)
    if user is None:
        raise NotFound("No user with this id.", field="userId")
    course = db.session.get(Course, course_id)
    if course is None:
        raise NotFound("No course with this id.", field="courseId")
    before = _state(get_enrollment(user.id, course.id))  # a copy: the grant refreshes the row
    enrollment = grant_enrollment(user.id, course.id, SERVICE_SOURCE)
    after = _state(enrollment)
    if after == before:
        return ServiceChange(enrollment, False)
    target = Target("enrollment", enrollment.id, _label(user.email, course, course.id))
    diff = Diff(before, {**(after or {}), "payment_id": payment_id, "service_id": service_id})
    record_audit(who, "enrollment.grant", target, diff, f"{service_id}: payment {payment_id}")
    return ServiceChange(enrollment, True)


def drop_for_service(
    user_id: int, course_id: int, reason: str, who: Actor, service_id: str
) -> ServiceChange:
    """Access ends (dropped, certificate revoked), unless it is what an order of ours paid for
    (ended by refunding that order); already dropped changes nothing."""
    enrollment = get_enrollment(user_id, course_id)
    user = get_user(user_id)
    if enrollment is None or user is None:
        raise NotFound("This user is not enrolled in this course.")
    paid_here = enrollment.source is not SERVICE_SOURCE and enrollment.order_id is not None
    if paid_here and enrollment.status in ACCESS_STATUSES:
        raise PaidHere("A Coursefront order paid for this enrollment: refund that order instead.")
    before = _state(enrollment)
    dropped = drop_enrollment(user_id, course_id)
    assert dropped is not None
    after = _state(dropped)
    if after == before:
        return ServiceChange(dropped, False)
    course = db.session.get(Course, course_id)
    target = Target("enrollment", dropped.id, _label(user.email, course, course_id))
    diff = Diff(before, {**(after or {}), "service_id": service_id})
    record_audit(who, "enrollment.revoke", target, diff, f"{service_id}: {reason}".strip())
    return ServiceChange(dropped, True)
