"""Access periods: the calendar arithmetic (in Python and in the grant's SQL, whatever the
session's time zone), expiry counted from the payment, buying again extends from the current
end, a lifetime purchase clears the end, and two orders extending at once both count."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import text
from sqlalchemy.orm import Session

from app.cart.services import CartError
from app.checkout.lifecycle import grant_course
from app.checkout.models import Order
from app.core.models import utcnow
from app.core.periods import AccessPeriod
from app.extensions import db
from app.learning.models import EnrollmentSource, EnrollmentStatus
from app.learning.services import AccessTerm, grant_enrollment
from tests.factories import make_course, make_user
from tests.learning.periods import (
    buy,
    enrollment_of,
    limited_course,
    line_of,
    order_course,
    pay,
    set_period,
)

MONTH = AccessPeriod(1, "month")


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


CALENDAR = [
    (at(2023, 1, 31, 10), AccessPeriod(1, "month"), at(2023, 2, 28, 10)),
    (at(2024, 1, 31, 10), AccessPeriod(1, "month"), at(2024, 2, 29, 10)),  # leap year
    (at(2023, 3, 31, 9, 15), AccessPeriod(1, "month"), at(2023, 4, 30, 9, 15)),
    (at(2023, 10, 31), AccessPeriod(4, "month"), at(2024, 2, 29)),
    (at(2023, 12, 31, 23, 30), AccessPeriod(2, "month"), at(2024, 2, 29, 23, 30)),
    (at(2024, 2, 29, 8), AccessPeriod(1, "year"), at(2025, 2, 28, 8)),
    (at(2024, 2, 29, 8), AccessPeriod(4, "year"), at(2028, 2, 29, 8)),
    (at(2024, 2, 28, 12), AccessPeriod(1, "day"), at(2024, 2, 29, 12)),
    (at(2023, 2, 28, 12), AccessPeriod(1, "day"), at(2023, 3, 1, 12)),
    (at(2024, 2, 20), AccessPeriod(2, "week"), at(2024, 3, 5)),
    (at(2024, 8, 31), AccessPeriod(6, "month"), at(2025, 2, 28)),
    # 31 March in Auckland: a month added in that time zone would end on 29 April UTC.
    (at(2023, 3, 30, 12), AccessPeriod(1, "month"), at(2023, 4, 30, 12)),
]


@pytest.mark.parametrize(("start", "period", "end"), CALENDAR)
def test_calendar_arithmetic(start: datetime, period: AccessPeriod, end: datetime) -> None:
    assert period.after(start) == end


@pytest.mark.parametrize("zone", ["UTC", "Pacific/Auckland", "America/Los_Angeles"])
@pytest.mark.parametrize(("start", "period", "end"), CALENDAR)
def test_the_grants_sql_extends_like_the_calendar_in_any_session_time_zone(
    db_session: Session, zone: str, start: datetime, period: AccessPeriod, end: datetime
) -> None:
    """An extension is computed by PostgreSQL from the locked row: it must land where
    AccessPeriod.after does, whatever TimeZone the connection has."""
    db_session.execute(text(f"SET LOCAL TIME ZONE '{zone}'"))
    user, course = make_user(), make_course(prices={"USD": 100})
    day = AccessPeriod(1, "day")
    first = grant_enrollment(
        user.id, course.id, EnrollmentSource.PURCHASE, None, AccessTerm(day, start - timedelta(1))
    )
    assert first.expires_at == start
    # Paid before the current end: the period is added to that end, in SQL.
    term = AccessTerm(period, start - timedelta(hours=1))
    extended = grant_enrollment(user.id, course.id, EnrollmentSource.PURCHASE, None, term)
    assert extended.expires_at == end


def test_a_purchase_ends_one_period_after_its_payment(db_session: Session) -> None:
    user, course = make_user(), limited_course(AccessPeriod(6, "month"))
    paid_at = utcnow() - timedelta(hours=2)
    order, done = buy(user, course.id, paid_at)
    assert line_of(order).access_period == AccessPeriod(6, "month")  # frozen on the line
    enrollment = enrollment_of(user, course)
    assert enrollment.expires_at == AccessPeriod(6, "month").after(paid_at)
    assert enrollment.status is EnrollmentStatus.ACTIVE and enrollment.order_id == order.id
    assert [i.id for i in done.granted] == [line_of(order).id] and not done.held_elsewhere


def test_a_lifetime_price_gives_access_for_good(db_session: Session) -> None:
    user, course = make_user(), make_course(prices={"USD": 2000})
    order, _ = buy(user, course.id, utcnow())
    assert line_of(order).access_period is None
    assert enrollment_of(user, course).expires_at is None


def test_buying_again_extends_from_the_current_end(db_session: Session) -> None:
    user, course = make_user(), limited_course(MONTH)
    first_paid = utcnow() - timedelta(days=3)
    buy(user, course.id, first_paid)
    first_end = MONTH.after(first_paid)
    # The cart takes it again (time-limited), and the second order is kept, not refunded.
    second, done = buy(user, course.id, utcnow())
    assert done.granted and not done.held_elsewhere
    enrollment = enrollment_of(user, course)
    assert enrollment.expires_at == MONTH.after(first_end)  # no day lost
    assert enrollment.order_id == second.id


def test_buying_again_after_the_end_counts_from_the_payment(db_session: Session) -> None:
    user, course = make_user(), limited_course(MONTH)
    buy(user, course.id, utcnow() - timedelta(days=40))  # ended ten days ago
    enrollment = enrollment_of(user, course)
    enrollment.status = EnrollmentStatus.EXPIRED  # as the daily job leaves it
    db.session.flush()
    paid_at = utcnow()
    buy(user, course.id, paid_at)
    renewed = enrollment_of(user, course)
    assert renewed.status is EnrollmentStatus.ACTIVE
    assert renewed.expires_at == MONTH.after(paid_at)


def test_an_expired_finished_course_comes_back_completed(db_session: Session) -> None:
    user, course = make_user(), limited_course(MONTH)
    buy(user, course.id, utcnow() - timedelta(days=40))
    enrollment = enrollment_of(user, course)
    enrollment.status, enrollment.completed_at = EnrollmentStatus.EXPIRED, utcnow()
    enrollment.progress = 100
    db.session.flush()
    buy(user, course.id, utcnow())
    again = enrollment_of(user, course)
    assert again.status is EnrollmentStatus.COMPLETED and again.progress == 100


def test_a_dropped_enrollment_is_bought_again_with_a_new_end(db_session: Session) -> None:
    user, course = make_user(), limited_course(MONTH)
    buy(user, course.id, utcnow() - timedelta(days=2))
    enrollment = enrollment_of(user, course)
    enrollment.status, enrollment.dropped_at = EnrollmentStatus.DROPPED, utcnow()
    db.session.flush()
    paid_at = utcnow()
    buy(user, course.id, paid_at)
    again = enrollment_of(user, course)
    # The refunded period is not extended: a new one starts at the payment.
    assert again.status is EnrollmentStatus.ACTIVE and again.dropped_at is None
    assert again.expires_at == MONTH.after(paid_at)


def test_a_lifetime_purchase_clears_the_end(db_session: Session) -> None:
    user, course = make_user(), limited_course(MONTH)
    buy(user, course.id, utcnow() - timedelta(days=1))
    set_period(course, None)  # the teacher now sells it for good
    _, done = buy(user, course.id, utcnow())
    assert done.granted
    assert enrollment_of(user, course).expires_at is None
    with pytest.raises(CartError) as refused:  # owned for good: nothing left to buy
        order_course(user, course.id)
    assert refused.value.code == "already_owned"


def test_a_time_limited_order_for_a_course_held_for_good_is_held_elsewhere(
    db_session: Session,
) -> None:
    user, course = make_user(), limited_course(MONTH)
    order = order_course(user, course.id)  # placed before the course was given for good
    grant_enrollment(user.id, course.id, EnrollmentSource.ADMIN)
    done = pay(order, utcnow())
    assert not done.granted and [i.id for i in done.held_elsewhere] == [line_of(order).id]
    assert enrollment_of(user, course).expires_at is None  # lifetime is not shortened


def test_the_same_order_never_extends_twice(db_session: Session) -> None:
    user, course = make_user(), limited_course(MONTH)
    order, _ = buy(user, course.id, utcnow())
    end = enrollment_of(user, course).expires_at
    assert grant_course(order, line_of(order)) is True  # still this order's
    assert enrollment_of(user, course).expires_at == end


def test_two_orders_extending_at_once_both_count(live_app: Flask, committed: Any) -> None:
    """Two payments of the same time-limited course land at the same moment (webhooks on two
    workers): the upsert serialises on the row and each adds its month."""
    user, course = make_user(), limited_course(MONTH)
    orders = [order_course(user, course.id).id for _ in range(2)]
    db.session.commit()
    paid_at = utcnow().replace(microsecond=0)
    barrier = threading.Barrier(len(orders))
    results: list[tuple[int, int]] = []

    def fulfil(order_id: int) -> None:
        with live_app.app_context():
            try:
                order = db.session.get(Order, order_id, with_for_update=True)
                assert order is not None
                barrier.wait(timeout=10)
                done = pay(order, paid_at)
                db.session.commit()
                results.append((len(done.granted), len(done.held_elsewhere)))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=fulfil, args=(oid,)) for oid in orders]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(results) == [(1, 0), (1, 0)]  # both kept: neither line is refunded
    enrollment = enrollment_of(user, course)
    assert enrollment.expires_at == MONTH.after(MONTH.after(paid_at))
    assert enrollment.order_id in orders


def test_refunding_an_extension_takes_back_only_its_period(db_session: Session) -> None:
    """The earlier order's access runs on to its own end; nothing it paid for is lost."""
    from app.checkout.lifecycle import record_refund

    user, course = make_user(), limited_course(MONTH)
    first_paid = utcnow() - timedelta(days=3)
    first, _ = buy(user, course.id, first_paid)
    second, _ = buy(user, course.id, utcnow())
    line = line_of(second)
    record_refund(second, {line.id: line.total_minor}, "refund of the extension")
    enrollment = enrollment_of(user, course)
    assert enrollment.status is EnrollmentStatus.ACTIVE
    assert enrollment.expires_at == MONTH.after(first_paid)
    assert enrollment.order_id == first.id
    # Refunding the first order too ends access.
    first_line = line_of(first)
    record_refund(first, {first_line.id: first_line.total_minor}, "refund of the first")
    assert enrollment_of(user, course).status is EnrollmentStatus.DROPPED


def test_refunding_a_renewal_after_the_first_period_ended_ends_access(db_session: Session) -> None:
    from app.checkout.lifecycle import record_refund

    user, course = make_user(), limited_course(MONTH)
    buy(user, course.id, utcnow() - timedelta(days=40))  # ended ten days ago
    enrollment_of(user, course).status = EnrollmentStatus.EXPIRED
    db.session.flush()
    renewal, _ = buy(user, course.id, utcnow())
    line = line_of(renewal)
    record_refund(renewal, {line.id: line.total_minor}, "refund of the renewal")
    assert enrollment_of(user, course).status is EnrollmentStatus.DROPPED
