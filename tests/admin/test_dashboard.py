"""The dashboard: revenue per currency and day (paid orders minus refunds), the funnel,
latency and attention counts, a constant number of queries however many orders there are,
the Redis copy, and the page with and without HTMX. Real PostgreSQL and Redis."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.admin import dashboard
from app.cart.models import Cart, CartDay
from app.catalog.models import Course, CourseViewDay
from app.checkout.models import CreditNote, Order, OrderItem, OrderStatus
from app.core.models import utcnow
from app.core.security import new_token
from app.extensions import db
from app.payments.models import (
    Payment,
    PaymentStatus,
    Refund,
    RefundLine,
    RefundSource,
    RefundStatus,
    WebhookEvent,
    WebhookStatus,
)
from tests.conftest import QueryCounter
from tests.factories import make_course, make_user

_numbers = itertools.count(1)


def noon(day: date) -> datetime:
    return datetime.combine(day, time(12), UTC)


def paid_orders(
    buyer: User,
    course: Course,
    amounts: Sequence[int],
    paid_at: datetime,
    *,
    currency: str = "USD",
    tax: int = 0,
    country: str | None = None,
) -> list[int]:
    """Paid orders of one line each, inserted in bulk (one INSERT per table); their ids."""
    rows = [
        {
            "token": new_token(),
            "user_id": buyer.id,
            "status": OrderStatus.PAID,
            "currency": currency,
            "subtotal_minor": amount - tax,
            "tax_minor": tax,
            "total_minor": amount,
            "tax_country": country,
            "paid_at": paid_at,
            "fulfilled_at": paid_at,
            "created_at": paid_at - timedelta(minutes=1),
            "updated_at": paid_at,
            "invoice_number": f"T-{next(_numbers)}-{new_token()[:8]}",
        }
        for amount in amounts
    ]
    ids = list(db.session.scalars(insert(Order).returning(Order.id), rows))
    items = [
        {
            "order_id": order_id,
            "course_id": course.id,
            "title": course.title,
            "base_minor": amount - tax,
            "sale_minor": amount - tax,
            "tax_minor": tax,
            "total_minor": amount,
        }
        for order_id, amount in zip(ids, amounts, strict=True)
    ]
    db.session.execute(insert(OrderItem), items)
    payments = [
        {
            "token": new_token(),
            "order_id": order_id,
            "provider": "sandbox",
            "attempt": 1,
            "status": PaymentStatus.SUCCEEDED,
            "amount_minor": amount,
            "currency": currency,
            "paid_amount_minor": amount,
            "succeeded_at": paid_at,
            "created_at": paid_at,
            "updated_at": paid_at,
        }
        for order_id, amount in zip(ids, amounts, strict=True)
    ]
    db.session.execute(insert(Payment), payments)
    return ids


def refund(order_id: int, amount: int, at: datetime, *, tax: int = 0) -> Refund:
    """A succeeded refund on the order's (only) line, as record_refund leaves it, with its
    credit note."""
    order = db.session.get(Order, order_id)
    assert order is not None
    item = db.session.scalars(select(OrderItem).where(OrderItem.order_id == order_id)).one()
    payment = db.session.scalars(select(Payment).where(Payment.order_id == order_id)).one()
    row = Refund(
        order_id=order_id,
        payment_id=payment.id,
        amount_minor=amount,
        tax_minor=tax,
        currency=order.currency,
        status=RefundStatus.SUCCEEDED,
        source=RefundSource.ADMIN,
        request_key=f"test-refund-{new_token()}",
        created_at=at,
        updated_at=at,
    )
    row.lines.append(RefundLine(order_item_id=item.id, amount_minor=amount, tax_minor=tax))
    db.session.add(row)
    item.refunded_minor += amount
    order.refunded_minor += amount
    order.status = (
        OrderStatus.REFUNDED if order.refunded_minor >= order.total_minor
        else OrderStatus.PARTIALLY_REFUNDED
    )  # fmt: skip
    db.session.add(
        CreditNote(
            order_id=order_id,
            number=f"CN-{next(_numbers)}-{new_token()[:8]}",
            amount_minor=amount,
            tax_minor=tax,
            currency=order.currency,
            lines={str(item.id): amount},
            issued_at=at,
        )
    )
    db.session.flush()
    return row


def _revenue(board: dashboard.Dashboard, currency: str) -> dashboard.Revenue:
    return next(r for r in board.revenue if r.currency == currency)


def test_revenue_of_a_seeded_day_is_paid_orders_minus_refunds_per_currency(
    db_session: Session,
) -> None:
    buyer = make_user()
    course = make_course(prices={"USD": 3000, "INR": 50000})
    day = utcnow().date() - timedelta(days=3)
    usd = paid_orders(buyer, course, [3000, 2000], noon(day))
    paid_orders(buyer, course, [50000], noon(day), currency="INR")
    refund(usd[0], 1000, noon(day) + timedelta(hours=2))
    # Noise: another day's sale and refund, an unpaid order, a refund that failed.
    other = paid_orders(buyer, course, [700], noon(day - timedelta(days=1)))
    refund(other[0], 200, noon(day + timedelta(days=1)))
    failed = refund(usd[1], 500, noon(day))
    failed.status = RefundStatus.FAILED
    db_session.add(
        Order(user_id=buyer.id, currency="USD", subtotal_minor=900, total_minor=900,
              created_at=noon(day))
    )  # fmt: skip
    db_session.flush()

    board = dashboard.compute_dashboard(("USD", "INR", "EUR"))

    index = board.days.index(day)
    assert _revenue(board, "USD").daily[index] == 3000 + 2000 - 1000
    assert _revenue(board, "INR").daily[index] == 50000
    assert _revenue(board, "USD").daily[index - 1] == 700
    assert _revenue(board, "USD").daily[index + 1] == -200
    assert _revenue(board, "EUR").daily == [0] * dashboard.CHART_DAYS
    assert _revenue(board, "USD").windows == [0, 4000 + 700 - 200, 4000 + 700 - 200]
    assert _revenue(board, "INR").windows[2] == 50000
    assert [r.currency for r in board.revenue] == ["USD", "INR", "EUR"]


def test_orders_payments_funnel_latency_and_attention(db_session: Session) -> None:
    buyer = make_user()
    course = make_course()
    now = utcnow()
    ids = paid_orders(buyer, course, [1000, 1000, 1000], now - timedelta(hours=1))
    orders = [db_session.get(Order, i) for i in ids]
    for order, seconds in zip(orders, (1, 2, 9), strict=True):
        assert order is not None
        order.first_webhook_at = order.paid_at
        order.fulfilled_at = order.paid_at + timedelta(seconds=seconds)
    stuck = orders[2]
    assert stuck is not None
    stuck.fulfilled_at = None  # paid an hour ago, never fulfilled
    db_session.add(Payment(order_id=ids[0], provider="sandbox", attempt=2, amount_minor=1000,
                           currency="USD", status=PaymentStatus.FAILED))  # fmt: skip
    db_session.add(CourseViewDay(day=now.date(), course_id=course.id, views=40))
    db_session.add(Cart(currency="USD"))  # a live cart, and 5 the cleanup deleted (+1 too old)
    db_session.add(CartDay(day=now.date() - timedelta(days=1), deleted=5))
    db_session.add(CartDay(day=now.date() - timedelta(days=dashboard.FUNNEL_DAYS), deleted=1))
    payment = db_session.scalars(select(Payment).where(Payment.order_id == ids[1])).first()
    assert payment is not None
    db_session.add(
        Refund(order_id=ids[1], payment_id=payment.id, amount_minor=500, tax_minor=0,
               currency="USD", status=RefundStatus.FAILED, source=RefundSource.ADMIN,
               request_key=f"test-refund-{new_token()}")
    )  # fmt: skip
    db_session.add(
        WebhookEvent(provider="sandbox", event_id="evt-bad", type="x", payload={},
                     status=WebhookStatus.FAILED)
    )  # fmt: skip
    db_session.flush()

    board = dashboard.compute_dashboard(("USD",))

    month = board.windows[2]
    assert (month.orders_placed, month.orders_paid) == (3, 3)
    assert (month.payments_paid, month.payments_failed) == (3, 1)
    assert month.success_rate == 75.0
    funnel = {step.label: step.count for step in board.funnel}
    assert funnel["Course views"] == 40
    assert funnel["Carts"] == 6
    assert funnel["Checkouts"] == 3
    assert funnel["Paid orders"] == 3
    assert funnel["First lecture watched"] == 0
    assert board.latency_samples == 2
    assert board.latency_p50 == 1.5
    assert board.attention.unfulfilled == 1
    assert board.attention.unfulfilled_tokens == [stuck.token]
    assert board.attention.failed_webhooks == 1
    assert board.attention.failed_jobs == 0
    assert board.attention.failed_refunds == 1
    assert board.attention.failed_refund_tokens == [orders[1].token]  # type: ignore[union-attr]
    assert board.queues is not None and {q.name for q in board.queues} >= {"critical"}


def _dashboard_queries(client: FlaskClient, counter: QueryCounter) -> int:
    before = counter.count
    response = client.get("/admin/?fresh=1")
    assert response.status_code == 200
    return counter.count - before


def test_query_count_is_the_same_for_10_and_1000_orders(
    admin_client: FlaskClient, count_queries: QueryCounter
) -> None:
    buyer = make_user()
    course = make_course()
    now = utcnow()
    ten = paid_orders(buyer, course, [1500] * 10, now - timedelta(days=2))
    refund(ten[0], 500, now - timedelta(days=1))
    _dashboard_queries(admin_client, count_queries)  # warm: first-request lookups
    with_ten = _dashboard_queries(admin_client, count_queries)

    for days_ago in range(10):  # 990 more, spread over the chart's days and currencies
        paid_orders(buyer, course, [1500] * 49, now - timedelta(days=days_ago))
        paid_orders(buyer, course, [90000] * 50, now - timedelta(days=days_ago), currency="INR")
    assert db.session.query(Order).count() == 1000
    with_thousand = _dashboard_queries(admin_client, count_queries)

    assert with_thousand == with_ten
    assert with_ten < 25


def test_dashboard_is_cached_in_redis_and_fresh_recomputes(
    admin_client: FlaskClient, db_session: Session
) -> None:
    buyer = make_user()
    course = make_course()
    first = admin_client.get("/admin/")
    assert first.status_code == 200
    paid_orders(buyer, course, [4200], utcnow() - timedelta(minutes=1))

    cached = admin_client.get("/admin/").get_data(as_text=True)
    fresh = admin_client.get("/admin/?fresh=1").get_data(as_text=True)

    assert "$42.00" not in cached  # the copy from the first request
    assert "$42.00" in fresh


def test_the_cached_copy_round_trips(db_session: Session) -> None:
    buyer = make_user()
    paid_orders(buyer, make_course(), [1234], utcnow() - timedelta(hours=1))
    board = dashboard.compute_dashboard(("USD", "INR"))
    assert dashboard.load_dashboard(dashboard.dump_dashboard(board)) == board


def _body(response: Any) -> str:
    assert response.status_code == 200
    return str(response.get_data(as_text=True))


def test_empty_database_renders_page_and_fragment(admin_client: FlaskClient) -> None:
    page = _body(admin_client.get("/admin/"))
    assert "<h1>Dashboard</h1>" in page
    assert 'id="dashboard-body"' in page
    assert "Nothing needs attention" in page
    assert "No USD revenue in this period" in page

    fragment = _body(admin_client.get("/admin/", headers={"HX-Request": "true"}))
    assert fragment.lstrip().startswith('<div id="dashboard-body"')
    assert "<h1>" not in fragment
    assert 'hx-trigger="every 30s"' in fragment


def test_chart_is_inline_svg_with_titles_and_a_table(
    admin_client: FlaskClient, db_session: Session
) -> None:
    buyer = make_user()
    course = make_course()
    day = utcnow().date() - timedelta(days=1)
    paid_orders(buyer, course, [2500], noon(day))

    page = _body(admin_client.get("/admin/?fresh=1"))

    assert "<svg" in page and "<script" not in page.split('id="dashboard-body"')[1]
    assert f"<title>{day.isoformat()}: $25.00</title>" in page
    assert f'<tr><td>{day.isoformat()}</td><td class="num">$25.00</td></tr>' in page


def test_only_admins_see_it(app: Any, db_session: Session) -> None:
    from app.accounts.models import Role
    from tests.admin.conftest import client_as

    client, _ = client_as(app, Role.TEACHER)
    assert client.get("/admin/").status_code == 403
