"""Payment forms."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    HiddenField,
    RadioField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import AnyOf, DataRequired, Length

from app.core.security import new_token


class SandboxForm(FlaskForm):  # type: ignore[misc]
    card = StringField("Test card number", validators=[Length(max=24)])
    # Sent by the button pressed (not a hidden field, which hidden_tag would render empty).
    action = StringField(
        validators=[AnyOf(["pay", "authenticate", "fail_authentication", "decline", "cancel"])]
    )


class RetryForm(FlaskForm):  # type: ignore[misc]
    provider = RadioField("Pay with", choices=[])


class RefundForm(FlaskForm):  # type: ignore[misc]
    courses = SelectMultipleField(
        "Courses to refund",
        choices=[],
        coerce=int,
        validators=[DataRequired(message="Choose at least one course to refund.")],
    )
    reason = TextAreaField(
        "Why are you asking for a refund? (optional)", validators=[Length(max=1000)]
    )
    confirm = BooleanField(
        "I understand that I lose access to the refunded courses",
        validators=[
            DataRequired(message="Tick the box to confirm you understand you lose access.")
        ],
    )
    request_key = HiddenField(default=new_token)
