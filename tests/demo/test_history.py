"""The demo's thirty days of shop history: the dashboard and reports read it as live data."""

from __future__ import annotations

import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.admin.dashboard import compute_dashboard
from app.admin.reports import Period, list_daily_rows
from app.cart.models import Cart
from app.catalog.models import CourseViewDay
from app.checkout.models import CreditNote, Order, OrderItem, OrderStatus
from app.demo import seed_demo
from app.demo.history import DAYS, seed_history
from app.extensions import db
from app.learning.models import Enrollment, EnrollmentStatus, LectureProgress
from app.payments.models import (
    DailyReport,
    Payment,
    PaymentStatus,
    Refund,
    RefundLine,
    RefundStatus,
    WebhookEvent,
)

COUNTED = (Order, OrderItem, Payment, Refund, WebhookEvent, Enrollment, LectureProgress, Cart,
           CreditNote, DailyReport, User)  # fmt: skip


def _counts() -> dict[str, int]:
    counts = {m.__name__: db.session.scalar(select(func.count()).select_from(m)) for m in COUNTED}
    counts["views"] = db.session.scalar(select(func.sum(CourseViewDay.views)))
    return counts


@pytest.fixture
def history(app: Flask, db_session: Session, monkeypatch: pytest.MonkeyPatch) -> float:
    """The demo without its history, then seed_history on its own: how long it took."""
    monkeypatch.setattr("app.demo.seed_history", lambda: 0)
    seed_demo()
    db.session.flush()
    queued = len(db.session.info.get("coursefront_pending_jobs", []))
    started = time.perf_counter()
    written = seed_history()
    elapsed = time.perf_counter() - started
    db.session.flush()
    assert written > DAYS * 3
    assert len(db.session.info.get("coursefront_pending_jobs", [])) == queued  # no job, no mail
    return elapsed


def test_the_dashboard_shows_thirty_days_of_history(history: float) -> None:
    assert history < 5.0  # ~2 s on a busy 2-core machine
    board = compute_dashboard(["INR", "USD"])
    by_currency = {r.currency: r for r in board.revenue}
    for currency in ("INR", "USD"):
        assert by_currency[currency].windows[-1] > 0  # 30 days
        assert sum(1 for v in by_currency[currency].daily if v) >= 20  # most days sold
    thirty = board.windows[-1]
    assert thirty.success_rate is not None and 80 < thirty.success_rate < 100
    assert board.latency_samples > 0
    assert board.latency_p50 is not None and 1.0 <= board.latency_p50 <= 4.0
    views, carts, checkouts, paid, watched = (step.count for step in board.funnel)
    assert views >= carts >= checkouts >= paid > 0
    assert 0 < watched <= paid * 3
    assert board.attention.unfulfilled == 0 and board.attention.failed_webhooks == 0


def test_the_reports_have_a_row_for_each_past_day(history: float) -> None:
    today = datetime.now(UTC).date()
    rows = list_daily_rows(Period(today - timedelta(days=DAYS), today - timedelta(days=1)))
    assert len(rows) == DAYS
    assert all(r.report.orders_paid > 0 and r.views > 0 for r in rows)
    assert any(r.report.refunds for r in rows)
    rates = [r.report.success_rate for r in rows if r.report.success_rate is not None]
    assert min(rates) < 1.0
    assert any(line.country == "IN" and line.collected > 0 for r in rows for line in r.tax)


def test_one_days_revenue_is_its_paid_orders_minus_its_refunds(history: float) -> None:
    """Counted here from the rows themselves, not with the dashboard's query."""
    refunds = list(
        db.session.scalars(select(Refund).where(Refund.status == RefundStatus.SUCCEEDED))
    )
    board = compute_dashboard(["INR", "USD"])
    days = [r.updated_at.astimezone(UTC).date() for r in refunds]
    day = next(d for d in days if d in board.days)  # a day with a refund, to see it subtracted
    expected: dict[str, int] = defaultdict(int)
    for order in db.session.scalars(select(Order).where(Order.paid_at.is_not(None))):
        if order.paid_at.astimezone(UTC).date() == day and order.total_minor > 0:
            expected[order.currency] += order.total_minor
    with_lines = set(db.session.scalars(select(RefundLine.refund_id)))
    for refund in refunds:
        if refund.updated_at.astimezone(UTC).date() == day and refund.id in with_lines:
            expected[refund.currency] -= refund.amount_minor
    index = board.days.index(day)
    for revenue in board.revenue:
        assert revenue.daily[index] == expected.get(revenue.currency, 0), revenue.currency
    report = db.session.scalars(select(DailyReport).where(DailyReport.day == day)).one()
    for currency, amount in expected.items():
        assert report.revenue.get(currency, 0) - report.refunds.get(currency, 0) == amount


def test_the_history_is_consistent(history: float) -> None:
    """Every order adds up, paid ones were paid through the sandbox and enrolled their buyer,
    refunds came with credit notes, and the demo student's own orders were left alone."""
    buyers = set(db.session.scalars(select(User.id).where(User.email.like("buyer%@example.com"))))
    assert len(buyers) == 15
    orders = list(db.session.scalars(select(Order).where(Order.user_id.in_(buyers))))
    assert {o.currency for o in orders} == {"INR", "USD"}
    statuses = {o.status for o in orders}
    assert {OrderStatus.PAID, OrderStatus.EXPIRED, OrderStatus.REFUNDED} <= statuses
    assert OrderStatus.PARTIALLY_REFUNDED in statuses
    for order in orders:
        items = list(db.session.scalars(select(OrderItem).where(OrderItem.order_id == order.id)))
        assert order.total_minor == sum(i.total_minor for i in items) > 0
        assert order.tax_minor == sum(i.tax_minor for i in items)
        assert order.refunded_minor == sum(i.refunded_minor for i in items)
        payments = list(db.session.scalars(select(Payment).where(Payment.order_id == order.id)))
        assert all(
            p.provider == "sandbox" and p.amount_minor == order.total_minor for p in payments
        )
        if order.paid_at is None:
            assert order.invoice_number is None
            assert [p.status for p in payments] == [PaymentStatus.FAILED]
            continue
        assert order.invoice_number is not None and payments[-1].status.is_captured
        assert order.fulfilled_at is not None and order.first_webhook_at is not None
        if len(payments) == 1:
            assert 1.0 <= (order.fulfilled_at - order.first_webhook_at).total_seconds() <= 4.0
        enrolled = dict(
            db.session.execute(
                select(Enrollment.course_id, Enrollment.status).where(
                    Enrollment.order_id == order.id
                )
            ).all()
        )
        for item in items:
            dropped = item.refunded_minor == item.total_minor
            assert enrolled[item.course_id] is (
                EnrollmentStatus.DROPPED if dropped else EnrollmentStatus.ACTIVE
            ) or (not dropped and enrolled[item.course_id] is EnrollmentStatus.COMPLETED)
        if order.refunded_minor:
            notes = db.session.scalars(select(CreditNote).where(CreditNote.order_id == order.id))
            assert sum(n.amount_minor for n in notes) == order.refunded_minor
    inr = [o for o in orders if o.currency == "INR" and o.paid_at is not None]
    assert all(o.tax_country == "IN" and o.tax_minor > 0 and o.buyer_region for o in inr)
    student = db.session.scalars(select(User).where(User.email == "student1@example.com")).one()
    theirs = db.session.scalars(
        select(Order).where(Order.user_id == student.id, Order.total_minor > 0)
    )
    assert all(
        o.paid_at is None and o.created_at > datetime.now(UTC) - timedelta(hours=1) for o in theirs
    )


def test_seeding_again_adds_nothing(history: float) -> None:
    before = _counts()
    assert seed_history() == 0
    db.session.flush()
    assert _counts() == before
    seed_demo()  # the whole demo too
    db.session.flush()
    assert _counts() == before


def test_seed_demo_writes_the_history(app: Flask, db_session: Session) -> None:
    summary = seed_demo()
    assert summary.history_orders > DAYS * 3
    assert seed_demo().history_orders == 0
