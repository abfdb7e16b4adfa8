"""Tax invoices and credit notes: numbers gap-free per series and year, the buyer an invoice
names, and the tax a refund gives back.

A number is taken with one INSERT ... ON CONFLICT DO UPDATE ... RETURNING on the series' counter
row inside the paying (or refunding) transaction: the row stays locked until that transaction
ends, so concurrent payments take turns, and a rollback gives the number back with everything
else. Numbers are never reused: an order keeps the one it got.

A free order (total 0) is not a taxable supply: it gets a receipt, never a number from the
invoice series, so the series counts paid invoices only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from flask import current_app
from sqlalchemy import Text, cast, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.sql.dml import ReturningInsert

from app.cart.pricing import half_up_div
from app.checkout.models import CreditNote, InvoiceCounter, Order, OrderItem
from app.checkout.queries import load_items
from app.core.models import utcnow
from app.extensions import db


@dataclass(frozen=True)
class BuyerDetails:
    """Who the invoice names, as entered at checkout (each part optional)."""

    name: str | None = None
    tax_id: str | None = None
    region: str | None = None


def _take_number(series: str, year: int) -> ReturningInsert[int]:
    """The counter UPSERT that takes the series' next number in that year (1 for the first)."""
    return (
        insert(InvoiceCounter)
        .values(series=series, year=year, last_number=1)
        .on_conflict_do_update(
            index_elements=[InvoiceCounter.series, InvoiceCounter.year],
            set_={"last_number": InvoiceCounter.last_number + 1},
        )
        .returning(InvoiceCounter.last_number)
    )


def next_number(series: str, year: int) -> int:
    """The next number of the series in that year (1 for the first), taken inside the caller's
    transaction: gap-free, because a rollback returns it."""
    return int(db.session.execute(_take_number(series, year)).scalar_one())


def format_number(prefix: str, year: int, number: int) -> str:
    """The number as printed: ("CF", 2026, 1) -> "CF-2026-000001"."""
    return f"{prefix}-{year}-{number:06d}"


def assign_invoice_number(order: Order, now: datetime | None = None) -> str:
    """The order's invoice number, taken from the series of the year it was paid in (UTC) the
    first time; an order that has one keeps it. Paid orders with something to pay only.

    One statement takes the number and writes it on the order (a CTE), so the counter row,
    which every concurrent payment waits on, is locked for one round trip fewer.
    """
    if order.invoice_number is not None:
        return order.invoice_number
    if order.total_minor <= 0:
        raise ValueError("a free order gets a receipt, not a tax invoice")
    now = now or utcnow()
    year = (order.paid_at or now).astimezone(UTC).year
    prefix = current_app.config["INVOICE_PREFIX"]
    taken = _take_number(prefix, year).cte("taken")
    digits = cast(taken.c.last_number, Text)
    # format_number in SQL: zero-padded to 6 digits, never cut (lpad truncates longer input)
    padded = func.lpad(digits, func.greatest(6, func.length(digits)), "0")
    number = select(func.concat(f"{prefix}-{year}-", padded)).scalar_subquery()
    orders = Order.__table__
    stmt = (
        update(orders)
        .where(orders.c.id == order.id)
        .values(invoice_number=number, invoiced_at=now, updated_at=now)
        .returning(orders.c.invoice_number)
    )
    assigned = str(db.session.execute(stmt).scalar_one())
    # Written already: the ORM learns the values without flushing them again.
    for key, value in (("invoice_number", assigned), ("invoiced_at", now), ("updated_at", now)):
        set_committed_value(order, key, value)
    return assigned


def returned_tax(item: OrderItem, amount: int) -> int:
    """The tax in `amount` given back on a line before it is added to the line's refunds.

    Computed on the running total (tax of all refunded so far minus tax of what was refunded
    before), so the credit notes of a line refunded in parts return exactly its tax.
    """
    if item.total_minor <= 0:
        return 0
    before = item.refunded_minor
    after = min(before + amount, item.total_minor)
    tax_after = half_up_div(after * item.tax_minor, item.total_minor)
    return tax_after - half_up_div(before * item.tax_minor, item.total_minor)


def issue_credit_note(
    order: Order, amounts: Mapping[int, int], note: str, now: datetime | None = None
) -> CreditNote | None:
    """A credit note for money given back on an invoiced order's lines (item id -> amount),
    numbered in the credit note series of the year it is issued; None when the order has no
    invoice or nothing is given back. Called before the amounts are added to the lines."""
    if order.invoice_number is None:
        return None
    items = {item.id: item for item in load_items(order.id)}
    given = {item_id: a for item_id, a in amounts.items() if a > 0 and item_id in items}
    if not given:
        return None
    now = now or utcnow()
    year = now.astimezone(UTC).year
    prefix = current_app.config["CREDIT_NOTE_PREFIX"]
    credit = CreditNote(
        order_id=order.id,
        number=format_number(prefix, year, next_number(prefix, year)),
        amount_minor=sum(given.values()),
        tax_minor=sum(returned_tax(items[i], a) for i, a in given.items()),
        currency=order.currency,
        lines={str(item_id): amount for item_id, amount in given.items()},
        note=note,
        issued_at=now,
    )
    db.session.add(credit)
    return credit


def set_buyer_details(order: Order, details: BuyerDetails) -> None:
    """Record who the invoice names; an order invoiced already keeps what its invoice says."""
    if order.invoice_number is not None:
        return
    order.buyer_name = (details.name or "").strip() or None
    order.buyer_tax_id = details.tax_id or None
    order.buyer_region = details.region or None


# --- reads for the documents -----------------------------------------------------------------


def load_invoice_order(order_id: int) -> Order:
    """An order with its buyer and lines, for a receipt or credit note."""
    stmt = (
        select(Order)
        .where(Order.id == order_id)
        .options(joinedload(Order.user), selectinload(Order.items))
        .execution_options(populate_existing=True)
    )
    return db.session.scalars(stmt).one()


def list_credit_notes(order_id: int) -> list[CreditNote]:
    """The order's credit notes, oldest first."""
    stmt = select(CreditNote).where(CreditNote.order_id == order_id)
    return list(db.session.scalars(stmt.order_by(CreditNote.issued_at, CreditNote.id)))


def get_credit_note(order_id: int, number: str) -> CreditNote | None:
    """The order's credit note with that number, or None."""
    stmt = select(CreditNote).where(CreditNote.order_id == order_id, CreditNote.number == number)
    return db.session.scalars(stmt).first()
