"""Forms of the student's session changes."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField


class SessionChangeForm(FlaskForm):  # type: ignore[misc]
    next = HiddenField()
    starts_at = StringField("New time")  # datetime-local, on the student's clock
    timezone = HiddenField()
