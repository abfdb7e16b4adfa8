"""The unit of work of an entry point: views, jobs and CLI commands commit through here, once.

    with committing():                 # commit at the end; any error rolls back and propagates
        services.remove_coupon(cart)   # (a DomainError then reaches the global error handler)

    with committing(form) as unit:     # a DomainError becomes the form's error instead
        user = services.register_user(...)
    if unit.ok:
        ...

    with committing(catch=True, savepoint=True) as unit:  # a refusal undoes this block only:
        services.add_course(cart, ...)                    # `g.cart` stays usable for the answer

Services never commit; the entry point decides where the transaction ends, and the jobs
enqueued after commit (app.jobs.queues) leave only if this commit happens.
"""

from __future__ import annotations

from types import TracebackType

from flask_wtf import FlaskForm
from sqlalchemy.orm import SessionTransaction

from app.core.errors import DomainError
from app.core.forms import attach_error
from app.extensions import db


class committing:  # lower case: it reads like a function, `with committing():`
    """Commit when the block ends; roll back on any error, which propagates unless it is a
    DomainError and a form was given or `catch` is set: then it is kept on `error` (and shown
    on the form), and `ok` is False. With `savepoint`, a refusal rolls back the block only: what
    the request did before it stays in the open transaction (not committed), so objects it holds,
    such as a cart on `g`, can still be used to render the answer."""

    def __init__(
        self, form: FlaskForm | None = None, *, catch: bool = False, savepoint: bool = False
    ) -> None:
        self.form = form
        self.catch = catch or form is not None
        self.savepoint = savepoint
        self.ok = False
        self.error: DomainError | None = None
        self._nested: SessionTransaction | None = None

    def __enter__(self) -> committing:
        if self.savepoint:
            self._nested = db.session.begin_nested()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        _tb: TracebackType | None,
    ) -> bool:
        if exc is None:
            if self._nested is not None:
                self._nested.commit()
            db.session.commit()
            self.ok = True
            return False
        if not (isinstance(exc, DomainError) and self.catch):
            db.session.rollback()
            return False
        self.error = exc
        if self.form is not None:
            attach_error(self.form, exc)
        if self._nested is not None:
            self._nested.rollback()  # the rest stays open, uncommitted, and usable for the answer
        else:
            db.session.rollback()
        return True
