"""Invoice numbers (gap-free per series and year, under real concurrency), credit notes on
refunds, and how tax is split on the documents."""

from __future__ import annotations

import io
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from pypdf import PdfReader
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.cart import services as cart_services
from app.catalog.models import Course
from app.checkout.invoices import assign_invoice_number, returned_tax
from app.checkout.lifecycle import fulfil_order
from app.checkout.models import CreditNote, InvoiceCounter, Order, OrderItem
from app.checkout.services import place_order
from app.checkout.tax_lines import (
    TaxMode,
    TaxPart,
    TaxTerms,
    buyer_state,
    line_tax,
    percent_label,
    split_tax,
    sum_parts,
)
from app.core.db import lock
from app.core.models import utcnow
from app.extensions import db
from app.payments.models import Refund
from tests.factories import make_course, make_user
from tests.payments.conftest import run_jobs

THREADS = 50
ROLLED_BACK = {9, 19, 29, 39, 49}  # these payments fail after taking their number


def _orders(count: int, price: int = 1000) -> list[int]:
    """`count` placed, unpaid USD orders of one course, each by its own buyer."""
    course = make_course("Numbered", prices={"USD": price})
    ids = []
    for _ in range(count):
        user = make_user()
        cart = cart_services.open_cart("USD", user)
        cart_services.add_course(cart, course.id, user)
        ids.append(place_order(user, cart).id)
    return ids


def _pay(order_id: int, commit: bool = True) -> str | None:
    """Fulfil the order as payments does (row lock held), then commit or roll back."""
    order = lock(Order, order_id)
    fulfil_order(order, "sandbox test")
    number = order.invoice_number
    if commit:
        db.session.commit()
    else:
        db.session.rollback()
    return number


def _numbers(session: Any) -> list[str]:
    session.expire_all()
    stmt = select(Order.invoice_number).where(Order.invoice_number.is_not(None))
    return sorted(session.scalars(stmt))


def _expected(year: int, count: int, prefix: str = "CF") -> list[str]:
    return [f"{prefix}-{year}-{n:06d}" for n in range(1, count + 1)]


def test_fifty_concurrent_payments_get_sequential_gap_free_numbers(
    live_app: Flask, committed: Any
) -> None:
    order_ids = _orders(THREADS)
    committed.commit()
    barrier = threading.Barrier(THREADS)
    errors: list[BaseException] = []

    def pay(n: int) -> None:
        with live_app.app_context():
            barrier.wait()
            try:
                _pay(order_ids[n], commit=n not in ROLLED_BACK)
            except BaseException as exc:  # recorded: a thread's exception would be lost
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=pay, args=(n,)) for n in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert errors == []
    year = utcnow().year
    paid = THREADS - len(ROLLED_BACK)
    assert _numbers(committed) == _expected(year, paid)  # 1..45: every number used once
    counter = committed.get(InvoiceCounter, ("CF", year))
    assert counter is not None and counter.last_number == paid
    for n in ROLLED_BACK:  # the failed payments left nothing behind
        order = committed.get(Order, order_ids[n])
        assert order.invoice_number is None and not order.is_paid


def test_a_rolled_back_payment_gives_its_number_back(live_app: Flask, committed: Any) -> None:
    first, second = _orders(2)
    committed.commit()
    year = utcnow().year
    assert _pay(first, commit=False) == f"CF-{year}-000001"
    assert _pay(second) == f"CF-{year}-000001"  # the same number: the first never existed
    assert _pay(first) == f"CF-{year}-000002"
    assert _numbers(committed) == _expected(year, 2)


def test_numbers_restart_each_year_and_are_never_reassigned(db_session: Session) -> None:
    ids = _orders(3)
    years = [2025, 2026, 2025]
    for order_id, year in zip(ids, years, strict=True):
        order = lock(Order, order_id)
        order.paid_at = datetime(year, 12, 31, 23, 30, tzinfo=UTC)
        fulfil_order(order, "sandbox test")
    orders = [db_session.get(Order, i) for i in ids]
    assert [o.invoice_number for o in orders] == [  # type: ignore[union-attr]
        "CF-2025-000001",
        "CF-2026-000001",
        "CF-2025-000002",
    ]
    again = orders[0]
    assert again is not None
    assert assign_invoice_number(again) == "CF-2025-000001"
    assert fulfil_order(again, "webhook replay").done_before
    assert again.invoice_number == "CF-2025-000001"


def test_numbers_past_six_digits_keep_every_digit(db_session: Session) -> None:
    # The number is formatted in SQL (taken and written in one statement): it must print the
    # way format_number does, and lpad alone would cut a seventh digit.
    year = utcnow().year
    db_session.add(InvoiceCounter(series="CF", year=year, last_number=999_998))
    db_session.flush()
    ids = _orders(2)
    for order_id in ids:
        fulfil_order(lock(Order, order_id), "sandbox test")
    db_session.expire_all()
    stored = [db_session.get(Order, i).invoice_number for i in ids]  # type: ignore[union-attr]
    assert stored == [f"CF-{year}-999999", f"CF-{year}-1000000"]


def test_the_prefix_comes_from_the_settings(app: Flask, db_session: Session) -> None:
    (order_id,) = _orders(1)
    old = app.config["INVOICE_PREFIX"]
    app.config["INVOICE_PREFIX"] = "ACME"
    try:
        order = lock(Order, order_id)
        fulfil_order(order, "sandbox test")
    finally:
        app.config["INVOICE_PREFIX"] = old
    assert order.invoice_number == f"ACME-{utcnow().year}-000001"


def test_a_free_order_gets_a_receipt_but_no_invoice_number(
    client: FlaskClient, db_session: Session, buyer: User
) -> None:
    course = make_course("Free intro", prices={"USD": 0})
    assert client.post(f"/courses/{course.slug}/enroll").status_code == 303
    order = db_session.scalars(select(Order).where(Order.user_id == buyer.id)).one()
    assert order.is_paid and order.invoice_number is None and order.invoiced_at is None
    assert db_session.scalars(select(InvoiceCounter)).first() is None
    with pytest.raises(ValueError):
        assign_invoice_number(order)
    page = client.get(f"/orders/{order.token}/receipt.pdf")
    assert page.status_code == 200 and page.mimetype == "application/pdf"
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(page.data)).pages)
    assert order.fulfilled_at is not None
    assert f"Date {order.fulfilled_at:%d %b %Y}" in " ".join(text.split())  # a free order's date


# --- credit notes ------------------------------------------------------------------------------


def _refund(app: Flask, order: Order, *args: str) -> None:
    """A refund through the existing path: the CLI plans and queues it, a worker makes it."""
    done = app.test_cli_runner().invoke(
        args=["orders", "refund", order.token, *args, "--reason", "test", "--yes"]
    )
    assert done.exit_code == 0, done.output
    run_jobs()


def _notes(session: Session, order: Order) -> list[CreditNote]:
    session.expire_all()
    stmt = select(CreditNote).where(CreditNote.order_id == order.id).order_by(CreditNote.id)
    return list(session.scalars(stmt))


def test_refunds_become_numbered_credit_notes_returning_the_lines_tax(
    app: Flask, db_session: Session, pay_order: Callable[..., Order]
) -> None:
    order = pay_order("INR", (("Course A", 100000), ("Course B", 50001)), state="29")
    assert order.invoice_number is not None and order.tax_minor == 18000 + 9000
    items = {
        i.title: i
        for i in db_session.scalars(select(OrderItem).where(OrderItem.order_id == order.id))
    }
    slug_a = db_session.get(Course, items["Course A"].course_id).slug  # type: ignore[union-attr]
    _refund(app, order, "--course", slug_a)
    _refund(app, order, "--amount", "333")  # part of Course B, in paise
    # 0.46 and 0.31 paise of tax: rounded alone, neither would return any, yet together with
    # what went before they take the line's refunded tax over a half paisa
    for paise in ("3", "2"):
        _refund(app, order, "--amount", paise)
    _refund(app, order)  # the rest
    notes = _notes(db_session, order)
    year = utcnow().year
    assert [n.number for n in notes] == [f"CN-{year}-{n:06d}" for n in (1, 2, 3, 4, 5)]
    db_session.refresh(order)
    assert sum(n.amount_minor for n in notes) == order.refunded_minor == order.total_minor
    # a line refunded in parts gets exactly its tax back, over its credit notes
    assert sum(n.tax_minor for n in notes) == order.tax_minor
    assert notes[0].lines == {str(items["Course A"].id): 118000}
    assert notes[0].tax_minor == 18000
    assert notes[1].amount_minor == 333 and notes[1].currency == "INR"
    # each refund's own tax figure is its credit note's, paisa for paisa
    refunds = db_session.scalars(
        select(Refund).where(Refund.order_id == order.id).order_by(Refund.id)
    )
    assert [r.tax_minor for r in refunds] == [n.tax_minor for n in notes]


def test_an_order_paid_before_invoices_gets_no_credit_note(
    app: Flask, db_session: Session, pay_order: Callable[..., Order]
) -> None:
    order = pay_order("USD", (("Old order", 2000),))
    order.invoice_number = None  # as orders paid before invoice numbers existed
    db_session.commit()
    _refund(app, order)
    assert _notes(db_session, order) == []


def test_tax_given_back_is_computed_on_the_running_total() -> None:
    line = OrderItem(total_minor=1003, tax_minor=153, refunded_minor=0)
    parts = []
    for amount in (1, 1, 500, 501):
        parts.append(returned_tax(line, amount))
        line.refunded_minor += amount
    assert sum(parts) == 153 and all(p >= 0 for p in parts)


# --- tax split ---------------------------------------------------------------------------------

GST = {"currency": "INR", "country": "IN", "name": "GST", "rate_bp": 1800, "inclusive": False}


@pytest.mark.parametrize(
    ("region", "tax_id", "mode", "parts"),
    [
        ("29", None, TaxMode.CGST_SGST, [("CGST", 900, 9001), ("SGST", 900, 9000)]),
        ("27", None, TaxMode.IGST, [("IGST", 1800, 18001)]),
        # Unknown state: supplied where the seller is (IGST Act s. 12(2)(b)).
        (None, None, TaxMode.CGST_SGST, [("CGST", 900, 9001), ("SGST", 900, 9000)]),
        ("27", "29ABCDE1234F1Z5", TaxMode.CGST_SGST, [("CGST", 900, 9001), ("SGST", 900, 9000)]),
        (None, "27ABCDE1234F1Z5", TaxMode.IGST, [("IGST", 1800, 18001)]),
        ("29", "DE123456789", TaxMode.CGST_SGST, [("CGST", 900, 9001), ("SGST", 900, 9000)]),
    ],
    ids=["same-state", "other-state", "no-state", "gstin-state-wins", "gstin-other", "vat-id"],
)
def test_indian_gst_splits_by_the_buyers_state(
    region: str | None, tax_id: str | None, mode: TaxMode, parts: list[tuple[str, int, int]]
) -> None:
    terms = TaxTerms(**GST, buyer_state=buyer_state(region, tax_id), seller_state="29")
    line = line_tax(terms, tax=18001, total=118006)
    assert line.mode is mode
    assert [(p.name, p.rate_bp, p.amount) for p in line.parts] == parts
    assert line.tax == 18001 and line.taxable == 100005  # the halves add up exactly


def test_labels_name_rate_and_mode() -> None:
    same = TaxTerms(**GST, buyer_state="29", seller_state="29")
    other = TaxTerms(**GST, buyer_state="07", seller_state="29")
    vat = TaxTerms("EUR", "DE", "VAT", 1900, True, seller_state="29")
    none = TaxTerms("USD", "US", "Tax", 0, False, seller_state="29")
    assert same.label == "CGST 9% + SGST 9%"
    assert other.label == "IGST 18%"
    assert vat.label == "VAT 19% included"
    assert none.label == "No tax"
    assert percent_label(1850) == "18.5%" and percent_label(925) == "9.25%"


def test_eur_vat_is_included_with_the_net_amount() -> None:
    vat = TaxTerms("EUR", "DE", "VAT", 1900, True, seller_state="29")
    line = line_tax(vat, tax=319, total=1999)  # 19.99 € with 3.19 € VAT in it
    assert line.mode is TaxMode.INCLUDED
    assert line.taxable == 1680 and line.total == 1999
    assert [(p.name, p.rate_bp, p.amount) for p in line.parts] == [("VAT", 1900, 319)]


def test_usd_without_a_rule_has_no_tax() -> None:
    none = TaxTerms("USD", "US", "Tax", 0, False, seller_state="29")
    line = line_tax(none, tax=0, total=1999)
    assert line.mode is TaxMode.NONE and line.parts == () and line.taxable == 1999


def test_gst_on_an_order_in_another_currency_is_not_split() -> None:
    usd_in_india = TaxTerms("USD", "IN", "GST", 1800, False, buyer_state="29", seller_state="29")
    assert split_tax(usd_in_india, 180) == (TaxPart("GST", 1800, 180),)


def test_order_tax_is_the_sum_of_the_lines_parts() -> None:
    terms = TaxTerms(**GST, buyer_state="29", seller_state="29")
    lines = [line_tax(terms, tax, tax * 100 // 18 + tax) for tax in (18001, 9001, 1)]
    summed = sum_parts(p for line in lines for p in line.parts)
    assert [(p.name, p.amount) for p in summed] == [("CGST", 9001 + 4501 + 1), ("SGST", 13500)]
    assert sum(p.amount for p in summed) == 18001 + 9001 + 1
