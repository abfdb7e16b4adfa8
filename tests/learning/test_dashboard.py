"""'My learning': sections in order, what each card says, certificates and orders, the empty
state, a fixed number of statements; and the course page for an enrolled student."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask.testing import FlaskClient

from app.accounts.models import User
from app.catalog.models import Chapter, CoursePrice
from app.catalog.services import add_lecture
from app.checkout.models import OrderStatus
from app.core.models import utcnow
from app.extensions import db
from app.learning.dashboard import ago
from app.learning.models import EnrollmentStatus
from tests.conftest import QueryCounter, login_as
from tests.factories import make_course
from tests.learning.builders import certificate, enrol, lectures_of, order_for
from tests.learning.conftest import VideoCourse

HX = {"HX-Request": "true"}


def _section(html: str, title: str) -> str:
    """The HTML of the dashboard section with that heading (up to the next section)."""
    start = html.index(f">{title} <")
    end = html.find("<section", start)
    return html[start : end if end != -1 else None]


def _player(course_slug: str, lecture_id: int) -> str:
    return f"/learning/{course_slug}/{lecture_id}"


@pytest.mark.parametrize("headers", [{}, HX])
def test_no_courses_yet_points_to_the_catalog(
    headers: dict[str, str], client: FlaskClient, student: User
) -> None:
    login_as(client, student)
    response = client.get("/learning", headers=headers)
    assert response.status_code == 200
    html = response.text
    assert "No courses yet" in html and 'href="/courses"' in html
    assert "In progress" not in html and "Access ended" not in html


def test_a_visitor_logs_in_first(client: FlaskClient) -> None:
    response = client.get("/learning")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_sections_come_in_order_with_progress_and_continue(
    client: FlaskClient, student: User, video_course: VideoCourse
) -> None:
    vc = video_course
    deep = vc.lectures[2]
    enrol(
        student.id,
        vc.course,
        progress=50,
        completed_lectures=2,
        current_lecture_id=deep.id,
        last_accessed_at=utcnow() - timedelta(hours=3),
    )
    fresh = make_course("Fresh Start", chapters=(("One", (("Intro", 60), ("More", 60))),))
    enrol(student.id, fresh)
    done = make_course("All Done", chapters=(("One", (("Only", 60),)),))
    enrol(student.id, done, status=EnrollmentStatus.COMPLETED, progress=100, completed_lectures=1)
    gone = make_course("Gone Course")
    enrol(student.id, gone, status=EnrollmentStatus.EXPIRED, expires_at=utcnow() - timedelta(1))
    login_as(client, student)
    html = client.get("/learning").text
    assert html.index(">In progress <") < html.index(">Completed <") < html.index(">Access ended <")

    progress = _section(html, "In progress")
    assert "Video Basics" in progress and "Fresh Start" in progress
    # The most recently watched first; a course never opened after it.
    assert progress.index("Video Basics") < progress.index("Fresh Start")
    assert "<strong>50%</strong> · 2 of 4 lectures done" in progress
    assert "Last accessed 3 hours ago" in progress
    assert f'last watched: <span class="learner-last">{deep.title}</span>' in progress
    assert f'href="{_player(vc.course.slug, deep.id)}"' in progress
    assert ">Continue</a>" in progress
    first = lectures_of(fresh)[0]
    assert (
        f'href="{_player(fresh.slug, first.id)}"' in progress
        and progress.count(">Continue</a>") == 2
    )
    assert "Last accessed never" in progress

    completed = _section(html, "Completed")
    assert "All Done" in completed and "100%" in completed and "new lecture" not in completed
    ended = _section(html, "Access ended")
    assert "Gone Course" in ended and "access period ended" in ended
    assert f'href="/courses/{gone.slug}"' in ended and "Buy again" in ended


def test_a_completed_course_that_gained_lectures_stays_completed(
    client: FlaskClient, student: User
) -> None:
    course = make_course("Growing", chapters=(("One", (("A", 60), ("B", 60))),))
    enrol(student.id, course, status=EnrollmentStatus.COMPLETED, progress=100, completed_lectures=2)
    first_chapter = db.session.get(Chapter, lectures_of(course)[0].chapter_id)
    assert first_chapter is not None
    add_lecture(first_chapter, "C", 60)
    add_lecture(first_chapter, "D", 60)
    db.session.flush()
    db.session.refresh(course)
    login_as(client, student)
    html = client.get("/learning").text
    completed = _section(html, "Completed")
    assert "Growing" in completed and "2 new lectures" in completed
    assert "In progress" not in html


def test_access_ended_says_why(client: FlaskClient, student: User) -> None:
    refunded = make_course("Refunded Course")
    order = order_for(student.id, refunded, OrderStatus.REFUNDED)
    when = utcnow().replace(year=2024, month=2, day=9)
    enrol(student.id, refunded, status=EnrollmentStatus.DROPPED, order_id=order.id, dropped_at=when)
    lapsed = make_course("Lapsed Course")
    enrol(student.id, lapsed, expires_at=utcnow() - timedelta(minutes=5))  # job not run yet
    login_as(client, student)
    ended = _section(client.get("/learning").text, "Access ended")
    assert "Refunded on 09 Feb 2024" in ended
    assert "Lapsed Course" in ended and "access period ended" in ended
    assert ended.count("Buy again") == 2 and "mailto:" in ended
    assert "Continue" not in ended


def test_certificates_and_orders(client: FlaskClient, student: User) -> None:
    course = make_course("Certified")
    paid = order_for(student.id, course, OrderStatus.PAID)
    enrollment = enrol(
        student.id, course, status=EnrollmentStatus.COMPLETED, progress=100, order_id=paid.id
    )
    cert = certificate(enrollment)
    other = make_course("Revoked One")
    revoked = certificate(enrol(student.id, other, status=EnrollmentStatus.DROPPED), revoked=True)
    pending = order_for(student.id, make_course("Unpaid"), OrderStatus.AWAITING_PAYMENT)
    login_as(client, student)
    html = client.get("/learning").text
    certs = html[html.index('id="certificates-title"') : html.index('id="orders-title"')]
    assert "Certified" in certs and "Revoked One" in certs and "revoked" in certs
    endpoints = client.application.view_functions
    if "learning.certificate_page" in endpoints:
        assert f"/certificates/{cert.code}" in certs and f"/certificates/{revoked.code}" in certs
    orders = html[html.index('id="orders-title"') :]
    assert f"/orders/{paid.token}" in orders and f"/orders/{pending.token}" in orders
    assert "Paid" in orders and "Awaiting payment" in orders and "$19.99" in orders
    receipts = re.findall(r'href="([^"]*receipt[^"]*)"', orders)
    if "checkout.order_receipt" in endpoints:
        assert receipts == [f"/orders/{paid.token}/receipt.pdf"]  # paid orders only
    else:
        assert receipts == []


def test_the_dashboard_reads_a_fixed_number_of_statements(
    client: FlaskClient, student: User, count_queries: QueryCounter
) -> None:
    login_as(client, student)

    def statements() -> int:
        start = count_queries.count
        assert client.get("/learning").status_code == 200
        return count_queries.count - start

    course = make_course("One")
    enrollment = enrol(student.id, course)
    certificate(enrollment)
    order_for(student.id, course)
    client.get("/learning")  # warm
    one = statements()
    for n in range(4):
        more = make_course(f"More {n}", chapters=(("C", (("L1", 60), ("L2", 60))),))
        current = lectures_of(more)[1].id if n % 2 else None
        status = EnrollmentStatus.COMPLETED if n == 3 else EnrollmentStatus.ACTIVE
        certificate(enrol(student.id, more, status=status, current_lecture_id=current))
        order_for(student.id, more)
    assert statements() == one
    assert one <= 9


def test_ago_reads_like_a_person() -> None:
    now = utcnow()
    assert ago(None, now) == "never"
    assert ago(now - timedelta(seconds=20), now) == "just now"
    assert ago(now - timedelta(minutes=1), now) == "1 minute ago"
    assert ago(now - timedelta(minutes=59), now) == "59 minutes ago"
    assert ago(now - timedelta(hours=2), now) == "2 hours ago"
    assert ago(now - timedelta(hours=30), now) == "yesterday"
    assert ago(now - timedelta(days=6), now) == "6 days ago"
    long_ago = now.replace(year=2023, month=1, day=5)
    assert ago(long_ago, now) == "5 Jan 2023"


# -- the course page ---------------------------------------------------------------------------


def test_an_enrolled_student_sees_continue_where_they_left_off(
    client: FlaskClient, student: User, video_course: VideoCourse
) -> None:
    vc = video_course
    setup = vc.lectures[1]
    enrol(student.id, vc.course, progress=25, completed_lectures=1, current_lecture_id=setup.id)
    login_as(client, student)
    html = client.get(f"/courses/{vc.course.slug}").text
    assert "Continue where you left off" in html and setup.title in html
    assert f'href="{_player(vc.course.slug, setup.id)}"' in html
    assert 'value="25"' in html and "1 of 4 lectures done" in html
    assert "Add to cart" not in html and "buy-includes" not in html
    # Every lecture of the curriculum opens in the player.
    for lecture in vc.lectures:
        assert f'href="{_player(vc.course.slug, lecture.id)}"' in html


def test_a_student_whose_access_ended_gets_the_buy_box_and_a_note(
    client: FlaskClient, student: User, video_course: VideoCourse
) -> None:
    vc = video_course
    enrol(student.id, vc.course, progress=40, expires_at=utcnow() - timedelta(days=2))
    login_as(client, student)
    html = client.get(f"/courses/{vc.course.slug}").text
    assert "Your access period ended on" in html and "continue from 40%" in html
    assert "Add to cart" in html and "Continue where you left off" not in html
    assert f'href="{_player(vc.course.slug, vc.lectures[1].id)}"' not in html


def test_the_buy_box_shows_the_access_period(
    client: FlaskClient, video_course: VideoCourse
) -> None:
    url = f"/courses/{video_course.course.slug}"
    assert "Full lifetime access" in client.get(url).text
    price = db.session.query(CoursePrice).filter_by(course_id=video_course.course.id).one()
    price.access_period_value, price.access_period_unit = 3, "month"
    db.session.flush()
    html = client.get(url).text
    assert "3 months of access" in html and "Full lifetime access" not in html


def test_a_visitor_gets_the_preview_player_and_no_lecture_links(
    client: FlaskClient, video_course: VideoCourse
) -> None:
    vc = video_course
    html = client.get(f"/courses/{vc.course.slug}").text
    preview = vc.lectures[0]
    assert preview.is_preview
    assert re.search(rf'<video[^>]*data-lecture-id="{preview.id}"', html)
    assert "js/player.js" in html
    assert "/learning/" not in html.split('id="curriculum-title"')[1].split("teacher-card")[0]
