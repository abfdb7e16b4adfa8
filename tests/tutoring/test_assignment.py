"""Automatic assignment: load spreads evenly over equal trainers, preferences and distance
limits hold, and 30 assignments racing for 12 places never overfill a trainer."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, time, timedelta
from typing import Any

from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.core.models import utcnow
from app.core.unit import committing
from app.extensions import db
from app.tutoring.assignment import auto_assign
from app.tutoring.models import (
    AllocationStatus,
    PurchaseSource,
    Trainer,
    TrainerAllocation,
    TrainerTimeOff,
    TutoringSession,
)
from app.tutoring.purchases import PurchaseRequest, create_purchase, parse_choice
from tests.factories import make_user
from tests.tutoring.conftest import next_weekday, trainer, tutoring_course

EVERY_DAY = tuple((d, time(6, 0), time(22, 0)) for d in range(1, 8))
LONDON = "Europe/London"


def _purchase(
    course_id: int, n: int, weekday: int, hour: int, tier: int = 10, **choice: Any
) -> int:
    """An admin-made 10-session purchase on one weekday at `hour` (no job: the test assigns)."""
    raw = {
        "timeSlot": f"{hour:02d}:00",
        "date": next_weekday(utcnow().date(), 1).isoformat(),
        "isSundayOnly": weekday == 7,
        "weekdays": [weekday],
        "sessionDuration": 45,
        **choice,
    }
    purchase, _ = create_purchase(
        PurchaseRequest(
            key=f"admin:test-{n}",
            user_id=make_user().id,
            course_id=course_id,
            tier=tier,
            choice=parse_choice(raw, LONDON, utcnow().date()),
            source=PurchaseSource.ADMIN,
        )
    )
    return purchase.id


def _approved_per_trainer(session: Session) -> dict[int, int]:
    rows = session.execute(
        select(TrainerAllocation.trainer_id, func.count())
        .where(TrainerAllocation.status == AllocationStatus.APPROVED)
        .group_by(TrainerAllocation.trainer_id)
    ).all()
    return {int(t): int(n) for t, n in rows if t is not None}


def test_thirty_purchases_spread_ten_each_over_three_equal_trainers(db_session: Session) -> None:
    course, category = tutoring_course()
    trainers = [trainer([category.slug], slots=EVERY_DAY, capacity=12) for _ in range(3)]
    # Three students for each of ten hours: each hour's three must go to three trainers.
    for n in range(30):
        auto_assign(_purchase(course.id, n, weekday=2, hour=8 + n % 10))
    counts = _approved_per_trainer(db_session)
    assert sorted(counts) == sorted(t.id for t in trainers)
    assert all(9 <= c <= 11 for c in counts.values()), counts
    for t in trainers:
        db_session.refresh(t)
        assert t.active_students == counts[t.id]


def test_a_gender_preference_is_honoured_and_an_in_person_trainer_too_far_is_never_chosen(
    db_session: Session,
) -> None:
    course, category = tutoring_course()
    male = trainer([category.slug], slots=EVERY_DAY, gender="male")
    female = trainer([category.slug], slots=EVERY_DAY, gender="female", active=5)
    chosen = auto_assign(_purchase(course.id, 1, 3, 10, genderPreference="female"))
    assert chosen.trainer_id == female.id  # busier, but the only one honouring the preference
    assert auto_assign(_purchase(course.id, 2, 3, 12)).trainer_id == male.id  # no preference

    # In person in Bandra (Mumbai): a Pune trainer (~120 km) is never chosen, a Powai one is.
    pune = trainer([category.slug], slots=EVERY_DAY, in_person=True, online=False,
                   latitude=18.5074, longitude=73.8077, max_distance_km=30.0)  # fmt: skip
    in_person = {"mode": "in_person", "area": "mumbai-bandra"}
    far = auto_assign(_purchase(course.id, 3, 4, 10, **in_person))
    assert far.status is AllocationStatus.PENDING and far.trainer_id is None
    pune_row = next(c for c in far.candidates if c["trainer_id"] == pune.id)
    assert any("too far" in f["note"] for f in pune_row["factors"])
    powai = trainer([category.slug], slots=EVERY_DAY, in_person=True, online=False,
                    latitude=19.1176, longitude=72.9060)  # fmt: skip
    near = auto_assign(_purchase(course.id, 4, 4, 12, **in_person))
    assert near.trainer_id == powai.id


def test_a_trainers_time_off_is_skipped_when_sessions_are_generated(db_session: Session) -> None:
    course, category = tutoring_course()
    only = trainer([category.slug], slots=EVERY_DAY)
    first_monday = next_weekday(utcnow().date(), 1)
    off = datetime.combine(first_monday + timedelta(weeks=1), time.min, UTC)
    db.session.add(
        TrainerTimeOff(trainer_id=only.id, starts_at=off, ends_at=off + timedelta(days=1))
    )
    db.session.flush()
    auto_assign(_purchase(course.id, 1, 1, 9))
    mondays = sorted(
        s.starts_at.date()
        for s in db_session.scalars(
            select(TutoringSession).where(TutoringSession.trainer_id == only.id)
        )
    )
    assert len(mondays) == 10
    assert first_monday + timedelta(weeks=1) not in mondays  # the day off
    assert mondays[-1] == first_monday + timedelta(weeks=10)


def _assign_all(app: Flask, purchase_ids: list[int]) -> list[str]:
    results: list[str] = []
    barrier = threading.Barrier(len(purchase_ids))

    def run(purchase_id: int) -> None:
        with app.app_context():
            barrier.wait()
            try:
                with committing():
                    results.append(auto_assign(purchase_id).status.value)
            except Exception as err:
                results.append(f"error: {err!r}")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(pid,)) for pid in purchase_ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_thirty_concurrent_assignments_never_overfill_a_trainer_or_double_book_an_hour(
    live_app: Flask, committed: Any
) -> None:
    course, category = tutoring_course()
    trainers = [trainer([category.slug], slots=EVERY_DAY, capacity=4) for _ in range(3)]
    # Two students per hour on one weekday: a trainer can take at most one of each pair.
    ids = [_purchase(course.id, n, weekday=5, hour=7 + n // 2) for n in range(30)]
    committed.commit()

    results = _assign_all(live_app, ids)
    assert not [r for r in results if r.startswith("error")], results
    assert results.count("approved") == 12 and results.count("pending") == 18
    committed.expire_all()
    for t in trainers:
        row = committed.get(Trainer, t.id)
        assert row.active_students == 4
        starts = list(
            committed.scalars(
                select(TutoringSession.starts_at).where(TutoringSession.trainer_id == t.id)
            )
        )
        assert len(starts) == len(set(starts)) == 40  # 4 students x 10, never two at once
    assert _approved_per_trainer(committed) == {t.id: 4 for t in trainers}
