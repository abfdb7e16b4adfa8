"""The webhook inbox: stored events by provider, status and type (and their CSV, which never
holds a payload), one event with its payload redacted, and the replay of one or many (through
payments' replay service). Each replay writes an audit row in the caller's transaction."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Select, Text, or_, select
from sqlalchemy import cast as sql_cast
from sqlalchemy.orm import defer

from app.accounts.audit import Actor, Diff, Target, record_audit
from app.admin.web import CSV_LIMIT, ListArgs
from app.checkout.models import Order
from app.core.errors import NotFound
from app.core.pagination import Page, paginate
from app.extensions import db
from app.payments.models import WebhookEvent, WebhookStatus
from app.payments.services.replay import replay_event

PROVIDERS = (("sandbox", "Sandbox"), ("stripe", "Stripe"), ("razorpay", "Razorpay"), ("mux", "Mux"))
STATUSES = tuple((s.value, s.value.title()) for s in WebhookStatus)
MAX_REPLAY = 100  # one form's worth of checkboxes, at most two pages

MASK = "[redacted]"
# A key is personal when one of its words is one of these ("customer_email", "billingAddress").
PERSONAL_WORDS = frozenset(
    {"email", "phone", "contact", "card", "name", "address", "vpa", "upi", "iban", "cvc"}
    | {"cvv", "secret", "password", "signature", "authorization", "ip", "mobile", "bank"}
    | {"account", "last4", "fingerprint", "pan", "taxid"}
)
SECRET_VALUE = re.compile(
    r"^(sk|rk|pk_live|whsec|rzp_live|rzp_test|shpss)_|^bearer\s|^eyJ[\w-]+\.[\w-]+\.|^-----BEGIN",
    re.IGNORECASE,
)
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
CARD_NUMBER = re.compile(r"\b(?:\d[ -]?){13,19}\b")


def _words(key: str) -> set[str]:
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", key)
    return {w.lower() for w in re.split(r"[\W_]+", spaced) if w}


def _redact_text(value: str) -> str:
    if SECRET_VALUE.search(value.strip()):
        return MASK
    return CARD_NUMBER.sub(MASK, EMAIL.sub(MASK, value))


def redact(value: Any) -> Any:
    """A copy of a payload fit to show: values under personal or secret keys masked (the whole
    value, even an object), and secret-looking strings, emails and card numbers masked wherever
    they are. Ids, amounts, types and statuses stay readable."""
    if isinstance(value, dict):
        return {
            k: (MASK if v not in (None, "") and _words(str(k)) & PERSONAL_WORDS else redact(v))
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [redact(v) for v in value]
    if isinstance(value, str):
        return _redact_text(value)
    return value


@dataclass(frozen=True)
class EventRow:
    event: WebhookEvent
    order_token: str | None


def _text_filter(q: str) -> Any:
    """The event's id, its order's token, or (for an event not linked to its order yet, e.g.
    one that failed) that token inside the payload; each may be given by its start."""
    found = [WebhookEvent.event_id.ilike(f"{q}%"), Order.token.ilike(f"{q}%")]
    if len(q) >= 8:  # a token's worth: the payload scan is for finding an order's events
        found.append(sql_cast(WebhookEvent.payload, Text).ilike(f"%{q}%"))
    return or_(*found)


def event_statement(args: ListArgs) -> Select[WebhookEvent, str | None]:
    """Events, newest first, with their order's token; q: event id or order token (or starts)."""
    stmt: Select[WebhookEvent, str | None] = (
        select(WebhookEvent, Order.token)
        .outerjoin(Order, Order.id == WebhookEvent.order_id)
        .order_by(WebhookEvent.received_at.desc(), WebhookEvent.id.desc())
    )
    if args.q:
        stmt = stmt.where(_text_filter(args.q))
    if args.get("provider"):
        stmt = stmt.where(WebhookEvent.provider == args.get("provider"))
    if args.get("status") in {s.value for s in WebhookStatus}:
        stmt = stmt.where(WebhookEvent.status == WebhookStatus(args.get("status")))
    if args.get("type"):
        stmt = stmt.where(WebhookEvent.type.ilike(f"%{args.get('type')}%"))
    if args.start:
        stmt = stmt.where(WebhookEvent.received_at >= args.start)
    if args.end:
        stmt = stmt.where(WebhookEvent.received_at < args.end)
    return stmt


def list_events(args: ListArgs, per_page: int) -> Page[EventRow]:
    page = paginate(db.session, cast("Select[Any]", event_statement(args)), args.page, per_page)
    rows = [EventRow(event, token) for event, token in page.items]
    return Page(rows, page.page, page.per_page, page.total)


EVENT_CSV_HEADER = (
    "id",
    "provider",
    "event id",
    "type",
    "status",
    "order token",
    "received",
    "processed",
    "attempts",
    "error",
)


def event_csv_rows(args: ListArgs) -> Iterator[tuple[Any, ...]]:
    """The events the filters match, never their payloads (personal data the inbox only shows
    redacted): the column is not even loaded, and reading it would raise. Errors are redacted
    as text (a provider's message may quote an email)."""
    stmt = event_statement(args).options(defer(WebhookEvent.payload, raiseload=True))
    for event, token in db.session.execute(stmt.limit(CSV_LIMIT)):
        yield (
            event.id,
            event.provider,
            event.event_id,
            event.type,
            event.status.value,
            token or "",
            event.received_at.isoformat(),
            event.processed_at.isoformat() if event.processed_at else "",
            event.attempts,
            _redact_text(event.error) if event.error else "",
        )


def get_event(event_id: int) -> EventRow:
    """One event and its order's token; NotFound for an unknown id."""
    row = db.session.execute(
        select(WebhookEvent, Order.token)
        .outerjoin(Order, Order.id == WebhookEvent.order_id)
        .where(WebhookEvent.id == event_id)
    ).first()
    if row is None:
        raise NotFound("No webhook event with that id.")
    return EventRow(row[0], row[1])


def get_events(ids: Sequence[int]) -> list[WebhookEvent]:
    """The events with these ids (unknown ids left out), oldest first."""
    stmt = select(WebhookEvent).where(WebhookEvent.id.in_(list(ids)[:MAX_REPLAY]))
    return list(db.session.scalars(stmt.order_by(WebhookEvent.id)))


def replay(events: Sequence[WebhookEvent], who: Actor, reason: str) -> dict[int, WebhookStatus]:
    """Queue each event's processing again and audit each; their statuses before the replay."""
    before: dict[int, WebhookStatus] = {}
    for event in events:
        before[event.id] = replay_event(event.id)
        record_audit(
            who,
            "webhook.replay",
            Target("webhook_event", event.id, f"{event.provider} {event.type} {event.event_id}"),
            Diff(before={"status": before[event.id], "attempts": event.attempts}),
            reason,
        )
    return before
