"""The console's courses: the list (search, filters, CSV) and the actions an admin takes on a
course. The rules stay in catalog and teaching; each action writes its audit row."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import joinedload

from app.accounts.audit import Actor, Diff, Target, record_audit
from app.accounts.models import Role, User
from app.admin.web import CSV_LIMIT, ListArgs
from app.catalog import services as catalog
from app.catalog.models import Course, CourseStatus
from app.core.errors import DomainError, NotFound
from app.core.pagination import Page, paginate_scalars
from app.extensions import db
from app.teaching import services as teaching

STATUSES = tuple((s.value, s.value.title()) for s in CourseStatus)


def course_statement(args: ListArgs) -> Select[Any]:
    """Courses, newest first; `q` matches title or slug; filters: status, teacher (user id)."""
    stmt = (
        select(Course)
        .options(joinedload(Course.teacher))
        .order_by(Course.created_at.desc(), Course.id.desc())
    )
    if args.q:
        like = f"%{args.q}%"
        stmt = stmt.where(or_(Course.title.ilike(like), Course.slug.ilike(like)))
    if args.get("status") in {s.value for s in CourseStatus}:
        stmt = stmt.where(Course.status == CourseStatus(args.get("status")))
    if args.get("teacher").isdigit():
        stmt = stmt.where(Course.teacher_id == int(args.get("teacher")))
    return stmt


def list_courses(args: ListArgs, per_page: int) -> Page[Course]:
    return paginate_scalars(db.session, course_statement(args), args.page, per_page)


COURSE_CSV_HEADER = ("id", "slug", "title", "status", "featured", "teacher", "published")


def course_csv_rows(args: ListArgs) -> Iterator[tuple[Any, ...]]:
    for course in db.session.scalars(course_statement(args).limit(CSV_LIMIT)):
        yield (
            course.id,
            course.slug,
            course.title,
            course.status.value,
            "yes" if course.is_featured else "no",
            course.teacher.email,
            course.published_at.isoformat() if course.published_at else "",
        )


def teacher_choices() -> list[tuple[int, str]]:
    """Accounts that may own a course (active teachers and admins), by name."""
    rows = db.session.execute(
        select(User.id, User.name, User.email)
        .where(User.role.in_([Role.TEACHER, Role.ADMIN]), User.active.is_(True))
        .order_by(User.name, User.email)
    )
    return [(uid, f"{name} ({email})" if name else email) for uid, name, email in rows]


def course_choices() -> list[tuple[int, str]]:
    """Every course by title, for pickers (grant enrollment, sale scope)."""
    rows = db.session.execute(select(Course.id, Course.title).order_by(Course.title).limit(2000))
    return [(cid, title) for cid, title in rows]


def get_course(course_id: int) -> Course:
    course: Course | None = db.session.scalars(course_statement_by_id(course_id)).first()
    if course is None:
        raise NotFound("No such course.")
    return course


def course_statement_by_id(course_id: int) -> Select[Any]:
    return select(Course).options(joinedload(Course.teacher)).where(Course.id == course_id)


def _target(course: Course) -> Target:
    return Target("course", course.id, course.title)


def feature_course(course: Course, featured: bool, who: Actor) -> Course:
    """Feature a published course on the storefront, or stop featuring it."""
    if featured and course.status is not CourseStatus.PUBLISHED:
        raise DomainError("Only a published course can be featured.", code="not_published")
    before = course.is_featured
    catalog.set_featured(course, featured)
    action = "course.feature" if featured else "course.unfeature"
    record_audit(who, action, _target(course), Diff({"featured": before}, {"featured": featured}))
    return course


def unpublish_course(course: Course, who: Actor, reason: str) -> Course:
    """Back to draft: off the catalog, students keep access (teaching's rule)."""
    if course.status is not CourseStatus.PUBLISHED:
        raise DomainError("This course is not published.", code="not_published")
    return _set_status(course, CourseStatus.DRAFT, who, reason)


def archive_course(course: Course, who: Actor, reason: str) -> Course:
    """Archived: off the catalog for good; enrolled students keep access."""
    if course.status is CourseStatus.ARCHIVED:
        raise DomainError("This course is already archived.", code="archived")
    return _set_status(course, CourseStatus.ARCHIVED, who, reason)


def _set_status(course: Course, status: CourseStatus, who: Actor, reason: str) -> Course:
    before = {"status": course.status, "featured": course.is_featured}
    teaching.unpublish_course(course, status)
    catalog.set_featured(course, False)  # a course off the catalog cannot stay featured
    after = {"status": course.status, "featured": course.is_featured}
    action = "course.archive" if status is CourseStatus.ARCHIVED else "course.unpublish"
    record_audit(who, action, _target(course), Diff(before, after), reason)
    return course


def reassign_course(course: Course, teacher_id: int, who: Actor, reason: str) -> Course:
    """Hand the course to another teacher."""
    teacher = db.session.get(User, teacher_id)
    if teacher is None:
        raise DomainError("No such teacher.", code="not_a_teacher", field="teacher_id")
    before = course.teacher.email
    if teacher.id == course.teacher_id:
        raise DomainError("That teacher already owns it.", code="same_teacher", field="teacher_id")
    catalog.reassign_teacher(course, teacher)
    diff = Diff({"teacher": before}, {"teacher": teacher.email})
    record_audit(who, "course.reassign", _target(course), diff, reason)
    db.session.flush()
    db.session.refresh(course)
    return course
