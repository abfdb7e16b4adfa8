"""The console's users: the list, a user's page (enrollments, orders) and what an admin does
to an account — role, deactivation (its logins end), manual enrollments. Each action writes its
audit row in the caller's transaction."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, or_, select

from app.accounts.audit import Actor, Diff, Target, record_audit
from app.accounts.models import Role, User
from app.accounts.services import change_role
from app.accounts.sessions import revoke_user_sessions
from app.admin.web import CSV_LIMIT, ListArgs
from app.catalog.models import Course
from app.checkout.models import Order
from app.core.errors import DomainError, NotFound
from app.core.pagination import Page, paginate_scalars
from app.extensions import db
from app.learning.models import ACCESS_STATUSES, Enrollment, EnrollmentSource
from app.learning.queries import get_enrollment
from app.learning.services import drop_enrollment, grant_enrollment

ROLES = tuple((r.value, r.value.title()) for r in Role)
STATES = (("active", "Active"), ("inactive", "Deactivated"))


def user_statement(args: ListArgs) -> Select[Any]:
    """Users, newest first; `q` matches email or name; filters: role, state."""
    stmt = select(User).order_by(User.created_at.desc(), User.id.desc())
    if args.q:
        like = f"%{args.q}%"
        stmt = stmt.where(or_(User.email.ilike(like), User.name.ilike(like)))
    if args.get("role") in {r.value for r in Role}:
        stmt = stmt.where(User.role == Role(args.get("role")))
    if args.get("state") in ("active", "inactive"):
        stmt = stmt.where(User.active.is_(args.get("state") == "active"))
    return stmt


def list_users(args: ListArgs, per_page: int) -> Page[User]:
    return paginate_scalars(db.session, user_statement(args), args.page, per_page)


USER_CSV_HEADER = ("id", "email", "name", "role", "active", "joined", "last login")


def user_csv_rows(args: ListArgs) -> Iterator[tuple[Any, ...]]:
    for user in db.session.scalars(user_statement(args).limit(CSV_LIMIT)):
        yield (
            user.id,
            user.email,
            user.name,
            user.role.value,
            "yes" if user.active else "no",
            user.created_at.isoformat(),
            user.last_login_at.isoformat() if user.last_login_at else "",
        )


@dataclass(frozen=True)
class UserPage:
    """A user with their enrollments (with course titles) and latest orders."""

    user: User
    enrollments: list[tuple[Enrollment, Course]]
    orders: list[Order]


def get_user(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound("No such user.")
    return user


def get_user_page(user_id: int) -> UserPage:
    """Three queries, whatever the user holds."""
    user = get_user(user_id)
    enrollments = db.session.execute(
        select(Enrollment, Course)
        .join(Course, Course.id == Enrollment.course_id)
        .where(Enrollment.user_id == user.id)
        .order_by(Enrollment.enrolled_at.desc())
    ).all()
    orders = db.session.scalars(
        select(Order).where(Order.user_id == user.id).order_by(Order.created_at.desc()).limit(50)
    ).all()
    return UserPage(user, [(e, c) for e, c in enrollments], list(orders))


def _target(user: User) -> Target:
    return Target("user", user.id, user.email)


def set_role(user: User, role: Role, who: Actor, reason: str) -> User:
    """A new role (accounts writes the audit row); an admin cannot change their own."""
    if who.user is not None and who.user.id == user.id:
        raise DomainError("You cannot change your own role.", code="self", field="role")
    if user.role is role:
        raise DomainError(f"This user is already {role.value}.", code="same_role", field="role")
    return change_role(user, role, who, reason)


def set_active(user: User, active: bool, who: Actor, reason: str) -> int:
    """Deactivate (every login ends at once; they cannot log in again) or reactivate; returns
    how many logins ended."""
    if who.user is not None and who.user.id == user.id:
        raise DomainError("You cannot deactivate your own account.", code="self")
    if user.active is active:
        state = "active" if active else "deactivated"
        raise DomainError(f"This account is already {state}.", code="same_state")
    user.active = active
    ended = 0 if active else revoke_user_sessions(user.id)
    action = "user.reactivate" if active else "user.deactivate"
    after = {"active": active, "sessions_ended": ended}
    record_audit(who, action, _target(user), Diff({"active": not active}, after), reason)
    return ended


def _enrollment_state(enrollment: Enrollment | None) -> dict[str, Any] | None:
    if enrollment is None:
        return None
    return {"status": enrollment.status, "source": enrollment.source}


def grant_course(user: User, course_id: int, who: Actor, reason: str) -> Enrollment:
    """Give the user the course for good (EnrollmentSource.ADMIN): seed 001's manual fix-up."""
    course = db.session.get(Course, course_id)
    if course is None:
        raise DomainError("No such course.", code="not_found", field="course_id")
    existing = get_enrollment(user.id, course.id)
    if existing is not None and existing.status in ACCESS_STATUSES and not existing.expires_at:
        raise DomainError("They already have this course.", code="enrolled", field="course_id")
    before = _enrollment_state(existing)
    enrollment = grant_enrollment(user.id, course.id, EnrollmentSource.ADMIN)
    target = Target("enrollment", enrollment.id, f"{user.email} · {course.title}")
    diff = Diff(before, _enrollment_state(enrollment))
    record_audit(who, "enrollment.grant", target, diff, reason)
    return enrollment


def revoke_course(user: User, course_id: int, who: Actor, reason: str) -> Enrollment:
    """End the user's access to the course (dropped, certificate revoked)."""
    existing = get_enrollment(user.id, course_id)
    if existing is None or existing.status not in ACCESS_STATUSES:
        raise DomainError("They have no access to this course.", code="not_enrolled")
    before = _enrollment_state(existing)
    course = db.session.get(Course, course_id)
    enrollment = drop_enrollment(user.id, course_id)
    assert enrollment is not None
    label = f"{user.email} · {course.title if course else course_id}"
    diff = Diff(before, _enrollment_state(enrollment))
    record_audit(who, "enrollment.revoke", Target("enrollment", enrollment.id, label), diff, reason)
    return enrollment
