"""A tutoring package's schedule: the student's choices as the checkout metadata carries them
(seed 001: timeSlot, date, isSundayOnly, sessionDuration), validated, and the session start
times they give.

Times are chosen on the student's wall clock: "Sundays at 18:00 in Europe/London" stays 18:00
local across a DST change, so its UTC instant moves by an hour. Every start is computed from
the local date and time with zoneinfo, never by adding 7 days to a UTC instant."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from app.core.errors import DomainError

TIERS = (10, 20, 30)
DURATIONS = (45, 60, 90)  # minutes
# Slots start on the hour or half hour between these (the student's local time).
FIRST_SLOT, LAST_SLOT = time(6, 0), time(21, 30)
BOOK_AHEAD = timedelta(days=90)  # the first session can be at most this far off
HORIZON = timedelta(days=366)  # a package that cannot be placed within a year is refused
SUNDAY = 7
WORKING_WEEK = (1, 2, 3, 4, 5)
WEEKDAY_NAMES = {"mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6, "sun": 7}

Interval = tuple[datetime, datetime]  # aware UTC, [start, end)

_SLOT = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


class ScheduleError(DomainError):
    """A schedule field is missing or wrong; `field` names it as the client sent it."""

    code = "invalid_schedule"
    status = 422

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message, field=field)


@dataclass(frozen=True)
class Schedule:
    start_date: date  # the first day a session may fall on (the student's calendar)
    time_slot: time  # the student's local start time
    sunday_only: bool
    weekdays: tuple[int, ...]  # ISO weekdays the sessions fall on ((7,) when Sunday-only)
    duration: timedelta
    timezone: str  # the student's IANA zone

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def as_metadata(self) -> dict[str, Any]:
        """The schedule in the seed's field names, as stored with the purchase."""
        return {
            "timeSlot": self.time_slot.strftime("%H:%M"),
            "date": self.start_date.isoformat(),
            "isSundayOnly": self.sunday_only,
            "weekdays": list(self.weekdays),
            "sessionDuration": int(self.duration.total_seconds() // 60),
            "timezone": self.timezone,
        }


def valid_timezone(name: str) -> bool:
    if not name or name not in available_timezones():
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _slot(raw: Any) -> time:
    match = _SLOT.match(str(raw or "").strip())
    if not match:
        raise ScheduleError("timeSlot", "Choose a start time as HH:MM, e.g. 18:00.")
    slot = time(int(match[1]), int(match[2]))
    if slot.minute not in (0, 30) or not FIRST_SLOT <= slot <= LAST_SLOT:
        first, last = FIRST_SLOT.strftime("%H:%M"), LAST_SLOT.strftime("%H:%M")
        raise ScheduleError(
            "timeSlot", f"Sessions start on the hour or half hour, {first} to {last}."
        )
    return slot


def _start(raw: Any, today: date | None) -> date:
    try:
        day = date.fromisoformat(str(raw or "").strip())
    except ValueError:
        raise ScheduleError("date", "Choose a start date as YYYY-MM-DD.") from None
    if today is None:  # a stored schedule, checked when it was chosen
        return day
    if day <= today:
        raise ScheduleError("date", "The first session can be tomorrow at the earliest.")
    if day > today + BOOK_AHEAD:
        raise ScheduleError("date", f"Start within {BOOK_AHEAD.days} days.")
    return day


def _flag(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower() if raw is not None else ""
    if text in ("true", "1", "yes", "on", "sunday"):
        return True
    if text in ("false", "0", "no", "off", "weekdays"):
        return False
    raise ScheduleError("isSundayOnly", "Say whether sessions are on Sundays only (true/false).")


def _duration(raw: Any) -> timedelta:
    try:
        minutes = int(str(raw).strip())
    except (TypeError, ValueError):
        minutes = 0
    if minutes not in DURATIONS:
        allowed = ", ".join(str(d) for d in DURATIONS)
        raise ScheduleError("sessionDuration", f"A session lasts {allowed} minutes.")
    return timedelta(minutes=minutes)


def _weekdays(raw: Any) -> tuple[int, ...]:
    if raw in (None, "", []):
        return WORKING_WEEK
    items = raw if isinstance(raw, list | tuple) else str(raw).split(",")
    days: set[int] = set()
    for item in items:
        text = str(item).strip().lower()[:3]
        day = WEEKDAY_NAMES.get(text) or (int(text) if text.isdigit() else 0)
        if not 1 <= day <= 7:
            raise ScheduleError("weekdays", "Pick the days as mon…sun (or ISO numbers 1 to 7).")
        days.add(day)
    return tuple(sorted(days))


def parse_schedule(raw: Mapping[str, Any], timezone: str, today: date | None) -> Schedule:
    """The schedule from checkout metadata; ScheduleError names the first bad field. `today`
    None: a stored schedule (its start date may be past by now)."""
    for name in ("timeSlot", "date", "isSundayOnly", "sessionDuration"):
        if raw.get(name) in (None, ""):
            raise ScheduleError(name, f"{name} is required.")
    if not valid_timezone(timezone):
        raise ScheduleError("timezone", "Choose your time zone (e.g. Asia/Kolkata).")
    sunday_only = _flag(raw["isSundayOnly"])
    return Schedule(
        start_date=_start(raw["date"], today),
        time_slot=_slot(raw["timeSlot"]),
        sunday_only=sunday_only,
        weekdays=(SUNDAY,) if sunday_only else _weekdays(raw.get("weekdays")),
        duration=_duration(raw["sessionDuration"]),
        timezone=timezone,
    )


def local_start(schedule: Schedule, day: date) -> datetime:
    """The session on `day` at the slot, as a UTC instant. (Clocks change at night, outside
    FIRST_SLOT..LAST_SLOT, so a slot never falls in a skipped or repeated hour.)"""
    local = datetime.combine(day, schedule.time_slot, tzinfo=schedule.zone)
    return local.astimezone(UTC)


def overlaps(start: datetime, end: datetime, intervals: Sequence[Interval]) -> bool:
    return any(start < other_end and other_start < end for other_start, other_end in intervals)


def session_starts(
    schedule: Schedule, count: int, blocked: Sequence[Interval] = (), after: date | None = None
) -> list[datetime]:
    """`count` session starts (UTC), on the schedule's days from its start date (or the day
    after `after`), skipping any that would overlap a blocked interval (time off, other
    sessions); [] when they do not all fit within HORIZON."""
    day = max(schedule.start_date, after + timedelta(days=1)) if after else schedule.start_date
    last = schedule.start_date + HORIZON
    starts: list[datetime] = []
    while len(starts) < count and day <= last:
        if day.isoweekday() in schedule.weekdays:
            start = local_start(schedule, day)
            if not overlaps(start, start + schedule.duration, blocked):
                starts.append(start)
        day += timedelta(days=1)
    return starts if len(starts) == count else []
