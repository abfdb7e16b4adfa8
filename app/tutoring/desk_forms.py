"""The trainer desk's forms. The weekly rows are plain repeated inputs (slot_weekday,
slot_starts, slot_ends, and slot_remove naming a row's index), so the editor works without
JavaScript: the page shows the saved rows plus a few blank ones."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import (
    BooleanField,
    FloatField,
    HiddenField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # stubs predate 3.3
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import DateTimeLocalInput

from app.catalog.models import LANGUAGES
from app.core.forms import DbIntegerField, text
from app.tutoring.areas import AREAS
from app.tutoring.models import Trainer, TrainerSlot
from app.tutoring.trainer_profile import Profile, RawSlot

BLANK_ROWS = 3
# Common IANA zones for the select; a trainer's own zone is added when it is not among them.
ZONES = (
    "UTC",
    "Europe/London",
    "Europe/Dublin",
    "Europe/Lisbon",
    "Europe/Paris",
    "Europe/Berlin",
    "Europe/Madrid",
    "Europe/Rome",
    "Europe/Amsterdam",
    "Europe/Warsaw",
    "Europe/Athens",
    "Europe/Istanbul",
    "Africa/Lagos",
    "Africa/Cairo",
    "Africa/Nairobi",
    "Africa/Johannesburg",
    "Asia/Dubai",
    "Asia/Karachi",
    "Asia/Kolkata",
    "Asia/Dhaka",
    "Asia/Bangkok",
    "Asia/Singapore",
    "Asia/Shanghai",
    "Asia/Tokyo",
    "Australia/Perth",
    "Australia/Sydney",
    "Pacific/Auckland",
    "America/Sao_Paulo",
    "America/Argentina/Buenos_Aires",
    "America/New_York",
    "America/Toronto",
    "America/Chicago",
    "America/Mexico_City",
    "America/Denver",
    "America/Los_Angeles",
)
GENDER_CHOICES = [
    SelectChoice(value, label)
    for value, label in (("", "Prefer not to say"), ("female", "Female"), ("male", "Male"))
] + [SelectChoice("other", "Other")]


class TrainerProfileForm(FlaskForm):  # type: ignore[misc]
    specialties = SelectMultipleField("Specialties", choices=[], validate_choice=False)
    languages = SelectMultipleField(
        "Languages",
        choices=[SelectChoice(code, name) for code, name in LANGUAGES.items()],
        validate_choice=False,
    )
    gender = SelectField(
        "Gender",
        choices=GENDER_CHOICES,
        validate_choice=False,
        description="Students may ask for a trainer of a gender; blank matches no preference.",
    )
    timezone = SelectField("Your time zone", choices=[], validate_choice=False)
    online = BooleanField("I teach online")
    in_person = BooleanField("I teach in person")
    area = SelectField("Area (in person)", choices=[], validate_choice=False)
    max_distance_km = FloatField(
        "How far you travel (km)",
        validators=[Optional(), NumberRange(1, 500, "From 1 to 500 km, or blank.")],
        description="Blank: any distance within your area's city.",
    )
    capacity = DbIntegerField(
        "Max active students", validators=[InputRequired("How many students at once?")], minimum=0
    )
    accepting = BooleanField("Accepting new students")
    bio = TextAreaField("About you", validators=[Length(max=2000)])

    def fill(self, specialties: list[tuple[str, str]], trainer: Trainer | None) -> Any:
        """The choices (the saved profile's own values kept even when no longer listed)."""
        saved = trainer.specialties if trainer else []
        known = {slug for slug, _ in specialties}
        pairs = specialties + [(s, s) for s in saved if s not in known]
        self.specialties.choices = [SelectChoice(v, label) for v, label in pairs]
        zones = list(ZONES)
        current = self.timezone.data or (trainer.timezone if trainer else "UTC")
        if current and current not in zones:
            zones.insert(0, current)
        self.timezone.choices = [SelectChoice(z, z.replace("_", " ")) for z in zones]
        areas = [("", "—"), *((a.key, a.name) for a in AREAS.values())]
        self.area.choices = [SelectChoice(key, name) for key, name in areas]
        return self

    def profile(self) -> Profile:
        return Profile(
            specialties=tuple(self.specialties.data or ()),
            languages=tuple(self.languages.data or ()),
            gender=text(self.gender) or None,
            timezone=text(self.timezone),
            online=bool(self.online.data),
            in_person=bool(self.in_person.data),
            area=text(self.area) or None,
            max_distance_km=self.max_distance_km.data,
            capacity=int(self.capacity.data or 0),
            accepting=bool(self.accepting.data),
            bio=text(self.bio),
        )


def profile_form(trainer: Trainer | None, specialties: list[tuple[str, str]]) -> Any:
    """The form, filled from the saved profile (a POST fills it from the request instead)."""
    if trainer is None:
        form = TrainerProfileForm(
            data={"timezone": "UTC", "online": True, "accepting": True, "capacity": 8}
        )
    else:
        form = TrainerProfileForm(obj=trainer)
    return form.fill(specialties, trainer)


def saved_rows(slots: list[TrainerSlot]) -> list[RawSlot]:
    """The saved weekly rows, as the editor shows them, plus blank ones to add."""
    rows = [RawSlot(str(s.weekday), f"{s.starts:%H:%M}", f"{s.ends:%H:%M}") for s in slots]
    return rows + [RawSlot("", "", "")] * BLANK_ROWS


def posted_rows(form: MultiDict[str, str]) -> list[RawSlot]:
    """The weekly rows as posted (each row sends its three inputs, so the lists line up)."""
    days, starts, ends = (form.getlist(f"slot_{n}") for n in ("weekday", "starts", "ends"))
    removed = set(form.getlist("slot_remove"))
    count = min(max(len(days), len(starts), len(ends)), 7 * 24)  # a bound on a hostile post

    def pad(values: list[str]) -> list[str]:
        return (values + [""] * count)[:count]

    return [
        RawSlot(d.strip(), s.strip(), e.strip(), str(i) in removed)
        for i, (d, s, e) in enumerate(zip(pad(days), pad(starts), pad(ends), strict=True))
    ]


class MarkForm(FlaskForm):  # type: ignore[misc]
    status = RadioField(
        "Mark as",
        choices=[SelectChoice("done", "Done"), SelectChoice("no_show", "No-show")],
        default="done",
        validate_choice=False,  # the service names a wrong one
    )
    note = TextAreaField("Note (optional)", validators=[Length(max=1000)])
    back = HiddenField()  # "session": answer with the session's card, else the desk's list


class TimeOffForm(FlaskForm):  # type: ignore[misc]
    starts = StringField(
        "From", widget=DateTimeLocalInput(), validators=[DataRequired("Choose when it starts.")]
    )
    ends = StringField(
        "Until", widget=DateTimeLocalInput(), validators=[DataRequired("Choose when it ends.")]
    )
    reason = StringField("Reason (only you and admins see it)", validators=[Length(max=200)])
