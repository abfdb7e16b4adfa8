"""Offset pagination over a SELECT: one count query and one page query."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from math import ceil
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, scoped_session

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: Sequence[T]
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, ceil(self.total / self.per_page))

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def first_index(self) -> int:
        return 0 if not self.total else (self.page - 1) * self.per_page + 1

    @property
    def last_index(self) -> int:
        return min(self.total, self.page * self.per_page)


def clamp_page(raw: Any) -> int:
    """A page number from user input: junk and negatives become 1."""
    try:
        return max(1, min(int(raw), 10_000))
    except (TypeError, ValueError):
        return 1


def paginate(
    session: Session | scoped_session[Any], stmt: Select[Any], page: int, per_page: int
) -> Page[Any]:
    """Run the count and the page query; rows come back as stmt yields them."""
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    rows = session.execute(stmt.limit(per_page).offset((page - 1) * per_page)).all()
    return Page(items=rows, page=page, per_page=per_page, total=int(total))


def paginate_scalars(
    session: Session | scoped_session[Any], stmt: Select[Any], page: int, per_page: int
) -> Page[Any]:
    """paginate() for a SELECT of one entity: the page holds the objects, not one-item rows."""
    rows = paginate(session, stmt, page, per_page)
    return Page([row[0] for row in rows.items], rows.page, rows.per_page, rows.total)
