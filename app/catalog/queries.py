"""Catalog reads: search with filters, home page rows, course pages. Constant query counts."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    exists,
    false,
    func,
    literal,
    literal_column,
    select,
)
from sqlalchemy.orm import joinedload, selectinload

from app.accounts.models import User
from app.catalog.models import Category, Chapter, Course, CoursePrice, CourseStatus, Lecture
from app.core.money import Money
from app.core.pagination import Page, paginate
from app.extensions import db


class Sort(StrEnum):
    RELEVANCE = "relevance"
    NEWEST = "newest"
    PRICE_ASC = "price_asc"
    PRICE_DESC = "price_desc"

    @property
    def label(self) -> str:
        return {
            "relevance": "Best match",
            "newest": "Newest",
            "price_asc": "Price: low to high",
            "price_desc": "Price: high to low",
        }[self.value]


@dataclass(frozen=True)
class CourseSearch:
    q: str = ""
    category: str = ""
    level: str = ""
    language: str = ""
    price: str = ""  # "", "free" or "paid"
    currency: str = ""  # only courses priced in this currency
    sort: Sort = Sort.RELEVANCE
    page: int = 1

    def as_params(self, **changes: Any) -> dict[str, Any]:
        """Query-string parameters for this search (empty ones left out), with changes."""
        values = {
            "q": self.q,
            "category": self.category,
            "level": self.level,
            "language": self.language,
            "price": self.price,
            "currency": self.currency,
            "sort": self.sort.value if self.sort is not Sort.RELEVANCE else "",
            "page": self.page if self.page > 1 else "",
        }
        values.update(changes)
        return {k: v for k, v in values.items() if v not in ("", None, 1)}

    @property
    def is_filtered(self) -> bool:
        return bool(self.q or self.category or self.level or self.language or self.price)


@dataclass(frozen=True)
class CourseCard:
    course: Course
    lecture_count: int
    duration_s: int


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
    course: Course, currency: str, sale_price: int | None = None, sale_name: str | None = None
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


# Weights for D, C, B, A: a title hit (A) outranks many description hits (C).
RANK_WEIGHTS: ColumnElement[Any] = literal_column("'{0.02, 0.05, 0.3, 1.0}'::float4[]")
# Letters and digits only: tsquery operators (& | ! ( ) : * < -> ') never reach to_tsquery.
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
MAX_QUERY_LENGTH = 200
MAX_QUERY_WORDS = 8


def search_words(text: str) -> list[str]:
    """The words of a search, lower-cased: "c++ & (sql)" gives ["c", "sql"]."""
    return [w.lower() for w in _WORD.findall(text)][:MAX_QUERY_WORDS]


def _word_query(config: str, word: str) -> ColumnElement[Any]:
    # A one-letter prefix matches nearly everything, so "c" (from "c++") must be a whole word.
    suffix = ":*" if len(word) > 1 else ""
    return func.to_tsquery(config, func.public.cf_unaccent(word).concat(suffix))


def search_query(text: str) -> ColumnElement[Any] | None:
    """A tsquery matching every word as a prefix, stemmed (english) or whole (simple), accents
    folded as in Course.search_vector; None when the text has no word at all."""
    words = search_words(text)
    if not words:
        return None
    parts = [_word_query("english", w).op("||")(_word_query("simple", w)) for w in words]
    query = parts[0]
    for part in parts[1:]:
        query = query.op("&&")(part)
    return query


def _stats_subquery() -> Any:
    return (
        select(
            Chapter.course_id.label("course_id"),
            func.count(Lecture.id).label("lecture_count"),
            func.coalesce(func.sum(Lecture.duration_s), 0).label("duration_s"),
        )
        .join(Lecture, Lecture.chapter_id == Chapter.id)
        .group_by(Chapter.course_id)
        .subquery()
    )


def _card_select(where: Sequence[ColumnElement[bool]]) -> Select[Any]:
    stats = _stats_subquery()
    return (
        select(
            Course,
            func.coalesce(stats.c.lecture_count, 0),
            func.coalesce(stats.c.duration_s, 0),
        )
        .outerjoin(stats, stats.c.course_id == Course.id)
        .where(Course.status == CourseStatus.PUBLISHED, *where)
        .options(
            joinedload(Course.teacher),
            joinedload(Course.category),
            selectinload(Course.prices),
        )
    )


def _cards(rows: Sequence[Any]) -> list[CourseCard]:
    return [CourseCard(course=r[0], lecture_count=int(r[1]), duration_s=int(r[2])) for r in rows]


def _filters(search: CourseSearch) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if search.category:
        where.append(Course.category.has(Category.slug == search.category))
    if search.level:
        where.append(Course.level == search.level)
    if search.language:
        where.append(Course.language == search.language)
    paid = exists().where(CoursePrice.course_id == Course.id, CoursePrice.amount_minor > 0)
    if search.price == "paid":
        where.append(paid)
    elif search.price == "free":
        where.append(and_(~paid, exists().where(CoursePrice.course_id == Course.id)))
    if search.currency:
        where.append(
            exists().where(
                CoursePrice.course_id == Course.id, CoursePrice.currency == search.currency
            )
        )
    return where


def search_courses(search: CourseSearch, currency: str, per_page: int) -> Page[CourseCard]:
    """Published courses matching the search, one page of cards, in three queries."""
    where = _filters(search)
    tsquery = search_query(search.q)
    if search.q and tsquery is None:
        where.append(false())  # only symbols: nothing to look for, not "everything"
    stmt = _card_select(where)
    rank: ColumnElement[Any] = literal(0)
    if tsquery is not None:
        stmt = stmt.where(Course.search_vector.op("@@")(tsquery))
        rank = func.ts_rank(RANK_WEIGHTS, Course.search_vector, tsquery)
    sort = search.sort
    if sort is Sort.RELEVANCE and tsquery is None:
        sort = Sort.NEWEST
    price = (
        select(CoursePrice.amount_minor)
        .where(CoursePrice.course_id == Course.id, CoursePrice.currency == currency)
        .correlate(Course)
        .scalar_subquery()
    )
    order = {
        Sort.RELEVANCE: [rank.desc(), Course.published_at.desc()],
        Sort.NEWEST: [Course.published_at.desc().nulls_last()],
        Sort.PRICE_ASC: [price.asc().nulls_last()],
        Sort.PRICE_DESC: [price.desc().nulls_last()],
    }[sort]
    stmt = stmt.order_by(*order, Course.id)
    page = paginate(db.session(), stmt, search.page, per_page)
    return Page(items=_cards(page.items), page=page.page, per_page=per_page, total=page.total)


def list_featured(limit: int = 6) -> list[CourseCard]:
    """Featured published courses, newest first."""
    stmt = _card_select([Course.is_featured.is_(True)])
    return _cards(db.session.execute(stmt.order_by(Course.published_at.desc()).limit(limit)).all())


def list_newest(limit: int = 8) -> list[CourseCard]:
    """The most recently published courses."""
    stmt = _card_select([]).order_by(Course.published_at.desc(), Course.id.desc()).limit(limit)
    return _cards(db.session.execute(stmt).all())


@dataclass(frozen=True)
class CategorySummary:
    category: Category
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
    return [CategorySummary(category=r[0], course_count=int(r[1])) for r in rows]


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
    stmt = _card_select([Course.id.in_(select(ranked.c.id).where(ranked.c.n <= per_category))])
    grouped: dict[int, list[CourseCard]] = {}
    for card in _cards(db.session.execute(stmt.order_by(Course.published_at.desc())).all()):
        if card.course.category_id is not None:
            grouped.setdefault(card.course.category_id, []).append(card)
    return grouped


def can_view(course: Course, user: User | None) -> bool:
    """Published courses are public; others only for their teacher and admins."""
    if course.status == CourseStatus.PUBLISHED:
        return True
    return user is not None and (user.is_admin or user.id == course.teacher_id)


def get_course_page(slug: str) -> Course | None:
    """A course with everything its page shows (teacher, category, prices, curriculum)."""
    stmt = (
        select(Course)
        .where(Course.slug == slug)
        .options(
            joinedload(Course.teacher),
            joinedload(Course.category),
            selectinload(Course.prices),
            selectinload(Course.chapters).selectinload(Chapter.lectures),
        )
    )
    return db.session.scalars(stmt).first()


def get_course_by_slug(slug: str) -> Course | None:
    """The course with this slug (no relationships loaded)."""
    return db.session.scalars(select(Course).where(Course.slug == slug)).first()


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
