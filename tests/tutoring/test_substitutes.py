"""A trainer's time off: the sessions it covers wait for a trainer, then a substitute free at
the same hour takes each one (under its lock); a session nobody can take keeps waiting."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.accounts.models import AuditEntry, Role
from app.core.models import utcnow
from app.notifications.models import Notification, NotificationKind
from app.tutoring.assignment import auto_assign
from app.tutoring.models import SessionStatus, Trainer, TutoringSession
from app.tutoring.trainer_desk import add_time_off
from tests.admin.conftest import client_as
from tests.payments.conftest import run_jobs
from tests.tutoring.conftest import trainer, tutoring_course
from tests.tutoring.test_assignment import EVERY_DAY, _purchase

LONDON = ZoneInfo("Europe/London")


def _local(instant_utc, hours: int = 0) -> str:  # type: ignore[no-untyped-def]
    return (instant_utc + timedelta(hours=hours)).astimezone(LONDON).strftime("%Y-%m-%dT%H:%M")


def test_time_off_hands_its_sessions_to_a_free_substitute_at_the_same_hour(
    db_session: Session,
) -> None:
    course, category = tutoring_course()
    away = trainer([category.slug], name="Away Ada", slots=EVERY_DAY)
    allocation = auto_assign(_purchase(course.id, 1, weekday=3, hour=10))
    assert allocation.trainer_id == away.id
    sub = trainer([category.slug], name="Sub Sam", slots=EVERY_DAY, active=2)
    trainer(["painting"], name="Wrong Wes", slots=EVERY_DAY)
    sessions = db_session.scalars(select(TutoringSession).order_by(TutoringSession.number)).all()
    covered = sessions[1]
    added = add_time_off(
        away, _local(covered.starts_at, -1), _local(covered.starts_at, 3), "conference", utcnow()
    )
    assert added.moved == [covered.id]
    assert covered.status is SessionStatus.PENDING_REASSIGNMENT
    db_session.commit()  # a savepoint: the jobs below run after "the commit"

    run_jobs()  # the notices, then the substitute search it queued
    db_session.expire_all()
    taken = db_session.get(TutoringSession, covered.id)
    assert taken is not None
    assert (taken.status, taken.trainer_id) == (SessionStatus.SCHEDULED, sub.id)
    assert taken.starts_at == covered.starts_at  # the same hour
    others = [db_session.get(TutoringSession, s.id) for s in sessions if s.id != covered.id]
    assert {s.trainer_id for s in others if s} == {away.id}
    told = db_session.scalars(
        select(Notification.user_id).where(
            Notification.kind == NotificationKind.SUBSTITUTE_ASSIGNED.value
        )
    ).all()
    assert sorted(told) == sorted([covered.student_id, sub.user_id])


def test_a_session_nobody_can_take_keeps_waiting(db_session: Session) -> None:
    course, category = tutoring_course()
    away = trainer([category.slug], name="Only Olu", slots=EVERY_DAY)
    auto_assign(_purchase(course.id, 1, weekday=3, hour=10))
    first = db_session.scalars(select(TutoringSession).order_by(TutoringSession.number)).first()
    assert first is not None
    add_time_off(away, _local(first.starts_at, -1), _local(first.starts_at, 2), "", utcnow())
    db_session.commit()
    run_jobs()
    db_session.expire_all()
    still = db_session.get(TutoringSession, first.id)
    assert still is not None and still.status is SessionStatus.PENDING_REASSIGNMENT
    assert db_session.get(Trainer, away.id).active_students == 1  # type: ignore[union-attr]


def test_the_console_lists_waiting_sessions_and_finds_a_substitute_when_one_is_free(
    app: Flask, db_session: Session
) -> None:
    admin_client, _ = client_as(app, Role.ADMIN)
    course, category = tutoring_course()
    away = trainer([category.slug], name="Only Olu", slots=EVERY_DAY)
    auto_assign(_purchase(course.id, 1, weekday=3, hour=10))
    first = db_session.scalars(select(TutoringSession).order_by(TutoringSession.number)).first()
    assert first is not None
    add_time_off(away, _local(first.starts_at, -1), _local(first.starts_at, 2), "", utcnow())
    db_session.flush()
    page = admin_client.get("/admin/allocations")
    assert "Sessions awaiting a trainer" in page.text and "Find a substitute" in page.text
    path = f"/admin/sessions/{first.id}/substitute"
    shown = admin_client.post(path, data={})
    assert shown.status_code == 200 and "Only Olu" in shown.text  # the confirmation first
    refused = admin_client.post(path, data={"confirmed": "yes"}, follow_redirects=True)
    assert "Nobody is free at that hour yet" in refused.text
    helper = trainer([category.slug], name="Help Hana", slots=EVERY_DAY)
    done = admin_client.post(path, data={"confirmed": "yes"}, follow_redirects=True)
    assert "The session has a substitute." in done.text
    db_session.expire_all()
    taken = db_session.get(TutoringSession, first.id)
    assert taken is not None and taken.trainer_id == helper.id
    assert admin_client.post(path, data={"confirmed": "yes"}).status_code == 404
    entries = db_session.scalars(
        select(AuditEntry.action).where(AuditEntry.action == "session.substitute")
    ).all()
    assert entries == ["session.substitute"]
