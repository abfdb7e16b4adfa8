"""A student cancels or moves a session: in time the credit comes back as a session at the
end; inside 24 hours the session stands; progress counts sessions attended of those bought."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.core.models import utcnow
from app.tutoring.assignment import auto_assign
from app.tutoring.changes import SessionChangeRefused, cancel_session, reschedule_session
from app.tutoring.models import SessionStatus, TutoringPurchase, TutoringSession
from app.tutoring.purchases import progress
from tests.tutoring.conftest import trainer, tutoring_course
from tests.tutoring.test_assignment import EVERY_DAY, _purchase


def _sessions(session: Session, purchase_id: int) -> list[TutoringSession]:
    return list(
        session.scalars(
            select(TutoringSession)
            .where(TutoringSession.purchase_id == purchase_id)
            .order_by(TutoringSession.starts_at)
        )
    )


def _package(db_session: Session) -> tuple[TutoringPurchase, list[TutoringSession]]:
    course, category = tutoring_course()
    trainer([category.slug], slots=EVERY_DAY)
    purchase_id = _purchase(course.id, 1, weekday=2, hour=10)
    auto_assign(purchase_id)
    purchase = db_session.get(TutoringPurchase, purchase_id)
    assert purchase is not None
    return purchase, _sessions(db_session, purchase_id)


def test_canceling_in_time_adds_the_session_at_the_end(db_session: Session) -> None:
    purchase, sessions = _package(db_session)
    replacement = cancel_session(sessions[3].id, purchase.user_id)
    assert sessions[3].status is SessionStatus.CANCELED
    after = [s for s in _sessions(db_session, purchase.id) if s.status is SessionStatus.SCHEDULED]
    assert len(after) == 10  # the credit came back
    assert replacement.starts_at == sessions[-1].starts_at + timedelta(weeks=1)
    assert replacement.number == 11 and replacement.trainer_id == sessions[0].trainer_id


def test_inside_24_hours_the_session_stands_and_others_cannot_touch_it(
    db_session: Session,
) -> None:
    purchase, sessions = _package(db_session)
    first = sessions[0]
    first.starts_at = utcnow() + timedelta(hours=23)
    db_session.flush()
    with pytest.raises(SessionChangeRefused) as err:
        cancel_session(first.id, purchase.user_id)
    assert "24 hours" in err.value.message and first.status is SessionStatus.SCHEDULED
    with pytest.raises(Exception) as other:
        cancel_session(sessions[1].id, purchase.user_id + 999)
    assert getattr(other.value, "status", None) == 404


def test_moving_a_session_respects_the_trainers_window_and_other_sessions(
    db_session: Session,
) -> None:
    purchase, sessions = _package(db_session)
    target = sessions[2]
    later = target.starts_at + timedelta(hours=2)
    assert reschedule_session(target.id, purchase.user_id, later).starts_at == later
    with pytest.raises(SessionChangeRefused, match="does not teach"):
        reschedule_session(target.id, purchase.user_id, later.replace(hour=3))
    with pytest.raises(SessionChangeRefused, match="busy"):
        reschedule_session(target.id, purchase.user_id, sessions[3].starts_at)


def test_progress_is_sessions_attended_of_sessions_bought(db_session: Session) -> None:
    course, category = tutoring_course()
    trainer([category.slug], slots=EVERY_DAY)
    purchase_id = _purchase(course.id, 1, weekday=2, hour=10, tier=20)
    auto_assign(purchase_id)
    purchase = db_session.get(TutoringPurchase, purchase_id)
    assert purchase is not None
    sessions = _sessions(db_session, purchase_id)
    assert len(sessions) == 20
    for s in sessions[:5]:
        s.status = SessionStatus.DONE
    sessions[5].status = SessionStatus.NO_SHOW  # missed: not attended
    db_session.flush()
    p = progress(purchase)
    assert (p.attended, p.bought, p.percent) == (5, 20, 25)


def test_the_last_session_held_completes_the_package_and_frees_the_trainers_place(
    db_session: Session,
) -> None:
    from app.tutoring.lifecycle import finish_if_used_up
    from app.tutoring.models import Trainer

    purchase, sessions = _package(db_session)
    trainer_row = db_session.get(Trainer, sessions[0].trainer_id)
    assert trainer_row is not None and trainer_row.active_students == 1
    for s in sessions[:-1]:
        s.status = SessionStatus.DONE
    db_session.flush()
    assert finish_if_used_up(purchase.id) is False  # one still to come
    sessions[-1].status = SessionStatus.NO_SHOW
    db_session.flush()
    assert finish_if_used_up(purchase.id) is True
    assert finish_if_used_up(purchase.id) is False  # once
    db_session.refresh(trainer_row)
    db_session.refresh(purchase)
    assert trainer_row.active_students == 0 and not purchase.active
    assert progress(purchase).attended == 9
