"""The console's front page: revenue per currency (today, 7 and 30 days, and per day for the
chart), orders and payment success, the funnel, webhook → enrollment latency, queue depths and
what needs an admin's attention.

Every figure is an aggregate (GROUP BY / FILTER / percentile_cont), so the page costs the same
handful of queries whether the shop has ten orders or a million; the result is kept in Redis
for CACHE_SECONDS, so a console left open polling does not repeat them."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from redis.exceptions import RedisError
from sqlalchemy import Date, cast, extract, func, select, union_all

from app.admin.alerts import open_alerts
from app.admin.jobs_console import queue_counts
from app.cart.models import Cart, CartDay
from app.catalog.models import CourseViewDay
from app.checkout.models import Order
from app.core.models import utcnow
from app.extensions import db, get_redis
from app.learning.models import LectureProgress
from app.payments.models import (
    Payment,
    PaymentStatus,
    Refund,
    RefundLine,
    RefundStatus,
    WebhookEvent,
    WebhookStatus,
)

log = logging.getLogger(__name__)

CHART_DAYS = 30
WINDOWS = (("Today", 1), ("7 days", 7), ("30 days", 30))
FUNNEL_DAYS = 7
LATENCY_WINDOW = timedelta(hours=24)
UNFULFILLED_AFTER = timedelta(minutes=5)  # a webhook is usually seconds: 5 min is stuck
UNFULFILLED_SHOWN = 10
CACHE_SECONDS = 30
CACHE_KEY = "admin:dashboard:v1:"


@dataclass(frozen=True)
class Revenue:
    """One currency's net revenue (paid orders minus refunds) in minor units."""

    currency: str
    windows: list[int]  # one per WINDOWS entry
    daily: list[int]  # CHART_DAYS values, oldest first


@dataclass(frozen=True)
class Window:
    label: str
    orders_placed: int
    orders_paid: int
    payments_paid: int
    payments_failed: int

    @property
    def success_rate(self) -> float | None:
        """Paid among paid + failed payments, in percent (None without any)."""
        finished = self.payments_paid + self.payments_failed
        return round(100.0 * self.payments_paid / finished, 1) if finished else None


@dataclass(frozen=True)
class FunnelStep:
    label: str
    count: int


@dataclass(frozen=True)
class QueueDepth:
    name: str
    queued: int
    started: int
    scheduled: int
    failed: int


@dataclass(frozen=True)
class Alert:
    title: str
    summary: str


@dataclass(frozen=True)
class Attention:
    unfulfilled: int
    unfulfilled_tokens: list[str]
    failed_webhooks: int
    failed_jobs: int | None  # None: Redis did not answer
    alerts: list[Alert]
    failed_refunds: int = 0
    failed_refund_tokens: list[str] = field(default_factory=list)  # their orders, newest first

    @property
    def total(self) -> int:
        counts = (self.unfulfilled, self.failed_webhooks, self.failed_jobs or 0, len(self.alerts))
        return sum(counts) + self.failed_refunds


@dataclass(frozen=True)
class Dashboard:
    generated_at: datetime
    days: list[date]  # the chart's days, oldest first
    revenue: list[Revenue]
    windows: list[Window]
    funnel: list[FunnelStep]
    latency_p50: float | None  # seconds
    latency_p95: float | None
    latency_samples: int
    queues: list[QueueDepth] | None  # None: Redis did not answer
    attention: Attention
    funnel_days: int = FUNNEL_DAYS
    window_labels: list[str] = field(default_factory=lambda: [w[0] for w in WINDOWS])


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, UTC)


def _utc_day(column: Any) -> Any:
    """The UTC calendar day of a timestamptz column, whatever the session's time zone."""
    return cast(func.timezone("UTC", column), Date)


def net_revenue_by_day(start: datetime, end: datetime) -> dict[tuple[str, date], int]:
    """(currency, UTC day) -> paid orders' totals minus refunds made that day: one query.

    Orders count on the day they were paid, refunds on the day they succeeded; a refund with no
    lines (a surplus payment given back) is left out, as revenue never counted it."""
    paid = select(
        Order.currency.label("currency"),
        _utc_day(Order.paid_at).label("day"),
        Order.total_minor.label("amount"),
    ).where(Order.paid_at >= start, Order.paid_at < end, Order.total_minor > 0)
    refunded = select(Refund.currency, _utc_day(Refund.updated_at), -Refund.amount_minor).where(
        Refund.status == RefundStatus.SUCCEEDED,
        Refund.updated_at >= start,
        Refund.updated_at < end,
        select(RefundLine.id).where(RefundLine.refund_id == Refund.id).exists(),
    )
    both = union_all(paid, refunded).subquery()
    stmt = select(both.c.currency, both.c.day, func.sum(both.c.amount)).group_by(
        both.c.currency, both.c.day
    )
    return {(cur, day): int(total) for cur, day, total in db.session.execute(stmt)}


def _revenue(
    by_day: dict[tuple[str, date], int], days: Sequence[date], currencies: Iterable[str]
) -> list[Revenue]:
    shown = list(dict.fromkeys([*currencies, *sorted({cur for cur, _ in by_day})]))
    result = []
    for currency in shown:
        daily = [by_day.get((currency, day), 0) for day in days]
        windows = [sum(daily[-n:]) for _, n in WINDOWS]
        result.append(Revenue(currency, windows, daily))
    return result


def _windows(today: date) -> list[Window]:
    """Orders placed and paid, payments paid and failed, per window: two queries."""
    starts = [_midnight(today - timedelta(days=n - 1)) for _, n in WINDOWS]
    earliest = min(starts)
    orders = select(
        *[func.count().filter(Order.created_at >= s) for s in starts],
        *[func.count().filter(Order.paid_at >= s, Order.total_minor > 0) for s in starts],
    ).where((Order.created_at >= earliest) | (Order.paid_at >= earliest))
    ok = Payment.status.in_(PaymentStatus.CAPTURED)
    failed = Payment.status == PaymentStatus.FAILED
    payments = select(
        *[func.count().filter(ok, Payment.updated_at >= s) for s in starts],
        *[func.count().filter(failed, Payment.updated_at >= s) for s in starts],
    ).where(Payment.updated_at >= earliest)
    order_counts = db.session.execute(orders).one()
    payment_counts = db.session.execute(payments).one()
    n = len(WINDOWS)
    return [
        Window(
            label, order_counts[i], order_counts[n + i], payment_counts[i], payment_counts[n + i]
        )
        for i, (label, _) in enumerate(WINDOWS)
    ]


def _funnel(now: datetime) -> list[FunnelStep]:
    """Course views → carts → checkouts → paid → first lecture watched in the last FUNNEL_DAYS
    (one query of scalar subqueries)."""
    start = _midnight(now.date() - timedelta(days=FUNNEL_DAYS - 1))
    views = select(func.coalesce(func.sum(CourseViewDay.views), 0)).where(
        CourseViewDay.day >= start.date()
    )
    live_carts = select(func.count(Cart.id)).where(Cart.created_at >= start).scalar_subquery()
    deleted_carts = select(func.coalesce(func.sum(CartDay.deleted), 0)).where(
        CartDay.day >= start.date()
    )
    carts = select(live_carts + deleted_carts.scalar_subquery())  # the cleanup deletes idle ones
    checkouts = select(func.count(Order.id)).where(Order.created_at >= start)
    paid = select(func.count(Order.id)).where(Order.paid_at >= start)
    # An enrollment is one (user, course): its first progress row is its first lecture watched.
    firsts = (
        select(LectureProgress.enrollment_id)
        .group_by(LectureProgress.enrollment_id)
        .having(func.min(LectureProgress.created_at) >= start)
        .subquery()
    )
    watched = select(func.count()).select_from(firsts)
    parts = (views, carts, checkouts, paid, watched)
    counts = db.session.execute(select(*[p.scalar_subquery() for p in parts])).one()
    labels = ("Course views", "Carts", "Checkouts", "Paid orders", "First lecture watched")
    return [FunnelStep(label, int(count)) for label, count in zip(labels, counts, strict=True)]


def _latency(now: datetime) -> tuple[float | None, float | None, int]:
    """p50 and p95 seconds from first webhook to enrollment over the last 24 h, and samples."""
    seconds = extract("epoch", Order.fulfilled_at - Order.first_webhook_at)
    stmt = select(
        func.percentile_cont(0.5).within_group(seconds.asc()),
        func.percentile_cont(0.95).within_group(seconds.asc()),
        func.count(),
    ).where(Order.fulfilled_at >= now - LATENCY_WINDOW, Order.first_webhook_at.is_not(None))
    p50, p95, samples = db.session.execute(stmt).one()
    rounded = [None if v is None else round(float(v), 3) for v in (p50, p95)]
    return rounded[0], rounded[1], int(samples)


def _stuck_orders(now: datetime) -> tuple[int, list[str]]:
    """Paid more than UNFULFILLED_AFTER ago and never fulfilled: how many, and the oldest."""
    stuck = (Order.paid_at < now - UNFULFILLED_AFTER) & Order.fulfilled_at.is_(None)
    total = func.count().over()
    stmt = (
        select(Order.token, total)
        .where(stuck)
        .order_by(Order.paid_at, Order.id)
        .limit(UNFULFILLED_SHOWN)
    )
    rows = db.session.execute(stmt).all()
    return (int(rows[0][1]) if rows else 0), [token for token, _ in rows]


def _failed_refunds() -> tuple[int, list[str]]:
    """Refunds the provider refused (the money is still the shop's; the buyer waits): how many,
    and their orders, newest first."""
    total = func.count().over()
    stmt = (
        select(Order.token, total)
        .join(Refund, Refund.order_id == Order.id)
        .where(Refund.status == RefundStatus.FAILED)
        .order_by(Refund.updated_at.desc(), Refund.id.desc())
        .limit(UNFULFILLED_SHOWN)
    )
    rows = db.session.execute(stmt).all()
    return (int(rows[0][1]) if rows else 0), list(dict.fromkeys(token for token, _ in rows))


def _queues() -> list[QueueDepth] | None:
    try:
        counts = queue_counts()
    except RedisError as err:
        log.warning("event=dashboard_queues_unavailable error=%s", err)
        return None
    return [
        QueueDepth(q.name, q["queued"], q["started"], q["scheduled"], q["failed"]) for q in counts
    ]


def _attention(now: datetime, queues: list[QueueDepth] | None) -> Attention:
    unfulfilled, tokens = _stuck_orders(now)
    failed_webhooks = db.session.scalar(
        select(func.count(WebhookEvent.id)).where(WebhookEvent.status == WebhookStatus.FAILED)
    )
    failed_jobs = None if queues is None else sum(q.failed for q in queues)
    alerts = [Alert(a.title, a.summary) for a in open_alerts()]
    refunds, refund_tokens = _failed_refunds()
    return Attention(
        unfulfilled, tokens, int(failed_webhooks or 0), failed_jobs, alerts, refunds, refund_tokens
    )


def compute_dashboard(currencies: Sequence[str], now: datetime | None = None) -> Dashboard:
    """Every figure of the dashboard, from a fixed number of aggregate queries and one Redis
    round trip; `currencies` are shown even when they sold nothing."""
    now = now or utcnow()
    today = now.date()
    days = [today - timedelta(days=CHART_DAYS - 1 - i) for i in range(CHART_DAYS)]
    by_day = net_revenue_by_day(_midnight(days[0]), _midnight(today + timedelta(days=1)))
    p50, p95, samples = _latency(now)
    queues = _queues()
    return Dashboard(
        generated_at=now,
        days=days,
        revenue=_revenue(by_day, days, currencies),
        windows=_windows(today),
        funnel=_funnel(now),
        latency_p50=p50,
        latency_p95=p95,
        latency_samples=samples,
        queues=queues,
        attention=_attention(now, queues),
    )


# --- the Redis copy ---------------------------------------------------------------------------


def _encode(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {value!r}")


def dump_dashboard(board: Dashboard) -> str:
    return json.dumps(asdict(board), default=_encode, separators=(",", ":"))


def load_dashboard(raw: str | bytes) -> Dashboard:
    data = json.loads(raw)
    attention = data["attention"]
    queues = data["queues"]
    return Dashboard(
        generated_at=datetime.fromisoformat(data["generated_at"]),
        days=[date.fromisoformat(d) for d in data["days"]],
        revenue=[Revenue(**r) for r in data["revenue"]],
        windows=[Window(**w) for w in data["windows"]],
        funnel=[FunnelStep(**s) for s in data["funnel"]],
        latency_p50=data["latency_p50"],
        latency_p95=data["latency_p95"],
        latency_samples=data["latency_samples"],
        queues=None if queues is None else [QueueDepth(**q) for q in queues],
        attention=Attention(**{**attention, "alerts": [Alert(**a) for a in attention["alerts"]]}),
        funnel_days=data["funnel_days"],
        window_labels=data["window_labels"],
    )


def get_dashboard(currencies: Sequence[str], *, fresh: bool = False) -> Dashboard:
    """The dashboard as computed at most CACHE_SECONDS ago (`fresh`: computed now); without
    Redis it is computed every time."""
    key = CACHE_KEY + ",".join(currencies)
    redis = get_redis()
    if not fresh:
        try:
            cached = redis.get(key)
        except RedisError:
            cached = None
        if cached is not None:
            return load_dashboard(cached)
    board = compute_dashboard(currencies)
    try:
        redis.set(key, dump_dashboard(board), ex=CACHE_SECONDS)
    except RedisError as err:
        log.warning("event=dashboard_cache_unavailable error=%s", err)
    return board
