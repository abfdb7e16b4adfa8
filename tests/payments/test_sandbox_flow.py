"""A paid order through the sandbox: checkout, hosted page, signed webhook, worker, enrolled."""

from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.cart.models import CouponRedemption, RedemptionStatus
from app.checkout.models import OrderStatus
from app.learning.models import Enrollment, EnrollmentStatus
from app.notifications.models import Notification
from app.payments.models import PaymentStatus, WebhookEvent, WebhookStatus
from tests.cart.conftest import make_coupon
from tests.factories import make_course
from tests.payments.conftest import (
    checkout,
    fill_cart,
    latest_payment,
    order_of,
    pay_with_sandbox,
    payment_token,
    run_jobs,
)


def _enrolled(session: Session, user: User) -> list[int]:
    stmt = select(Enrollment.course_id).where(
        Enrollment.user_id == user.id, Enrollment.status == EnrollmentStatus.ACTIVE
    )
    return sorted(session.scalars(stmt))


def test_pay_with_the_sandbox_and_get_enrolled(
    client: FlaskClient, db_session: Session, buyer: User, mailbox
) -> None:  # type: ignore[no-untyped-def]
    a = make_course("Alpha", prices={"USD": 3000})
    b = make_course("Beta", prices={"USD": 2000})
    make_coupon("TENOFF", percent_off_bp=1000, max_uses=5)
    fill_cart(buyer, [a.id, b.id])
    client.post("/cart/coupon", data={"code": "TENOFF"})

    page = client.get("/checkout")
    assert page.status_code == 200 and "$45.00" in page.text and "Test card (sandbox)" in page.text
    response = checkout(client)
    assert response.status_code == 303
    order = order_of(db_session, buyer)
    assert (order.status, order.total_minor, order.coupon_code) == (
        OrderStatus.AWAITING_PAYMENT,
        4500,
        "TENOFF",
    )
    assert client.get("/cart").text.count('class="cart-line"') == 0  # the order took the cart over

    token = payment_token(response.headers["Location"])
    sandbox = client.get(f"/pay/{token}")
    assert "Pay $45.00" in sandbox.text and "TEST MODE" in sandbox.text
    back = client.post(
        f"/pay/{token}/sandbox", data={"action": "pay", "card": "4242 4242 4242 4242"}
    )
    assert back.status_code == 303
    landing = client.get(back.headers["Location"])
    assert landing.status_code == 303 and f"/orders/{order.token}" in landing.headers["Location"]
    waiting = client.get(f"/orders/{order.token}")
    assert "Confirming your payment" in waiting.text and 'hx-trigger="every 2s"' in waiting.text

    run_jobs()  # delivers the sandbox webhook, then processes it (critical queue)

    order = order_of(db_session, buyer)
    assert order.status is OrderStatus.PAID and order.fulfilled_at is not None
    assert order.first_webhook_at is not None
    assert latest_payment(db_session, order).status is PaymentStatus.SUCCEEDED
    assert _enrolled(db_session, buyer) == sorted([a.id, b.id])
    redemption = db_session.scalars(select(CouponRedemption)).one()
    assert redemption.status is RedemptionStatus.REDEEMED
    assert db_session.scalars(select(WebhookEvent)).one().status is WebhookStatus.PROCESSED
    assert db_session.scalar(select(func.count(Notification.id))) == 1
    assert len(list(mailbox.glob("*.eml"))) == 1
    done = client.get(f"/orders/{order.token}", headers={"HX-Request": "true"})
    assert (
        "You're enrolled" in done.text and "every 2s" not in done.text and "<html" not in done.text
    )
    assert "Alpha" in client.get("/learning").text


def test_declined_then_try_again(client: FlaskClient, db_session: Session, buyer: User) -> None:
    course = make_course("Gamma", prices={"USD": 1500})
    token = pay_with_sandbox(client, buyer, [course.id], "4000 0000 0000 0002")
    run_jobs()
    order = order_of(db_session, buyer)
    assert order.status is OrderStatus.FAILED
    page = client.get(f"/orders/{order.token}")
    assert "Payment failed" in page.text and "declined" in page.text and "Try again" in page.text

    retry = client.post(f"/orders/{order.token}/retry", data={"provider": "sandbox"})
    assert retry.status_code == 303
    second = payment_token(retry.headers["Location"])
    assert second != token
    client.post(f"/pay/{second}/sandbox", data={"action": "pay", "card": "4242424242424242"})
    run_jobs()
    order = order_of(db_session, buyer)
    assert order.status is OrderStatus.PAID
    assert latest_payment(db_session, order).attempt == 2
    assert _enrolled(db_session, buyer) == [course.id]


def test_cancel_on_the_hosted_page(client: FlaskClient, db_session: Session, buyer: User) -> None:
    fill_cart(buyer, [make_course(prices={"USD": 900}).id])
    token = payment_token(checkout(client).headers["Location"])
    client.post(f"/pay/{token}/sandbox", data={"action": "cancel"})
    run_jobs()
    order = order_of(db_session, buyer)
    assert order.status is OrderStatus.CANCELED
    assert "Payment canceled" in client.get(f"/orders/{order.token}").text


def test_a_total_of_zero_needs_no_payment(
    client: FlaskClient, db_session: Session, buyer: User
) -> None:
    course = make_course("Delta", prices={"USD": 5000})
    make_coupon("ALLFREE", percent_off_bp=10000)
    fill_cart(buyer, [course.id])
    client.post("/cart/coupon", data={"code": "ALLFREE"})
    response = checkout(client)
    order = order_of(db_session, buyer)
    assert response.headers["Location"].endswith(f"/orders/{order.token}")
    assert (order.status, order.total_minor) == (OrderStatus.COMPLETED, 0)
    assert _enrolled(db_session, buyer) == [course.id]


def test_other_people_cannot_see_an_order(
    client: FlaskClient, db_session: Session, buyer: User
) -> None:
    from tests.conftest import login_as
    from tests.factories import make_user

    fill_cart(buyer, [make_course(prices={"USD": 900}).id])
    location = checkout(client).headers["Location"]
    order = order_of(db_session, buyer)
    login_as(client, make_user())
    assert client.get(f"/orders/{order.token}").status_code == 404
    assert client.get(f"/pay/{payment_token(location)}").status_code == 404


def test_a_queued_deliver_sandbox_event_job_still_runs(
    client: FlaskClient, db_session: Session, buyer: User
) -> None:
    """Jobs queued before the sandbox had its own package name `app.payments.jobs`."""
    from app.jobs.queues import PendingJob, QueueName, enqueue_now
    from app.payments.providers.sandbox import SandboxSession, SandboxStatus

    fill_cart(buyer, [make_course(prices={"USD": 900}).id])
    token = payment_token(checkout(client).headers["Location"])
    session = db_session.scalars(
        select(SandboxSession).where(SandboxSession.payment_token == token)
    ).one()
    session.status = SandboxStatus.CANCELED  # what the page recorded before the job ran
    db_session.commit()
    args = (session.id, "payment.canceled")
    job = PendingJob("app.payments.jobs.deliver_sandbox_event", args, QueueName.CRITICAL)
    assert enqueue_now(job)
    run_jobs()
    assert order_of(db_session, buyer).status is OrderStatus.CANCELED
    assert db_session.scalars(select(WebhookEvent)).one().status is WebhookStatus.PROCESSED
