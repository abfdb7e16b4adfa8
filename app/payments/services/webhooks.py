"""Webhook ingestion (verify, store, then enqueue) and processing (the critical path).

A 2xx answer means the event is durably stored: the row is committed before we answer, and
if Redis is down it stays `received` until the sweeper enqueues it. Processing is idempotent
on the event row and, because Razorpay does not sign its event id, on the payment too.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import NoResultFound

from app.checkout.models import Order
from app.core.db import lock
from app.core.metrics import count_webhook_event, count_webhook_failure
from app.core.models import utcnow
from app.extensions import db
from app.payments.models import Payment, Refund, RefundSource, WebhookEvent, WebhookStatus
from app.payments.providers import MUX, get_provider, webhook_source
from app.payments.providers.base import (
    MalformedWebhook,
    PaymentFacts,
    RefundFacts,
    WebhookMessage,
)
from app.payments.services.fulfilment import apply_payment_facts, fulfil_payment
from app.payments.services.lookup import find_payment, lock_order, lock_payment
from app.payments.services.refunds import plan_refund, request_refund, settle_refund

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Ingested:
    event_id: int
    created: bool


def ingest_webhook(provider_name: str, raw_body: bytes, headers: Mapping[str, str]) -> Ingested:
    """Verify the signature on the raw body, then store the event once (InvalidSignature else)."""
    provider = webhook_source(provider_name)
    message = provider.parse_webhook(raw_body, headers)
    check_storable(message)
    stmt = (
        insert(WebhookEvent)
        .values(
            provider=provider.name,
            event_id=message.event_id,
            type=message.type,
            payload=message.payload,
            status=WebhookStatus.RECEIVED.value,
            attempts=0,
            received_at=utcnow(),
        )
        .on_conflict_do_nothing(index_elements=["provider", "event_id"])
        .returning(WebhookEvent.id)
    )
    new_id = db.session.execute(stmt).scalar()
    if new_id is not None:
        return Ingested(new_id, True)
    existing = db.session.scalar(
        select(WebhookEvent.id).where(
            WebhookEvent.provider == provider.name, WebhookEvent.event_id == message.event_id
        )
    )
    return Ingested(int(existing or 0), False)


def check_storable(message: WebhookMessage) -> None:
    """Refuse (MalformedWebhook, nothing stored) an event its row cannot hold, before the
    insert fails: an id or type too long for its column, or with control characters."""
    columns = WebhookEvent.__table__.c
    for value, column in ((message.event_id, columns.event_id), (message.type, columns.type)):
        limit = column.type.length
        if not value or len(value) > limit or any(ord(ch) < 32 for ch in value):
            raise MalformedWebhook(f"the event's {column.name} is empty, over {limit} or not text")
    if not isinstance(message.payload, dict):
        raise MalformedWebhook("the event's payload is not a JSON object")


def lock_event(event_id: int) -> WebhookEvent | None:
    """The event, locked: two jobs for one event take turns, and the second finds it done."""
    try:
        return lock(WebhookEvent, event_id)
    except NoResultFound:
        return None


def process_event(event_id: int) -> WebhookStatus | None:
    """Act on a stored event exactly once: processed, or ignored when it is not about us."""
    event = lock_event(event_id)
    if event is None or event.status in (WebhookStatus.PROCESSED, WebhookStatus.IGNORED):
        return event.status if event else None
    if event.provider == MUX:
        return _process_video_event(event)
    provider = get_provider(event.provider)
    facts = provider.interpret(WebhookMessage(event.event_id, event.type, event.payload))
    handled, order_id = False, event.order_id
    for fact in facts:
        payment_facts = fact.payment if isinstance(fact, RefundFacts) else fact
        payment = find_payment(event.provider, payment_facts)
        if payment is None:
            continue
        order_id = payment.order_id
        handled = _apply(event.provider, fact, payment, event.received_at) or handled
    # Set last, so the event row is written once (with its status), not also mid-way.
    event.order_id = order_id
    event.status = WebhookStatus.PROCESSED if handled else WebhookStatus.IGNORED
    event.processed_at = utcnow()
    event.attempts += 1
    count_webhook_event(event.provider, event.status)
    if not handled:
        log.info(
            "event=webhook_ignored provider=%s type=%s id=%s",
            event.provider,
            event.type,
            event.event_id,
        )
    return event.status


def _process_video_event(event: WebhookEvent) -> WebhookStatus:
    """A Mux event: media applies it to its video (no payment is involved)."""
    from app.payments.providers.mux import MuxWebhooks

    message = WebhookMessage(event.event_id, event.type, event.payload)
    handled = MuxWebhooks.process(message)
    event.status = WebhookStatus.PROCESSED if handled else WebhookStatus.IGNORED
    event.processed_at = utcnow()
    event.attempts += 1
    count_webhook_event(event.provider, event.status)
    return event.status


def _apply(
    provider: str, fact: PaymentFacts | RefundFacts, payment: Payment, received_at: datetime
) -> bool:
    if isinstance(fact, RefundFacts):
        apply_provider_refund(provider, fact)
        return True
    return apply_payment_facts(provider, fact, payment, webhook_at=received_at) is not None


def apply_provider_refund(provider: str, facts: RefundFacts) -> Refund | None:
    """A refund made at the provider (its dashboard, or ours echoed back), recorded once."""
    payment = find_payment(provider, facts.payment)
    if payment is None:
        return None
    if not payment.status.is_captured:
        # The refund proves the payment happened: an out-of-order event must not lose it.
        fulfil_payment(payment, facts.payment)
    order = lock_order(payment.order_id)
    payment = lock_payment(payment.id)
    if facts.refund_id and db.session.scalar(
        select(Refund.id).where(
            Refund.payment_id == payment.id, Refund.provider_refund_id == facts.refund_id
        )
    ):
        return None
    amount = (
        facts.amount
        if facts.amount is not None
        else (facts.cumulative or 0) - payment.refunded_minor
    )
    if amount <= 0:
        return None
    plan = plan_refund(order, amount=min(amount, order.total_minor - order.refunded_minor))
    marker = facts.refund_id or f"{payment.token}:{payment.refunded_minor + amount}"
    key = f"provider:{provider}:{marker}"
    refund = request_refund(plan, RefundSource.PROVIDER, "Refunded at the payment provider", key)
    refund.provider_refund_id = facts.refund_id
    settle_refund(refund)
    return refund


def record_failure(event_id: int, error: str) -> None:
    """Note a failed processing attempt on the event (in a fresh transaction)."""
    event = lock_event(event_id)
    if event is not None:
        count_webhook_failure(event.provider)  # the attempt raised, whatever the row says now
    if event is not None and event.status is not WebhookStatus.PROCESSED:
        event.attempts += 1
        event.error = error[:2000]
        event.status = WebhookStatus.FAILED


def stuck_events(older_than_s: int = 30, limit: int = 500) -> list[int]:
    """Events still `received` a while after they arrived (their job never ran)."""
    cutoff = utcnow() - timedelta(seconds=older_than_s)
    stmt = (
        select(WebhookEvent.id)
        .where(WebhookEvent.status == WebhookStatus.RECEIVED, WebhookEvent.received_at < cutoff)
        .order_by(WebhookEvent.id)
        .limit(limit)
    )
    return list(db.session.scalars(stmt))


def event_order_token(event_id: int) -> str | None:
    """The token of the order an event is about, when it is known (for logs)."""
    stmt = (
        select(Order.token)
        .join(WebhookEvent, WebhookEvent.order_id == Order.id)
        .where(WebhookEvent.id == event_id)
    )
    found: str | None = db.session.scalar(stmt)
    event = db.session.get(WebhookEvent, event_id)
    if event is not None and event.provider == MUX:  # about a video, never an order
        return None
    if found is None and event is not None:  # not linked yet: ask the payload
        message = WebhookMessage(event.event_id, event.type, event.payload)
        for fact in get_provider(event.provider).interpret(message):
            payment = fact.payment if isinstance(fact, RefundFacts) else fact
            found = found or payment.order_token
    return found
