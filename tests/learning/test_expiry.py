"""Expiry, run as the daily jobs by a real RQ worker (burst mode, real Redis): an enrollment
past its end loses access; "ends soon" and "ended" notices go out once each however often the
jobs run; an extension after a notice gets a new notice cycle."""

from __future__ import annotations

import importlib
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.catalog.models import Chapter, Course, Lecture
from app.core.models import utcnow
from app.core.periods import AccessPeriod
from app.extensions import db
from app.jobs.queues import QueueName, get_queue
from app.learning.models import Enrollment, EnrollmentStatus
from app.notifications.models import Notification, NotificationKind
from tests.accounts.conftest import Outbox
from tests.conftest import login_as
from tests.factories import make_user
from tests.learning.periods import buy, enrollment_of, limited_course, set_period
from tests.payments.conftest import run_jobs
from tests.teaching.conftest import ready_video

WEEK = AccessPeriod(1, "week")
TEN_DAYS = AccessPeriod(10, "day")


@pytest.fixture
def outbox(app: Flask, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Outbox:
    """Mail goes to <tmp>/mail/*.eml (the app's no-SMTP transport)."""
    monkeypatch.setitem(app.config, "INSTANCE_PATH", str(tmp_path))
    monkeypatch.setitem(app.config, "SMTP_URL", "")
    return Outbox(tmp_path / "mail")


def _daily(job: str) -> None:
    """Queue one of the daily jobs as the cron does, and let a real worker run everything."""
    get_queue(QueueName.DEFAULT).enqueue(f"app.learning.jobs.{job}")
    run_jobs()


def _course_with_video(period: AccessPeriod = WEEK) -> tuple[Course, Lecture]:
    course = limited_course(period, chapters=(("Basics", (("Preview", 60), ("Locked", 60))),))
    stmt = select(Lecture).join(Chapter).where(Chapter.course_id == course.id)
    locked = next(lec for lec in db.session.scalars(stmt) if not lec.is_preview)
    ready_video(locked, db.session.get(User, course.teacher_id))  # type: ignore[arg-type]
    return course, locked


def _end_at(enrollment: Enrollment, moment: datetime) -> None:
    """Time passes: the enrollment's end is now `moment`."""
    enrollment.expires_at = moment
    db.session.flush()


def _notices(user: User, kind: NotificationKind) -> int:
    stmt = select(func.count(Notification.id)).where(
        Notification.user_id == user.id, Notification.kind == kind.value
    )
    return int(db.session.scalar(stmt) or 0)


def _mails(outbox: Outbox, words: str) -> list[str]:
    return [str(m["Subject"]) for m in outbox.messages() if words in str(m["Subject"])]


def _text(outbox: Outbox, words: str) -> str:
    [message] = [m for m in outbox.messages() if words in str(m["Subject"])]
    return message.get_body(("plain",)).get_content()  # type: ignore[union-attr]


def test_an_enrollment_past_its_end_loses_access_after_the_daily_job(
    client: FlaskClient, db_session: Session, outbox: Outbox
) -> None:
    student = make_user()
    course, lecture = _course_with_video()
    buy(student, course.id, utcnow())
    login_as(client, student)
    assert client.get(f"/lectures/{lecture.id}/play").status_code == 200
    enrollment = enrollment_of(student, course)
    enrollment.completed_at = utcnow() - timedelta(days=1)  # finished it in time
    _end_at(enrollment, utcnow() - timedelta(minutes=1))

    _daily("expire_enrollments")
    ended = enrollment_of(student, course)
    assert ended.status is EnrollmentStatus.EXPIRED
    assert ended.completed_at is not None  # the completion (and its certificate) stays
    play = client.get(f"/lectures/{lecture.id}/play")
    assert play.status_code == 403 and play.json["error"]["code"] == "no_access"
    assert _notices(student, NotificationKind.ACCESS_ENDED) == 1
    [subject] = _mails(outbox, "has ended")
    assert course.title in subject
    text = _text(outbox, "has ended")
    assert f"/courses/{course.slug}" in text and "certificate stays valid" in text

    _daily("expire_enrollments")  # the job runs again (a retry, a second scheduler)
    assert _notices(student, NotificationKind.ACCESS_ENDED) == 1
    assert len(_mails(outbox, "has ended")) == 1


def test_an_enrollment_still_running_or_for_good_is_left_alone(
    db_session: Session, outbox: Outbox
) -> None:
    student = make_user()
    running, _ = _course_with_video()
    buy(student, running.id, utcnow())
    for_good, _ = _course_with_video()
    set_period(for_good, None)
    buy(student, for_good.id, utcnow())
    _daily("expire_enrollments")
    _daily("send_access_notices")
    assert enrollment_of(student, running).status is EnrollmentStatus.ACTIVE
    assert enrollment_of(student, for_good).status is EnrollmentStatus.ACTIVE
    assert _notices(student, NotificationKind.ACCESS_ENDING) == 0
    assert _notices(student, NotificationKind.ACCESS_ENDED) == 0
    assert not _mails(outbox, "ends on") and not _mails(outbox, "has ended")


def test_the_ending_notice_is_sent_once_in_the_week_before(
    db_session: Session, outbox: Outbox
) -> None:
    student = make_user()
    soon, _ = _course_with_video(TEN_DAYS)
    later, _ = _course_with_video(AccessPeriod(1, "month"))
    short, _ = _course_with_video(AccessPeriod(5, "day"))
    buy(student, soon.id, utcnow() - timedelta(days=7))  # ends in 3 days
    buy(student, later.id, utcnow())  # ends in a month: not yet
    buy(student, short.id, utcnow())  # ends in 5 days, but the buyer was just told
    _daily("send_access_notices")
    _daily("send_access_notices")
    assert _notices(student, NotificationKind.ACCESS_ENDING) == 1
    [subject] = _mails(outbox, "ends on")
    end = enrollment_of(student, soon).expires_at
    assert end is not None and soon.title in subject and end.strftime("%d %b %Y") in subject


def test_an_extension_after_a_notice_gets_a_new_notice_cycle(
    db_session: Session, outbox: Outbox
) -> None:
    student = make_user()
    course, _ = _course_with_video(TEN_DAYS)
    buy(student, course.id, utcnow() - timedelta(days=8))  # ends in 2 days
    _daily("send_access_notices")
    assert len(_mails(outbox, "ends on")) == 1

    set_period(course, AccessPeriod(3, "day"))
    buy(student, course.id, utcnow())  # extended: ends in 5 days, still inside the week
    _daily("send_access_notices")
    _daily("send_access_notices")
    assert _notices(student, NotificationKind.ACCESS_ENDING) == 2  # one per end
    assert len(_mails(outbox, "ends on")) == 2

    set_period(course, AccessPeriod(1, "month"))
    buy(student, course.id, utcnow())  # now ends beyond the week: nothing is due
    get_queue(QueueName.DEFAULT).enqueue(
        "app.learning.jobs.send_access_ending", enrollment_of(student, course).id
    )
    _daily("send_access_notices")
    assert len(_mails(outbox, "ends on")) == 2

    # It ends, is bought again and ends again: an "ended" notice for each end.
    _end_at(enrollment_of(student, course), utcnow() - timedelta(minutes=1))
    _daily("expire_enrollments")
    buy(student, course.id, utcnow())
    assert enrollment_of(student, course).status is EnrollmentStatus.ACTIVE
    _end_at(enrollment_of(student, course), utcnow() - timedelta(days=2))
    _daily("expire_enrollments")
    _daily("expire_enrollments")
    assert _notices(student, NotificationKind.ACCESS_ENDED) == 2
    assert len(_mails(outbox, "has ended")) == 2


def test_a_notice_for_an_enrollment_renewed_meanwhile_is_not_sent(
    db_session: Session, outbox: Outbox
) -> None:
    student = make_user()
    course, _ = _course_with_video()
    buy(student, course.id, utcnow())
    enrollment = enrollment_of(student, course)
    # The "ended" job arrives after the student bought it again (still active): nothing.
    get_queue(QueueName.DEFAULT).enqueue("app.learning.jobs.send_access_ended", enrollment.id)
    run_jobs()
    assert _notices(student, NotificationKind.ACCESS_ENDED) == 0


@pytest.mark.parametrize(
    ("name", "schedule"),
    [("expire_enrollments", "10 1 * * *"), ("send_access_notices", "20 1 * * *")],
)
def test_both_jobs_are_scheduled_daily(name: str, schedule: str) -> None:
    from rq import cron

    from app.jobs import schedule as module

    cron._job_data_registry.clear()
    importlib.reload(module)
    entries = {d["func"].__name__: d for d in cron._job_data_registry}
    cron._job_data_registry.clear()
    assert entries[name]["cron"] == schedule
    assert entries[name]["queue_name"] == QueueName.DEFAULT.value
