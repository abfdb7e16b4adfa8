"""Catalog search: filters, full-text words, sorts and one page of cards per request.

A text search reads CourseSearchRow, narrow rows of published courses: its search_vector is
GIN-indexed (title, subtitle, description) and relevance ranks on the small title_vector (see
models.py for why).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from enum import StrEnum
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    and_,
    bindparam,
    case,
    exists,
    false,
    func,
    literal,
    literal_column,
    select,
)

from app.catalog.models import Category, Course, CoursePrice, CourseSearchRow, CourseStatus
from app.catalog.queries import CourseCard, card_from, card_select
from app.core.pagination import Page
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


# Weights for D, C, B, A: a title hit (A) outranks many description hits (C).
RANK_WEIGHTS: ColumnElement[Any] = literal_column("'{0.02, 0.05, 0.3, 1.0}'::float4[]")
# Letters and digits only: tsquery operators (& | ! ( ) : * < -> ') never reach to_tsquery.
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
MAX_QUERY_LENGTH = 200
MAX_QUERY_WORDS = 8


def search_words(text: str) -> list[str]:
    """The words of a search, lower-cased: "c++ & (sql)" gives ["c", "sql"]."""
    return [w.lower() for w in _WORD.findall(text)][:MAX_QUERY_WORDS]


def _word_query(config: str, index: int) -> ColumnElement[Any]:
    return func.to_tsquery(config, func.public.cf_unaccent(bindparam(f"word_{index}")))


def _either_form(index: int) -> ColumnElement[Any]:
    """The word stemmed (english) or whole (simple). Most words stem to themselves ("python"),
    and an OR of two equal terms reads the index's posting list twice."""
    stemmed, whole = _word_query("english", index), _word_query("simple", index)
    return case((stemmed == whole, stemmed), else_=stemmed.op("||")(whole))


def _text_query(words: int) -> ColumnElement[Any] | None:
    """A tsquery matching every word (bound as word_0, word_1 ...), stemmed or whole, accents
    folded as in Course.search_vector; None for no words."""
    if not words:
        return None
    parts = [_either_form(i) for i in range(words)]
    query = parts[0]
    for part in parts[1:]:
        query = query.op("&&")(part)
    # A scalar subquery is computed once per execution. Written inline, a prepared statement's
    # generic plan parsed the words again for every matching row (22,000 times for "python").
    return select(query).scalar_subquery()


def _word_params(text: str) -> dict[str, str]:
    # A prefix search per word; a one-letter prefix matches nearly everything, so "c" (from
    # "c++") must be a whole word.
    return {
        f"word_{i}": word + (":*" if len(word) > 1 else "")
        for i, word in enumerate(search_words(text))
    }


@dataclass(frozen=True)
class _Shape:
    """What a search's SQL depends on; its values are bound parameters. One statement object
    per shape is built once and reused: building and hashing an ORM statement with its loader
    options costs more CPU than running it."""

    words: int
    symbols_only: bool
    category: bool
    level: bool
    language: bool
    price: str
    currency: bool
    sort: Sort = Sort.NEWEST
    counted: bool = False


def _shape(search: CourseSearch) -> _Shape:
    words = len(search_words(search.q))
    sort = Sort.NEWEST if search.sort is Sort.RELEVANCE and not words else search.sort
    return _Shape(
        words=words,
        symbols_only=bool(search.q) and not words,
        category=bool(search.category),
        level=bool(search.level),
        language=bool(search.language),
        price=search.price,
        currency=bool(search.currency),
        sort=sort,
        counted=words > 0,
    )


def _params(search: CourseSearch, currency: str, per_page: int) -> dict[str, Any]:
    return {
        **_word_params(search.q),
        "category": search.category,
        "level": search.level,
        "language": search.language,
        "filter_currency": search.currency,
        "currency": currency,
        "limit": per_page,
        "offset": (search.page - 1) * per_page,
    }


def _rows(shape: _Shape) -> Any:
    """What a search of this shape reads: for text, the narrow rows of published courses."""
    return CourseSearchRow if shape.words else Course


def _id(rows: Any) -> Any:
    return CourseSearchRow.course_id if rows is CourseSearchRow else Course.id


def _where(shape: _Shape) -> list[ColumnElement[bool]]:
    """What a published course must match to be in the results of a search of this shape."""
    rows = _rows(shape)
    where: list[ColumnElement[bool]] = []
    if rows is Course:
        where.append(Course.status == CourseStatus.PUBLISHED)
    if shape.category:
        subject = select(Category.id).where(Category.slug == bindparam("category"))
        where.append(rows.category_id.in_(subject.scalar_subquery()))
    if shape.level:
        where.append(rows.level == bindparam("level"))
    if shape.language:
        where.append(rows.language == bindparam("language"))
    paid = exists().where(CoursePrice.course_id == _id(rows), CoursePrice.amount_minor > 0)
    if shape.price == "paid":
        where.append(paid)
    elif shape.price == "free":
        where.append(and_(~paid, exists().where(CoursePrice.course_id == _id(rows))))
    if shape.currency:
        where.append(
            exists().where(
                CoursePrice.course_id == _id(rows),
                CoursePrice.currency == bindparam("filter_currency"),
            )
        )
    tsquery = _text_query(shape.words)
    if tsquery is not None:
        where.append(CourseSearchRow.search_vector.op("@@")(tsquery))
    elif shape.symbols_only:
        where.append(false())  # only symbols: nothing to look for, not "everything"
    return where


def _sort_keys(shape: _Shape) -> list[ColumnElement[Any]]:
    """The columns the shape's sort orders by (labelled, for the page subquery)."""
    rows = _rows(shape)
    keys: list[ColumnElement[Any]] = [_id(rows).label("id"), rows.published_at.label("newest")]
    if shape.sort is Sort.RELEVANCE:
        rank = func.ts_rank(RANK_WEIGHTS, CourseSearchRow.title_vector, _text_query(shape.words))
        keys.append(rank.label("rank"))
    elif shape.sort in (Sort.PRICE_ASC, Sort.PRICE_DESC):
        price = (
            select(CoursePrice.amount_minor)
            .where(
                CoursePrice.course_id == _id(rows),
                CoursePrice.currency == bindparam("currency"),
            )
            .correlate(rows)
            .scalar_subquery()
        )
        keys.append(price.label("price"))
    return keys


def _order(sort: Sort, cols: Any) -> list[ColumnElement[Any]]:
    if sort is Sort.RELEVANCE:
        return [cols.rank.desc(), cols.newest.desc(), cols.id]
    if sort is Sort.PRICE_ASC:
        return [cols.price.asc().nulls_last(), cols.id]
    if sort is Sort.PRICE_DESC:
        return [cols.price.desc().nulls_last(), cols.id]
    return [cols.newest.desc(), cols.id]


@lru_cache(maxsize=512)
def _page_statement(shape: _Shape) -> Select[Any]:
    """The page's ids are picked on narrow rows first (for a text search: every match ranked
    on its small title vector, and counted in the same pass); only those rows load whole."""
    keyed = select(*_sort_keys(shape)).where(*_where(shape))
    if shape.counted:
        # OFFSET 0 keeps the ranking inside this subquery, so the count's window holds narrow
        # (id, rank, date) rows, not every match's title vector (that spilled to disk at
        # 100,000 courses). Without a count it would stop a listing reading 12 rows off an index.
        keyed = keyed.offset(0)
    keyed_rows = keyed.subquery("keyed")
    total = func.count().over() if shape.counted else literal(None)
    page = (
        select(*keyed_rows.c, total.label("total"))
        .order_by(*_order(shape.sort, keyed_rows.c))
        # Written into the SQL, so a prepared statement's generic plan knows them: with an
        # unknown LIMIT the planner sorts every course instead of reading 12 from an index.
        .limit(bindparam("limit", type_=Integer, literal_execute=True))
        .offset(bindparam("offset", type_=Integer, literal_execute=True))
        .subquery("page")
    )
    stmt = card_select([]).add_columns(page.c.total).join(page, page.c.id == Course.id)
    return stmt.order_by(*_order(shape.sort, page.c))


@lru_cache(maxsize=512)
def _count_statement(shape: _Shape) -> Select[Any]:
    return select(func.count()).select_from(_rows(shape)).where(*_where(shape))


def count_courses(search: CourseSearch) -> int:
    """How many published courses match the search."""
    stmt = _count_statement(replace(_shape(search), sort=Sort.NEWEST, counted=False))
    return int(db.session.scalar(stmt, _params(search, "", 1)) or 0)


def search_courses(
    search: CourseSearch, currency: str, per_page: int, total: int | None = None
) -> Page[CourseCard]:
    """Published courses matching the search, one page of cards, in one statement. Give
    `total` when it is known (a cached count): a text search counts in the same pass."""
    shape = _shape(search)
    if total is not None:
        shape = replace(shape, counted=False)
    params = _params(search, currency, per_page)
    rows = db.session.execute(_page_statement(shape), params).all()
    if total is None and shape.counted and (rows or search.page == 1):
        total = int(rows[0].total) if rows else 0  # counted with the ranking
    if total is None:
        total = count_courses(search)  # past the last page: how far past
    cards = [card_from(row) for row in rows]
    return Page(items=cards, page=search.page, per_page=per_page, total=total)
