"""Catalog forms."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField


class CurrencyForm(FlaskForm):  # type: ignore[misc]
    currency = SelectField("Currency", choices=[])
    next = HiddenField()
