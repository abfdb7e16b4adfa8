"""Test data built through the real services (flushed, not committed)."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import timedelta

from app.accounts.models import Role, User
from app.accounts.passwords import hash_password
from app.catalog import services as catalog
from app.catalog.models import Category, Course, CourseLevel, CourseStatus
from app.core.models import utcnow
from app.core.money import Money
from app.extensions import db

PASSWORD = "correct-horse-7"
_PASSWORD_HASH = hash_password(PASSWORD)  # hashed once: argon2 is slow on purpose
_seq = itertools.count(1)


def make_user(role: Role = Role.STUDENT, email: str | None = None, name: str = "") -> User:
    n = next(_seq)
    user = User(
        email=email or f"user{n}@example.com",
        name=name or f"Test User {n}",
        role=role,
        password_hash=_PASSWORD_HASH,
    )
    db.session.add(user)
    db.session.flush()
    return user


def make_category(name: str = "") -> Category:
    n = next(_seq)
    name = name or f"Category {n}"
    return catalog.ensure_category(f"{catalog.slugify(name)}-{n}", name, position=n)


def make_course(
    title: str = "",
    *,
    teacher: User | None = None,
    category: Category | None = None,
    subtitle: str = "A practical course",
    description: str = "Learn by doing.",
    prices: dict[str, int] | None = None,
    status: CourseStatus = CourseStatus.PUBLISHED,
    level: CourseLevel = CourseLevel.BEGINNER,
    language: str = "en",
    chapters: Sequence[tuple[str, Sequence[tuple[str, int]]]] = (("Basics", (("Hello", 300),)),),
    days_ago: int = 0,
) -> Course:
    n = next(_seq)
    teacher = teacher or make_user(Role.TEACHER)
    draft = catalog.CourseDraft(
        title=title or f"Course {n}",
        subtitle=subtitle,
        description_md=description,
        level=level,
        language=language,
        category=category,
    )
    course = catalog.create_course(teacher, draft)
    for currency, amount in (prices if prices is not None else {"USD": 1999}).items():
        catalog.set_price(course, Money(amount, currency))
    for chapter_title, lectures in chapters:
        chapter = catalog.add_chapter(course, chapter_title)
        for i, (lecture_title, seconds) in enumerate(lectures):
            catalog.add_lecture(chapter, lecture_title, seconds, is_preview=i == 0)
    if status is CourseStatus.PUBLISHED:
        catalog.publish_course(course)
        course.published_at = utcnow() - timedelta(days=days_ago, seconds=n)
    else:
        course.status = status
    db.session.flush()
    return course
