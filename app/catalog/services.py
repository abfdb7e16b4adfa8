"""Catalog writes: courses, prices, chapters and lectures."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from sqlalchemy import select

from app.accounts.models import Role, User
from app.catalog.models import (
    Category,
    Chapter,
    Course,
    CourseKind,
    CourseLevel,
    CoursePrice,
    CourseStatus,
    Lecture,
)
from app.core.errors import DomainError
from app.core.markdown import render_markdown
from app.core.models import utcnow
from app.core.money import Money
from app.extensions import db


def slugify(text: str) -> str:
    """ASCII, lower-case, hyphen-separated."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:110] or "course"


def unique_course_slug(title: str) -> str:
    """A slug for the title that no course has yet."""
    base = slugify(title)
    taken = set(db.session.scalars(select(Course.slug).where(Course.slug.like(f"{base}%"))))
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    return slug


def ensure_category(
    slug: str, name: str, description: str = "", icon: str = "", position: int = 0
) -> Category:
    """The category with this slug, created or updated."""
    category = db.session.scalars(select(Category).where(Category.slug == slug)).first()
    if category is None:
        category = Category(slug=slug)
        db.session.add(category)
    category.name, category.description, category.icon = name, description, icon
    category.position = position
    db.session.flush()
    return category


@dataclass(frozen=True)
class CourseDraft:
    title: str
    subtitle: str
    description_md: str
    level: CourseLevel = CourseLevel.ALL
    language: str = "en"
    kind: CourseKind = CourseKind.VIDEO
    category: Category | None = None
    cover_image: str | None = None
    slug: str | None = None


def create_course(teacher: User, draft: CourseDraft) -> Course:
    """A new draft course owned by the teacher."""
    if not draft.title.strip():
        raise DomainError("A course needs a title.", code="title_required", field="title")
    course = Course(
        slug=draft.slug or unique_course_slug(draft.title),
        title=draft.title.strip(),
        subtitle=draft.subtitle.strip(),
        level=draft.level,
        language=draft.language,
        kind=draft.kind,
        teacher_id=teacher.id,
        category_id=draft.category.id if draft.category else None,
        cover_image=draft.cover_image,
        status=CourseStatus.DRAFT,
    )
    set_description(course, draft.description_md)
    db.session.add(course)
    db.session.flush()
    return course


def set_description(course: Course, markdown: str) -> None:
    """Store the Markdown and its sanitised HTML together so they never disagree."""
    course.description_md = markdown
    course.description_html = render_markdown(markdown)


def set_price(course: Course, price: Money, list_price: Money | None = None) -> CoursePrice:
    """Set the course's price in one currency (and optionally a higher 'was' price)."""
    if price.amount < 0:
        raise DomainError("A price cannot be negative.", code="negative_price")
    if list_price is not None and (list_price.currency != price.currency or list_price < price):
        raise DomainError("The list price must be in the same currency and not lower.")
    row = db.session.scalars(
        select(CoursePrice).where(
            CoursePrice.course_id == course.id, CoursePrice.currency == price.currency
        )
    ).first()
    if row is None:
        row = CoursePrice(course_id=course.id, currency=price.currency)
        db.session.add(row)
    row.amount_minor = price.amount
    row.list_amount_minor = list_price.amount if list_price else None
    db.session.flush()
    return row


def add_chapter(course: Course, title: str) -> Chapter:
    """Append a chapter to the course."""
    count = db.session.query(Chapter).filter(Chapter.course_id == course.id).count()
    chapter = Chapter(course_id=course.id, position=count + 1, title=title.strip())
    db.session.add(chapter)
    db.session.flush()
    return chapter


def add_lecture(
    chapter: Chapter, title: str, duration_s: int = 0, is_preview: bool = False
) -> Lecture:
    """Append a lecture to the chapter."""
    if duration_s < 0:
        raise DomainError("A duration cannot be negative.", code="negative_duration")
    count = db.session.query(Lecture).filter(Lecture.chapter_id == chapter.id).count()
    lecture = Lecture(
        chapter_id=chapter.id,
        position=count + 1,
        title=title.strip(),
        duration_s=duration_s,
        is_preview=is_preview,
    )
    db.session.add(lecture)
    db.session.flush()
    return lecture


def publish_course(course: Course) -> Course:
    """Make the course public; it needs a price and at least one lecture's worth of curriculum."""
    has_price = db.session.scalar(
        select(CoursePrice.id).where(CoursePrice.course_id == course.id).limit(1)
    )
    if has_price is None:
        raise DomainError("Set a price (0 for a free course) before publishing.", code="no_price")
    course.status = CourseStatus.PUBLISHED
    course.published_at = course.published_at or utcnow()
    return course


def set_featured(course: Course, featured: bool) -> Course:
    """Show (or stop showing) the course among the storefront's featured courses."""
    course.is_featured = featured
    return course


def reassign_teacher(course: Course, teacher: User) -> Course:
    """Hand the course to another teacher (an active teacher or admin account)."""
    if teacher.role not in (Role.TEACHER, Role.ADMIN) or not teacher.active:
        raise DomainError("Only an active teacher can own a course.", code="not_a_teacher")
    course.teacher_id = teacher.id
    return course
