"""Tutoring packages in the cart: a package of a tutoring course, with the student's schedule
validated when it goes in (ScheduleError, 422, names the field), so nothing is charged for a
schedule that cannot be read. The line is priced by the package's price in the cart's
currency; sales and coupons apply to it as to its course."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import selectinload

from app.cart.models import Cart, CartItem
from app.cart.queries import package_line
from app.cart.services.carts import CartError, touch
from app.catalog.models import Course, CourseKind
from app.extensions import db
from app.tutoring.models import TutoringPackage
from app.tutoring.offers import check_bookable
from app.tutoring.purchases import parse_choice


def add_package(
    cart: Cart,
    package_id: int,
    choices: Mapping[str, Any],
    timezone: str,
    today: date,
) -> CartItem:
    """Put a tutoring package in the cart with the student's schedule; a package of the same
    course already there is replaced (one package per course and order)."""
    package = db.session.scalars(
        select(TutoringPackage)
        .where(TutoringPackage.id == package_id)
        .options(selectinload(TutoringPackage.prices))
    ).one_or_none()
    course = db.session.get(Course, package.course_id) if package is not None else None
    if package is None or course is None or not package.active or not course.is_published:
        raise CartError("This package is not for sale.", code="not_for_sale")
    if course.kind is not CourseKind.TUTORING:
        raise CartError("This course is not sold in sessions.", code="not_tutoring")
    if package_line(course, package, cart.currency) is None:
        raise CartError(
            f"This package has no price in {cart.currency}. Switch currency to buy it.",
            code="no_price_in_currency",
        )
    choice = parse_choice(choices, timezone, today)
    check_bookable(course.id, package.sessions, choice)
    db.session.execute(
        delete(CartItem).where(CartItem.cart_id == cart.id, CartItem.course_id == course.id)
    )
    item = CartItem(
        cart_id=cart.id, course_id=course.id, package_id=package.id, details=choice.as_details()
    )
    db.session.add(item)
    touch(cart)
    db.session.flush()
    return item
