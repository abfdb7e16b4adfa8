"""Tutoring sessions as iCalendar (RFC 5545), written by hand: the `sessions.ics` attached to
the "trainer assigned" emails and each user's subscribable feed behind a secret URL.

An event's UID is `session-<id>@<domain>`, so a calendar that imports the package and later
subscribes to the feed (or imports a changed session) updates the same event; SEQUENCE grows
with the row's `updated_at`, so the newer copy wins. Times are UTC (`Z`); the calendar app
shows them on its user's clock."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask import current_app
from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import aliased

from app.accounts.models import User
from app.catalog.models import Course
from app.core.urls import absolute_url
from app.extensions import db
from app.notifications.mail import Attachment, sender_domain
from app.tutoring.models import (
    SessionStatus,
    Trainer,
    TutoringMode,
    TutoringPurchase,
    TutoringSession,
)

CRLF = "\r\n"
LINE_OCTETS = 75  # RFC 5545 3.1: longer lines are folded (CRLF + one space)
FEED_PAST = timedelta(days=30)  # the feed keeps a month of history
FEED_LIMIT = 2000  # sessions in one feed: a busy trainer's years, bounded all the same
ICS_FILE = "sessions.ics"
ICS_TYPE = "text/calendar"

# The feed's secret: an HMAC of the user id with SECRET_KEY, so no table (and no migration)
# holds it. Bumping FEED_VERSION rotates every user's URL (as does a new SECRET_KEY); rotating
# one user's alone needs a per-user counter column folded into the message (a migration).
FEED_VERSION = "v1"
_FEED_PURPOSE = "coursefront.tutoring-calendar-feed"


@dataclass(frozen=True)
class CalendarEvent:
    uid: str
    starts_at: datetime
    ends_at: datetime
    summary: str
    description: str
    status: str  # CONFIRMED, TENTATIVE or CANCELLED
    sequence: int
    location: str = ""
    url: str = ""


# -- the iCalendar text ------------------------------------------------------------------------


def escape_text(value: str) -> str:
    """A TEXT value (RFC 5545 3.3.11): backslash, semicolon, comma and newlines escaped."""
    value = value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return value.replace("\r\n", "\\n").replace("\r", "\\n").replace("\n", "\\n")


def fold(line: str) -> str:
    """One content line folded into physical lines of at most 75 octets (UTF-8), never
    splitting a character; continuation lines start with a space (which counts)."""
    parts: list[str] = []
    current, size = "", 0
    for char in line:
        octets = len(char.encode())
        if size + octets > LINE_OCTETS:
            parts.append(current)
            current, size = " ", 1
        current += char
        size += octets
    parts.append(current)
    return CRLF.join(parts)


def _utc(instant: datetime) -> str:
    return instant.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _event_lines(event: CalendarEvent, stamp: str) -> list[str]:
    lines = [
        "BEGIN:VEVENT",
        f"UID:{event.uid}",
        f"DTSTAMP:{stamp}",
        f"DTSTART:{_utc(event.starts_at)}",
        f"DTEND:{_utc(event.ends_at)}",
        f"SEQUENCE:{event.sequence}",
        f"STATUS:{event.status}",
        f"SUMMARY:{escape_text(event.summary)}",
        f"DESCRIPTION:{escape_text(event.description)}",
    ]
    if event.location:
        lines.append(f"LOCATION:{escape_text(event.location)}")
    if event.url:
        lines.append(f"URL:{event.url}")
    return [*lines, "END:VEVENT"]


def build_calendar(events: Iterable[CalendarEvent], name: str, now: datetime) -> str:
    """A VCALENDAR (METHOD:PUBLISH) holding the events: CRLF line endings, folded lines."""
    stamp = _utc(now)
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Coursefront//Tutoring//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{escape_text(name)}",
        "REFRESH-INTERVAL;VALUE=DURATION:PT1H",  # RFC 7986; X-PUBLISHED-TTL for older clients
        "X-PUBLISHED-TTL:PT1H",
    ]
    for event in events:
        lines += _event_lines(event, stamp)
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + CRLF for line in lines)


# -- sessions as events ------------------------------------------------------------------------


@dataclass(frozen=True)
class SessionRow:
    """A session with what its event says, read in one query with the others."""

    session: TutoringSession
    tier: int
    mode: TutoringMode
    course_title: str
    student_name: str
    trainer_user_id: int | None
    trainer_name: str | None
    area: str | None
    student_zone: str | None  # the purchase's time zone
    trainer_zone: str | None


def _rows(*where: ColumnElement[bool], limit: int = FEED_LIMIT) -> list[SessionRow]:
    student, trainer_user = aliased(User), aliased(User)
    stmt = (
        select(
            TutoringSession,
            TutoringPurchase.tier,
            TutoringPurchase.mode,
            Course.title,
            student.name,
            trainer_user.id,
            trainer_user.name,
            Trainer.area,
            TutoringPurchase.details["timezone"].astext,
            Trainer.timezone,
        )
        .join(TutoringPurchase, TutoringPurchase.id == TutoringSession.purchase_id)
        .join(Course, Course.id == TutoringPurchase.course_id)
        .join(student, student.id == TutoringSession.student_id)
        .outerjoin(Trainer, Trainer.id == TutoringSession.trainer_id)
        .outerjoin(trainer_user, trainer_user.id == Trainer.user_id)
        .where(*where)
        .order_by(TutoringSession.starts_at, TutoringSession.id)
        .limit(limit)
    )
    return [SessionRow(*row) for row in db.session.execute(stmt)]


def list_package_rows(purchase_id: int) -> list[SessionRow]:
    """Every session of the package, in order."""
    return _rows(TutoringSession.purchase_id == purchase_id)


def list_session_rows(session_ids: Sequence[int]) -> list[SessionRow]:
    """These sessions, in order."""
    return _rows(TutoringSession.id.in_(list(session_ids))) if session_ids else []


def list_feed_rows(user_id: int, now: datetime) -> list[SessionRow]:
    """The user's sessions as student and as trainer, from FEED_PAST ago onward."""
    mine = or_(TutoringSession.student_id == user_id, Trainer.user_id == user_id)
    return _rows(mine, TutoringSession.starts_at >= now - FEED_PAST)


def _status(row: SessionRow, for_trainer: bool) -> str:
    status = row.session.status
    if status is SessionStatus.CANCELED:
        return "CANCELLED"
    if status is SessionStatus.PENDING_REASSIGNMENT:
        # The trainer is away for it: gone from their calendar; the student's awaits a trainer.
        return "CANCELLED" if for_trainer else "TENTATIVE"
    return "CONFIRMED"


def _sequence(session: TutoringSession) -> int:
    # Seconds between creation and the last change: grows with every change, 0 for a new row.
    return max(0, int((session.updated_at - session.created_at).total_seconds()))


def session_event(row: SessionRow, for_trainer: bool, domain: str) -> CalendarEvent:
    """The session as its student (or trainer, `for_trainer`) sees it in their calendar."""
    s = row.session
    other = row.student_name if for_trainer else (row.trainer_name or "a trainer to be confirmed")
    # A canceled session's credit comes back as session tier+1, ...: no "11 of 10".
    number = f"{s.number} of {row.tier}" if s.number <= row.tier else f"{s.number} (a replacement)"
    summary = f"{row.course_title}: session {number} with {other}"
    lines = [f"Tutoring session {number}, {row.mode.label.lower()}."]
    lines.append(f"{s.duration_min} minutes; status: {s.status.label}.")
    if s.note and for_trainer:
        lines.append(s.note)
    in_person = row.mode is TutoringMode.IN_PERSON and row.area
    page = (
        absolute_url("tutoring.session_page", session_id=s.id)
        if for_trainer
        else absolute_url("learning.my_learning")
    )
    return CalendarEvent(
        uid=f"session-{s.id}@{domain}",
        starts_at=s.starts_at,
        ends_at=s.starts_at + timedelta(minutes=s.duration_min),
        summary=summary,
        description="\n".join(lines),
        status=_status(row, for_trainer),
        sequence=_sequence(s),
        location=str(row.area) if in_person else "",
        url=page,
    )


def sessions_calendar(rows: Iterable[SessionRow], viewer_id: int, name: str, now: datetime) -> str:
    """The rows as the viewer's calendar: as trainer where they teach, else as student."""
    domain = sender_domain()
    events = (session_event(r, r.trainer_user_id == viewer_id, domain) for r in rows)
    return build_calendar(events, name, now)


def calendar_attachment(text: str, filename: str = ICS_FILE) -> Attachment:
    """The calendar as an email's attachment: text/calendar; method=PUBLISH."""
    return Attachment(filename, text.encode(), ICS_TYPE, {"method": "PUBLISH"})


# -- the feed's secret URL -----------------------------------------------------------------------


def _mac(user_id: int) -> str:
    key = str(current_app.config["SECRET_KEY"]).encode()
    message = f"{_FEED_PURPOSE}:{FEED_VERSION}:{user_id}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:32]  # 128 bits


def feed_token(user_id: int) -> str:
    """The user's feed token: their id and an HMAC only SECRET_KEY can make."""
    return f"{user_id}-{_mac(user_id)}"


def feed_user_id(token: str) -> int | None:
    """The user the token was made for, or None for any token we did not make."""
    user_part, _, mac = token.partition("-")
    if not (token.isascii() and user_part.isdigit()) or len(user_part) > 12:
        return None  # compare_digest takes ASCII only; ids are short
    user_id = int(user_part)
    return user_id if hmac.compare_digest(_mac(user_id), mac) else None
