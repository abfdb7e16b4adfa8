"""A package's schedule: the seed's metadata validated, and session times on the student's
wall clock across DST changes, skipping blocked time."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from app.tutoring.schedule import ScheduleError, parse_schedule, session_starts

TODAY = date(2026, 10, 1)
LONDON = "Europe/London"


def _raw(**changes: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "timeSlot": "18:00",
        "date": "2026-10-04",
        "isSundayOnly": True,
        "sessionDuration": 60,
    }
    raw.update(changes)
    return {k: v for k, v in raw.items() if v is not None}


def test_twenty_sunday_sessions_stay_at_six_pm_local_across_the_dst_change() -> None:
    schedule = parse_schedule(_raw(), LONDON, TODAY)
    starts = session_starts(schedule, 20)
    assert len(starts) == 20
    local = [s.astimezone(ZoneInfo(LONDON)) for s in starts]
    assert all(t.isoweekday() == 7 and t.time() == time(18, 0) for t in local)
    assert [t.date() for t in local] == [date(2026, 10, 4) + timedelta(weeks=n) for n in range(20)]
    # BST (UTC+1) until 25 October, GMT after: the UTC hour moves, the local one does not.
    assert starts[0].hour == 17 and starts[4].hour == 18
    assert all(s.tzinfo is UTC for s in starts)


def test_weekday_packages_fall_on_the_chosen_days() -> None:
    schedule = parse_schedule(
        _raw(isSundayOnly=False, weekdays=["mon", "wed"], date="2026-10-02"), "Asia/Kolkata", TODAY
    )
    starts = session_starts(schedule, 10)
    local = [s.astimezone(ZoneInfo("Asia/Kolkata")) for s in starts]
    assert {t.isoweekday() for t in local} == {1, 3}
    assert local[0].date() == date(2026, 10, 5) and len(starts) == 10
    assert parse_schedule(_raw(isSundayOnly="false"), LONDON, TODAY).weekdays == (1, 2, 3, 4, 5)


def test_blocked_time_is_skipped_and_the_package_still_gets_every_session() -> None:
    schedule = parse_schedule(_raw(), LONDON, TODAY)
    off = (datetime(2026, 10, 10, tzinfo=UTC), datetime(2026, 10, 20, tzinfo=UTC))
    starts = session_starts(schedule, 10, blocked=[off])
    assert len(starts) == 10
    assert datetime(2026, 10, 11, 17, tzinfo=UTC) not in starts  # the Sunday inside time off
    assert starts[1] == datetime(2026, 10, 18 + 7, 18, tzinfo=UTC)  # 25 Oct: GMT already


def test_a_package_that_cannot_fit_within_a_year_gives_nothing() -> None:
    schedule = parse_schedule(_raw(), LONDON, TODAY)
    always = (datetime(2026, 10, 1, tzinfo=UTC), datetime(2028, 1, 1, tzinfo=UTC))
    assert session_starts(schedule, 10, blocked=[always]) == []


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"timeSlot": None}, "timeSlot"),
        ({"timeSlot": "25:00"}, "timeSlot"),
        ({"timeSlot": "18:15"}, "timeSlot"),
        ({"timeSlot": "03:00"}, "timeSlot"),
        ({"date": None}, "date"),
        ({"date": "04/10/2026"}, "date"),
        ({"date": "2026-10-01"}, "date"),  # today
        ({"date": "2027-06-01"}, "date"),  # too far ahead
        ({"isSundayOnly": None}, "isSundayOnly"),
        ({"isSundayOnly": "maybe"}, "isSundayOnly"),
        ({"sessionDuration": None}, "sessionDuration"),
        ({"sessionDuration": 50}, "sessionDuration"),
        ({"sessionDuration": "sixty"}, "sessionDuration"),
        ({"isSundayOnly": False, "weekdays": ["funday"]}, "weekdays"),
    ],
)
def test_bad_fields_are_named(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(ScheduleError) as err:
        parse_schedule(_raw(**changes), LONDON, TODAY)
    assert err.value.field == field and err.value.status == 422 and err.value.message


def test_an_unknown_time_zone_is_refused() -> None:
    with pytest.raises(ScheduleError) as err:
        parse_schedule(_raw(), "Mars/Olympus", TODAY)
    assert err.value.field == "timezone"


def test_metadata_round_trips() -> None:
    schedule = parse_schedule(_raw(), LONDON, TODAY)
    assert parse_schedule(schedule.as_metadata(), LONDON, TODAY) == schedule
