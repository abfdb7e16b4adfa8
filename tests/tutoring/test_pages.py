"""The student's pages for a package: the course page's tiers and open times, the schedule
form's refusals, and the order page that waits for the trainer and then lists the sessions."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.cart.models import CartItem
from app.core.models import utcnow
from tests.payments.conftest import checkout, order_of, payment_token, run_jobs
from tests.tutoring.conftest import next_weekday, package, trainer, tutoring_course

HX = {"HX-Request": "true"}
LONDON = ZoneInfo("Europe/London")


def _form(package_id: int, **changes: str) -> dict[str, object]:
    start = next_weekday(utcnow().date(), 7)
    data: dict[str, object] = {
        "package_id": str(package_id),
        "timezone": "Europe/London",
        "timeSlot": "18:00",
        "sessionDuration": "60",
        "date": start.isoformat(),
        "isSundayOnly": "true",
        "mode": "online",
        "area": "",
        "genderPreference": "",
    }
    data.update(changes)
    return data


def test_the_course_page_offers_the_tiers_and_the_times_a_trainer_is_free(
    client: FlaskClient, db_session: Session, buyer: User
) -> None:
    course, category = tutoring_course()
    package(course, 10, usd=20000)
    package(course, 20, usd=38000)
    trainer([category.slug], timezone="Europe/London")  # Sundays 17:00-21:00 London
    page = client.get(f"/courses/{course.slug}?tz=Europe/London")
    assert page.status_code == 200
    text = page.text
    assert 'id="package-form"' in text and "10 sessions" in text and "20 sessions" in text
    assert "$380.00" in text and "$19.00 a session" in text
    assert "Sun</span> 17:00\u201320:00" in text  # the last 60-minute start is 20:00
    assert "Add to cart" in text
    # Seen from India (winter: London is UTC+0) the window starts at 22:30, after the last
    # start time a student can choose: no time is offered there.
    india = client.get(f"/courses/{course.slug}?tz=Asia/Kolkata").text
    assert "Sun</span>" not in india and "No trainer has a free place" in india


def test_a_refused_schedule_comes_back_with_its_field_marked_and_the_cart_untouched(
    client: FlaskClient, db_session: Session, buyer: User
) -> None:
    course, category = tutoring_course()
    ten = package(course, 10)
    trainer([category.slug])
    late = client.post("/cart/packages", data=_form(ten.id, sessionDuration="50"), headers=HX)
    assert late.status_code == 422
    assert 'id="package-form"' in late.text and "<html" not in late.text
    assert "A session lasts 45, 60, 90 minutes." in late.text
    nobody = client.post("/cart/packages", data=_form(ten.id, timeSlot="09:00"))
    assert nobody.status_code == 422 and "<html" in nobody.text  # without JS: a whole page
    assert "No trainer is free for that schedule" in nobody.text
    assert db_session.scalars(select(CartItem)).all() == []


def test_bought_the_order_page_waits_for_the_trainer_then_lists_every_session(
    client: FlaskClient, db_session: Session, buyer: User
) -> None:
    course, category = tutoring_course()
    ten = package(course, 10)
    trainer([category.slug], name="Tara Trainer")
    added = client.post("/cart/packages", data=_form(ten.id))
    assert added.status_code == 303 and added.headers["Location"].endswith("/cart")
    token = payment_token(checkout(client).headers["Location"])
    client.post(f"/pay/{token}/sandbox", data={"action": "pay", "card": "4242424242424242"})
    run_jobs(max_rounds=1)  # the webhook and fulfilment only: the assignment waits its turn
    order = order_of(db_session, buyer)
    waiting = client.get(f"/orders/{order.token}")
    if "Your trainer:" not in waiting.text:  # one burst may already have run the assignment
        assert "Finding your trainer" in waiting.text and "every 2s" in waiting.text
    run_jobs()
    done = client.get(f"/orders/{order.token}", headers=HX)
    assert "Your trainer: <strong>Tara Trainer</strong>" in done.text
    assert "Your sessions are booked" in done.text and "start learning" not in done.text
    assert "every 2s" not in done.text  # nothing left to wait for
    assert done.text.count("<td>Scheduled</td>") == 10
    first = next_weekday(utcnow().date(), 7)
    assert first.strftime("%a %d %b %Y") + ", 18:00" in done.text
    assert (first + timedelta(weeks=9)).strftime("%d %b %Y") in done.text
    assert "0 of 10</strong> sessions attended" in done.text


def test_the_student_moves_and_cancels_sessions_from_the_order_page(
    client: FlaskClient, db_session: Session, buyer: User
) -> None:
    from app.tutoring.models import SessionStatus, TutoringSession

    course, category = tutoring_course()
    ten = package(course, 10)
    trainer([category.slug], name="Tara Trainer")
    client.post("/cart/packages", data=_form(ten.id))
    token = payment_token(checkout(client).headers["Location"])
    client.post(f"/pay/{token}/sandbox", data={"action": "pay", "card": "4242424242424242"})
    run_jobs()
    order = order_of(db_session, buyer)
    page = f"/orders/{order.token}"
    assert client.get(page).text.count(">Cancel (added at the end)<") == 10
    sessions = db_session.scalars(select(TutoringSession).order_by(TutoringSession.number)).all()

    moved = client.post(
        f"/tutoring/sessions/{sessions[1].id}/move",
        data={"next": page, "timezone": "Europe/London",
              "starts_at": sessions[1].starts_at.astimezone(LONDON).replace(hour=19).strftime("%Y-%m-%dT%H:%M")},
    )  # fmt: skip
    assert moved.status_code == 303 and moved.headers["Location"] == page
    db_session.refresh(sessions[1])
    assert sessions[1].starts_at.astimezone(LONDON).hour == 19
    late = client.post(f"/tutoring/sessions/{sessions[1].id}/move",
                       data={"next": page, "timezone": "Europe/London", "starts_at": "2020-01-05T18:00"})  # fmt: skip
    assert "at least 24 hours from now" in client.get(late.headers["Location"]).text

    client.post(f"/tutoring/sessions/{sessions[0].id}/cancel", data={"next": page})
    after = client.get(page).text
    assert "session 11 was added at the end" in after
    assert after.count("<td>Scheduled</td>") == 10 and "<td>Canceled</td>" in after
    db_session.expire_all()
    assert db_session.get(TutoringSession, sessions[0].id).status is SessionStatus.CANCELED  # type: ignore[union-attr]
