"""Row locks: the one way writers take a row for the rest of their transaction."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import select

from app.extensions import db

M = TypeVar("M")


def lock(model: type[M], pk: Any) -> M:
    """SELECT ... FOR UPDATE by primary key, re-reading the row even if it is already loaded."""
    mapper_pk = model.__mapper__.primary_key[0]  # type: ignore[attr-defined]
    stmt = (
        select(model)
        .where(mapper_pk == pk)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return db.session.scalars(stmt).one()
