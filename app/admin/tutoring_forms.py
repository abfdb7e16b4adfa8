"""Forms of the console's tutoring allocations."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional


class AllocationActionForm(FlaskForm):  # type: ignore[misc]
    """Approve the suggestion or retry the automatic assignment: an optional reason."""

    reason = StringField("Reason (optional)", validators=[Optional(), Length(max=500)])


class AllocateForm(FlaskForm):  # type: ignore[misc]
    """A trainer chosen by hand overrides the automatic choice: say why."""

    trainer_id = SelectField(
        "Trainer", coerce=int, choices=[], validate_choice=True,
        validators=[DataRequired(message="Choose a trainer.")],
    )  # fmt: skip
    reason = StringField(
        "Reason",
        validators=[DataRequired(message="Say why (the audit log keeps it)."), Length(max=500)],
    )
