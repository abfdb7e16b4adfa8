"""Helpers for the access-period tests: time-limited prices and purchases through the real
cart, order snapshot and fulfilment."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update

from app.accounts.models import User
from app.cart import queries as cart_queries
from app.cart import services as cart_services
from app.catalog.models import Course, CoursePrice
from app.checkout.lifecycle import Fulfilment, fulfil_order
from app.checkout.models import Order, OrderItem
from app.checkout.services import place_order
from app.core.periods import AccessPeriod
from app.extensions import db
from app.learning.models import Enrollment
from tests.factories import make_course


def set_period(course: Course, period: AccessPeriod | None, currency: str = "USD") -> None:
    """The course's price in the currency gives access for `period` (None: for good)."""
    db.session.execute(
        update(CoursePrice)
        .where(CoursePrice.course_id == course.id, CoursePrice.currency == currency)
        .values(
            access_period_value=period.value if period else None,
            access_period_unit=period.unit if period else None,
        )
    )
    db.session.expire_all()


def limited_course(period: AccessPeriod, title: str = "", **kwargs: object) -> Course:
    """A published course whose USD price gives access for `period`."""
    course = make_course(title, prices={"USD": 2000}, **kwargs)  # type: ignore[arg-type]
    set_period(course, period)
    return course


def order_course(user: User, course_id: int, currency: str = "USD") -> Order:
    """Put the course in the user's cart and place the order (not paid yet)."""
    cart = cart_queries.get_user_cart(user.id) or cart_services.open_cart(currency, user)
    cart_services.add_course(cart, course_id, user)
    return place_order(user, cart)


def pay(order: Order, paid_at: datetime) -> Fulfilment:
    """The order paid at `paid_at`, fulfilled as the payment path does it."""
    order.paid_at = paid_at
    return fulfil_order(order, "test payment")


def buy(user: User, course_id: int, paid_at: datetime) -> tuple[Order, Fulfilment]:
    order = order_course(user, course_id)
    return order, pay(order, paid_at)


def enrollment_of(user: User, course: Course) -> Enrollment:
    db.session.expire_all()
    stmt = select(Enrollment).where(
        Enrollment.user_id == user.id, Enrollment.course_id == course.id
    )
    return db.session.scalars(stmt).one()


def line_of(order: Order) -> OrderItem:
    return db.session.scalars(select(OrderItem).where(OrderItem.order_id == order.id)).one()
