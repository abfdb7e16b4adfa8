"""A trainer's profile and weekly availability: what assignment filters and scores on
(specialties, gender, languages, zone, modes, area and distance, capacity), checked here once
for the trainer's own form. One save changes the profile and the week together or not at all."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import time
from itertools import pairwise

from sqlalchemy import delete, select

from app.catalog.models import LANGUAGES, Category
from app.core.db import lock
from app.core.errors import DomainError
from app.extensions import db
from app.tutoring.areas import area
from app.tutoring.models import Trainer, TrainerSlot
from app.tutoring.purchases import GENDERS
from app.tutoring.schedule import valid_timezone

MAX_CAPACITY = 100
MAX_DISTANCE_KM = 500.0
BIO_LENGTH = 2000
WEEKDAYS = {1: "Monday", 2: "Tuesday", 3: "Wednesday", 4: "Thursday", 5: "Friday"}
WEEKDAYS |= {6: "Saturday", 7: "Sunday"}
_TIME = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)(:00)?$")


class ProfileRefused(DomainError):
    code = "invalid_profile"
    status = 422


class SlotRefused(DomainError):
    """A weekly row is wrong; `row` is its position in the rows as posted (0-based)."""

    code = "invalid_slot"
    status = 422

    def __init__(self, row: int, message: str) -> None:
        super().__init__(f"Row {row + 1}: {message}")
        self.row = row


@dataclass(frozen=True)
class Profile:
    specialties: tuple[str, ...]
    languages: tuple[str, ...]
    gender: str | None
    timezone: str
    online: bool
    in_person: bool
    area: str | None
    max_distance_km: float | None
    capacity: int
    accepting: bool
    bio: str


@dataclass(frozen=True)
class RawSlot:
    """A weekly row as the form sent it."""

    weekday: str
    starts: str
    ends: str
    remove: bool = False

    @property
    def blank(self) -> bool:
        return not (self.weekday or self.starts or self.ends)


@dataclass(frozen=True)
class WeeklyRow:
    weekday: int  # ISO 1=Mon..7=Sun
    starts: time
    ends: time


def _time(raw: str) -> time | None:
    match = _TIME.match(raw.strip())
    return time(int(match[1]), int(match[2])) if match else None


def _row(index: int, raw: RawSlot) -> WeeklyRow:
    day = int(raw.weekday) if raw.weekday.strip().isdigit() else 0
    if day not in WEEKDAYS:
        raise SlotRefused(index, "choose the day.")
    starts, ends = _time(raw.starts), _time(raw.ends)
    if starts is None or ends is None:
        raise SlotRefused(index, "give the start and end as HH:MM.")
    if ends <= starts:
        raise SlotRefused(index, "the end must be after the start.")
    return WeeklyRow(day, starts, ends)


def parse_week(rows: Sequence[RawSlot]) -> list[WeeklyRow]:
    """The weekly rows kept (blank and removed rows left out), refused when one is incomplete,
    ends before it starts, or overlaps another row on the same day (touching is fine)."""
    kept = [(i, _row(i, raw)) for i, raw in enumerate(rows) if not (raw.remove or raw.blank)]
    ordered = sorted(kept, key=lambda item: (item[1].weekday, item[1].starts))
    for (_, before), (index, after) in pairwise(ordered):
        if after.weekday == before.weekday and after.starts < before.ends:
            span = f"{before.starts:%H:%M} to {before.ends:%H:%M}"
            raise SlotRefused(index, f"it overlaps {WEEKDAYS[after.weekday]} {span}.")
    return [row for _, row in ordered]


def list_week(trainer_id: int) -> list[TrainerSlot]:
    return list(
        db.session.scalars(
            select(TrainerSlot)
            .where(TrainerSlot.trainer_id == trainer_id)
            .order_by(TrainerSlot.weekday, TrainerSlot.starts)
        )
    )


def specialty_choices() -> list[tuple[str, str]]:
    """Category slugs and names: a tutoring course's specialty is its category's slug."""
    return [(s, n) for s, n in db.session.execute(select(Category.slug, Category.name))]


def _check(profile: Profile) -> None:
    if not valid_timezone(profile.timezone):
        raise ProfileRefused("Choose your time zone.", field="timezone")
    if profile.gender is not None and profile.gender not in GENDERS:
        raise ProfileRefused("Choose female, male, other or leave it blank.", field="gender")
    unknown = set(profile.languages) - LANGUAGES.keys()
    if unknown:
        raise ProfileRefused("Choose languages from the list.", field="languages")
    known = {slug for slug, _ in specialty_choices()}
    if set(profile.specialties) - known:
        raise ProfileRefused("Choose specialties from the list.", field="specialties")
    if not (profile.online or profile.in_person):
        raise ProfileRefused("Teach online, in person or both.", field="online")
    if profile.in_person and area(profile.area) is None:
        raise ProfileRefused("Choose the area where you teach in person.", field="area")
    distance = profile.max_distance_km
    if distance is not None and not 0 < distance <= MAX_DISTANCE_KM:
        raise ProfileRefused(
            f"A distance from 1 to {MAX_DISTANCE_KM:.0f} km, or blank.", field="max_distance_km"
        )
    if not 0 <= profile.capacity <= MAX_CAPACITY:
        raise ProfileRefused(f"From 0 to {MAX_CAPACITY} students.", field="capacity")
    if len(profile.bio) > BIO_LENGTH:
        raise ProfileRefused(f"At most {BIO_LENGTH} characters.", field="bio")


def save_profile(
    user_id: int, trainer: Trainer | None, profile: Profile, week: Sequence[RawSlot]
) -> Trainer:
    """Create or update the user's trainer profile and replace their weekly rows. Capacity may
    not drop below the students they teach now; the row is locked for that check, as
    assignment locks it to take a place."""
    _check(profile)
    rows = parse_week(week)
    if trainer is None:
        trainer = Trainer(user_id=user_id, active_students=0)
        db.session.add(trainer)
    else:
        trainer = lock(Trainer, trainer.id)
    if profile.capacity < trainer.active_students:
        raise ProfileRefused(
            f"You teach {trainer.active_students} students now: capacity can't be lower.",
            field="capacity",
        )
    _apply(trainer, profile)
    db.session.flush()
    db.session.execute(delete(TrainerSlot).where(TrainerSlot.trainer_id == trainer.id))
    db.session.add_all(
        TrainerSlot(trainer_id=trainer.id, weekday=r.weekday, starts=r.starts, ends=r.ends)
        for r in rows
    )
    db.session.flush()
    return trainer


def _apply(trainer: Trainer, profile: Profile) -> None:
    place = area(profile.area) if profile.in_person else None
    trainer.specialties = sorted(set(profile.specialties))
    trainer.languages = sorted(set(profile.languages))
    trainer.gender = profile.gender
    trainer.timezone = profile.timezone
    trainer.online = profile.online
    trainer.in_person = profile.in_person
    trainer.area = place.key if place else None
    trainer.latitude = place.latitude if place else None
    trainer.longitude = place.longitude if place else None
    trainer.max_distance_km = profile.max_distance_km if place else None
    trainer.capacity = profile.capacity
    trainer.accepting = profile.accepting
    trainer.bio = profile.bio.strip()
