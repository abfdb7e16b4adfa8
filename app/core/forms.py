"""Form helpers shared by every domain's views."""

from __future__ import annotations

from typing import Any

from babel import Locale
from flask_wtf import FlaskForm
from wtforms import Field, IntegerField
from wtforms.validators import NumberRange

from app.core.errors import DomainError
from app.core.validation import PG_INT_MAX, PG_INT_MIN


def attach_error(form: FlaskForm, error: DomainError) -> None:
    """Show a domain error next to its field, or at the top of the form."""
    field = getattr(form, error.field, None) if error.field else None
    if field is not None:
        field.errors = [*field.errors, error.message]
    else:
        form.form_errors.append(error.message)


class DbIntegerField(IntegerField):
    """An IntegerField that refuses what PostgreSQL's INTEGER cannot hold (a query would fail)."""

    def __init__(
        self,
        label: str | None = None,
        validators: list[Any] | None = None,
        minimum: int = PG_INT_MIN,
        **kwargs: Any,
    ) -> None:
        bound = NumberRange(minimum, PG_INT_MAX, message="That number is out of range.")
        super().__init__(label, [*(validators or []), bound], **kwargs)


def text(field: Field) -> str:
    """A text field's value; an empty string rather than None."""
    return str(field.data or "")


def country_choices() -> list[tuple[str, str]]:
    """ISO 3166 two-letter countries with English names, sorted by name."""
    territories = Locale("en").territories
    pairs = [
        (code, name) for code, name in territories.items() if len(code) == 2 and code.isalpha()
    ]
    return [("", "— Choose —"), *sorted(pairs, key=lambda p: p[1])]
