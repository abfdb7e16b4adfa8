"""Course page views: counted in Redis per request, moved into course_view_days by a job."""

from __future__ import annotations

import socket
from datetime import date, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.catalog import views_counter
from app.catalog.jobs import flush_course_views
from app.catalog.models import Course, CourseStatus, CourseViewDay
from app.core.models import utcnow
from app.extensions import get_redis, redis_client
from tests.factories import make_course

BROWSER = {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"}


def _views(session: Session, course: Course, day: date | None = None) -> int | None:
    return session.scalar(
        select(CourseViewDay.views).where(
            CourseViewDay.course_id == course.id, CourseViewDay.day == (day or utcnow().date())
        )
    )


def _show(client: FlaskClient, course: Course, times: int = 1, **headers: str) -> None:
    for _ in range(times):
        response = client.get(f"/courses/{course.slug}", headers={**BROWSER, **headers})
        assert response.status_code == 200


def test_three_views_then_flush_and_a_second_flush_adds_nothing(
    client: FlaskClient, db_session: Session
) -> None:
    course, other = make_course("Counted"), make_course("Not shown")
    _show(client, course, 3)
    assert get_redis().hget(views_counter.day_key(utcnow().date()), str(course.id)) == b"3"
    assert _views(db_session, course) is None  # a page view writes no row

    assert flush_course_views() == 3
    assert _views(db_session, course) == 3
    assert _views(db_session, other) is None
    assert flush_course_views() == 0
    assert _views(db_session, course) == 3
    assert not get_redis().exists(views_counter.day_key(utcnow().date()))


def test_views_before_and_after_a_flush_add_up(client: FlaskClient, db_session: Session) -> None:
    course = make_course()
    _show(client, course, 2)
    flush_course_views()
    _show(client, course, 3)
    flush_course_views()
    assert _views(db_session, course) == 5


def test_head_fragments_crawlers_and_drafts_are_not_counted(
    client: FlaskClient, db_session: Session
) -> None:
    course = make_course()
    draft = make_course(status=CourseStatus.DRAFT)
    assert client.head(f"/courses/{course.slug}", headers=BROWSER).status_code == 200
    _show(client, course, **{"HX-Request": "true"})  # an HTMX swap, not a page
    _show(client, course, **{"User-Agent": "Mozilla/5.0 (compatible; Googlebot/2.1)"})
    _show(client, course, **{"User-Agent": ""})
    assert client.get(f"/courses/{draft.slug}", headers=BROWSER).status_code == 404
    assert flush_course_views() == 0

    _show(client, course, **{"HX-Request": "true", "HX-Boosted": "true"})  # a boosted link is
    assert flush_course_views() == 1  # a page view


def test_yesterdays_views_are_flushed_after_midnight(db_session: Session) -> None:
    course = make_course()
    now = utcnow()
    yesterday = now - timedelta(days=1)
    views_counter.count_course_view(course.id, yesterday)
    views_counter.count_course_view(course.id, yesterday)
    views_counter.count_course_view(course.id, now)
    assert flush_course_views() == 3
    assert _views(db_session, course, yesterday.date()) == 2
    assert _views(db_session, course, now.date()) == 1


def test_a_flush_that_died_before_its_commit_loses_nothing(db_session: Session) -> None:
    course = make_course()
    today = utcnow().date()
    views_counter.count_course_view(course.id)
    views_counter.count_course_view(course.id)
    assert views_counter.take_views(today) == {course.id: 2}  # ...and the job died here
    views_counter.count_course_view(course.id)  # a view after the crash
    assert flush_course_views() == 3
    assert _views(db_session, course) == 3
    assert not get_redis().exists(views_counter.pending_key(today))


def test_a_running_flush_keeps_a_second_one_out(db_session: Session) -> None:
    course = make_course()
    views_counter.count_course_view(course.id)
    token = views_counter.lock_flush()
    assert token is not None
    assert flush_course_views() == 0  # the other flush holds the lock
    views_counter.unlock_flush(token)
    assert flush_course_views() == 1


def test_views_of_deleted_courses_and_junk_fields_are_skipped(db_session: Session) -> None:
    course = make_course()
    key = views_counter.day_key(utcnow().date())
    get_redis().hset(key, mapping={str(course.id): 2, "999999999": 4, "junk": 1})
    assert flush_course_views() == 2
    assert _views(db_session, course) == 2
    assert not get_redis().exists(key)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_redis_down_the_page_still_shows(
    app: Flask, client: FlaskClient, db_session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    course = make_course("Shown anyway")
    dead = redis_client({"REDIS_URL": f"redis://127.0.0.1:{_closed_port()}/0"})
    monkeypatch.setitem(app.extensions, "redis", dead)
    monkeypatch.setitem(app.extensions, "course_views_paused_until", 0.0)  # restored after
    response = client.get(f"/courses/{course.slug}", headers=BROWSER)
    assert response.status_code == 200
    assert "Shown anyway" in response.text
    assert app.extensions["course_views_paused_until"] > 0  # counting failed, quietly
