"""What the buyer does on the sandbox's hosted page, and the signed event that reports it.

The event is stored as a webhook in the caller's transaction; the caller commits and then
queues its processing. If Redis is down the sweeper finds the row, exactly as for a real
provider's webhook.
"""

from __future__ import annotations

import secrets
from typing import Any

from flask import current_app

from app.core.models import utcnow
from app.jobs.queues import CRITICAL_RETRY, QueueName, enqueue_after_commit
from app.payments.providers.sandbox import SandboxProvider
from app.payments.providers.sandbox.cards import (
    AUTH_FAILED,
    CARDS,
    DECLINE_CARD,
    CardOutcome,
    SandboxCard,
    find_card,
)
from app.payments.providers.sandbox.events import (
    SIGNATURE_HEADER,
    event_body,
    sign,
    webhook_secret,
)
from app.payments.providers.sandbox.models import SandboxSession, SandboxStatus
from app.payments.services import Ingested, ingest_webhook

CARD_ACTIONS = ("pay", "authenticate")
# By dotted path: app.payments.jobs imports this module.
PROCESS_WEBHOOK_EVENT = "app.payments.jobs.process_webhook_event"


def checked_card(action: str, number: str) -> SandboxCard | None:
    """The test card an action charges (CardRefused for a bad number); None if it charges none."""
    return find_card(number) if action in CARD_ACTIONS else None


def needs_challenge(action: str, card: SandboxCard | None) -> bool:
    """Paying with the "requires action" card first asks for the 3-D Secure-like step."""
    return action == "pay" and card is not None and card.outcome is CardOutcome.REQUIRES_ACTION


def record_outcome(session: SandboxSession, action: str, card: SandboxCard | None) -> str | None:
    """What the buyer did on the sandbox page; the event kind to deliver, or None if finished.

    `card` is the checked test card for "pay" and "authenticate" (see find_card)."""
    if not session.is_open:
        return None
    if action == "cancel":
        session.status = SandboxStatus.CANCELED
        return "payment.canceled"
    reason = _decline_reason(action, card)
    if reason:
        session.status = SandboxStatus.DECLINED
        session.decline_reason = reason
        return "payment.failed"
    if session.expires_at < utcnow():
        session.status = SandboxStatus.EXPIRED
        return "payment.failed"
    session.status = SandboxStatus.PAID
    session.charge_id = f"sbx_ch_{secrets.token_hex(10)}"
    return "payment.succeeded"


def _decline_reason(action: str, card: SandboxCard | None) -> str:
    if action == "decline":
        return CARDS[DECLINE_CARD].decline_reason
    if action == "fail_authentication":
        return AUTH_FAILED
    return card.decline_reason if card is not None else ""


def store_sandbox_event(
    session: SandboxSession, kind: str, refund: dict[str, Any] | None = None
) -> Ingested:
    """Build the sandbox's signed event and store it as a webhook (in the caller's transaction)."""
    body = event_body(session, kind, refund)
    headers = {SIGNATURE_HEADER: sign(webhook_secret(current_app.config), body)}
    return ingest_webhook(SandboxProvider.name, body, headers)


def finish(session: SandboxSession, action: str, card: SandboxCard | None) -> int | None:
    """Record the buyer's click and store its event: the event's id, or None when the
    payment was already finished (nothing changes)."""
    kind = record_outcome(session, action, card)
    return store_sandbox_event(session, kind).event_id if kind else None


def return_url(session: SandboxSession) -> str:
    """Where the buyer goes back to: the shop's success or cancel URL, with the session id."""
    target = session.success_url if session.status is SandboxStatus.PAID else session.cancel_url
    return target + ("?session_id=" + session.id if "?" not in target else "")


def pay_in_test_mode(session: SandboxSession, number: str) -> int | None:
    """An app verifies a sandbox payment (API, test mode): the sandbox charges the test card
    itself, as its hosted page does when the buyer submits it (the "requires action" card is
    authenticated at once), and stores its signed event, processed after commit like any
    webhook. The event's id, or None when the payment was already finished."""
    card = find_card(number)
    action = "authenticate" if card.outcome is CardOutcome.REQUIRES_ACTION else "pay"
    event_id = finish(session, action, card)
    if event_id is not None:
        enqueue_after_commit(
            PROCESS_WEBHOOK_EVENT, event_id, queue=QueueName.CRITICAL, retry=CRITICAL_RETRY
        )
    return event_id
