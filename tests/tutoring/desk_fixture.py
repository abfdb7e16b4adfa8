"""A trainer's desk with something on it, for the desk's tests, the browser tests and the HTMX
walk: a New York trainer teaching a London student's 10 Monday sessions, assigned for real."""

from __future__ import annotations

from datetime import time, timedelta

from sqlalchemy import select

from app.core.models import utcnow
from app.extensions import db
from app.tutoring.assignment import auto_assign
from app.tutoring.models import (
    PurchaseSource,
    Trainer,
    TrainerTimeOff,
    TutoringPurchase,
    TutoringSession,
)
from app.tutoring.purchases import PurchaseRequest, create_purchase, parse_choice
from tests.factories import make_user
from tests.tutoring.conftest import next_weekday, trainer, tutoring_course

NEW_YORK = "America/New_York"
EVERY_DAY = tuple((d, time(6, 0), time(22, 0)) for d in range(1, 8))


def assigned_purchase(course_id: int, student_name: str = "Priya Student") -> TutoringPurchase:
    """A London student's 10 Monday sessions at 15:00 their time, assigned for real."""
    student = make_user(name=student_name)
    raw = {
        "timeSlot": "15:00",
        "date": next_weekday(utcnow().date(), 1).isoformat(),
        "isSundayOnly": False,
        "weekdays": [1],
        "sessionDuration": 60,
    }
    purchase, _ = create_purchase(
        PurchaseRequest(
            key=f"admin:desk-{student.id}",
            user_id=student.id,
            course_id=course_id,
            tier=10,
            choice=parse_choice(raw, "Europe/London", utcnow().date()),
            source=PurchaseSource.ADMIN,
        )
    )
    auto_assign(purchase.id)
    return purchase


def sessions_of(purchase_id: int) -> list[TutoringSession]:
    return list(
        db.session.scalars(
            select(TutoringSession)
            .where(TutoringSession.purchase_id == purchase_id)
            .order_by(TutoringSession.number)
        )
    )


def started_desk(
    name: str = "Dee Desk", student: str = "Sol Student", *, time_off: bool = False
) -> tuple[Trainer, list[int]]:
    """The trainer and their session ids, the first two started an hour or more ago (so they
    wait to be marked); with `time_off`, a day off far ahead (the time-off page lists it)."""
    course, category = tutoring_course(f"{name} Tutoring")
    teacher = trainer([category.slug], name=name, timezone=NEW_YORK, slots=EVERY_DAY)
    sessions = sessions_of(assigned_purchase(course.id, student).id)
    for n, session in enumerate(sessions[:2]):
        session.starts_at = utcnow() - timedelta(hours=3 - n)
    if time_off:
        start = utcnow() + timedelta(days=300)
        db.session.add(
            TrainerTimeOff(
                trainer_id=teacher.id, starts_at=start, ends_at=start + timedelta(days=1)
            )
        )
    db.session.flush()
    return teacher, [s.id for s in sessions]
