"""The rows one historical demo order left behind, written with their past timestamps: the
order with its frozen lines and status history, each sandbox payment attempt with its session
and processed webhook, the cart it came from, the enrollments it paid for, and refunds with
their credit notes. Amounts come from the real pricing engine (price_lines); nothing is queued
and nobody is mailed: this is history, not a purchase happening now."""

from __future__ import annotations

import secrets
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from app.accounts.models import User
from app.cart.models import Cart, CartItem, Sale
from app.cart.pricing import NO_TAX, Breakdown, Campaign, Line, PricedLine, price_cart
from app.cart.queries import list_active_campaigns, tax_rule_for
from app.checkout.invoices import BuyerDetails, format_number, set_buyer_details
from app.checkout.models import InvoiceCounter, Order, OrderEvent, OrderItem, OrderStatus
from app.core.periods import AccessPeriod
from app.core.security import new_token
from app.extensions import db
from app.learning.models import Enrollment, EnrollmentSource, EnrollmentStatus
from app.payments.models import Payment, PaymentStatus, WebhookEvent, WebhookStatus
from app.payments.providers.sandbox.cards import CARDS, DECLINE_CARD
from app.payments.providers.sandbox.events import event_payload
from app.payments.providers.sandbox.models import SandboxSession, SandboxStatus

S = OrderStatus
PROVIDER = "sandbox"
SESSION_MINUTES = 60  # PAYMENT_SESSION_MINUTES' default: the order's payment window
DECLINED = CARDS[DECLINE_CARD].decline_reason


@dataclass(frozen=True)
class Product:
    """A published paid course as the history sells it."""

    course_id: int
    title: str
    lines: dict[str, Line]  # currency -> pricing line
    periods: dict[str, AccessPeriod | None]  # currency -> access the price gives
    first_lecture: tuple[int, int] | None  # (lecture id, duration_s)


@dataclass
class Buyer:
    user: User
    currency: str
    region: str | None  # Indian state code for GST, else None
    owned: set[int] = field(default_factory=set)


@dataclass(frozen=True)
class Attempt:
    """One sandbox payment attempt: started, the buyer's click, its webhook in and done."""

    started: datetime
    received: datetime
    processed: datetime
    paid: bool
    charge_id: str | None


@dataclass(frozen=True)
class Timeline:
    cart_at: datetime
    placed: datetime
    attempts: tuple[Attempt, ...]
    expired_at: datetime | None = None  # an abandoned order, expired by the hourly job

    @property
    def paid(self) -> Attempt | None:
        last = self.attempts[-1]
        return last if last.paid else None


@dataclass
class Placed:
    """A planned order and the rows written for it (payments after the order has an id)."""

    buyer: Buyer
    products: tuple[Product, ...]
    timeline: Timeline
    order: Order
    payments: list[Payment] = field(default_factory=list)
    enrollments: list[Enrollment] = field(default_factory=list)


class Pricer:
    """price_lines as the cart called it when each order was placed, with the sales running
    then looked up once per set of running sales (it changes once or twice a month, and the
    history prices a few hundred orders)."""

    def __init__(self) -> None:
        stmt = select(Sale.starts_at, Sale.ends_at).where(Sale.active.is_(True))
        self.windows = [(start, end) for start, end in db.session.execute(stmt)]
        self.campaigns: dict[tuple[str, tuple[bool, ...]], list[Campaign]] = {}

    def price(self, buyer: Buyer, products: tuple[Product, ...], at: datetime) -> Breakdown:
        """The breakdown then: sales running at `at`, the buyer country's tax, no coupon."""
        key = (buyer.currency, tuple(start <= at < end for start, end in self.windows))
        if key not in self.campaigns:
            self.campaigns[key] = list_active_campaigns(buyer.currency, at)
        country = buyer.user.country or ""
        tax = tax_rule_for(country) if country else NO_TAX
        lines = [p.lines[buyer.currency] for p in products]
        return price_cart(buyer.currency, lines, self.campaigns[key], None, tax)


def build_order(
    pricer: Pricer, buyer: Buyer, products: tuple[Product, ...], timeline: Timeline
) -> Placed:
    """The order with its frozen lines and status history, as place_order and the payment
    lifecycle would have left it (invoice numbers: number_invoices)."""
    b = pricer.price(buyer, products, timeline.placed)
    paid = timeline.paid
    order = Order(
        user_id=buyer.user.id,
        currency=buyer.currency,
        subtotal_minor=b.sub_total,
        sale_discount_minor=b.sale_discount,
        coupon_discount_minor=0,
        tax_minor=b.tax_total,
        total_minor=b.total,
        tax_country=b.tax.country or None,
        tax_name=b.tax.name,
        tax_rate_bp=b.tax.rate_bp,
        tax_inclusive=b.tax.inclusive,
        provider=PROVIDER,
        cart_token=new_token(),
        expires_at=timeline.attempts[-1].started + timedelta(minutes=SESSION_MINUTES),
        status=_final_status(timeline),
        created_at=timeline.placed,
        updated_at=_last_moment(timeline),
        paid_at=paid.processed if paid else None,
        first_webhook_at=paid.received if paid else None,
        fulfilled_at=paid.processed if paid else None,
    )
    if buyer.region:
        set_buyer_details(order, BuyerDetails(name=buyer.user.name, region=buyer.region))
    order.items = [
        _item(p, line, buyer.currency) for p, line in zip(products, b.lines, strict=True)
    ]
    order.events = _events(timeline)
    return Placed(buyer, products, timeline, order)


def number_invoices(orders: Sequence[Order]) -> None:
    """Invoice numbers for the paid orders, in the order given (the calendar's), as
    assign_invoice_number takes them one by one: one counter UPSERT per year for them all,
    in this transaction, so the series stays gap-free."""
    prefix = current_app.config["INVOICE_PREFIX"]
    by_year: dict[int, list[Order]] = defaultdict(list)
    for order in orders:
        if order.paid_at is not None and order.total_minor > 0:
            by_year[order.paid_at.astimezone(UTC).year].append(order)
    for year, paid in sorted(by_year.items()):
        stmt = (
            insert(InvoiceCounter)
            .values(series=prefix, year=year, last_number=len(paid))
            .on_conflict_do_update(
                index_elements=[InvoiceCounter.series, InvoiceCounter.year],
                set_={"last_number": InvoiceCounter.last_number + len(paid)},
            )
            .returning(InvoiceCounter.last_number)
        )
        first = int(db.session.execute(stmt).scalar_one()) - len(paid) + 1
        for number, order in enumerate(paid, start=first):
            order.invoice_number = format_number(prefix, year, number)
            order.invoiced_at = order.paid_at


def _item(product: Product, line: PricedLine, currency: str) -> OrderItem:
    return OrderItem.priced(line, product.periods.get(currency))


def _final_status(timeline: Timeline) -> OrderStatus:
    if timeline.paid is not None:
        return S.PAID
    return S.EXPIRED if timeline.expired_at is not None else S.FAILED


def _last_moment(timeline: Timeline) -> datetime:
    return timeline.expired_at or timeline.attempts[-1].processed


def _events(timeline: Timeline) -> list[OrderEvent]:
    """pending → (awaiting payment → failed)* → paid, or → expired when given up on."""
    events = [_event(None, S.PENDING, "order placed", timeline.placed)]
    status = S.PENDING
    for number, attempt in enumerate(timeline.attempts, start=1):
        events.append(
            _event(status, S.AWAITING_PAYMENT, f"sandbox attempt {number}", attempt.started)
        )
        status = S.PAID if attempt.paid else S.FAILED
        note = f"sandbox {attempt.charge_id}" if attempt.paid else DECLINED
        events.append(_event(S.AWAITING_PAYMENT, status, note, attempt.processed))
    if timeline.expired_at is not None:
        events.append(_event(status, S.EXPIRED, "not paid in time", timeline.expired_at))
    return events


def _event(before: OrderStatus | None, after: OrderStatus, note: str, at: datetime) -> OrderEvent:
    return OrderEvent(
        from_status=before.value if before else None,
        to_status=after.value,
        note=note,
        created_at=at,
    )


def payment_rows(placed: Placed) -> list[Any]:
    """Each attempt's payment, sandbox session and processed webhook (the order has an id)."""
    order, rows = placed.order, []
    title = ", ".join(p.title for p in placed.products)[:300]
    for number, attempt in enumerate(placed.timeline.attempts, start=1):
        session = SandboxSession(
            id=f"sbx_cs_{secrets.token_hex(12)}",
            order_token=order.token,
            payment_token="",  # set below, once the payment has its token
            amount_minor=order.total_minor,
            currency=order.currency,
            title=title,
            status=SandboxStatus.PAID if attempt.paid else SandboxStatus.DECLINED,
            charge_id=attempt.charge_id,
            decline_reason=None if attempt.paid else DECLINED,
            success_url="/payments/sandbox/return",
            cancel_url=f"/orders/{order.token}?canceled=1",
            expires_at=attempt.started + timedelta(minutes=SESSION_MINUTES),
            created_at=attempt.started,
            updated_at=attempt.processed,
        )
        payment = _payment(order, number, attempt, session.id)
        session.payment_token = payment.token
        placed.payments.append(payment)
        rows += [session, payment, _webhook(order, attempt, session)]
    return rows


def _payment(order: Order, number: int, attempt: Attempt, session_id: str) -> Payment:
    return Payment(
        token=new_token(),  # now: its sandbox session names it
        order_id=order.id,
        provider=PROVIDER,
        attempt=number,
        status=PaymentStatus.SUCCEEDED if attempt.paid else PaymentStatus.FAILED,
        amount_minor=order.total_minor,
        currency=order.currency,
        provider_session_id=session_id,
        provider_payment_id=attempt.charge_id,
        paid_amount_minor=order.total_minor if attempt.paid else None,
        paid_currency=order.currency if attempt.paid else None,
        failure_reason=None if attempt.paid else DECLINED,
        succeeded_at=attempt.processed if attempt.paid else None,
        created_at=attempt.started,
        updated_at=attempt.processed,
    )


def _webhook(order: Order, attempt: Attempt, session: SandboxSession) -> WebhookEvent:
    """The sandbox's event as ingest_webhook stored it, processed by the worker."""
    kind = "payment.succeeded" if attempt.paid else "payment.failed"
    payload = event_payload(session, kind, created=int(attempt.received.timestamp()))
    event_id = payload["id"]
    return WebhookEvent(
        provider=PROVIDER,
        event_id=event_id,
        type=kind,
        payload=payload,
        status=WebhookStatus.PROCESSED,
        attempts=1,
        received_at=attempt.received,
        processed_at=attempt.processed,
        order_id=order.id,
    )


def cart_for(placed: Placed) -> Cart:
    """The (anonymous) cart the order was placed from: emptied by the order, its courses put
    back when the payment failed."""
    t, order = placed.timeline, placed.order
    touched = t.attempts[0].processed if t.paid is None else t.placed
    cart = Cart(
        token=order.cart_token or new_token(),
        currency=order.currency,
        created_at=t.cart_at,
        updated_at=touched,
        touched_at=touched,
    )
    if t.paid is None:
        cart.items = [CartItem(course_id=p.course_id, added_at=t.cart_at) for p in placed.products]
    return cart


def enrollment_rows(placed: Placed) -> list[Enrollment]:
    """What a paid order granted: one enrollment per line, from the payment, for the line's
    access period."""
    order, paid = placed.order, placed.timeline.paid
    if paid is None:
        return []
    for item in order.items:
        period = AccessPeriod.of(item.access_period_value, item.access_period_unit)
        placed.enrollments.append(
            Enrollment(
                user_id=order.user_id,
                course_id=item.course_id,
                status=EnrollmentStatus.ACTIVE,
                source=EnrollmentSource.PURCHASE,
                order_id=order.id,
                enrolled_at=paid.processed,
                expires_at=period.after(paid.processed) if period else None,
                created_at=paid.processed,
                updated_at=paid.processed,
            )
        )
    return placed.enrollments
