"""The alert rules (the seeds' thresholds) and how each metric is measured.

Every measure reads the database (one aggregate query) or RQ's registries over a recent window
and returns None when there are too few samples to judge: one failed payment at 3 am is not an
outage. The same rules ship as Prometheus alerting rules in deploy/prometheus/alerts.yml.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, case, exists, extract, func, select

from app.checkout.models import Order, OrderItem, OrderStatus
from app.extensions import db, get_redis
from app.jobs.queues import WORKER_QUEUES, get_queue
from app.media.models import MediaFile, MediaKind, MediaStatus
from app.payments.models import (
    Payment,
    PaymentStatus,
    Refund,
    RefundStatus,
    WebhookEvent,
    WebhookStatus,
)
from app.tutoring.models import (
    AllocationStatus,
    TrainerAllocation,
    TutoringPurchase,
    TutoringSession,
)

WINDOW = timedelta(hours=1)  # payments, webhooks, enrollment latency, videos, tutoring
REFUND_WINDOW = timedelta(hours=24)
MIN_PAYMENTS = 20  # finished payments in WINDOW before the success rate counts
MIN_WEBHOOKS = 20
MIN_FULFILMENTS = 20  # webhook → enrollment samples before p95 counts
MIN_REFUNDS = 20
MIN_TUTORING = 20  # paid package lines (purchases) in WINDOW before the rate counts
# A package paid or bought this recently may still be on its way (its assignment job runs
# after the commit, with 2/4/8 s retries): judged only once it is older than this.
TUTORING_GRACE = timedelta(seconds=60)

PAYMENT_OK = (
    PaymentStatus.SUCCEEDED,
    PaymentStatus.PARTIALLY_REFUNDED,
    PaymentStatus.REFUNDED,
)
PAYMENT_BAD = (PaymentStatus.FAILED, PaymentStatus.CANCELED)


@dataclass(frozen=True)
class Rule:
    key: str
    title: str
    threshold: float
    above: bool  # fires when the value is above the threshold (else below it)
    unit: str  # "%", "s", "min", "jobs"
    measure: Callable[[datetime], float | None]

    def breached(self, value: float | None) -> bool:
        if value is None:
            return False
        return value > self.threshold if self.above else value < self.threshold

    def describe(self, value: float | None) -> str:
        sign = ">" if self.above else "<"
        shown = "not enough samples" if value is None else f"{value:g} {self.unit}"
        return f"{shown} (alert when {sign} {self.threshold:g} {self.unit})"


def _rate(
    model: type, bad: ColumnElement[bool], counted: ColumnElement[bool], minimum: int
) -> float | None:
    """Percent of rows of `model` matching `bad` among those matching `counted` (one query)."""
    stmt = select(func.count().filter(bad), func.count()).select_from(model).where(counted)
    bad_count, all_count = db.session.execute(stmt).one()
    if all_count < minimum:
        return None
    return round(100.0 * bad_count / all_count, 2)


def payment_success_rate(now: datetime) -> float | None:
    """Succeeded vs failed/canceled among payments that finished in WINDOW, in percent."""
    finished = Payment.status.in_(PAYMENT_OK + PAYMENT_BAD) & (Payment.updated_at >= now - WINDOW)
    return _rate(Payment, Payment.status.in_(PAYMENT_OK), finished, MIN_PAYMENTS)


def webhook_failure_rate(now: datetime) -> float | None:
    """Webhook events received in WINDOW that failed, in percent."""
    recent = WebhookEvent.received_at >= now - WINDOW
    failed = WebhookEvent.status == WebhookStatus.FAILED
    return _rate(WebhookEvent, failed, recent, MIN_WEBHOOKS)


def refund_failure_rate(now: datetime) -> float | None:
    """Refunds that became final in REFUND_WINDOW and failed, in percent."""
    final = Refund.status.in_((RefundStatus.SUCCEEDED, RefundStatus.FAILED))
    recent = final & (Refund.updated_at >= now - REFUND_WINDOW)
    return _rate(Refund, Refund.status == RefundStatus.FAILED, recent, MIN_REFUNDS)


def tutoring_purchase_rate(now: datetime) -> float | None:
    """Paid tutoring lines (orders paid in WINDOW, over TUTORING_GRACE ago) that have their
    purchase, in percent. A purchase that fails to be created rolls its whole fulfilment back,
    so the order stays unpaid until a retry works (the webhook rule sees those attempts, the
    Prometheus counter each one); this counts the lines that ended up paid without one."""
    paid = select(Order.id).where(
        Order.paid_at >= now - WINDOW,
        Order.paid_at < now - TUTORING_GRACE,
        Order.status.in_(OrderStatus.FULFILLED),
    )
    lines = OrderItem.sessions.is_not(None) & OrderItem.order_id.in_(paid)
    has_purchase = exists().where(TutoringPurchase.order_item_id == OrderItem.id)
    return _rate(OrderItem, has_purchase, lines, MIN_TUTORING)


def tutoring_assignment_rate(now: datetime) -> float | None:
    """Purchases created in WINDOW (over TUTORING_GRACE ago) that a trainer was assigned to
    automatically, in percent; pending, ended before an approval, or with no allocation at all
    (the job failed for good) are not. An automatic approval later ended by a refund still
    counts: its allocation is rejected but its sessions remain."""
    has_sessions = exists().where(TutoringSession.purchase_id == TrainerAllocation.purchase_id)
    approved = (TrainerAllocation.status == AllocationStatus.APPROVED) | (
        (TrainerAllocation.status == AllocationStatus.REJECTED) & has_sessions
    )
    assigned = exists().where(
        TrainerAllocation.purchase_id == TutoringPurchase.id,
        TrainerAllocation.decided_by_id.is_(None),  # automatic, not an admin's choice
        approved,
    )
    recent = (TutoringPurchase.created_at >= now - WINDOW) & (
        TutoringPurchase.created_at < now - TUTORING_GRACE
    )
    return _rate(TutoringPurchase, assigned, recent, MIN_TUTORING)


def retry_and_failed_jobs(_now: datetime) -> float | None:
    """Jobs in RQ's failed registry plus those scheduled for a retry, over every queue."""
    redis = get_redis()
    total = 0
    for name in WORKER_QUEUES:
        queue = get_queue(name, redis)
        total += queue.failed_job_registry.count + queue.scheduled_job_registry.count
    return float(total)


def enrollment_p95(now: datetime) -> float | None:
    """p95 seconds from first webhook to enrollment over orders fulfilled in WINDOW."""
    seconds = extract("epoch", Order.fulfilled_at - Order.first_webhook_at)
    stmt = select(func.percentile_cont(0.95).within_group(seconds.asc()), func.count()).where(
        Order.fulfilled_at >= now - WINDOW, Order.first_webhook_at.is_not(None)
    )
    p95, samples = db.session.execute(stmt).one()
    if samples < MIN_FULFILMENTS or p95 is None:
        return None
    return round(float(p95), 3)


def video_processing_minutes(now: datetime) -> float | None:
    """The longest video processing: still busy since confirmed, or finished in WINDOW."""
    busy = MediaFile.status.in_((MediaStatus.UPLOADED, MediaStatus.PROCESSING))
    took = case(
        (busy, now - MediaFile.confirmed_at),
        else_=MediaFile.ready_at - MediaFile.confirmed_at,
    )
    stmt = select(func.max(extract("epoch", took))).where(
        MediaFile.kind == MediaKind.VIDEO,
        MediaFile.confirmed_at.is_not(None),
        busy | (MediaFile.ready_at >= now - WINDOW),
    )
    longest = db.session.scalar(stmt)
    return 0.0 if longest is None else round(float(longest) / 60, 2)


RULES: tuple[Rule, ...] = (
    Rule("payment_success", "Payment success rate", 95, False, "%", payment_success_rate),
    Rule("webhook_failures", "Webhook failure rate", 5, True, "%", webhook_failure_rate),
    Rule("job_backlog", "Retry and failed jobs", 100, True, "jobs", retry_and_failed_jobs),
    Rule("enrollment_p95", "Webhook → enrollment p95", 2, True, "s", enrollment_p95),
    Rule("video_processing", "Video processing time", 10, True, "min", video_processing_minutes),
    Rule("refund_failures", "Failed refunds", 1, True, "%", refund_failure_rate),
    Rule(
        "tutoring_purchases",
        "Tutoring purchase creation",
        99,
        False,
        "%",
        tutoring_purchase_rate,
    ),
    Rule(
        "tutoring_assignment",
        "Tutoring auto-assignment",
        95,
        False,
        "%",
        tutoring_assignment_rate,
    ),
    # Seed 003's "retry queue size > 100" is job_backlog above (every queue, the assignment
    # job's retries and dead letters included): no rule of its own.
)
RULES_BY_KEY = {rule.key: rule for rule in RULES}
