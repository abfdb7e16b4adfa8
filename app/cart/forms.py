"""Cart forms."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask_wtf import FlaskForm
from wtforms import HiddenField, RadioField, SelectField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length

from app.core.forms import DbIntegerField, country_choices
from app.core.models import utcnow
from app.tutoring.offers import Offer


class AddToCartForm(FlaskForm):  # type: ignore[misc]
    course_id = DbIntegerField(validators=[DataRequired()], minimum=1)
    next = HiddenField()


class CouponForm(FlaskForm):  # type: ignore[misc]
    code = StringField(
        "Coupon code", validators=[DataRequired(message="Enter a code."), Length(max=40)]
    )


class CurrencyForm(FlaskForm):  # type: ignore[misc]
    currency = SelectField("Currency", choices=[])
    next = HiddenField()


class CountryForm(FlaskForm):  # type: ignore[misc]
    country = SelectField("Your country", choices=[], description="Sets the tax that applies.")

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.country.choices = country_choices()


class EmptyForm(FlaskForm):  # type: ignore[misc]
    pass


class PackageForm(FlaskForm):  # type: ignore[misc]
    """A tutoring package and the schedule for it; field names are seed 001's metadata keys,
    so app.tutoring.purchases.parse_choice reads `choices()` as it reads API metadata."""

    package_id = RadioField("Package", coerce=int, validators=[DataRequired("Choose a package.")])
    # Choices are not enforced here: parse_choice says what is wrong with a value, by name.
    timeSlot = SelectField(
        "Start time", validators=[DataRequired("Choose a start time.")], validate_choice=False
    )
    date = StringField(
        "First session on or after",
        validators=[DataRequired("Choose a date.")],
        render_kw={"type": "date"},
    )
    isSundayOnly = RadioField(
        "Days",
        choices=[("true", "Sundays only"), ("false", "Chosen weekdays")],
        default="true",
    )
    weekdays = SelectMultipleField(
        "Weekdays",
        choices=[
            ("1", "Mon"),
            ("2", "Tue"),
            ("3", "Wed"),
            ("4", "Thu"),
            ("5", "Fri"),
            ("6", "Sat"),
        ],
        validate_choice=False,  # parse_choice names a bad one
    )
    sessionDuration = SelectField("Session length", default="60", validate_choice=False)
    mode = RadioField(
        "Where", choices=[("online", "Online"), ("in_person", "In person")], default="online"
    )
    area = SelectField("Area (in person)", validate_choice=False)
    genderPreference = SelectField(
        "Trainer",
        choices=[("", "No preference"), ("female", "Female"), ("male", "Male"), ("other", "Other")],
        default="",
        validate_choice=False,
    )
    timezone = SelectField("Your time zone", validate_choice=False)

    def fill(self, offer: Offer) -> PackageForm:
        """The choices of this course's offer (and the visitor's zone when none was sent)."""
        self.package_id.choices = [(p.package_id, str(p.sessions)) for p in offer.packages]
        self.timeSlot.choices = [(t, t) for t in offer.slots]
        self.sessionDuration.choices = [(str(d), f"{d} minutes") for d in offer.durations]
        self.area.choices = [("", "—"), *((a.key, a.name) for a in offer.areas)]
        self.timezone.choices = [(z, z.replace("_", " ")) for z in offer.zones]
        if offer.timezone not in offer.zones:
            self.timezone.choices.insert(0, (offer.timezone, offer.timezone.replace("_", " ")))
        if not self.timezone.data:
            self.timezone.data = offer.timezone
        if not self.timeSlot.data:  # an evening if a trainer is free then, else the first open
            open_times = offer.open_times
            self.timeSlot.data = (
                "18:00" if "18:00" in open_times else min(open_times, default="18:00")
            )
        if not self.date.data:
            self.date.data = (utcnow().date() + timedelta(days=1)).isoformat()
        return self

    def choices(self) -> dict[str, Any]:
        return {
            "timeSlot": self.timeSlot.data,
            "date": self.date.data,
            "isSundayOnly": self.isSundayOnly.data,
            "weekdays": self.weekdays.data or [],
            "sessionDuration": self.sessionDuration.data,
            "mode": self.mode.data,
            "area": self.area.data,
            "genderPreference": self.genderPreference.data,
        }
