"""Assigning a trainer to a purchase: load the candidates (a fixed number of queries), score
them (app.tutoring.scoring), take the best under its row lock, and generate the package's
sessions around that trainer's time off and other sessions.

Concurrency: the purchase row is locked first (two runs for one purchase take turns, and the
second finds it allocated), then the chosen trainer's row. Under that lock the trainer's free
place and free time are checked again against the database, so two purchases racing for a
trainer's last place or the same hour never both get it; the loser is scored again without
that trainer. The CHECK on trainers.active_students is the last line of defence."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, time, timedelta
from functools import partial

from flask import current_app
from sqlalchemy import func, select

from app.accounts.models import User
from app.catalog.models import Category, Course
from app.core.db import lock, lock_if
from app.extensions import db
from app.tutoring.areas import area
from app.tutoring.models import (
    AllocationStatus,
    SessionStatus,
    Trainer,
    TrainerAllocation,
    TrainerSlot,
    TrainerTimeOff,
    TutoringPurchase,
    TutoringSession,
)
from app.tutoring.purchases import PackageChoice, stored_choice
from app.tutoring.schedule import HORIZON, Interval, overlaps, session_starts
from app.tutoring.scoring import (
    Candidate,
    Request,
    Scored,
    WeeklySlot,
    Weights,
    best,
    score_candidates,
)

log = logging.getLogger(__name__)
ATTEMPTS = 5  # rescoring after losing a race; more would mean something else is wrong


def weights() -> Weights:
    return Weights(**current_app.config["TUTORING_WEIGHTS"])


def specialty_of(course_id: int) -> str:
    """A tutoring course's specialty: its category's slug (else its own slug)."""
    row = db.session.execute(
        select(Category.slug, Course.slug)
        .select_from(Course)
        .outerjoin(Category, Category.id == Course.category_id)
        .where(Course.id == course_id)
    ).one()
    return str(row[0] or row[1])


def request_for(course_id: int, choice: PackageChoice) -> Request:
    """What a trainer must offer for this course and these choices."""
    place = area(choice.area)
    return Request(
        specialty=specialty_of(course_id),
        mode=choice.mode.value,
        location=(place.latitude, place.longitude) if place else None,
        gender_preference=choice.gender_preference,
        duration=choice.schedule.duration,
    )


def busy_intervals(
    trainer_ids: Sequence[int], start: datetime, end: datetime
) -> dict[int, list[Interval]]:
    """Each trainer's time off and open sessions between start and end (two queries)."""
    busy: dict[int, list[Interval]] = defaultdict(list)
    off = select(TrainerTimeOff.trainer_id, TrainerTimeOff.starts_at, TrainerTimeOff.ends_at).where(
        TrainerTimeOff.trainer_id.in_(trainer_ids),
        TrainerTimeOff.ends_at > start,
        TrainerTimeOff.starts_at < end,
    )
    for trainer_id, starts, ends in db.session.execute(off):
        busy[trainer_id].append((starts, ends))
    sessions = select(
        TutoringSession.trainer_id, TutoringSession.starts_at, TutoringSession.duration_min
    ).where(
        TutoringSession.trainer_id.in_(trainer_ids),
        TutoringSession.status.in_(SessionStatus.OPEN),  # type: ignore[attr-defined]
        TutoringSession.starts_at < end,
        TutoringSession.starts_at > start - timedelta(hours=2),
    )
    for teacher, starts, minutes in db.session.execute(sessions):
        if teacher is not None:  # filtered by the query; narrows the type
            busy[teacher].append((starts, starts + timedelta(minutes=minutes)))
    return busy


def load_candidates(
    choice: PackageChoice, exclude: frozenset[int] = frozenset()
) -> list[Candidate]:
    """Every accepting trainer as a scoring candidate, with their weekly slots and their busy
    time over the package's horizon (four queries, however many trainers)."""
    rows = db.session.execute(
        select(Trainer, User.name)
        .join(User, User.id == Trainer.user_id)
        .where(Trainer.accepting.is_(True), User.active.is_(True), Trainer.id.not_in(exclude))
        .order_by(Trainer.id)
    ).all()
    ids = [t.id for t, _ in rows]
    slots: dict[int, list[WeeklySlot]] = defaultdict(list)
    for slot in db.session.scalars(select(TrainerSlot).where(TrainerSlot.trainer_id.in_(ids))):
        slots[slot.trainer_id].append(WeeklySlot(slot.weekday, slot.starts, slot.ends))
    start = datetime.combine(choice.schedule.start_date, time.min, UTC)
    busy = busy_intervals(ids, start - timedelta(days=1), start + HORIZON)
    return [
        Candidate(
            trainer_id=t.id,
            name=name,
            specialties=frozenset(s.lower() for s in t.specialties),
            gender=t.gender,
            capacity=t.capacity,
            active_students=t.active_students,
            timezone=t.timezone,
            weekly=tuple(slots[t.id]),
            busy=tuple(busy[t.id]),
            online=t.online,
            in_person=t.in_person,
            location=_location(t),
            max_distance_km=t.max_distance_km,
        )
        for t, name in rows
    ]


def _location(trainer: Trainer) -> tuple[float, float] | None:
    if trainer.latitude is None or trainer.longitude is None:
        return None
    return (trainer.latitude, trainer.longitude)


def plan_sessions(choice: PackageChoice, tier: int, candidate: Candidate) -> list[datetime]:
    """The package's session starts with this trainer: the schedule's days, skipping their
    time off and other sessions ([] when they cannot all be placed)."""
    return session_starts(choice.schedule, tier, blocked=candidate.busy)


def _snapshot(scored: Sequence[Scored]) -> list[dict[str, object]]:
    return [
        {
            "trainer_id": s.trainer_id,
            "name": s.name,
            "qualified": s.qualified,
            "total": s.total,
            "factors": [asdict(f) for f in s.factors],
        }
        for s in scored
    ]


def current_allocation(purchase_id: int) -> TrainerAllocation | None:
    """The approved allocation, else the newest pending one."""
    rows = db.session.scalars(
        select(TrainerAllocation)
        .where(
            TrainerAllocation.purchase_id == purchase_id,
            TrainerAllocation.status != AllocationStatus.REJECTED,
        )
        .order_by(TrainerAllocation.status == AllocationStatus.APPROVED, TrainerAllocation.id)
    ).all()
    return rows[-1] if rows else None


def trainer_is_free(trainer_id: int, starts: Sequence[datetime], minutes: int) -> bool:
    """Under the trainer's lock: none of these starts overlaps their time off or sessions."""
    if not starts:
        return False
    busy = busy_intervals(
        [trainer_id], min(starts) - timedelta(hours=2), max(starts) + timedelta(hours=2)
    )
    length = timedelta(minutes=minutes)
    return not any(overlaps(s, s + length, busy[trainer_id]) for s in starts)


def _can_take(starts: Sequence[datetime], minutes: int, trainer: Trainer) -> bool:
    """Under the trainer's lock: accepting, with a place, and free at every start."""
    return (
        trainer.accepting
        and trainer.active_students < trainer.capacity
        and trainer_is_free(trainer.id, starts, minutes)
    )


def auto_assign(purchase_id: int) -> TrainerAllocation:
    """Allocate the best trainer (approved, with sessions) or leave a pending allocation for
    an admin, with every candidate's scores either way. Idempotent: an allocated purchase
    returns its allocation."""
    # A lock held elsewhere (a long migration, a stuck transaction) fails this attempt after a
    # few seconds instead of holding a worker: the job's 2/4/8 s retries try again.
    timeout = int(current_app.config["TUTORING_LOCK_TIMEOUT_MS"])
    db.session.execute(select(func.set_config("lock_timeout", f"{timeout}ms", True)))
    purchase = lock(TutoringPurchase, purchase_id)
    existing = current_allocation(purchase_id)
    if existing is not None and existing.status is AllocationStatus.APPROVED:
        return existing
    choice = stored_choice(purchase)
    request = request_for(purchase.course_id, choice)
    minimum = float(current_app.config["TUTORING_MIN_SCORE"])
    lost: set[int] = set()
    scored: list[Scored] = []
    for _ in range(ATTEMPTS):
        candidates = load_candidates(choice, frozenset(lost))
        by_id = {c.trainer_id: c for c in candidates}
        scored = score_candidates(
            request, candidates, lambda c: plan_sessions(choice, purchase.tier, c), weights()
        )
        pick = best(scored, minimum)
        if pick is None:
            break
        starts = plan_sessions(choice, purchase.tier, by_id[pick.trainer_id])
        minutes = int(choice.schedule.duration.total_seconds() // 60)
        trainer = lock_if(Trainer, pick.trainer_id, partial(_can_take, starts, minutes))
        if trainer is not None:
            return approve_with(purchase, trainer, Plan(starts, pick, scored), existing)
        log.info(
            "event=tutoring_trainer_taken purchase=%s trainer=%s", purchase.id, pick.trainer_id
        )
        lost.add(pick.trainer_id)
    return _pending(purchase, scored, existing, minimum)


def _pending(
    purchase: TutoringPurchase,
    scored: Sequence[Scored],
    existing: TrainerAllocation | None,
    minimum: float,
) -> TrainerAllocation:
    top = next((s for s in scored if s.qualified), None)
    if top is None:
        note = "No trainer passes every filter: choose one by hand or ask the student."
    else:
        note = (
            f"Best score {top.total:.2f} is under {minimum:.2f}: "
            f"confirm {top.name} or pick another."
        )
    allocation = existing or TrainerAllocation(purchase_id=purchase.id)
    allocation.status = AllocationStatus.PENDING
    allocation.trainer_id = top.trainer_id if top else None  # the suggestion, if any
    allocation.score = top.total if top else None
    allocation.reasons = top.reasons() if top else []
    allocation.candidates = _snapshot(scored)
    allocation.note = note
    db.session.add(allocation)
    db.session.flush()
    log.info("event=tutoring_allocation_pending purchase=%s", purchase.id)
    return allocation


@dataclass(frozen=True)
class Plan:
    """An approval: the session starts with this trainer, and how the trainer was chosen."""

    starts: Sequence[datetime]
    pick: Scored | None = None  # None: an admin's choice
    scored: Sequence[Scored] = ()
    decided_by: int | None = None  # the admin, None when automatic


def approve_with(
    purchase: TutoringPurchase,
    trainer: Trainer,
    plan: Plan,
    existing: TrainerAllocation | None,
) -> TrainerAllocation:
    """Approve `trainer` (row locked by the caller) for the purchase and write its sessions."""
    allocation = existing or TrainerAllocation(purchase_id=purchase.id)
    allocation.status = AllocationStatus.APPROVED
    allocation.trainer_id = trainer.id
    pick = plan.pick
    allocation.score = pick.total if pick else None
    allocation.reasons = pick.reasons() if pick else ["Chosen by an admin."]
    allocation.candidates = _snapshot(plan.scored) or allocation.candidates
    allocation.decided_by_id = plan.decided_by
    allocation.note = "" if plan.decided_by is None else "Allocated by an admin."
    db.session.add(allocation)
    trainer.active_students += 1
    minutes = int(stored_choice(purchase).schedule.duration.total_seconds() // 60)
    db.session.add_all(
        TutoringSession(
            purchase_id=purchase.id,
            trainer_id=trainer.id,
            student_id=purchase.user_id,
            number=number,
            starts_at=start,
            duration_min=minutes,
            status=SessionStatus.SCHEDULED,
        )
        for number, start in enumerate(plan.starts, start=1)
    )
    db.session.flush()
    log.info(
        "event=tutoring_trainer_assigned purchase=%s trainer=%s score=%s sessions=%d",
        purchase.id, trainer.id, allocation.score, len(plan.starts),
    )  # fmt: skip
    return allocation
