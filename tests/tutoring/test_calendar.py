"""Tutoring calendars: the iCalendar text (folded, escaped, CRLF, one VEVENT per session in
UTC), the `sessions.ics` on the "trainer assigned" emails, and each user's feed behind a
secret URL (the right token answers, any other is a 404, and a feed holds only its user's)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.core.models import utcnow
from app.extensions import db
from app.tutoring import calendar
from app.tutoring.jobs import send_allocation_notices
from app.tutoring.models import (
    AllocationStatus,
    SessionStatus,
    Trainer,
    TrainerAllocation,
    TutoringPurchase,
)
from tests.tutoring.conftest import trainer, tutoring_course
from tests.tutoring.desk_fixture import EVERY_DAY, NEW_YORK, assigned_purchase, sessions_of


@pytest.fixture
def mailbox(app: Flask, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Emails are written as .eml files into a fresh folder."""
    monkeypatch.setitem(app.config, "INSTANCE_PATH", str(tmp_path))
    monkeypatch.setitem(app.config, "SMTP_URL", "")
    return tmp_path / "mail"


def mails(folder: Path) -> list[EmailMessage]:
    files = sorted(folder.glob("*.eml")) if folder.exists() else []
    return [message_from_bytes(f.read_bytes(), policy=policy.default) for f in files]  # type: ignore[misc]


def parse_ics(text: str) -> list[dict[str, str]]:
    """A tiny RFC 5545 reader: checks the physical lines (CRLF, at most 75 octets, balanced
    BEGIN/END) and returns each VEVENT's properties (unfolded, parameters dropped)."""
    assert text.endswith("\r\n")
    physical = text[:-2].split("\r\n")
    assert all("\n" not in line and "\r" not in line for line in physical)
    assert all(len(line.encode()) <= 75 for line in physical), "a line is over 75 octets"
    logical: list[str] = []
    for line in physical:
        if line.startswith(" "):
            logical[-1] += line[1:]
        else:
            logical.append(line)
    stack: list[str] = []
    events: list[dict[str, str]] = []
    for line in logical:
        name, _, value = line.partition(":")
        if name == "BEGIN":
            stack.append(value)
            if value == "VEVENT":
                events.append({})
        elif name == "END":
            assert stack and stack.pop() == value, f"END:{value} closes nothing"
        elif stack and stack[-1] == "VEVENT":
            events[-1][name.partition(";")[0]] = value
    assert stack == [] and logical[0] == "BEGIN:VCALENDAR" and logical[-1] == "END:VCALENDAR"
    return events


def utc(value: str) -> datetime:
    assert value.endswith("Z")
    return datetime.strptime(value, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)


def unescape(value: str) -> str:
    out, chars = [], iter(value)
    for char in chars:
        if char == "\\":
            nxt = next(chars)
            out.append("\n" if nxt in "nN" else nxt)
        else:
            out.append(char)
    return "".join(out)


# -- the text ------------------------------------------------------------------------------------


def test_long_lines_fold_at_75_octets_without_splitting_characters_and_text_is_escaped(
    app: Flask,
) -> None:
    long = "Ünïcode, commas; back\\slash\nand a new line " + "é" * 80
    event = calendar.CalendarEvent(
        uid="session-1@example.com",
        starts_at=datetime(2026, 3, 29, 0, 30, tzinfo=UTC),
        ends_at=datetime(2026, 3, 29, 1, 30, tzinfo=UTC),
        summary=long,
        description=long,
        status="CONFIRMED",
        sequence=3,
    )
    with app.test_request_context():
        text = calendar.build_calendar([event], "Name, with; specials", utcnow())
    (parsed,) = parse_ics(text)
    assert unescape(parsed["SUMMARY"]) == long
    assert parsed["SUMMARY"].startswith("Ünïcode\\, commas\\; back\\\\slash\\nand a new")
    assert len(text.split("\r\n")) > 12  # the long ones were folded
    assert parsed["DTSTART"] == "20260329T003000Z" and parsed["SEQUENCE"] == "3"
    assert "X-WR-CALNAME:Name\\, with\\; specials\r\n" in text
    assert "METHOD:PUBLISH\r\n" in text


# -- the "trainer assigned" emails ---------------------------------------------------------------


def _package(
    name: str = "Cal Trainer", student: str = "Ics Student"
) -> tuple[Trainer, TutoringPurchase]:
    course, category = tutoring_course(f"{name} Tutoring")
    teacher = trainer([category.slug], name=name, timezone=NEW_YORK, slots=EVERY_DAY)
    return teacher, assigned_purchase(course.id, student)


def test_both_trainer_assigned_emails_carry_every_session_as_sessions_ics(
    db_session: Session, mailbox: Path
) -> None:
    teacher, purchase = _package()
    allocation = db_session.scalars(
        select(TrainerAllocation).where(
            TrainerAllocation.purchase_id == purchase.id,
            TrainerAllocation.status == AllocationStatus.APPROVED,
        )
    ).one()
    send_allocation_notices(allocation.id)
    send_allocation_notices(allocation.id)  # once per person, however often it runs
    sent = mails(mailbox)
    assert sorted(str(m["To"]) for m in sent) == sorted(
        [db_session.get(User, purchase.user_id).email, db_session.get(User, teacher.user_id).email]  # type: ignore[union-attr]
    )
    sessions = sessions_of(purchase.id)
    for message in sent:
        (part,) = [p for p in message.iter_attachments() if p.get_content_type() == "text/calendar"]
        assert part.get_filename() == "sessions.ics" and part.get_param("method") == "PUBLISH"
        events = parse_ics(part.get_content())
        assert len(events) == len(sessions) == 10
        assert [utc(e["DTSTART"]) for e in events] == [s.starts_at for s in sessions]
        ends = [s.starts_at + timedelta(minutes=s.duration_min) for s in sessions]
        assert [utc(e["DTEND"]) for e in events] == ends
        assert {e["STATUS"] for e in events} == {"CONFIRMED"}
        assert all(
            e["UID"].startswith(f"session-{s.id}@") for e, s in zip(events, sessions, strict=True)
        )
        assert "sessions.ics" in message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    to_trainer = next(m for m in sent if "New student" in str(m["Subject"]))
    (part,) = to_trainer.iter_attachments()
    assert "with Ics Student" in unescape(parse_ics(part.get_content())[0]["SUMMARY"])


# -- the feed ------------------------------------------------------------------------------------


def test_the_feed_answers_the_right_token_with_that_users_sessions_and_404_otherwise(
    client: FlaskClient, db_session: Session
) -> None:
    teacher, purchase = _package()
    other_teacher, other = _package("Other Trainer", "Oli Other")
    sessions = sessions_of(purchase.id)
    sessions[0].starts_at = utcnow() - timedelta(days=40)  # older than the feed keeps
    sessions[1].status = SessionStatus.CANCELED
    db_session.flush()

    answer = client.get(f"/tutoring/calendar/{calendar.feed_token(purchase.user_id)}.ics")
    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert "private" in answer.headers["Cache-Control"]
    events = parse_ics(answer.text)
    assert [utc(e["DTSTART"]) for e in events] == [s.starts_at for s in sessions[1:]]
    assert events[0]["STATUS"] == "CANCELLED" and events[1]["STATUS"] == "CONFIRMED"
    assert all("with Cal Trainer" in unescape(e["SUMMARY"]) for e in events)

    # The trainer's feed has the sessions they teach; another student's feed only theirs.
    taught = parse_ics(
        client.get(f"/tutoring/calendar/{calendar.feed_token(teacher.user_id)}.ics").text
    )
    assert [e["UID"] for e in taught] == [e["UID"] for e in events]
    assert all("with Ics Student" in unescape(e["SUMMARY"]) for e in taught)
    theirs = parse_ics(
        client.get(f"/tutoring/calendar/{calendar.feed_token(other.user_id)}.ics").text
    )
    assert sorted(utc(e["DTSTART"]) for e in theirs) == [s.starts_at for s in sessions_of(other.id)]
    assert not {e["UID"] for e in theirs} & {e["UID"] for e in events}
    assert other_teacher.user_id != teacher.user_id

    good = calendar.feed_token(purchase.user_id)
    user_part, _, mac = good.partition("-")
    for bad in (f"{other.user_id}-{mac}", f"{user_part}-{'0' * 32}", "nope", f"{user_part}-é"):
        assert client.get(f"/tutoring/calendar/{bad}.ics").status_code == 404, bad
    assert calendar.feed_user_id(good) == purchase.user_id


def test_the_feed_link_shows_on_the_trainers_desk_and_the_students_order_package(
    client: FlaskClient, db_session: Session, buyer: User
) -> None:
    from tests.conftest import login_as
    from tests.payments.conftest import checkout, order_of, payment_token, run_jobs
    from tests.tutoring.conftest import package
    from tests.tutoring.test_pages import _form

    course, category = tutoring_course()
    teacher = trainer([category.slug], name="Tara Trainer")
    client.post("/cart/packages", data=_form(package(course, 10).id))
    token = payment_token(checkout(client).headers["Location"])
    client.post(f"/pay/{token}/sandbox", data={"action": "pay", "card": "4242424242424242"})
    run_jobs()
    page = client.get(f"/orders/{order_of(db_session, buyer).token}").text
    assert "Your trainer: <strong>Tara Trainer</strong>" in page
    assert "Subscribe in your calendar" in page
    assert f"/tutoring/calendar/{calendar.feed_token(buyer.id)}.ics" in page

    login_as(client, db.session.get(User, teacher.user_id))
    desk = client.get("/tutoring/").text
    assert "Subscribe in your calendar" in desk
    feed = f"/tutoring/calendar/{calendar.feed_token(teacher.user_id)}.ics"
    assert 'href="webcal://' in desk and feed in desk
