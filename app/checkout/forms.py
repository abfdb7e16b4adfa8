"""Checkout forms."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, RadioField
from wtforms.validators import DataRequired, InputRequired, Length

from app.core.security import new_token


class CheckoutForm(FlaskForm):  # type: ignore[misc]
    provider = RadioField("Pay with", choices=[], validators=[InputRequired("Choose how to pay.")])
    accept_terms = BooleanField(
        "I accept the terms of sale and the refund policy",
        validators=[DataRequired("Please accept the terms to continue.")],
    )
    # A fresh key on every render: a double click or a resubmit replays the first answer.
    idempotency_key = HiddenField(default=new_token, validators=[Length(min=8, max=100)])
