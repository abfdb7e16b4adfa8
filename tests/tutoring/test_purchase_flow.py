"""A tutoring package bought through the real checkout, sandbox and workers: one purchase, one
trainer chosen with its reasons, the whole schedule of sessions; replays create nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.accounts.models import Role, User
from app.cart import services as cart_services
from app.core.models import utcnow
from app.notifications.models import Notification, NotificationKind
from app.payments.jobs import process_webhook_event
from app.payments.models import WebhookEvent
from app.tutoring.models import (
    AllocationStatus,
    PurchaseSource,
    SessionStatus,
    TrainerAllocation,
    TutoringPurchase,
    TutoringSession,
)
from app.tutoring.purchases import PurchaseRequest, create_purchase, line_key, parse_choice
from app.tutoring.schedule import ScheduleError
from tests.factories import make_user
from tests.payments.conftest import checkout, order_of, payment_token, run_jobs
from tests.tutoring.conftest import next_weekday, package, sunday_choice, trainer, tutoring_course

LONDON = ZoneInfo("Europe/London")


def _count(session: Session, model: type) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def _buy(
    client: FlaskClient,
    buyer: User,
    package_id: int,
    choice: dict[str, object],
    meanwhile: Callable[[], None] = lambda: None,
) -> None:
    cart = cart_services.open_cart("USD", buyer)
    cart_services.add_package(cart, package_id, choice, "Europe/London", utcnow().date())
    meanwhile()  # between the cart and the payment
    token = payment_token(checkout(client).headers["Location"])
    client.post(f"/pay/{token}/sandbox", data={"action": "pay", "card": "4242424242424242"})
    run_jobs()  # the webhook, the fulfilment, then the assignment job it queued


def test_a_paid_20_sunday_package_gets_the_best_trainer_and_20_sessions_across_dst(
    client: FlaskClient, db_session: Session, buyer: User
) -> None:
    course, category = tutoring_course()
    twenty = package(course, 20)
    busy = trainer([category.slug], name="Busy Bo", active=6)
    best = trainer([category.slug], name="Free Fay", active=1)
    trainer(["painting"], name="Wrong Wes")
    start = next_weekday(utcnow().date(), 7)
    _buy(client, buyer, twenty.id, sunday_choice(start))

    order = order_of(db_session, buyer)
    assert order.status.value == "paid"
    purchase = db_session.scalars(select(TutoringPurchase)).one()
    assert (purchase.tier, purchase.user_id, purchase.order_id) == (20, buyer.id, order.id)
    allocation = db_session.scalars(select(TrainerAllocation)).one()
    assert allocation.status is AllocationStatus.APPROVED and allocation.trainer_id == best.id
    assert any("1 of 8" in reason or "load" in reason.lower() for reason in allocation.reasons)
    by_trainer = {c["trainer_id"]: c for c in allocation.candidates}
    assert by_trainer[best.id]["total"] > by_trainer[busy.id]["total"] > 0
    assert not next(c for c in allocation.candidates if c["name"] == "Wrong Wes")["qualified"]
    assert {f["name"] for f in by_trainer[best.id]["factors"]} >= {"specialty", "slot", "load"}

    sessions = db_session.scalars(select(TutoringSession).order_by(TutoringSession.number)).all()
    local = [s.starts_at.astimezone(LONDON) for s in sessions]
    assert len(sessions) == 20
    assert [t.date() for t in local] == [start + timedelta(weeks=n) for n in range(20)]
    assert {(t.isoweekday(), t.hour, t.minute) for t in local} == {(7, 18, 0)}
    assert len({s.starts_at.astimezone(ZoneInfo("UTC")).hour for s in sessions}) == 2  # DST
    assert {s.trainer_id for s in sessions} == {best.id}
    db_session.refresh(best)
    assert best.active_students == 2

    # The student and the trainer are told, once each.
    kinds = set(db_session.scalars(select(Notification.kind)))
    assert {NotificationKind.TRAINER_ASSIGNED.value, NotificationKind.NEW_STUDENT.value} <= kinds

    # The payment webhook again (a provider retry): nothing new anywhere.
    event = db_session.scalars(select(WebhookEvent)).one()
    process_webhook_event(event.id)
    run_jobs()
    assert _count(db_session, TutoringPurchase) == 1
    assert _count(db_session, TrainerAllocation) == 1
    assert _count(db_session, TutoringSession) == 20

    # An admin's "create purchase" for the same line finds the same purchase.
    item_id = purchase.order_item_id
    assert item_id is not None
    again, created = create_purchase(
        PurchaseRequest(
            key=line_key(item_id),
            user_id=buyer.id,
            course_id=course.id,
            tier=20,
            choice=parse_choice(purchase.details, "Europe/London", None),
            source=PurchaseSource.ADMIN,
        )
    )
    assert (again.id, created) == (purchase.id, False)


def test_no_qualifying_trainer_leaves_the_allocation_pending_and_tells_admins(
    client: FlaskClient, db_session: Session, buyer: User
) -> None:
    course, category = tutoring_course()
    ten = package(course, 10)
    trainer(["painting"], name="Wrong Wes")
    leaving = trainer([category.slug], name="Leaving Lee")  # free when the cart was filled
    admin = make_user(Role.ADMIN)

    def stops_accepting() -> None:
        leaving.accepting = False
        db_session.flush()

    _buy(client, buyer, ten.id, sunday_choice(next_weekday(utcnow().date(), 7)), stops_accepting)

    allocation = db_session.scalars(select(TrainerAllocation)).one()
    assert allocation.status is AllocationStatus.PENDING and allocation.trainer_id is None
    assert "No trainer passes every filter" in allocation.note
    assert [c["qualified"] for c in allocation.candidates] == [False]  # Lee is not a candidate
    assert _count(db_session, TutoringSession) == 0
    assert order_of(db_session, buyer).status.value == "paid"  # the payment is untouched
    notified = db_session.scalars(
        select(Notification.user_id).where(
            Notification.kind == NotificationKind.ALLOCATION_PENDING.value
        )
    ).all()
    assert notified == [admin.id]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"timeSlot": None}, "timeSlot"),
        ({"date": "someday"}, "date"),
        ({"sessionDuration": 50}, "sessionDuration"),
        ({"mode": "in_person"}, "area"),
    ],
)
def test_a_bad_schedule_is_refused_with_its_field_and_nothing_goes_in_the_cart(
    db_session: Session, buyer: User, changes: dict[str, object], field: str
) -> None:
    course, _ = tutoring_course()
    ten = package(course, 10)
    cart = cart_services.open_cart("USD", buyer)
    soon = utcnow().date() + timedelta(days=3)
    choice = {k: v for k, v in {**sunday_choice(soon), **changes}.items() if v is not None}
    with pytest.raises(ScheduleError) as err:
        cart_services.add_package(cart, ten.id, choice, "Europe/London", utcnow().date())
    assert err.value.field == field and err.value.status == 422
    assert cart_services.view_cart(cart, buyer).breakdown.lines == ()


def test_a_tutoring_course_cannot_be_added_without_a_package(
    db_session: Session, buyer: User
) -> None:
    course, _ = tutoring_course()
    cart = cart_services.open_cart("USD", buyer)
    with pytest.raises(cart_services.CartError) as err:
        cart_services.add_course(cart, course.id, buyer)
    assert err.value.code == "choose_package"


def test_a_refunded_package_cancels_its_future_sessions_and_frees_the_trainer(
    app: Flask, client: FlaskClient, db_session: Session, buyer: User
) -> None:
    course, category = tutoring_course()
    ten = package(course, 10)
    coach = trainer([category.slug], name="Refund Rae")
    _buy(client, buyer, ten.id, sunday_choice(next_weekday(utcnow().date(), 7)))
    order = order_of(db_session, buyer)
    db_session.refresh(coach)
    assert coach.active_students == 1
    done = app.test_cli_runner().invoke(
        args=["orders", "refund", order.token, "--reason", "cannot attend", "--yes"]
    )
    assert done.exit_code == 0, done.output
    run_jobs()  # the refund job, then its notices
    db_session.expire_all()
    statuses = set(db_session.scalars(select(TutoringSession.status)))
    assert statuses == {SessionStatus.CANCELED}  # every one was still to come
    allocation = db_session.scalars(select(TrainerAllocation)).one()
    assert allocation.status is AllocationStatus.REJECTED and "refunded" in allocation.note
    purchase = db_session.scalars(select(TutoringPurchase)).one()
    assert not purchase.active
    db_session.refresh(coach)
    assert coach.active_students == 0
    assert order_of(db_session, buyer).status.value == "refunded"
    told = db_session.scalars(
        select(Notification).where(Notification.kind == NotificationKind.PACKAGE_ENDED.value)
    ).all()
    assert [(n.user_id, "10 sessions still to come were canceled" in n.body) for n in told] == [
        (coach.user_id, True)
    ]
