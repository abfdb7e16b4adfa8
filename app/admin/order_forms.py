"""Forms of the order and webhook consoles."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length, Optional, Regexp

from app.admin.forms import minor
from app.core.forms import text
from app.core.security import new_token

KEY = [DataRequired(), Regexp(r"^[0-9a-f-]{36}$", message="This form has expired: reload.")]


class RefundForm(FlaskForm):  # type: ignore[misc]
    """Which lines (none: all that is left), an optional amount, why; `key` is drawn when the
    form is rendered, so the same form sent twice names the same refund."""

    course_ids = SelectMultipleField("Courses", coerce=int, choices=[], validate_choice=False)
    amount = StringField("Amount", validators=[Optional(), Length(max=20)])
    reason = StringField(
        "Reason",
        validators=[DataRequired(message="Say why (the audit log keeps it)."), Length(max=500)],
    )
    key = HiddenField(validators=KEY, default=new_token)

    def amount_minor(self, currency: str) -> int | None:
        """The amount in minor units, or None for the lines' whole amount (ValidationError)."""
        return minor(text(self.amount), currency) if text(self.amount) else None


class KeyedForm(FlaskForm):  # type: ignore[misc]
    """A one-off action (resend a receipt): a key per rendered form makes a double submit one."""

    key = HiddenField(validators=KEY, default=new_token)


class ReasonedForm(FlaskForm):  # type: ignore[misc]
    reason = StringField("Reason", validators=[Optional(), Length(max=500)])
