"""Payment jobs: ids in, idempotent, each commits its own work."""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy.orm import joinedload

from app.checkout.models import Order
from app.core.models import utcnow
from app.core.unit import committing
from app.core.urls import absolute_url
from app.extensions import db
from app.jobs.queues import CRITICAL_RETRY, PendingJob, QueueName, enqueue_now
from app.notifications.models import NotificationKind
from app.notifications.services import notify
from app.payments.models import Refund
from app.payments.providers import configured
from app.payments.providers.sandbox.hosted import store_sandbox_event
from app.payments.providers.sandbox.models import get_session
from app.payments.services import process_event
from app.payments.services.reconcile import (
    build_daily_report,
    expire_orders,
    reconcile_payment,
    stale_payments,
)
from app.payments.services.refunds import make_refund, stale_refunds
from app.payments.services.webhooks import event_order_token, record_failure, stuck_events

log = logging.getLogger(__name__)


def process_webhook_event(event_id: int) -> str | None:
    """Act on a stored webhook event (critical queue; a failure is retried, then dead-lettered)."""
    try:
        with committing():
            status = process_event(event_id)
    except Exception as exc:
        with committing():  # a fresh transaction: the failed one was rolled back
            record_failure(event_id, repr(exc))
        from rq import get_current_job  # imported when a job runs: web processes skip RQ

        job = get_current_job()
        if job is None or not job.retries_left:
            log.error("event=webhook_dead_letter webhook_event=%s order=%s error=%r", event_id,
                      event_order_token(event_id), exc)  # fmt: skip
        raise
    return status.value if status else None


def warm_up_providers() -> int:
    """Worker start-up: build each configured provider once, so the first payment job of a
    fresh worker does not pay for importing its SDK (Stripe's client: ~0.1-0.5 s)."""
    return len(configured())


def enqueue_webhook_processing(event_id: int) -> bool:
    """Queue the processing of an event now (False when Redis is unreachable)."""
    return enqueue_now(
        PendingJob(process_webhook_event, (event_id,), QueueName.CRITICAL, CRITICAL_RETRY)
    )


def sweep_webhook_events() -> int:
    """Every minute (cron, and each worker): enqueue events stored but never queued.

    Only `received` events are picked, and processing is idempotent on the event row, so
    several sweepers at once (or a job queued twice) still act on an event once.
    """
    ids = stuck_events()
    queued = 0
    for event_id in ids:
        if not enqueue_webhook_processing(event_id):
            break  # Redis is still down: the rest would each wait for the same timeout
        queued += 1
    if ids:
        log.info("event=webhook_sweep stuck=%d queued=%d", len(ids), queued)
    return queued


def deliver_sandbox_event(session_id: str, kind: str, refund_id: str | None = None) -> int:
    """The sandbox provider delivers an event later, as a job (kept for queued jobs and tools)."""
    session = get_session(session_id)
    if session is None:
        return 0
    refund = {"id": refund_id, "amount": None} if refund_id else None
    with committing():
        ingested = store_sandbox_event(session, kind, refund)
    if ingested.created:
        enqueue_webhook_processing(ingested.event_id)
    return ingested.event_id


def reconcile_payments() -> int:
    """Every 30 minutes: ask providers about payments pending for over 15 minutes."""
    ids = stale_payments(timedelta(minutes=15))
    for payment_id in ids:
        try:
            with committing():  # one payment at a time: a provider error leaves the others
                reconcile_payment(payment_id)
        except Exception:
            log.exception("event=reconcile_error payment_id=%s", payment_id)
    log.info("event=reconcile checked=%d", len(ids))
    sweep_pending_refunds()
    return len(ids)


def expire_unpaid_orders() -> int:
    """Hourly: orders not paid within their window expire and release their coupon use."""
    with committing():
        count = expire_orders()
    log.info("event=orders_expired count=%d", count)
    return count


def write_daily_report() -> str:
    """Daily: yesterday's sales report row (rewritten when run again)."""
    day = (utcnow() - timedelta(days=1)).date()
    with committing():
        report = build_daily_report(day)
    log.info(
        "event=daily_report day=%s orders=%d revenue=%s", day, report.orders_paid, report.revenue
    )
    return day.isoformat()


def send_refund_notice(refund_id: int) -> None:
    """One in-app notification and email per refund (non-critical)."""
    refund = db.session.get(Refund, refund_id)
    if refund is None:
        return
    order = db.session.scalars(
        db.select(Order).where(Order.id == refund.order_id).options(joinedload(Order.user))
    ).one()
    with committing():
        notify(
            order.user,
            f"refund:{refund.id}",
            NotificationKind.REFUND,
            link=absolute_url("checkout.order_page", token=order.token),
            order=order,
            refund=refund,
        )


def execute_refund(refund_id: int) -> str | None:
    """Make one refund row's refund at the provider and settle it (critical queue, retried).

    Every refund runs here, whoever asked (student, CLI, admin, a duplicate capture): the
    asker commits the pending row, then queues this. Idempotent on the row: a refund already
    made or refused is left alone (the row lock makes a second copy of the job wait, then
    find it done), and every attempt sends the provider the refund's own idempotency key, so
    a worker killed after the provider call retries into the same provider refund. A
    provider error is retried; after the last attempt the refund is marked failed.
    """
    refund = db.session.get(Refund, refund_id)
    if refund is None:
        return None
    from rq import get_current_job  # imported when a job runs: web processes skip RQ

    job = get_current_job()
    with committing():
        refund = make_refund(refund, final_attempt=job is None or not job.retries_left)
    log.info("event=refund_executed refund=%s status=%s", refund.token, refund.status.value)
    return refund.status.value


# The job's name before issue 8: jobs already in Redis under it still run.
execute_refund_job = execute_refund


def enqueue_refund(refund_id: int) -> bool:
    """Queue the execution of a refund row now (False when Redis is unreachable)."""
    return enqueue_now(PendingJob(execute_refund, (refund_id,), QueueName.CRITICAL, CRITICAL_RETRY))


def sweep_pending_refunds() -> int:
    """With reconciliation: refund rows still pending a while after they were made (their job
    was never queued, e.g. Redis was down at commit, or its process died) are queued again."""
    ids = stale_refunds(timedelta(minutes=15))
    queued = sum(1 for refund_id in ids if enqueue_refund(refund_id))
    if ids:
        log.info("event=refund_sweep stale=%d queued=%d", len(ids), queued)
    return queued
