"""A course as its public page shows it: plain values read by one Core statement.

The page is the shop's most visited after the catalog. Building ORM objects for the course, its
teacher (a whole user row), its category and its prices cost more than running the statement,
so the page reads only the columns it shows, with the prices folded into one JSON column as the
catalog's cards do. Code that changes a course loads the ORM model instead.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import bindparam, select

from app.accounts.models import User
from app.catalog.models import (
    LANGUAGES,
    Category,
    Course,
    CourseKind,
    CourseLevel,
    CourseStatus,
)
from app.catalog.queries import prices_json
from app.core.periods import AccessPeriod
from app.extensions import db


@dataclass(frozen=True, slots=True)
class PagePrice:
    currency: str
    amount_minor: int
    list_amount_minor: int | None
    access_period: AccessPeriod | None  # None: buying gives access for good


@dataclass(frozen=True, slots=True)
class CategoryLink:
    slug: str
    name: str


@dataclass(frozen=True, slots=True)
class CoursePage:
    id: int
    slug: str
    title: str
    subtitle: str
    description_html: str
    level: CourseLevel
    language: str
    status: CourseStatus
    kind: CourseKind
    teacher_id: int
    teacher_name: str
    category_id: int | None
    category: CategoryLink | None
    cover_image: str | None
    lecture_count: int
    duration_s: int
    curriculum_version: int
    prices: tuple[PagePrice, ...]

    @property
    def is_published(self) -> bool:
        return self.status == CourseStatus.PUBLISHED

    @property
    def language_name(self) -> str:
        return LANGUAGES.get(self.language, self.language)

    @property
    def teacher_initial(self) -> str:
        return self.teacher_name.strip()[:1]

    def price_in(self, currency: str) -> PagePrice | None:
        return next((p for p in self.prices if p.currency == currency), None)

    @property
    def is_free(self) -> bool:
        return bool(self.prices) and all(p.amount_minor == 0 for p in self.prices)


_PRICES = prices_json(
    "currency", "amount_minor", "list_amount_minor", "access_period_value", "access_period_unit"
)

# Built once: building and hashing a statement costs more than running it. Each column is
# labelled with the CoursePage field it fills.
_COURSE_PAGE = (
    select(
        Course.id,
        Course.slug,
        Course.title,
        Course.subtitle,
        Course.description_html,
        Course.level,
        Course.language,
        Course.status,
        Course.kind,
        Course.teacher_id,
        User.name.label("teacher_name"),
        Course.category_id,
        Category.slug.label("category_slug"),
        Category.name.label("category_name"),
        Course.cover_image,
        Course.lecture_count,
        Course.duration_s,
        Course.curriculum_version,
        _PRICES.label("prices"),
    )
    .join(User, User.id == Course.teacher_id)
    .outerjoin(Category, Category.id == Course.category_id)
    .where(Course.slug == bindparam("slug"))
)


def get_course_page(slug: str) -> CoursePage | None:
    """The course with this slug as its page shows it (any status: the view checks who sees it)."""
    row = db.session.execute(_COURSE_PAGE, {"slug": slug}).first()
    if row is None:
        return None
    values = row._asdict()
    category_slug, category_name = values.pop("category_slug"), values.pop("category_name")
    values["category"] = CategoryLink(category_slug, category_name) if category_slug else None
    values["prices"] = tuple(
        PagePrice(c, int(a), p, AccessPeriod.of(v, u)) for c, a, p, v, u in values["prices"]
    )
    return CoursePage(**values)
