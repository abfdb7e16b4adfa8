"""Sessions a trainer's time off left without a trainer get a substitute at the same time.

For each session awaiting a trainer, the other trainers are scored as for a new package, but
for that one session: the same hard filters (specialty, the hour in their window and free,
capacity, mode and distance, the student's gender preference) and the same weights. The best
one takes it under their row lock (free hours checked again); a session nobody can take
stays awaiting a trainer, on the admin's allocation page."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import aliased

from app.accounts.models import User
from app.catalog.models import Course
from app.core.db import lock, lock_if
from app.core.errors import DomainError
from app.extensions import db
from app.tutoring.assignment import load_candidates, request_for, trainer_is_free, weights
from app.tutoring.models import SessionStatus, Trainer, TutoringPurchase, TutoringSession
from app.tutoring.purchases import stored_choice
from app.tutoring.scoring import score_candidates

log = logging.getLogger(__name__)


def find_substitute(session_id: int) -> Trainer | None:
    """Give the session awaiting a trainer to the best other trainer free at its time; that
    trainer, or None when nobody can take it (or it no longer waits)."""
    session = lock(TutoringSession, session_id)
    if session.status is not SessionStatus.PENDING_REASSIGNMENT:
        return None
    purchase = db.session.get(TutoringPurchase, session.purchase_id)
    assert purchase is not None  # the session's foreign key
    choice = stored_choice(purchase)
    away = frozenset({session.trainer_id}) if session.trainer_id is not None else frozenset()
    candidates = load_candidates(choice, away)
    request = request_for(purchase.course_id, choice)
    scored = score_candidates(request, candidates, lambda _: [session.starts_at], weights())

    def free(trainer: Trainer) -> bool:
        return trainer.accepting and trainer_is_free(
            trainer.id, [session.starts_at], session.duration_min
        )

    for pick in (s for s in scored if s.qualified):  # best first
        trainer = lock_if(Trainer, pick.trainer_id, free)
        if trainer is not None:
            session.trainer_id = trainer.id
            session.status = SessionStatus.SCHEDULED
            session.note = "Taught by a substitute while the trainer is away."
            db.session.flush()
            log.info("event=tutoring_substitute session=%s trainer=%s", session.id, trainer.id)
            return trainer
    return None


def find_substitutes(session_ids: Sequence[int]) -> dict[int, int]:
    """Substitutes for each of these sessions that still waits: session id -> trainer id."""
    found: dict[int, int] = {}
    for session_id in sorted(session_ids):  # a fixed order: two runs lock rows alike
        trainer = find_substitute(session_id)
        if trainer is not None:
            found[session_id] = trainer.id
    return found


@dataclass(frozen=True)
class WaitingSession:
    session_id: int
    starts_at: datetime
    number: int
    tier: int
    student: str
    course: str
    away: str  # the trainer it was booked with


def waiting_sessions(limit: int = 50) -> list[WaitingSession]:
    """Sessions still awaiting a trainer, soonest first (one query)."""
    away = aliased(User)
    rows = db.session.execute(
        select(
            TutoringSession.id,
            TutoringSession.starts_at,
            TutoringSession.number,
            TutoringPurchase.tier,
            User.name,
            Course.title,
            away.name,
        )
        .join(TutoringPurchase, TutoringPurchase.id == TutoringSession.purchase_id)
        .join(User, User.id == TutoringSession.student_id)
        .join(Course, Course.id == TutoringPurchase.course_id)
        .outerjoin(Trainer, Trainer.id == TutoringSession.trainer_id)
        .outerjoin(away, away.id == Trainer.user_id)
        .where(TutoringSession.status == SessionStatus.PENDING_REASSIGNMENT)
        .order_by(TutoringSession.starts_at)
        .limit(limit)
    ).all()
    return [WaitingSession(*row[:6], row[6] or "—") for row in rows]


class NoSubstitute(DomainError):
    code = "no_substitute"
    status = 409
