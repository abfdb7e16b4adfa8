"""The lecture player page: who opens it and how, resume position, previous/next, the sidebar
(page and HTMX fragment), "Mark as done", the "access ended" pages and the old lecture URL."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app.accounts.models import Role, User
from app.catalog.models import CourseStatus, Lecture
from app.core.models import utcnow
from app.extensions import db
from app.learning.models import EnrollmentStatus
from tests.conftest import QueryCounter, login_as
from tests.factories import make_user
from tests.learning.builders import attachment, enrol, order_for, watch
from tests.learning.conftest import VideoCourse

HX = {"HX-Request": "true", "HX-Target": "lecture-sidebar"}


def _url(vc: VideoCourse, lecture: Lecture) -> str:
    return f"/learning/{vc.course.slug}/{lecture.id}"


def _attr(html: str, name: str) -> str | None:
    found = re.search(rf'{name}="([^"]*)"', html)
    return found.group(1) if found else None


# -- a student with access --------------------------------------------------------------------


def test_an_enrolled_student_gets_the_player_at_their_saved_position(
    client: FlaskClient, student: User, video_course: VideoCourse
) -> None:
    enrollment = enrol(student.id, video_course.course)
    welcome, setup, *_ = video_course.lectures
    watch(enrollment, welcome, position_s=60, done=True)
    watch(enrollment, setup, position_s=42)
    login_as(client, student)
    response = client.get(_url(video_course, setup))
    assert response.status_code == 200
    html = response.text
    video = re.search(r"<video[^>]*>", html)
    assert video is not None
    tag = video.group(0)
    assert f'data-lecture-id="{setup.id}"' in tag
    assert _attr(tag, "data-resume") == "42"
    assert _attr(tag, "data-csrf")  # the heartbeat beacon carries the token in its body
    assert _attr(tag, "data-done") == "false"
    if "learning.heartbeat" in client.application.view_functions:
        assert _attr(tag, "data-heartbeat-url") == f"/learning/progress/{setup.id}"
    assert "js/learn.js" in html and "vendor/hls.js/hls.min.js" in html
    assert "Keyboard shortcuts" in html and "data-speed" in html and "data-quality" in html
    assert 'id="lecture-sidebar"' in html
    assert "Mark as done" not in html  # it has a video: watching marks it done
    assert response.headers["Vary"] == "HX-Request" or "HX-Request" in response.headers["Vary"]


def test_the_lecture_description_and_files_are_on_the_page(
    client: FlaskClient, student: User, video_course: VideoCourse
) -> None:
    reading = video_course.reading
    reading.description_html = "<p>Read <strong>these</strong> first.</p>"
    notes = attachment(reading)
    enrol(student.id, video_course.course)
    login_as(client, student)
    html = client.get(_url(video_course, reading)).text
    assert "<strong>these</strong>" in html
    assert f'href="/lectures/{reading.id}/attachments/{notes.token}"' in html
    assert "notes.pdf" in html


def test_a_lecture_never_watched_starts_at_zero(
    client: FlaskClient, student: User, video_course: VideoCourse
) -> None:
    enrol(student.id, video_course.course)
    login_as(client, student)
    html = client.get(_url(video_course, video_course.lectures[0])).text
    assert _attr(html, "data-resume") == "0"


def test_previous_and_next_follow_the_course_order(
    client: FlaskClient, student: User, video_course: VideoCourse
) -> None:
    enrol(student.id, video_course.course)
    login_as(client, student)
    welcome, setup, deep, reading = video_course.lectures
    first = client.get(_url(video_course, welcome)).text
    assert 'rel="prev"' not in first
    assert f'rel="next" href="{_url(video_course, setup)}"' in first
    across = client.get(_url(video_course, setup)).text  # the next one is in chapter 2
    assert f'rel="prev" href="{_url(video_course, welcome)}"' in across
    assert f'rel="next" href="{_url(video_course, deep)}"' in across
    last = client.get(_url(video_course, reading)).text
    assert f'rel="prev" href="{_url(video_course, deep)}"' in last
    assert 'rel="next"' not in last


def test_the_sidebar_marks_done_lectures_and_refreshes_as_a_fragment(
    client: FlaskClient, student: User, video_course: VideoCourse
) -> None:
    enrollment = enrol(student.id, video_course.course, progress=25, completed_lectures=1)
    welcome, setup, *_ = video_course.lectures
    watch(enrollment, welcome, position_s=60, done=True)
    login_as(client, student)
    page = client.get(_url(video_course, setup)).text
    sidebar = page[page.index('id="lecture-sidebar"') :]
    assert sidebar.count("is-done") == 1
    assert f'{welcome.title}<span class="visually-hidden"> (done)</span>' in sidebar
    assert 'aria-current="page"' in sidebar and "25%" in sidebar
    assert 'hx-trigger="progress-changed from:body"' in sidebar
    assert f'hx-get="{_url(video_course, setup)}"' in sidebar

    fragment = client.get(_url(video_course, setup), headers=HX)
    assert fragment.status_code == 200
    text = fragment.text.strip()
    assert text.startswith('<nav id="lecture-sidebar"'), text[:80]
    assert "<html" not in text and "<video" not in text
    assert "HX-Request" in fragment.headers["Vary"]


def test_a_lecture_without_video_offers_mark_as_done(
    client: FlaskClient, student: User, video_course: VideoCourse
) -> None:
    enrol(student.id, video_course.course)
    login_as(client, student)
    html = client.get(_url(video_course, video_course.reading)).text
    assert "<video" not in html and "learn.js" not in html
    assert "This lecture has no video" in html
    action = f"/learning/{video_course.course.slug}/{video_course.reading.id}/done"
    assert f'action="{action}"' in html and f'hx-post="{action}"' in html
    assert 'hx-target="#done-button"' in html and 'id="done-button"' in html
    assert 'name="csrf_token"' in html


def test_an_archived_course_keeps_playing_for_its_students(
    client: FlaskClient, student: User, video_course: VideoCourse
) -> None:
    enrol(student.id, video_course.course)
    video_course.course.status = CourseStatus.ARCHIVED
    db.session.flush()
    login_as(client, student)
    assert client.get(_url(video_course, video_course.lectures[0])).status_code == 200


# -- teachers and admins ----------------------------------------------------------------------


@pytest.mark.parametrize("who", ["teacher", "admin"])
def test_the_teacher_and_admins_watch_without_a_record(
    who: str, client: FlaskClient, video_course: VideoCourse, admin: User
) -> None:
    login_as(client, video_course.teacher if who == "teacher" else admin)
    response = client.get(_url(video_course, video_course.lectures[1]))
    assert response.status_code == 200
    html = response.text
    assert "<video" in html and "data-heartbeat-url" not in html and "data-csrf" not in html
    assert "nothing you watch is recorded" in html
    assert "progress-changed" not in html  # no progress: the sidebar never refreshes
    reading = client.get(_url(video_course, video_course.reading)).text
    assert "Mark as done" not in reading


def test_a_draft_course_opens_for_its_teacher_only(
    client: FlaskClient, student: User, video_course: VideoCourse
) -> None:
    video_course.course.status = CourseStatus.DRAFT
    db.session.flush()
    url = _url(video_course, video_course.lectures[0])
    login_as(client, student)
    assert client.get(url).status_code == 404
    login_as(client, video_course.teacher)
    assert client.get(url).status_code == 200


# -- no access --------------------------------------------------------------------------------


def test_a_visitor_is_sent_to_log_in(client: FlaskClient, video_course: VideoCourse) -> None:
    url = _url(video_course, video_course.lectures[1])
    response = client.get(url)
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]
    assert client.get(url, headers=HX).status_code == 302


@pytest.mark.parametrize("path", ["wrong-course/{id}", "{slug}/999999999"])
def test_unknown_lectures_and_mismatched_courses_are_404(
    path: str, client: FlaskClient, student: User, video_course: VideoCourse
) -> None:
    enrol(student.id, video_course.course)
    login_as(client, student)
    lecture = video_course.lectures[0]
    url = "/learning/" + path.format(id=lecture.id, slug=video_course.course.slug)
    assert client.get(url).status_code == 404


@pytest.mark.parametrize("headers", [{}, HX])
def test_a_student_never_enrolled_gets_the_course_pitch(
    headers: dict[str, str], client: FlaskClient, student: User, video_course: VideoCourse
) -> None:
    other_teacher = make_user(Role.TEACHER)
    for user in (student, other_teacher):
        login_as(client, user)
        response = client.get(_url(video_course, video_course.lectures[1]), headers=headers)
        assert response.status_code == 403
        html = response.text
        assert "<video" not in html and "Your access ended" not in html
        assert video_course.course.title in html and "See the course" in html
        assert f'href="/courses/{video_course.course.slug}"' in html


def _ended(client: FlaskClient, vc: VideoCourse) -> str:
    response = client.get(_url(vc, vc.lectures[1]))
    assert response.status_code == 403
    html = response.text
    assert "Your access ended" in html and "<video" not in html
    assert f'href="/courses/{vc.course.slug}"' in html and "Buy again" in html
    assert "mailto:" in html  # contact support
    return html


def test_a_refunded_student_is_told_when_and_what_to_do(
    client: FlaskClient, student: User, video_course: VideoCourse
) -> None:
    order = order_for(student.id, video_course.course)
    when = utcnow().replace(year=2024, month=3, day=14)
    enrol(
        student.id,
        video_course.course,
        status=EnrollmentStatus.DROPPED,
        order_id=order.id,
        dropped_at=when,
    )
    login_as(client, student)
    assert "refunded on 14 March 2024" in _ended(client, video_course)


def test_an_expired_access_period_is_explained(
    client: FlaskClient, student: User, video_course: VideoCourse
) -> None:
    ended = utcnow().replace(year=2024, month=5, day=2)
    enrol(student.id, video_course.course, status=EnrollmentStatus.EXPIRED, expires_at=ended)
    login_as(client, student)
    assert "access period ended on 02 May 2024" in _ended(client, video_course)


def test_a_passed_end_date_ends_access_before_the_daily_job(
    client: FlaskClient, student: User, video_course: VideoCourse
) -> None:
    enrol(student.id, video_course.course, expires_at=utcnow() - timedelta(minutes=1))
    login_as(client, student)
    assert "access period ended on" in _ended(client, video_course)


def test_a_dropped_enrollment_without_an_order_says_so(
    client: FlaskClient, student: User, video_course: VideoCourse
) -> None:
    enrol(student.id, video_course.course, status=EnrollmentStatus.DROPPED)
    login_as(client, student)
    assert "removed from this course" in _ended(client, video_course)


# -- mark as done -----------------------------------------------------------------------------


def _done_url(vc: VideoCourse, lecture: Lecture) -> str:
    return f"/learning/{vc.course.slug}/{lecture.id}/done"


def test_mark_as_done_goes_to_the_next_lecture(
    client: FlaskClient, student: User, video_course: VideoCourse
) -> None:
    vc = video_course
    # A reading in the middle: move it before "Deep dive".
    reading, deep = vc.reading, vc.lectures[2]
    reading.position, deep.position = deep.position, reading.position
    db.session.flush()
    enrol(student.id, vc.course)
    login_as(client, student)
    response = client.post(_done_url(vc, reading))
    assert response.status_code == 303
    assert response.headers["Location"].endswith(_url(vc, deep))
    page = client.get(_url(vc, reading)).text
    assert "Mark as done" not in page and "✓</span> Done" in page


def test_mark_as_done_with_htmx_answers_the_button_and_the_sidebar(
    client: FlaskClient, student: User, video_course: VideoCourse
) -> None:
    vc = video_course
    enrol(student.id, vc.course)
    login_as(client, student)
    response = client.post(
        _done_url(vc, vc.reading), headers={"HX-Request": "true", "HX-Target": "done-button"}
    )
    assert response.status_code == 200
    text = response.text.strip()
    assert text.startswith('<div id="done-button"'), text[:80]
    assert "Mark as done" not in text and "Done" in text
    assert '<nav id="lecture-sidebar"' in text and 'hx-swap-oob="true"' in text
    assert text.count("is-done") == 1
    # The last lecture of the course: there is no next one to offer.
    assert "Next lecture" not in text


def test_the_last_lecture_done_by_plain_post_comes_back_to_it(
    client: FlaskClient, student: User, video_course: VideoCourse
) -> None:
    enrol(student.id, video_course.course)
    login_as(client, student)
    response = client.post(_done_url(video_course, video_course.reading))
    assert response.status_code == 303
    assert response.headers["Location"].endswith(_url(video_course, video_course.reading))


def test_mark_as_done_is_refused_for_a_video_and_for_people_without_access(
    client: FlaskClient, student: User, video_course: VideoCourse, admin: User
) -> None:
    vc = video_course
    login_as(client, student)  # not enrolled
    assert client.post(_done_url(vc, vc.reading)).status_code == 403
    login_as(client, admin)  # staff: nothing is recorded for them
    assert client.post(_done_url(vc, vc.reading)).status_code == 403
    enrol(student.id, vc.course)
    login_as(client, student)
    refused = client.post(_done_url(vc, vc.lectures[0]))  # has a video: watching decides
    assert refused.status_code == 409


def test_mark_as_done_needs_a_login_and_the_csrf_token(
    app: Flask,
    client: FlaskClient,
    student: User,
    video_course: VideoCourse,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = _done_url(video_course, video_course.reading)
    anonymous = client.post(url)
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    enrol(student.id, video_course.course)
    login_as(client, student)
    assert client.post(url).status_code == 400


# -- the old lecture URL and the number of statements -----------------------------------------


def test_the_old_lecture_url_redirects_to_the_player(
    client: FlaskClient, video_course: VideoCourse
) -> None:
    lecture = video_course.lectures[1]
    response = client.get(f"/lectures/{lecture.id}")
    assert response.status_code in (301, 302)
    assert response.headers["Location"].endswith(_url(video_course, lecture))
    assert client.get("/lectures/999999999").status_code == 404


def test_the_player_reads_a_fixed_number_of_statements(
    client: FlaskClient, student: User, video_course: VideoCourse, count_queries: QueryCounter
) -> None:
    enrollment = enrol(student.id, video_course.course)
    login_as(client, student)
    url = _url(video_course, video_course.lectures[1])

    def statements() -> list[str]:
        start = count_queries.count
        assert client.get(url).status_code == 200
        return count_queries.statements[start:]

    client.get(url)  # warm
    before = statements()
    for lecture in video_course.lectures:  # progress in every lecture: still no more reads
        watch(enrollment, lecture, position_s=5, done=True)
    after = statements()
    assert len(after) == len(before), "\n".join(after)
    # login, lecture+course+video, enrollment, progress rows, curriculum, attachments
    # (and the header's cart badge and notification bell, which every page reads)
    assert len(after) <= 8, "\n".join(after)
