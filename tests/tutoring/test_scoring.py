"""Trainer scoring: every hard filter rejects with a readable note, wall-clock slots across DST,
load balancing, deterministic ties and weights that change the winner. Pure: no db, no app."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from app.tutoring.scoring import (
    Candidate,
    Request,
    Scored,
    WeeklySlot,
    Weights,
    best,
    haversine_km,
    score_candidates,
)

LONDON = ZoneInfo("Europe/London")
CENTRE = (51.5074, -0.1278)
KM_PER_DEGREE_LAT = 6371.0088 * 3.141592653589793 / 180
SUNDAY_EVENING = WeeklySlot(7, time(17, 0), time(21, 0))


def _sundays(count: int, at: time = time(18, 0), first: date = date(2026, 10, 4)) -> list[datetime]:
    """Sundays at `at` London wall-clock time, as UTC; 25 Oct 2026 is the BST → GMT change."""
    days = [first + timedelta(weeks=n) for n in range(count)]
    return [datetime.combine(d, at, tzinfo=LONDON).astimezone(UTC) for d in days]


SESSIONS = _sundays(8)


def _north(km: float) -> tuple[float, float]:
    return (CENTRE[0] + km / KM_PER_DEGREE_LAT, CENTRE[1])


def _trainer(trainer_id: int = 1, **changes: Any) -> Candidate:
    base = Candidate(
        trainer_id=trainer_id,
        name=f"Trainer {trainer_id}",
        specialties=frozenset({"Python", "SQL"}),
        gender="female",
        capacity=10,
        active_students=2,
        timezone="Europe/London",
        weekly=(SUNDAY_EVENING,),
        busy=(),
        online=True,
        in_person=True,
        location=_north(3),
        max_distance_km=None,
    )
    return replace(base, **changes)


def _request(**changes: Any) -> Request:
    base = Request("python", "online", None, None, timedelta(minutes=60))
    return replace(base, **changes)


def _score(
    candidates: list[Candidate],
    request: Request | None = None,
    sessions: list[datetime] = SESSIONS,
    **kw: Any,
) -> list[Scored]:
    return score_candidates(request or _request(), candidates, lambda _c: sessions, **kw)


def _factor(scored: Scored, name: str, hard: bool = True) -> Any:
    return next(f for f in scored.factors if f.name == name and (f.weight == 0) == hard)


IN_PERSON = {"mode": "in_person", "location": CENTRE}


@pytest.mark.parametrize(
    ("trainer", "request_changes", "sessions", "factor", "note"),
    [
        (
            {"specialties": frozenset({"SQL"})},
            {},
            SESSIONS,
            "specialty",
            "does not teach python (teaches: SQL)",
        ),
        ({"active_students": 10}, {}, SESSIONS, "capacity", "full: 10 of 10 students"),
        ({"online": False}, {}, SESSIONS, "distance", "does not teach online"),
        ({"in_person": False}, IN_PERSON, SESSIONS, "distance", "does not teach in person"),
        ({"location": None}, IN_PERSON, SESSIONS, "distance", "trainer's location is unknown"),
        (
            {"location": _north(20)},
            IN_PERSON,
            SESSIONS,
            "distance",
            "too far: 20 km away (limit 15 km)",
        ),
        (
            {"gender": "male"},
            {"gender_preference": "female"},
            SESSIONS,
            "gender",
            "prefers female trainer: this trainer is male",
        ),
        ({"gender": None}, {"gender_preference": "female"}, SESSIONS, "gender", "gender not given"),
        (
            {},
            {},
            _sundays(8, time(20, 30)),
            "slot",
            "8 of 8 sessions outside the weekly availability (first: Sun 04 Oct 2026 20:30 Europe/London)",
        ),
        ({}, {}, [], "slot", "cannot be placed with this trainer"),
        ({"timezone": "Mars/Olympus"}, {}, SESSIONS, "slot", "unknown time zone"),
    ],
)
def test_each_hard_filter_rejects_with_its_note(
    trainer: dict[str, Any],
    request_changes: dict[str, Any],
    sessions: list[datetime],
    factor: str,
    note: str,
) -> None:
    [scored] = _score([_trainer(**trainer)], _request(**request_changes), sessions)
    assert not scored.qualified and scored.total == 0.0
    failed = _factor(scored, factor)
    assert not failed.passed and failed.score == 0.0 and failed.weight == 0.0
    assert note in failed.note
    assert scored.rejections() == [failed.note]  # the others passed, and say so
    assert failed.note not in scored.reasons()
    assert best([scored], 0.0) is None


def test_every_filter_is_evaluated_so_the_admin_sees_every_reason() -> None:
    trainer = _trainer(
        specialties=frozenset({"Art"}), active_students=10, gender="male", online=False
    )
    [scored] = _score([trainer], _request(gender_preference="female"))
    assert {f.name for f in scored.factors if not f.passed} == {
        "specialty",
        "capacity",
        "distance",
        "gender",
    }
    assert [f.name for f in scored.factors] == [
        "specialty",
        "slot",
        "capacity",
        "distance",
        "gender",
    ]


def test_the_winner_explains_itself() -> None:
    request = _request(gender_preference="female", specialty=" PYTHON ")
    top = best(_score([_trainer(active_students=3, capacity=8)], request), 0.5)
    assert top is not None and top.qualified
    assert top.reasons() == [
        "teaches PYTHON",
        "every one of 8 sessions inside Sun 17:00\u201321:00 (Europe/London), all free",
        "prefers female trainer: honoured",
        "3 of 8 students: moderately loaded",
        "30+ min free either side of every session: a comfortable fit",
        "online: no travel needed",
    ]
    # 0.5 * 5/8 + 0.3 * 1 + 0.2 * 1
    assert top.total == pytest.approx(0.8125)


def test_gender_preference_is_honoured_whenever_it_can_be() -> None:
    pool = [
        _trainer(1, gender="male", active_students=0),  # the better score, the wrong gender
        _trainer(2, gender="female", active_students=9),
        _trainer(3, gender=None, active_students=0),
    ]
    chosen = best(_score(pool, _request(gender_preference="female")), 0.0)
    assert chosen is not None and chosen.trainer_id == 2
    assert "prefers female trainer: honoured" in chosen.reasons()
    assert best(_score(pool, _request(gender_preference="other")), 0.0) is None
    assert best(_score(pool), 0.0).trainer_id == 1  # type: ignore[union-attr]  # no preference


def test_an_in_person_trainer_beyond_the_limit_is_never_chosen() -> None:
    near = _trainer(1, location=_north(14), active_students=9)
    far = _trainer(2, location=_north(16), active_students=0)  # lighter, but too far
    ranked = _score([far, near], _request(**IN_PERSON))
    assert [s.trainer_id for s in ranked] == [1, 2] and not ranked[1].qualified
    assert _factor(ranked[0], "distance").note == "14 km away (limit 15 km)"
    # The default limit applies only when the trainer sets none.
    assert _score([far], _request(**IN_PERSON), default_max_km=20.0)[0].qualified
    assert _score([replace(far, max_distance_km=25.0)], _request(**IN_PERSON))[0].qualified
    assert not _score([replace(near, max_distance_km=10.0)], _request(**IN_PERSON))[0].qualified


def test_slots_are_checked_on_the_trainers_wall_clock_across_the_dst_change() -> None:
    trainer = _trainer(weekly=(WeeklySlot(7, time(18, 0), time(20, 0)),))
    sessions = _sundays(8)  # 18:00 London: 17:00 UTC in BST, 18:00 UTC after 25 Oct
    assert {s.hour for s in sessions} == {17, 18}
    [scored] = _score([trainer], sessions=sessions)
    assert scored.qualified
    assert _factor(scored, "slot").note.startswith(
        "every one of 8 sessions inside Sun 18:00\u201320:00"
    )
    # A fixed UTC offset (first session + 7 days) lands at 17:00 local after the change.
    naive = [sessions[0] + timedelta(weeks=n) for n in range(8)]
    [wrong] = _score([trainer], sessions=naive)
    assert _factor(wrong, "slot").note.startswith("5 of 8 sessions outside the weekly availability")
    assert "(first: Sun 25 Oct 2026 17:00 Europe/London)" in _factor(wrong, "slot").note
    # A trainer elsewhere sees the same instants on their own clock.
    kolkata = _trainer(timezone="Asia/Kolkata", weekly=(WeeklySlot(7, time(22, 0), time(23, 59)),))
    assert _score(
        [kolkata], sessions=_sundays(3), request=_request(duration=timedelta(minutes=45))
    )[0].qualified


def test_a_session_crossing_the_end_of_the_window_fails() -> None:
    trainer = _trainer(weekly=(WeeklySlot(7, time(18, 0), time(20, 0)),))
    assert _score([trainer], sessions=_sundays(2, time(19, 0)))[0].qualified  # ends 20:00 exactly
    [late] = _score([trainer], sessions=_sundays(2, time(19, 30)))
    assert "2 of 2 sessions outside" in _factor(late, "slot").note


def test_busy_time_overlapping_a_session_rejects() -> None:
    third = SESSIONS[2]
    clash = (third + timedelta(minutes=59), third + timedelta(hours=3))  # overlaps its last minute
    [scored] = _score([_trainer(busy=(clash,))])
    assert _factor(scored, "slot").note == (
        "1 of 8 sessions clash with bookings or time off (first: Sun 18 Oct 2026 18:00 Europe/London)"
    )
    touching = (third + timedelta(minutes=60), third + timedelta(hours=3))  # [start, end): no clash
    assert _score([_trainer(busy=(touching,))])[0].qualified


def test_thirty_assignments_spread_ten_each_over_three_equal_trainers() -> None:
    pool = {i: _trainer(i, active_students=0, capacity=15) for i in (1, 2, 3)}
    for _ in range(30):
        chosen = best(_score(list(pool.values())), 0.0)
        assert chosen is not None
        picked = pool[chosen.trainer_id]
        pool[chosen.trainer_id] = replace(picked, active_students=picked.active_students + 1)
    assert Counter({i: c.active_students for i, c in pool.items()}) == Counter(
        {1: 10, 2: 10, 3: 10}
    )


def test_ties_are_broken_by_fewer_students_then_lower_id() -> None:
    same = [_trainer(i) for i in (3, 1, 2)]
    assert [s.trainer_id for s in _score(same)] == [1, 2, 3]
    assert [s.trainer_id for s in _score(list(reversed(same)))] == [1, 2, 3]
    # With load weighted out, totals tie and the lighter trainer still goes first.
    slot_only = Weights(load=0.0, slot_fit=1.0, distance=0.0)
    ranked = _score(
        [_trainer(1, active_students=5), _trainer(2, active_students=1)], weights=slot_only
    )
    assert ranked[0].total == ranked[1].total and [s.trainer_id for s in ranked] == [2, 1]


def test_unqualified_trainers_come_last_by_id() -> None:
    pool = [_trainer(5, online=False), _trainer(4), _trainer(2, active_students=10), _trainer(9)]
    assert [(s.trainer_id, s.qualified) for s in _score(pool)] == [
        (4, True),
        (9, True),
        (2, False),
        (5, False),
    ]


def test_totals_stay_between_zero_and_one() -> None:
    pool = [
        _trainer(1, active_students=0, location=CENTRE),
        _trainer(2, active_students=9, location=_north(14.99)),
        _trainer(3, weekly=(WeeklySlot(7, time(18, 0), time(19, 0)),)),  # flush: slot fit 0
        _trainer(4, active_students=10),
    ]
    for weights in (Weights(), Weights(1, 0, 0), Weights(0, 0, 1), Weights(3, 2, 1)):
        for scored in _score(pool, _request(**IN_PERSON), weights=weights):
            assert 0.0 <= scored.total <= 1.0
            assert all(0.0 <= f.score <= 1.0 for f in scored.factors)
    flush = _score([pool[2]], _request(**IN_PERSON))[0]
    assert _factor(flush, "slot_fit", hard=False).score == 0.0
    perfect = _score([pool[0]], _request(**IN_PERSON), weights=Weights(1, 1, 1))[0]
    assert perfect.total == 1.0  # idle, centred, on the doorstep


def test_weights_change_the_winner() -> None:
    close_busy = _trainer(1, location=_north(2), active_students=8)
    far_light = _trainer(2, location=_north(12), active_students=1)
    request = _request(**IN_PERSON)
    by_distance = Weights(load=0.1, slot_fit=0.0, distance=0.9)
    by_load = Weights(load=0.9, slot_fit=0.0, distance=0.1)
    assert best(_score([close_busy, far_light], request, weights=by_distance), 0.0).trainer_id == 1  # type: ignore[union-attr]
    assert best(_score([close_busy, far_light], request, weights=by_load), 0.0).trainer_id == 2  # type: ignore[union-attr]
    note = _factor(_score([far_light], request)[0], "closeness", hard=False).note
    assert note == "near the limit: 12 of 15 km"


def test_best_respects_the_minimum_score() -> None:
    ranked = _score([_trainer(1, active_students=9)])  # 0.5 * 0.1 + 0.3 + 0.2 = 0.55
    assert ranked[0].total == pytest.approx(0.55)
    assert best(ranked, 0.55) is ranked[0]
    assert best(ranked, 0.6) is None
    assert best([], 0.0) is None


def test_bad_inputs_are_refused() -> None:
    with pytest.raises(ValueError, match="weights"):
        Weights(0, 0, 0)
    with pytest.raises(ValueError, match="slot"):
        WeeklySlot(7, time(20, 0), time(18, 0))
    with pytest.raises(ValueError, match="mode"):
        _request(mode="carrier pigeon")
    with pytest.raises(ValueError, match="aware"):
        _score([_trainer()], sessions=[datetime(2026, 10, 4, 17, 0)])  # noqa: DTZ001
    assert haversine_km(CENTRE, _north(10)) == pytest.approx(10.0, abs=0.01)
