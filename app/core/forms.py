"""Form helpers shared by every domain's views."""

from __future__ import annotations

from babel import Locale
from flask_wtf import FlaskForm
from wtforms import Field

from app.core.errors import DomainError


def attach_error(form: FlaskForm, error: DomainError) -> None:
    """Show a domain error next to its field, or at the top of the form."""
    field = getattr(form, error.field, None) if error.field else None
    if field is not None:
        field.errors = [*field.errors, error.message]
    else:
        form.form_errors.append(error.message)


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
