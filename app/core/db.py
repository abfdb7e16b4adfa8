"""Row locks: the one way writers take a row for the rest of their transaction."""

from __future__ import annotations

from collections.abc import Callable
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


def lock_if(model: type[M], pk: Any, keep: Callable[[M], bool]) -> M | None:
    """Lock the row in a savepoint and hold it only when `keep(row)` says so; otherwise the
    savepoint is rolled back, which releases the row lock at once (PostgreSQL releases row
    locks on savepoint rollback). A writer that tries candidate rows one after another
    therefore holds at most the one it keeps: holding each rejected row until commit let
    two writers trying the same rows in different orders deadlock."""
    try:
        with db.session.begin_nested():  # released on success, rolled back on _Rejected
            row = lock(model, pk)
            if not keep(row):
                raise _Rejected
    except _Rejected:
        return None
    return row


class _Rejected(Exception):
    """`keep` said no: leave the savepoint by rolling it back."""
