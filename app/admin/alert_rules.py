"""The alert rules (the seeds' thresholds) and how each metric is measured.

Every measure reads the database (one aggregate query) or RQ's registries over a recent window
and returns None when there are too few samples to judge: one failed payment at 3 am is not an
outage. The same rules ship as Prometheus alerting rules in deploy/prometheus/alerts.yml.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, case, extract, func, select

from app.checkout.models import Order
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

WINDOW = timedelta(hours=1)  # payments, webhooks, enrollment latency, finished videos
REFUND_WINDOW = timedelta(hours=24)
MIN_PAYMENTS = 20  # finished payments in WINDOW before the success rate counts
MIN_WEBHOOKS = 20
MIN_FULFILMENTS = 20  # webhook → enrollment samples before p95 counts
MIN_REFUNDS = 20

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
)
RULES_BY_KEY = {rule.key: rule for rule in RULES}
