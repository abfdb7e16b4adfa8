"""The trainer's desk: who may open it, the agenda on the trainer's clock, marking a started
session (and only that), the profile's rules, and time off moving the sessions it covers."""

from __future__ import annotations

from datetime import time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.accounts.models import Role, User
from app.core.models import utcnow
from app.extensions import db
from app.notifications.models import Notification
from app.tutoring.models import (
    SessionStatus,
    Trainer,
    TrainerSlot,
    TrainerTimeOff,
    TutoringPurchase,
    TutoringSession,
)
from app.tutoring.purchases import progress
from tests.conftest import login_as
from tests.factories import make_user
from tests.payments.conftest import run_jobs
from tests.tutoring.conftest import trainer, tutoring_course
from tests.tutoring.desk_fixture import EVERY_DAY, NEW_YORK, assigned_purchase, sessions_of

HX = {"HX-Request": "true"}
DASH = "\N{EN DASH}"


def _sessions(session: Session, purchase: TutoringPurchase) -> list[TutoringSession]:
    return sessions_of(purchase.id)


@pytest.fixture
def desk(client: FlaskClient, db_session: Session) -> dict[str, Any]:
    """A New York trainer, signed in, with a London student's package assigned to them."""
    course, category = tutoring_course("Algebra Tutoring")
    teacher = trainer([category.slug], name="Tara Trainer", timezone=NEW_YORK, slots=EVERY_DAY)
    purchase = assigned_purchase(course.id)
    login_as(client, db.session.get(User, teacher.user_id))
    return {"trainer": teacher, "purchase": purchase, "course": course, "category": category}


def test_only_trainers_open_the_desk_students_get_403_and_visitors_log_in(
    app: Any, client: FlaskClient, db_session: Session
) -> None:
    assert client.get("/tutoring/").status_code == 302
    assert "/login" in client.get("/tutoring/").headers["Location"]
    login_as(client, make_user())
    for path in ("/tutoring/", "/tutoring/profile", "/tutoring/time-off"):
        assert client.get(path).status_code == 403, path
    assert client.post("/tutoring/sessions/1/mark", data={"status": "done"}).status_code == 403

    login_as(client, make_user(Role.TRAINER, name="Nia New"))
    page = client.get("/tutoring/")
    assert page.status_code == 200
    assert "Set up your trainer profile" in page.text  # no Trainer row yet
    assert 'href="/tutoring/"' in page.text and ">Tutoring</a>" in page.text  # the header link


def test_a_new_trainer_sets_up_their_profile_from_the_desk(
    client: FlaskClient, db_session: Session
) -> None:
    _, category = tutoring_course()
    user = make_user(Role.TRAINER, name="Nia New")
    login_as(client, user)
    answer = client.post(
        "/tutoring/profile",
        data={
            "specialties": [category.slug],
            "languages": ["en", "hi"],
            "timezone": "Asia/Kolkata",
            "online": "y",
            "capacity": "5",
            "accepting": "y",
            "slot_weekday": ["7", ""],
            "slot_starts": ["17:00", ""],
            "slot_ends": ["21:00", ""],
        },
    )
    assert answer.status_code == 303 and answer.headers["Location"].endswith("/tutoring/")
    row = db_session.scalars(select(Trainer).where(Trainer.user_id == user.id)).one()
    assert (row.timezone, row.capacity, row.specialties) == ("Asia/Kolkata", 5, [category.slug])
    slots = db_session.scalars(select(TrainerSlot).where(TrainerSlot.trainer_id == row.id)).all()
    assert [(s.weekday, s.starts, s.ends) for s in slots] == [(7, time(17), time(21))]
    assert "Coming up" in client.get("/tutoring/").text


def test_the_agenda_shows_sessions_on_the_trainers_clock_with_the_student_and_package(
    client: FlaskClient, db_session: Session, desk: dict[str, Any]
) -> None:
    sessions = _sessions(db_session, desk["purchase"])
    assert len(sessions) == 10 and sessions[0].trainer_id == desk["trainer"].id
    page = client.get("/tutoring/")
    assert page.status_code == 200
    first = sessions[0].starts_at.astimezone(ZoneInfo(NEW_YORK))
    assert f"{first:%H:%M}{DASH}{first + timedelta(hours=1):%H:%M}" in page.text  # 10 or 11
    assert f"15:00{DASH}16:00" not in page.text  # the student's clock is not the trainer's
    assert first.strftime("%A %d %B") in page.text
    assert "Priya Student" in page.text and "Algebra Tutoring" in page.text
    assert "Session 1 of 10 · 60 min" in page.text and "Scheduled" in page.text
    assert f"/tutoring/sessions/{sessions[0].id}" in page.text
    assert "0 / 10" in page.text  # my students: attended / bought
    # Two weeks show two Mondays at most; "show more" widens the window.
    assert "Session 3 of 10" not in page.text
    assert "days=28" in page.text
    assert "Session 3 of 10" in client.get("/tutoring/?days=28").text


def test_marking_a_started_session_done_counts_towards_progress(
    client: FlaskClient, db_session: Session, desk: dict[str, Any]
) -> None:
    first, second = _sessions(db_session, desk["purchase"])[:2]
    first.starts_at = utcnow() - timedelta(hours=1)
    db_session.flush()
    assert "To mark" in client.get("/tutoring/").text

    answer = client.post(
        f"/tutoring/sessions/{first.id}/mark",
        data={"status": "done", "note": "Worked on factorising.", "back": "desk"},
        headers=HX,
    )
    assert answer.status_code == 200
    assert answer.text.lstrip().startswith('<section id="desk-to-mark"')
    assert "Session 1 marked done." in answer.text
    assert 'id="desk-students" class="panel desk-students"' in answer.text  # out of band
    assert "1 / 10" in answer.text
    db_session.expire_all()
    assert first.status is SessionStatus.DONE and first.marked_at is not None
    assert first.note == "Worked on factorising."
    assert progress(desk["purchase"]).attended == 1
    assert progress(desk["purchase"]).percent == 10

    # Marked once: a second mark is refused (without JS: back to the desk, the error flashed).
    again = client.post(f"/tutoring/sessions/{first.id}/mark", data={"status": "no_show"})
    assert again.status_code == 303 and again.headers["Location"].endswith("/tutoring/")
    assert "already marked: Done" in client.get("/tutoring/").text
    db_session.expire_all()
    assert first.status is SessionStatus.DONE and second.status is SessionStatus.SCHEDULED


def test_a_future_session_cannot_be_marked_and_another_trainers_is_not_found(
    client: FlaskClient, db_session: Session, desk: dict[str, Any]
) -> None:
    future = _sessions(db_session, desk["purchase"])[1]
    refused = client.post(
        f"/tutoring/sessions/{future.id}/mark",
        data={"status": "done", "back": "session"},
        headers=HX,
    )
    assert refused.status_code == 422
    assert refused.text.lstrip().startswith('<section id="desk-session"')
    assert "hasn&#39;t started yet: you can mark it from" in refused.text
    plain = client.post(f"/tutoring/sessions/{future.id}/mark", data={"status": "done"})
    assert plain.status_code == 303
    assert "started yet" in client.get("/tutoring/").text
    db_session.expire_all()
    assert future.status is SessionStatus.SCHEDULED and future.marked_at is None

    other = trainer([desk["category"].slug], name="Otto Other", slots=EVERY_DAY)
    login_as(client, db.session.get(User, other.user_id))
    future.starts_at = utcnow() - timedelta(hours=2)
    db_session.flush()
    assert (
        client.post(f"/tutoring/sessions/{future.id}/mark", data={"status": "done"}).status_code
        == 404
    )
    assert client.get(f"/tutoring/sessions/{future.id}").status_code == 404
    db_session.expire_all()
    assert future.status is SessionStatus.SCHEDULED


def _profile(desk: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return {
        "specialties": [desk["category"].slug],
        "languages": ["en"],
        "timezone": NEW_YORK,
        "online": "y",
        "capacity": "8",
        "accepting": "y",
        "slot_weekday": ["1", "3"],
        "slot_starts": ["06:00", "09:00"],
        "slot_ends": ["22:00", "12:00"],
        **changes,
    }


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"timezone": "Mars/Olympus_Mons"}, "Choose your time zone."),
        ({"capacity": "0"}, "You teach 1 students now: capacity can&#39;t be lower."),
        (
            {
                "slot_weekday": ["2", "2"],
                "slot_starts": ["09:00", "11:00"],
                "slot_ends": ["12:00", "13:00"],
            },
            "Row 2: it overlaps Tuesday 09:00 to 12:00.",
        ),
        (
            {"slot_weekday": ["4"], "slot_starts": ["12:00"], "slot_ends": ["10:00"]},
            "end must be after",
        ),
    ],
)
def test_a_refused_profile_shows_the_error_and_changes_nothing(
    client: FlaskClient,
    db_session: Session,
    desk: dict[str, Any],
    changes: dict[str, Any],
    message: str,
) -> None:
    teacher: Trainer = desk["trainer"]
    before = db_session.scalars(
        select(TrainerSlot.weekday).where(TrainerSlot.trainer_id == teacher.id)
    ).all()
    answer = client.post("/tutoring/profile", data=_profile(desk, **changes), headers=HX)
    assert answer.status_code == 422
    assert answer.text.lstrip().startswith('<form id="desk-profile"')
    assert message in answer.text
    plain = client.post("/tutoring/profile", data=_profile(desk, **changes))
    assert plain.status_code == 422 and "<html" in plain.text and message in plain.text
    db_session.expire_all()
    assert (teacher.timezone, teacher.capacity, teacher.active_students) == (NEW_YORK, 8, 1)
    after = db_session.scalars(
        select(TrainerSlot.weekday).where(TrainerSlot.trainer_id == teacher.id)
    ).all()
    assert sorted(after) == sorted(before) == list(range(1, 8))


def test_a_saved_profile_replaces_the_week_and_sets_the_area(
    client: FlaskClient, db_session: Session, desk: dict[str, Any]
) -> None:
    data = _profile(
        desk, in_person="y", area="london-camden", max_distance_km="12", gender="female"
    )
    data["slot_remove"] = ["1"]  # the Wednesday row goes
    assert client.post("/tutoring/profile", data=data).status_code == 303
    teacher: Trainer = desk["trainer"]
    db_session.expire_all()
    assert (teacher.area, teacher.gender, teacher.max_distance_km) == (
        "london-camden",
        "female",
        12,
    )
    assert teacher.latitude == pytest.approx(51.539)
    slots = db_session.scalars(
        select(TrainerSlot).where(TrainerSlot.trainer_id == teacher.id)
    ).all()
    assert [(s.weekday, s.starts, s.ends) for s in slots] == [(1, time(6), time(22))]
    page = client.get("/tutoring/profile").text
    assert 'value="06:00"' in page and 'value="22:00"' in page


def test_time_off_over_two_sessions_moves_them_and_tells_the_student_and_the_trainer(
    client: FlaskClient, db_session: Session, desk: dict[str, Any]
) -> None:
    sessions = _sessions(db_session, desk["purchase"])
    zone = ZoneInfo(NEW_YORK)
    start = sessions[1].starts_at.astimezone(zone) - timedelta(hours=1)
    end = sessions[2].starts_at.astimezone(zone) + timedelta(minutes=30)  # overlaps the third
    form = {"starts": f"{start:%Y-%m-%dT%H:%M}", "ends": f"{end:%Y-%m-%dT%H:%M}", "reason": "Trip"}

    answer = client.post("/tutoring/time-off", data=form, headers=HX)
    assert answer.status_code == 200
    assert answer.text.lstrip().startswith('<section id="desk-time-off"')
    assert "2 sessions fall in it" in answer.text
    db_session.expire_all()
    statuses = [s.status for s in _sessions(db_session, desk["purchase"])]
    assert statuses[1:3] == [SessionStatus.PENDING_REASSIGNMENT] * 2
    assert statuses[0] is SessionStatus.SCHEDULED and statuses[3] is SessionStatus.SCHEDULED
    off = db_session.scalars(select(TrainerTimeOff)).one()
    assert off.starts_at == start.astimezone(ZoneInfo("UTC")).replace(second=0, microsecond=0)
    assert "Awaiting a trainer" in client.get("/tutoring/?days=28").text

    run_jobs()
    moved = db_session.scalars(
        select(Notification).where(Notification.kind == "tutoring/sessions_moved")
    ).all()
    student_id, trainer_user = desk["purchase"].user_id, desk["trainer"].user_id
    assert sorted(n.user_id for n in moved) == sorted([student_id, trainer_user])
    to_student = next(n for n in moved if n.user_id == student_id)
    assert "Tara Trainer is away for 2 of your sessions" in to_student.body
    to_trainer = next(n for n in moved if n.user_id == trainer_user)
    assert "Your time off covers 2 sessions" in to_trainer.body
    assert to_trainer.title == "2 of your sessions moved for your time off"
    run_jobs()  # nothing left; a rerun of the job would dedupe anyway
    assert (
        len(
            db_session.scalars(
                select(Notification).where(Notification.kind == "tutoring/sessions_moved")
            ).all()
        )
        == 2
    )

    # Removing it is the trainer's alone, and does not bring the sessions back.
    removed = client.post(f"/tutoring/time-off/{off.id}/delete", headers=HX)
    assert removed.status_code == 200 and "Time off removed." in removed.text
    assert db_session.scalars(select(TrainerTimeOff)).all() == []


def test_time_off_must_end_after_it_starts_and_not_be_in_the_past(
    client: FlaskClient, db_session: Session, desk: dict[str, Any]
) -> None:
    now = utcnow().astimezone(ZoneInfo(NEW_YORK))
    cases = [
        (now + timedelta(days=2), now + timedelta(days=1), "The end must be after the start."),
        (now - timedelta(days=2), now + timedelta(days=1), "Time off can&#39;t start in the past."),
    ]
    for start, end, message in cases:
        form = {"starts": f"{start:%Y-%m-%dT%H:%M}", "ends": f"{end:%Y-%m-%dT%H:%M}"}
        answer = client.post("/tutoring/time-off", data=form)
        assert answer.status_code == 422 and message in answer.text
    assert db_session.scalars(select(TrainerTimeOff)).all() == []
    assert all(s.status is SessionStatus.SCHEDULED for s in _sessions(db_session, desk["purchase"]))


def test_an_admin_may_look_at_a_desk_but_not_mark(
    client: FlaskClient, db_session: Session, desk: dict[str, Any]
) -> None:
    first = _sessions(db_session, desk["purchase"])[0]
    first.starts_at = utcnow() - timedelta(hours=1)
    db.session.flush()
    login_as(client, make_user(Role.ADMIN))
    assert "Tara Trainer" in client.get("/tutoring/").text  # the list of trainers
    page = client.get(f"/tutoring/?trainer={desk['trainer'].id}")
    assert page.status_code == 200 and "read only" in page.text
    assert "Priya Student" in page.text and "/mark" not in page.text
    assert client.get(f"/tutoring/sessions/{first.id}").status_code == 200
    assert (
        client.post(f"/tutoring/sessions/{first.id}/mark", data={"status": "done"}).status_code
        == 403
    )
    assert client.get("/tutoring/profile").status_code == 403
