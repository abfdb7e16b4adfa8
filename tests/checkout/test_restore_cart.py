"""A canceled or failed payment puts the order's courses (and a valid coupon) back in the cart."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.cart.queries import cart_course_ids, get_user_cart, load_cart
from app.checkout.models import Order, OrderStatus
from app.extensions import db
from app.learning.models import EnrollmentSource
from app.learning.services import grant_enrollment
from app.payments.models import PaymentStatus
from app.payments.services.fulfilment import close_payment
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


def _cart_ids(user: User) -> set[int]:
    cart = get_user_cart(user.id)
    return cart_course_ids(cart.id) if cart else set()


def test_close_payment_restores_courses_and_coupon(
    client: FlaskClient, db_session: Session, buyer: User
) -> None:
    a, b = make_course(prices={"USD": 3000}), make_course(prices={"USD": 2000})
    make_coupon("BACKAGAIN", percent_off_bp=1000)
    fill_cart(buyer, [a.id, b.id])
    client.post("/cart/coupon", data={"code": "BACKAGAIN"})
    checkout(client)
    order = order_of(db_session, buyer)
    assert _cart_ids(buyer) == set()

    close_payment(
        latest_payment(db_session, order), PaymentStatus.CANCELED, "The payment was canceled."
    )
    db.session.flush()
    assert order_of(db_session, buyer).status is OrderStatus.CANCELED
    assert _cart_ids(buyer) == {a.id, b.id}
    cart = get_user_cart(buyer.id)
    assert cart is not None
    coupon = load_cart(cart.id).coupon
    assert coupon is not None and coupon.code == "BACKAGAIN"
    assert "Coupon BACKAGAIN" in client.get("/cart").text


def test_restore_skips_owned_and_present_courses(
    client: FlaskClient, db_session: Session, buyer: User
) -> None:
    a, b = make_course(prices={"USD": 3000}), make_course(prices={"USD": 2000})
    fill_cart(buyer, [a.id, b.id])
    checkout(client)
    order = order_of(db_session, buyer)
    grant_enrollment(buyer.id, a.id, EnrollmentSource.FREE, None)  # got it elsewhere meanwhile
    cart = get_user_cart(buyer.id)
    from app.cart import services as cart_services

    cart_services.add_course(cart, b.id, buyer)  # put back by hand already
    close_payment(latest_payment(db_session, order), PaymentStatus.FAILED, "Declined.")
    db.session.flush()
    assert _cart_ids(buyer) == {b.id}


def test_declined_on_the_page_refills_cart_and_try_again_takes_it_back(
    client: FlaskClient, db_session: Session, buyer: User
) -> None:
    course = make_course("Second Chances", prices={"USD": 1500})
    pay_with_sandbox(client, buyer, [course.id], "4000 0000 0000 0002")
    run_jobs()
    order = order_of(db_session, buyer)
    assert order.status is OrderStatus.FAILED
    assert "Second Chances" in client.get("/cart").text
    assert "Its courses are back in" in client.get(f"/orders/{order.token}").text

    retry = client.post(f"/orders/{order.token}/retry", data={"provider": "sandbox"})
    assert retry.status_code == 303
    assert _cart_ids(buyer) == set()  # the same order is being paid again, not the cart
    assert order_of(db_session, buyer).status is OrderStatus.AWAITING_PAYMENT
    assert db_session.scalar(select(func.count(Order.id))) == 1


def test_cart_checked_out_again_supersedes_the_canceled_order(
    client: FlaskClient, db_session: Session, buyer: User
) -> None:
    course = make_course(prices={"USD": 1500})
    fill_cart(buyer, [course.id])
    token = payment_token(checkout(client).headers["Location"])
    client.post(f"/pay/{token}/sandbox", data={"action": "cancel"})
    run_jobs()
    first = order_of(db_session, buyer)
    assert first.status is OrderStatus.CANCELED and _cart_ids(buyer) == {course.id}
    assert checkout(client, key="key-0000002").status_code == 303
    second = order_of(db_session, buyer)
    assert second.id != first.id and second.status is OrderStatus.AWAITING_PAYMENT
    # One open order for these courses: the canceled one can no longer be paid again.
    refused = client.post(f"/orders/{first.token}/retry", data={"provider": "sandbox"})
    assert refused.status_code == 303
    db_session.expire_all()
    assert db_session.get(Order, first.id).status is OrderStatus.CANCELED
