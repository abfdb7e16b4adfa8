"""Read-only pages: their queries run without a transaction, and they cannot write.

A catalog page reads one statement's worth of rows; wrapping it in BEGIN ... ROLLBACK costs two
more round trips to PostgreSQL than the read itself. A view marked `@read_only` gets its
connection in autocommit mode for GET and HEAD requests (each statement sees committed data,
as at READ COMMITTED), and a flush on its session raises instead of writing half a change.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, current_app, request
from sqlalchemy import Engine, event
from sqlalchemy.orm import Session

from app.extensions import db

F = TypeVar("F", bound=Callable[..., Any])
_KEY = "coursefront_read_only"
_ATTRIBUTE = "coursefront_read_only"


class ReadOnlyViolation(RuntimeError):
    """A view marked read-only tried to write."""


def read_only(view: F) -> F:
    """Mark a view as reading only (GET and HEAD), so it runs without a transaction."""
    setattr(view, _ATTRIBUTE, True)
    return view


def _begin_read_only() -> None:
    if request.method not in ("GET", "HEAD") or request.endpoint is None:
        return
    view = current_app.view_functions.get(request.endpoint)
    session = db.session()
    if not getattr(view, _ATTRIBUTE, False) or session.in_transaction():
        return
    if not isinstance(session.get_bind(), Engine):
        return  # bound to a connection already in a transaction (the tests' rollback session)
    session.info[_KEY] = True
    session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})


def _refuse_writes(session: Session, _context: object, _instances: object) -> None:
    if session.info.get(_KEY) and (session.new or session.dirty or session.deleted):
        raise ReadOnlyViolation("a read-only view tried to write")


def init_read_only(app: Flask) -> None:
    app.before_request(_begin_read_only)
    if not event.contains(Session, "before_flush", _refuse_writes):
        event.listen(Session, "before_flush", _refuse_writes)
