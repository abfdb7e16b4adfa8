"""Catalog reads: search with filters, home page rows, course pages. Constant query counts."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import ColumnElement, Row, ScalarSelect, Select, func, literal_column, select
from sqlalchemy.orm import selectinload

from app.accounts.models import User
from app.catalog.models import (
    LANGUAGES,
    Category,
    Course,
    CourseLevel,
    CoursePrice,
    CourseStatus,
)
from app.core.money import Money
from app.extensions import db


class PriceRow(Protocol):
    @property
    def currency(self) -> str: ...
    @property
    def amount_minor(self) -> int: ...
    @property
    def list_amount_minor(self) -> int | None: ...


class Priced(Protocol):
    """What pricing needs of a course: a Course row, or a catalog card."""

    @property
    def id(self) -> int: ...
    @property
    def title(self) -> str: ...
    @property
    def category_id(self) -> int | None: ...
    @property
    def prices(self) -> Sequence[PriceRow]: ...
    def price_in(self, currency: str) -> PriceRow | None: ...


@dataclass(frozen=True)
class CardPrice:
    currency: str
    amount_minor: int
    list_amount_minor: int | None


@dataclass(frozen=True)
class CourseCard:
    """A course as a catalog card shows it: plain values read by one Core statement (no ORM
    objects to build), hashable, so the card's rendered HTML can be cached by it."""

    id: int
    slug: str
    title: str
    cover_image: str | None
    level: CourseLevel
    language: str
    lecture_count: int
    duration_s: int
    category_id: int | None
    category_name: str | None
    teacher_name: str
    prices: tuple[CardPrice, ...]

    @property
    def language_name(self) -> str:
        return LANGUAGES.get(self.language, self.language)

    def price_in(self, currency: str) -> CardPrice | None:
        return next((p for p in self.prices if p.currency == currency), None)


def prices_json(*columns: str) -> ScalarSelect[Any]:
    """The outer statement's course's prices as one JSON array, by currency, each an array of
    the given course_prices columns ('[]' for none): one column for every price."""
    listed = ", ".join(f"course_prices.{name}" for name in columns)
    return (
        select(
            func.coalesce(
                func.json_agg(
                    literal_column(f"json_build_array({listed}) ORDER BY course_prices.currency")
                ),
                literal_column("'[]'::json"),
            )
        )
        .where(CoursePrice.course_id == Course.id)
        .correlate(Course)
        .scalar_subquery()
    )


_CARD_PRICES = prices_json("currency", "amount_minor", "list_amount_minor")
CARD_COLUMNS = (
    Course.id,
    Course.slug,
    Course.title,
    Course.cover_image,
    Course.level,
    Course.language,
    Course.lecture_count,
    Course.duration_s,
    Course.category_id,
    Category.name,
    User.name,
    _CARD_PRICES,
)


def card_select(where: Sequence[ColumnElement[bool]]) -> Select[Any]:
    """Published courses with what a card shows (teacher, category, every price), one row each."""
    return (
        select(*CARD_COLUMNS)
        .join(User, User.id == Course.teacher_id)
        .outerjoin(Category, Category.id == Course.category_id)
        .where(Course.status == CourseStatus.PUBLISHED, *where)
    )


def card_from(row: Row[Any]) -> CourseCard:
    *values, prices = tuple(row)[: len(CARD_COLUMNS)]
    values.append(tuple(CardPrice(c, int(a), p) for c, a, p in prices))
    return CourseCard(*values)


@dataclass(frozen=True)
class PriceView:
    """What to show as a course's price for a visitor's currency."""

    price: Money | None  # in the visitor's currency when the course has one
    list_price: Money | None
    other: Money | None  # a price in another currency when there is none in theirs
    sale_name: str | None = None

    @property
    def is_free(self) -> bool:
        return self.price is not None and self.price.is_zero


def price_view(
    course: Priced, currency: str, sale_price: int | None = None, sale_name: str | None = None
) -> PriceView:
    """The course's price in the currency (a sale price when one runs), or another currency's."""
    row = course.price_in(currency)
    if row is not None:
        base = max(row.amount_minor, row.list_amount_minor or 0)
        price = row.amount_minor if sale_price is None else min(sale_price, row.amount_minor)
        return PriceView(
            price=Money(price, row.currency),
            list_price=Money(base, row.currency) if base > price else None,
            other=None,
            sale_name=sale_name if sale_price is not None else None,
        )
    fallback = min(course.prices, key=lambda p: p.currency, default=None)
    other = Money(fallback.amount_minor, fallback.currency) if fallback else None
    return PriceView(price=None, list_price=None, other=other)


def _cards(rows: Iterable[Row[Any]]) -> list[CourseCard]:
    return [card_from(row) for row in rows]


def _newest_ids(where: Sequence[ColumnElement[bool]], limit: int) -> Select[Any]:
    return (
        select(Course.id)
        .where(Course.status == CourseStatus.PUBLISHED, *where)
        .order_by(Course.published_at.desc(), Course.id)
        .limit(limit)
    )


def _newest_cards(ids: Select[Any]) -> list[CourseCard]:
    stmt = card_select([Course.id.in_(ids)]).order_by(Course.published_at.desc(), Course.id)
    return _cards(db.session.execute(stmt))


def list_featured(limit: int = 6) -> list[CourseCard]:
    """Featured published courses, newest first."""
    return _newest_cards(_newest_ids([Course.is_featured.is_(True)], limit))


def list_newest(limit: int = 8) -> list[CourseCard]:
    """The most recently published courses."""
    return _newest_cards(_newest_ids([], limit))


@dataclass(frozen=True)
class CategoryView:
    """A category's display fields, detached from any session (it may be cached)."""

    id: int
    slug: str
    name: str
    icon: str


@dataclass(frozen=True)
class CategorySummary:
    category: CategoryView
    course_count: int


def list_categories() -> list[CategorySummary]:
    """Every category with its number of published courses, in display order."""
    count = (
        select(func.count(Course.id))
        .where(Course.category_id == Category.id, Course.status == CourseStatus.PUBLISHED)
        .correlate(Category)
        .scalar_subquery()
    )
    rows = db.session.execute(select(Category, count).order_by(Category.position, Category.name))
    return [
        CategorySummary(CategoryView(c.id, c.slug, c.name, c.icon), course_count=int(n))
        for c, n in rows
    ]


def list_courses_by_category(per_category: int = 4) -> dict[int, list[CourseCard]]:
    """Up to n newest published courses of each category, in one query."""
    ranked = (
        select(
            Course.id.label("id"),
            func.row_number()
            .over(partition_by=Course.category_id, order_by=Course.published_at.desc())
            .label("n"),
        )
        .where(Course.status == CourseStatus.PUBLISHED)
        .subquery()
    )
    stmt = card_select([Course.id.in_(select(ranked.c.id).where(ranked.c.n <= per_category))])
    grouped: dict[int, list[CourseCard]] = {}
    for card in _cards(db.session.execute(stmt.order_by(Course.published_at.desc(), Course.id))):
        if card.category_id is not None:
            grouped.setdefault(card.category_id, []).append(card)
    return grouped


class Viewable(Protocol):
    @property
    def status(self) -> CourseStatus: ...
    @property
    def teacher_id(self) -> int: ...


def can_view(course: Viewable, user: User | None) -> bool:
    """Published courses are public; others only for their teacher and admins."""
    if course.status == CourseStatus.PUBLISHED:
        return True
    return user is not None and (user.is_admin or user.id == course.teacher_id)


def get_course_by_slug(slug: str) -> Course | None:
    """The course with this slug (no relationships loaded)."""
    return db.session.scalars(select(Course).where(Course.slug == slug)).first()


def get_course_with_prices(slug: str) -> Course | None:
    """The course with this slug and its prices (what enrolling in it needs)."""
    stmt = select(Course).where(Course.slug == slug).options(selectinload(Course.prices))
    return db.session.scalars(stmt).first()


def list_languages() -> list[str]:
    """Languages that published courses are taught in."""
    stmt = (
        select(Course.language)
        .where(Course.status == CourseStatus.PUBLISHED)
        .distinct()
        .order_by(Course.language)
    )
    return list(db.session.scalars(stmt))


def course_ids_by_slug(slugs: Sequence[str]) -> dict[str, int]:
    """Course ids for the slugs that exist (missing ones are simply absent)."""
    rows = db.session.execute(select(Course.slug, Course.id).where(Course.slug.in_(list(slugs))))
    return {str(slug): int(course_id) for slug, course_id in rows}
