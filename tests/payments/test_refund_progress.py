"""Required 7: the self-service refund reads real progress. Progress is written the way the
player writes it (app/learning/progress.py: lectures done, the enrollment recounted), then the
student asks for a refund through the refund form."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.catalog.models import Chapter, Course, Lecture
from app.checkout.models import OrderItem, OrderItemStatus
from app.extensions import db
from app.learning.models import Enrollment, LectureProgress
from app.learning.progress import mark_lecture_done
from app.payments.models import Refund
from tests.factories import make_course
from tests.payments.conftest import order_of, pay_with_sandbox, run_jobs


def _course(lectures: int) -> Course:
    timed = tuple((f"Lecture {n}", 60) for n in range(1, lectures + 1))
    return make_course("Measured", prices={"USD": 2000}, chapters=(("Only", timed),))


def _lectures(course: Course) -> list[Lecture]:
    stmt = select(Lecture).join(Chapter).where(Chapter.course_id == course.id)
    return list(db.session.scalars(stmt.order_by(Lecture.position)))


def _watch(user: User, course: Course, done: int) -> int:
    """The student finishes `done` lectures; the enrollment's progress as stored."""
    for lecture in _lectures(course)[:done]:
        assert mark_lecture_done(user.id, lecture.id) is not None
    db.session.expire_all()
    enrollment = db.session.scalars(
        select(Enrollment).where(Enrollment.user_id == user.id, Enrollment.course_id == course.id)
    ).one()
    rows = select(LectureProgress).where(LectureProgress.enrollment_id == enrollment.id)
    assert len(db.session.scalars(rows).all()) == done  # real per-lecture rows
    return enrollment.progress


def _ask(client: FlaskClient, token: str, course: Course) -> object:
    return client.post(
        f"/orders/{token}/refund",
        data={"courses": course.id, "confirm": "y", "request_key": "progress-key-1"},
    )


@pytest.mark.parametrize(("lectures", "done", "progress"), [(10, 3, 30), (4, 2, 50), (1, 1, 100)])
def test_a_student_past_the_limit_cannot_refund(
    app: Flask,
    client: FlaskClient,
    db_session: Session,
    buyer: User,
    lectures: int,
    done: int,
    progress: int,
) -> None:
    assert app.config["REFUND_MAX_PROGRESS"] == 30
    course = _course(lectures)
    pay_with_sandbox(client, buyer, [course.id])
    run_jobs()
    order = order_of(db_session, buyer)
    assert _watch(buyer, course, done) == progress
    refused = _ask(client, order.token, course)
    assert refused.status_code == 422  # type: ignore[attr-defined]
    assert f"{progress}% watched" in refused.text.replace("&#39;", "'")  # type: ignore[attr-defined]
    assert db_session.scalars(select(Refund)).first() is None
    items = db_session.scalars(select(OrderItem).where(OrderItem.order_id == order.id))
    assert [i.status for i in items] == [OrderItemStatus.ACTIVE]


@pytest.mark.parametrize(("lectures", "done", "progress"), [(10, 0, 0), (10, 2, 20), (4, 1, 25)])
def test_a_student_below_the_limit_can_refund(
    client: FlaskClient,
    db_session: Session,
    buyer: User,
    lectures: int,
    done: int,
    progress: int,
) -> None:
    course = _course(lectures)
    pay_with_sandbox(client, buyer, [course.id])
    run_jobs()
    order = order_of(db_session, buyer)
    assert _watch(buyer, course, done) == progress
    asked = _ask(client, order.token, course)
    assert asked.status_code == 303  # type: ignore[attr-defined]
    run_jobs()
    refund = db_session.scalars(select(Refund)).one()
    assert refund.amount_minor == 2000
