"""The studio through the test client: JavaScript-off flows (plain forms and 303s), the HTMX
answers (each the element its trigger swaps), publishing from the page, the dashboard's
figures and the Markdown preview."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app.catalog.models import Course, CourseStatus
from app.checkout.models import Order, OrderItem, OrderStatus
from app.checkout.queries import revenue_by_course
from app.core.money import Money
from app.extensions import db
from app.learning.models import EnrollmentSource
from app.learning.services import grant_enrollment
from app.teaching import queries
from tests.core.test_htmx_rule import parse, roots
from tests.factories import make_user
from tests.teaching.conftest import (
    HX,
    Studio,
    chapters_of,
    details_form,
    lectures_of,
    ready_video,
)


def _course(course_id: int) -> Course:
    db.session.expire_all()
    course = db.session.get(Course, course_id)
    assert course is not None
    return course


def _root_id(response: object) -> str:
    top = roots(parse(response.get_data(as_text=True)))  # type: ignore[attr-defined]
    assert len(top) == 1, [n.label() for n in top]
    return "|".join(top[0].ids)


# --- without JavaScript ----------------------------------------------------------------------


def test_create_and_edit_a_course_with_plain_forms(
    teacher_client: FlaskClient, studio: Studio
) -> None:
    created = teacher_client.post("/studio/courses/new", data={"title": "Kitchen chemistry"})
    assert created.status_code == 303
    course_id = int(re.search(r"/studio/courses/(\d+)$", created.headers["Location"])[1])
    course = _course(course_id)
    assert course.teacher_id == studio.teacher.id and course.status is CourseStatus.DRAFT
    assert course.slug == "kitchen-chemistry"

    saved = teacher_client.post(f"/studio/courses/{course_id}", data=details_form())
    assert saved.status_code == 303 and saved.headers["Location"].endswith(
        f"/studio/courses/{course_id}"
    )
    course = _course(course_id)
    assert course.subtitle == "Science you can eat"
    assert "<strong>why</strong>" in course.description_html
    assert queries.get_prices(course_id) == {"USD": 2450}
    page = teacher_client.get(f"/studio/courses/{course_id}").get_data(as_text=True)
    assert "Saved." in page and 'value="24.50"' in page

    free = teacher_client.post(f"/studio/courses/{course_id}", data=details_form(free="y"))
    assert free.status_code == 303
    assert queries.get_prices(course_id) == {"USD": 0, "INR": 0}


def test_a_bad_price_is_shown_on_its_field(teacher_client: FlaskClient, studio: Studio) -> None:
    answer = teacher_client.post(
        f"/studio/courses/{studio.course.id}", data=details_form(price_usd="12.345")
    )
    assert answer.status_code == 422
    assert re.search(
        r'id="price_usd-error"[^>]*>[^<]*at most 2 decimals', answer.get_data(as_text=True)
    )
    assert queries.get_prices(studio.course.id) == {"USD": 1999}  # unchanged


def test_curriculum_with_plain_forms(teacher_client: FlaskClient, studio: Studio) -> None:
    course_id = studio.course.id
    back = f"/studio/courses/{course_id}/curriculum"
    one, two = chapters_of(studio.course)
    a, b, c = lectures_of(studio.course)
    steps = [
        (f"/studio/courses/{course_id}/chapters", {"title": "Three"}),
        (f"/studio/chapters/{two.id}/lectures", {"title": "D"}),
        (f"/studio/lectures/{b.id}/move", {"direction": "up"}),
        (f"/studio/chapters/{two.id}/move", {"direction": "up"}),
        (f"/studio/lectures/{c.id}/rename", {"title": "Charlie"}),
        (f"/studio/chapters/{one.id}/rename", {"title": "First"}),
        (f"/studio/lectures/{a.id}/preview", {"is_preview": "1"}),
        (f"/studio/lectures/{b.id}/preview", {"is_preview": "0"}),
    ]
    for path, data in steps:
        answer = teacher_client.post(path, data=data)
        assert answer.status_code == 303 and answer.headers["Location"].endswith(back), path
    db.session.expire_all()
    chapters = [(ch.title, ch.position) for ch in chapters_of(studio.course)]
    assert chapters == [("Two", 1), ("First", 2), ("Three", 3)]
    lectures = [(x.title, x.is_preview) for x in lectures_of(studio.course)]
    assert lectures == [
        ("Charlie", True),
        ("D", False),
        ("B", False),
        ("A", True),
    ]  # C was a preview
    page = teacher_client.get(back).get_data(as_text=True)
    assert page.index("Charlie") < page.index(">B<") < page.index(">A<")

    d = lectures_of(studio.course)[1]
    assert teacher_client.post(f"/studio/lectures/{d.id}/delete").status_code == 303
    assert [x.title for x in lectures_of(studio.course)] == ["Charlie", "B", "A"]


def test_a_refusal_without_js_is_flashed(teacher_client: FlaskClient, studio: Studio) -> None:
    grant_enrollment(make_user().id, studio.course.id, EnrollmentSource.FREE)
    lecture = lectures_of(studio.course)[0]
    answer = teacher_client.post(f"/studio/lectures/{lecture.id}/delete", follow_redirects=True)
    assert "Students are enrolled" in answer.get_data(as_text=True)
    assert len(lectures_of(studio.course)) == 3


def test_drag_and_drop_order_posts_the_whole_list(
    teacher_client: FlaskClient, studio: Studio
) -> None:
    one, two = chapters_of(studio.course)
    a, b, c = lectures_of(studio.course)
    data = {
        "chapter": [str(two.id), str(one.id)],
        f"lectures-{two.id}": [str(b.id), str(c.id)],
        f"lectures-{one.id}": [str(a.id)],
    }
    answer = teacher_client.post(f"/studio/courses/{studio.course.id}/order", data=data, headers=HX)
    assert answer.status_code == 200 and _root_id(answer) == "curriculum"
    db.session.expire_all()
    assert [x.title for x in lectures_of(studio.course)] == ["B", "C", "A"]
    stale = teacher_client.post(
        f"/studio/courses/{studio.course.id}/order", data={"chapter": [str(one.id)]}, headers=HX
    )
    assert stale.status_code == 422 and "reload" in stale.get_data(as_text=True)


def test_the_page_carries_the_order_form_with_the_current_order(
    teacher_client: FlaskClient, studio: Studio
) -> None:
    page = teacher_client.get(f"/studio/courses/{studio.course.id}/curriculum").get_data(
        as_text=True
    )
    form = re.search(r"<form[^>]*data-order-form.*?</form>", page, re.S)
    assert form is not None
    one, _ = chapters_of(studio.course)
    a, b, _ = lectures_of(studio.course)
    assert f'name="lectures-{one.id}" value="{a.id}"' in form[0]
    assert form[0].index(f'value="{a.id}"') < form[0].index(f'value="{b.id}"')
    assert "js/studio.js" in page


# --- HTMX ------------------------------------------------------------------------------------


def test_htmx_answers_are_the_swapped_elements(teacher_client: FlaskClient, studio: Studio) -> None:
    course_id = studio.course.id
    one, _ = chapters_of(studio.course)
    lecture = lectures_of(studio.course)[0]
    cases = [
        ("GET", f"/studio/courses/{course_id}/curriculum", {}, "curriculum", 200),
        ("POST", f"/studio/courses/{course_id}/chapters", {"title": "X"}, "curriculum", 200),
        ("POST", f"/studio/courses/{course_id}/chapters", {"title": " "}, "curriculum", 422),
        ("POST", f"/studio/chapters/{one.id}/move", {"direction": "down"}, "curriculum", 200),
        ("POST", f"/studio/lectures/{lecture.id}/preview", {"is_preview": "1"}, "curriculum", 200),
        ("POST", f"/studio/courses/{course_id}", details_form(), "course-details", 200),
        ("POST", f"/studio/courses/{course_id}", details_form(title=""), "course-details", 422),
        ("POST", f"/studio/courses/{course_id}/publish", {}, "publish-panel", 422),
        ("POST", f"/studio/courses/{course_id}/cover", {}, "course-cover", 422),
        ("POST", "/studio/markdown-preview", {"description": "# Hi"}, "description-preview", 200),
        (
            "POST",
            f"/studio/lectures/{lecture.id}",
            {"title": "A2", "description": "x"},
            "lecture-details",
            200,
        ),
        ("POST", f"/studio/lectures/{lecture.id}/attachments", {}, "attachments", 422),
    ]
    for method, path, data, root, status in cases:
        answer = teacher_client.open(path, method=method, data=data, headers=HX)
        assert (answer.status_code, _root_id(answer)) == (status, root), (method, path)
        assert "HX-Request" in answer.headers.get("Vary", "")


def test_saving_details_refreshes_the_publish_panel_out_of_band(
    teacher_client: FlaskClient, studio: Studio
) -> None:
    answer = teacher_client.post(
        f"/studio/courses/{studio.course.id}", data=details_form(description=""), headers=HX
    )
    html = answer.get_data(as_text=True)
    panel = re.search(r'<section id="publish-panel"[^>]*hx-swap-oob=true.*?</section>', html, re.S)
    assert panel is not None and "Write a description." in panel[0]


def test_markdown_preview_is_sanitised(teacher_client: FlaskClient) -> None:
    answer = teacher_client.post(
        "/studio/markdown-preview",
        data={"description": "*hi* <img src=x onerror=alert(1)>"},
        headers=HX,
    )
    html = answer.get_data(as_text=True)
    assert "<em>hi</em>" in html and "<img" not in html


# --- publishing and the dashboard ------------------------------------------------------------


def test_publish_from_the_page(app: Flask, teacher_client: FlaskClient, studio: Studio) -> None:
    path = f"/studio/courses/{studio.course.id}/publish"
    refused = teacher_client.post(path, headers=HX)
    assert refused.status_code == 422
    assert "finished processing" in refused.get_data(as_text=True)
    ready_video(lectures_of(studio.course)[0], studio.teacher)
    published = teacher_client.post(path)
    assert published.status_code == 303
    assert _course(studio.course.id).status is CourseStatus.PUBLISHED
    catalog = teacher_client.get(f"/courses/{studio.course.slug}")
    assert catalog.status_code == 200
    down = teacher_client.post(
        f"/studio/courses/{studio.course.id}/unpublish", data={"status": "archived"}, headers=HX
    )
    assert down.status_code == 200 and _root_id(down) == "publish-panel"
    assert _course(studio.course.id).status is CourseStatus.ARCHIVED


def _order(
    course: Course, currency: str, total: int, status: OrderStatus, refunded: int = 0
) -> None:
    order = Order(
        user_id=make_user().id,
        status=status,
        currency=currency,
        subtotal_minor=total,
        total_minor=total,
        refunded_minor=refunded,
    )
    db.session.add(order)
    db.session.flush()
    db.session.add(
        OrderItem(
            order_id=order.id,
            course_id=course.id,
            title=course.title,
            base_minor=total,
            sale_minor=total,
            total_minor=total,
            refunded_minor=refunded,
        )
    )
    db.session.flush()


def test_revenue_is_net_of_refunds_per_currency(studio: Studio) -> None:
    course = studio.course
    _order(course, "USD", 1999, OrderStatus.PAID)
    _order(course, "USD", 1999, OrderStatus.PARTIALLY_REFUNDED, refunded=500)
    _order(course, "USD", 1999, OrderStatus.REFUNDED, refunded=1999)
    _order(course, "USD", 1999, OrderStatus.AWAITING_PAYMENT)  # not paid: not revenue
    _order(course, "INR", 49900, OrderStatus.PAID)
    _order(studio.theirs, "USD", 999, OrderStatus.PAID)
    assert revenue_by_course([course.id]) == {course.id: [Money(49900, "INR"), Money(3498, "USD")]}


def test_dashboard_shows_status_students_revenue_and_videos(
    teacher_client: FlaskClient, studio: Studio
) -> None:
    course = studio.course
    grant_enrollment(make_user().id, course.id, EnrollmentSource.FREE)
    dropped = make_user()
    grant_enrollment(dropped.id, course.id, EnrollmentSource.FREE)
    from app.learning.services import drop_enrollment

    drop_enrollment(dropped.id, course.id)
    _order(course, "USD", 1999, OrderStatus.PAID)
    ready_video(lectures_of(course)[0], studio.teacher)
    [mine] = queries.list_studio_courses(studio.teacher.id)
    assert (mine.id, mine.students, mine.lecture_count) == (course.id, 1, 3)
    assert (mine.videos.ready, mine.videos.missing) == (1, 2)
    page = teacher_client.get("/studio/").get_data(as_text=True)
    assert "Studio course" in page and "$19.99" in page and "1 ready" in page
    assert "Their course" not in page


@pytest.mark.parametrize(
    "path",
    ["/studio/courses/{id}", "/studio/courses/{id}/curriculum", "/studio/lectures/{lecture}"],
)
def test_pages_render_plain_and_for_htmx(
    teacher_client: FlaskClient, studio: Studio, path: str
) -> None:
    url = path.format(id=studio.course.id, lecture=lectures_of(studio.course)[0].id)
    assert teacher_client.get(url).status_code == 200
    assert teacher_client.get(url, headers=HX).status_code == 200


def test_a_curriculum_change_refreshes_the_publish_panel(
    teacher_client: FlaskClient, studio: Studio
) -> None:
    lecture = lectures_of(studio.course)[0]
    answer = teacher_client.post(
        f"/studio/lectures/{lecture.id}/preview", data={"is_preview": "1"}, headers=HX
    )
    html = answer.get_data(as_text=True)
    assert _root_id(answer) == "curriculum"
    assert re.search(r'<section id="publish-panel"[^>]*hx-swap-oob=true', html)
