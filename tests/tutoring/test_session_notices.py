"""Session notices: reminders 24 h and 1 h before, once each to the student and the trainer
(never for a canceled session, only the 1 h one when the 24 h window was missed, in bounded
queries), and a student's move or cancel told to the trainer and confirmed to the student on
each one's clock, with the changed sessions as an .ics."""

from __future__ import annotations

from datetime import datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.core.models import utcnow
from app.extensions import db
from app.notifications.models import Notification, NotificationKind
from app.tutoring.jobs import send_session_reminders
from app.tutoring.models import SessionStatus, Trainer, TutoringPurchase, TutoringSession
from tests.conftest import QueryCounter, login_as
from tests.payments.conftest import run_jobs
from tests.tutoring.conftest import trainer, tutoring_course
from tests.tutoring.desk_fixture import EVERY_DAY, NEW_YORK, assigned_purchase, sessions_of
from tests.tutoring.test_calendar import mails, parse_ics, utc

LONDON = ZoneInfo("Europe/London")


@pytest.fixture
def mailbox(app: Flask, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setitem(app.config, "INSTANCE_PATH", str(tmp_path))
    monkeypatch.setitem(app.config, "SMTP_URL", "")
    return tmp_path / "mail"


def _package(
    name: str = "Rita Reminder",
) -> tuple[Trainer, TutoringPurchase, list[TutoringSession]]:
    course, category = tutoring_course(f"{name} Tutoring")
    teacher = trainer([category.slug], name=name, timezone=NEW_YORK, slots=EVERY_DAY)
    purchase = assigned_purchase(course.id, "Stu Student")
    return teacher, purchase, sessions_of(purchase.id)


def _notes(kind: NotificationKind) -> list[Notification]:
    return list(
        db.session.scalars(
            select(Notification).where(Notification.kind == kind).order_by(Notification.id)
        )
    )


def _place(sessions: list[TutoringSession], now: datetime, *offsets: timedelta) -> None:
    """The first sessions start at now + each offset; the rest weeks later (out of reach)."""
    for n, session in enumerate(sessions):
        later = timedelta(days=10, weeks=n)
        session.starts_at = now + (offsets[n] if n < len(offsets) else later)
    db.session.flush()


def test_reminders_go_out_once_at_24_h_and_at_1_h_to_the_student_and_the_trainer(
    db_session: Session, mailbox: Path
) -> None:
    teacher, purchase, sessions = _package()
    now = utcnow()
    # 23 h ahead: the 24 h one; 30 min ahead (booked late): only the 1 h one; 2 h ahead but
    # canceled: nothing; 50 h ahead: nothing yet.
    _place(sessions, now, timedelta(hours=23), timedelta(minutes=30), timedelta(hours=2),
           timedelta(hours=50))  # fmt: skip
    sessions[2].status = SessionStatus.CANCELED
    db_session.flush()
    people = sorted([purchase.user_id, teacher.user_id])

    assert send_session_reminders(now) == 4
    assert send_session_reminders(now + timedelta(minutes=5)) == 0  # once each
    sent = _notes(NotificationKind.SESSION_REMINDER)
    keys = sorted((n.dedupe_key, n.user_id) for n in sent)
    assert keys == sorted(
        [(f"session:{sessions[0].id}:reminder:24h", p) for p in people]
        + [(f"session:{sessions[1].id}:reminder:1h", p) for p in people]
    )
    assert len(mails(mailbox)) == 4 and all(n.emailed_at is not None for n in sent)
    day_ahead = [n for n in sent if n.dedupe_key.endswith(":24h")]
    to_trainer = next(n for n in day_ahead if n.user_id == teacher.user_id)
    local = sessions[0].starts_at.astimezone(ZoneInfo(NEW_YORK))
    assert f"{local:%H:%M}" in to_trainer.title and "Stu Student" in to_trainer.title
    assert to_trainer.title.startswith("Coming up: ")
    to_student = next(n for n in day_ahead if n.user_id == purchase.user_id)
    assert f"{sessions[0].starts_at.astimezone(LONDON):%H:%M}" in to_student.body

    # 22 h 30 later the first session is within the hour: its 1 h reminder, once, for both.
    later = now + timedelta(hours=22, minutes=30)
    assert send_session_reminders(later) == 2
    assert send_session_reminders(later) == 0
    ones = [n for n in _notes(NotificationKind.SESSION_REMINDER) if n.dedupe_key.endswith("1h")]
    assert len(ones) == 4 and len(mails(mailbox)) == 6
    assert not any(
        f"session:{sessions[2].id}:" in n.dedupe_key
        for n in _notes(NotificationKind.SESSION_REMINDER)
    )


def test_a_run_with_nothing_new_to_send_costs_two_queries_however_many_sessions(
    db_session: Session, mailbox: Path, count_queries: QueryCounter
) -> None:
    now = utcnow()
    for name in ("Quinn Query", "Quentin Query"):
        _, _, sessions = _package(name)
        _place(sessions, now, timedelta(hours=3), timedelta(hours=20), timedelta(minutes=40))
    assert send_session_reminders(now) == 12
    before = count_queries.count
    assert send_session_reminders(now) == 0
    assert count_queries.count - before == 2  # the sessions due, and the reminders already sent


def test_a_reminder_whose_email_fails_is_logged_and_tried_again_without_holding_up_others(
    db_session: Session, mailbox: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.notifications import mail

    teacher, purchase, sessions = _package()
    now = utcnow()
    _place(sessions, now, timedelta(hours=5))
    student_email = db_session.get(User, purchase.user_id).email  # type: ignore[union-attr]
    real_send = mail.send_email

    def flaky(message: object) -> None:
        if message["To"] == student_email:  # type: ignore[index]
            raise OSError("mail server down")
        real_send(message)  # type: ignore[arg-type]

    monkeypatch.setattr(mail, "send_email", flaky)
    assert send_session_reminders(now) == 1  # the trainer's went out
    assert [n.user_id for n in _notes(NotificationKind.SESSION_REMINDER)] == [teacher.user_id]
    monkeypatch.setattr(mail, "send_email", real_send)
    assert send_session_reminders(now + timedelta(minutes=5)) == 1  # the student's, now
    assert len(mails(mailbox)) == 2


# -- a student's changes -------------------------------------------------------------------------


def _change_mails(folder: Path) -> list[EmailMessage]:
    """The change notices (the purchase's own job also mails "trainer assigned" meanwhile)."""
    return [
        m
        for m in mails(folder)
        if any(p.get_filename() == "session.ics" for p in m.iter_attachments())
    ]


def test_a_student_moving_a_session_tells_the_trainer_and_confirms_it_on_each_clock(
    client: FlaskClient, db_session: Session, mailbox: Path
) -> None:
    teacher, purchase, sessions = _package()
    login_as(client, db_session.get(User, purchase.user_id))
    target = sessions[2]
    target.created_at -= timedelta(hours=1)  # booked a while ago: the move bumps SEQUENCE
    db_session.flush()
    old = target.starts_at
    new_local = old.astimezone(LONDON) + timedelta(hours=2)
    answer = client.post(
        f"/tutoring/sessions/{target.id}/move",
        data={"next": "/orders", "timezone": "Europe/London",
              "starts_at": new_local.strftime("%Y-%m-%dT%H:%M")},
    )  # fmt: skip
    assert answer.status_code == 303
    run_jobs()
    run_jobs()  # nothing twice
    changed = _notes(NotificationKind.SESSION_CHANGED)
    assert sorted(n.user_id for n in changed) == sorted([teacher.user_id, purchase.user_id])
    york = ZoneInfo(NEW_YORK)
    new = new_local.astimezone(york)
    to_trainer = next(n for n in changed if n.user_id == teacher.user_id)
    assert to_trainer.title == "Stu Student moved session 3 of Rita Reminder Tutoring"
    assert (
        f"from {old.astimezone(york):%a %d %b %Y, %H:%M} to {new:%a %d %b %Y, %H:%M}"
        in to_trainer.body
    )
    to_student = next(n for n in changed if n.user_id == purchase.user_id)
    assert f"to {new_local:%a %d %b %Y, %H:%M} (Europe/London)" in to_student.body

    sent = _change_mails(mailbox)
    assert len(sent) == 2
    for message in sent:
        (part,) = message.iter_attachments()
        (event,) = parse_ics(part.get_content())
        assert utc(event["DTSTART"]) == new_local and int(event["SEQUENCE"]) > 0


def test_a_student_canceling_a_session_tells_the_trainer_with_the_replacement(
    db_session: Session, mailbox: Path
) -> None:
    from app.core.unit import committing
    from app.tutoring.changes import cancel_session

    teacher, purchase, sessions = _package()
    with committing():
        replacement = cancel_session(sessions[1].id, purchase.user_id)
    run_jobs()
    changed = _notes(NotificationKind.SESSION_CHANGED)
    to_trainer = next(n for n in changed if n.user_id == teacher.user_id)
    assert to_trainer.title == "Stu Student canceled session 2 of Rita Reminder Tutoring"
    york = ZoneInfo(NEW_YORK)
    assert f"{sessions[1].starts_at.astimezone(york):%a %d %b %Y, %H:%M}" in to_trainer.body
    assert (
        f"session 11 was added at the end: {replacement.starts_at.astimezone(york):%a %d %b %Y, %H:%M}"
        in to_trainer.body
    )
    assert any(n.user_id == purchase.user_id for n in changed)
    assert len(_change_mails(mailbox)) == 2
    for message in _change_mails(mailbox):
        (part,) = message.iter_attachments()
        statuses = sorted(e["STATUS"] for e in parse_ics(part.get_content()))
        assert statuses == ["CANCELLED", "CONFIRMED"]


def test_a_replacement_session_is_named_so_in_its_notices(db_session: Session) -> None:
    from app.notifications.messages import render_message

    common = {"course_title": "Algebra", "other_name": "Tara", "when": "Sun", "timezone": "UTC",
              "soon": True, "for_trainer": False, "user": None, "link": None}  # fmt: skip
    extra = render_message("tutoring/session_reminder", {**common, "number": 11, "tier": 10})
    usual = render_message("tutoring/session_reminder", {**common, "number": 3, "tier": 10})
    assert "session 11 (a replacement)" in extra.text and "of 10" not in extra.text
    assert "session 3 of 10" in usual.text
