"""The console's orders: the searchable list (and its CSV) and one order's page with everything
that happened to it — items, payments with provider ids, webhook events, history, refunds and
the notifications its buyer was sent. Reads only."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Select, exists, or_, select
from sqlalchemy.orm import selectinload

from app.accounts.models import User
from app.admin.web import CSV_LIMIT, ListArgs
from app.catalog.models import Course
from app.checkout.history import HistoryLine, order_history
from app.checkout.models import Order, OrderItem, OrderStatus
from app.checkout.queries import refund_titles
from app.core.errors import NotFound
from app.core.pagination import Page, paginate
from app.extensions import db
from app.notifications.models import Notification
from app.payments.models import Payment, Refund, RefundLine, WebhookEvent

STATUSES = tuple((s.value, s.label) for s in OrderStatus)


@dataclass(frozen=True)
class OrderRow:
    order: Order
    email: str


def _course_filter(text: str) -> Any:
    like = f"%{text}%"
    return exists().where(
        OrderItem.order_id == Order.id,
        Course.id == OrderItem.course_id,
        or_(OrderItem.title.ilike(like), Course.slug.ilike(like)),
    )


def _text_filter(q: str) -> Any:
    """The order's token (or its start), the buyer's email, or a provider id of a payment."""
    by_provider = exists().where(
        Payment.order_id == Order.id,
        or_(Payment.provider_payment_id == q, Payment.provider_session_id == q),
    )
    return or_(Order.token.ilike(f"{q}%"), User.email.ilike(f"%{q}%"), by_provider)


def order_statement(args: ListArgs) -> Select[Order, str]:
    """Orders, newest first, with the buyer's email; filters: q, course, status, dates."""
    stmt: Select[Order, str] = (
        select(Order, User.email)
        .join(User, User.id == Order.user_id)
        .order_by(Order.created_at.desc(), Order.id.desc())
    )
    if args.q:
        stmt = stmt.where(_text_filter(args.q))
    if args.get("course"):
        stmt = stmt.where(_course_filter(args.get("course")))
    if args.get("status") in {s.value for s in OrderStatus}:
        stmt = stmt.where(Order.status == OrderStatus(args.get("status")))
    if args.start:
        stmt = stmt.where(Order.created_at >= args.start)
    if args.end:
        stmt = stmt.where(Order.created_at < args.end)
    return stmt


def list_orders(args: ListArgs, per_page: int) -> Page[OrderRow]:
    """One page of the list: a count query and a page query."""
    page = paginate(db.session, cast("Select[Any]", order_statement(args)), args.page, per_page)
    rows = [OrderRow(order, email) for order, email in page.items]
    return Page(rows, page.page, page.per_page, page.total)


ORDER_CSV_HEADER = (
    "token",
    "created",
    "email",
    "status",
    "currency",
    "total",
    "tax",
    "refunded",
    "provider",
    "invoice",
)


def order_csv_rows(args: ListArgs) -> Iterator[tuple[Any, ...]]:
    for order, email in db.session.execute(order_statement(args).limit(CSV_LIMIT)):
        yield (
            order.token,
            order.created_at.isoformat(),
            email,
            order.status.value,
            order.currency,
            str(order.money(order.total_minor).to_decimal()),
            str(order.money(order.tax_minor).to_decimal()),
            str(order.money(order.refunded_minor).to_decimal()),
            order.provider or "",
            order.invoice_number or "",
        )


@dataclass(frozen=True)
class OrderPage:
    order: Order
    buyer: User
    items: Sequence[OrderItem]
    payments: Sequence[Payment]
    refunds: Sequence[Refund]
    refund_lines: dict[int, list[str]]
    events: Sequence[WebhookEvent]
    history: Sequence[HistoryLine]
    notifications: Sequence[Notification]

    @property
    def latest_payment(self) -> Payment | None:
        return self.payments[-1] if self.payments else None

    @property
    def refundable_items(self) -> list[OrderItem]:
        return [i for i in self.items if i.refundable_minor > 0]


def get_order(token: str) -> Order:
    """The order with its buyer; NotFound for an unknown token."""
    order = db.session.scalars(
        select(Order).where(Order.token == token).options(selectinload(Order.user))
    ).first()
    if order is None:
        raise NotFound("No order with that token.")
    return order


def _notifications(order: Order, refund_ids: Sequence[int]) -> list[Notification]:
    """What the buyer was told about this order: receipts (and resends) and refund notices,
    keyed by the order's id or its refunds', or linking to the order's page."""
    keys = [f"refund:{rid}" for rid in refund_ids]
    stmt = (
        select(Notification)
        .where(
            Notification.user_id == order.user_id,
            or_(
                Notification.dedupe_key == f"receipt:{order.id}",
                Notification.dedupe_key.like(f"receipt:{order.id}:%"),
                Notification.dedupe_key.in_(keys),
                Notification.link.like(f"%{order.token}%"),
            ),
        )
        .order_by(Notification.created_at, Notification.id)
    )
    return list(db.session.scalars(stmt))


def get_order_page(token: str) -> OrderPage:
    """Everything the order's page shows, in a fixed number of queries."""
    order = db.session.scalars(
        select(Order)
        .where(Order.token == token)
        .options(selectinload(Order.user), selectinload(Order.items), selectinload(Order.events))
    ).first()
    if order is None:
        raise NotFound("No order with that token.")
    payments = db.session.scalars(
        select(Payment).where(Payment.order_id == order.id).order_by(Payment.attempt)
    ).all()
    refunds = db.session.scalars(
        select(Refund)
        .where(Refund.order_id == order.id)
        .options(selectinload(Refund.lines).selectinload(RefundLine.order_item))
        .order_by(Refund.id)
    ).all()
    events = db.session.scalars(
        select(WebhookEvent).where(WebhookEvent.order_id == order.id).order_by(WebhookEvent.id)
    ).all()
    titles = refund_titles(order.id)
    return OrderPage(
        order=order,
        buyer=order.user,
        items=order.items,
        payments=payments,
        refunds=refunds,
        refund_lines=titles,
        events=events,
        history=order_history(order, payments, refunds, titles),
        notifications=_notifications(order, [r.id for r in refunds]),
    )
