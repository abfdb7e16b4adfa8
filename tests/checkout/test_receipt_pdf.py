"""The receipt PDF: what it says (read back with pypdf), that its totals are the order
snapshot's, who may download it; the billing fields of the checkout form that feed it."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from pypdf import PdfReader
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.accounts.models import Role, User
from app.checkout.invoices import list_credit_notes
from app.checkout.models import Order, OrderItem
from app.checkout.receipt_pdf import receipt_figures
from app.checkout.tax_lines import split_tax, terms_of
from app.core.web import money_of_filter
from tests.cart.conftest import make_coupon
from tests.conftest import login_as
from tests.factories import make_course, make_user
from tests.payments.conftest import checkout, fill_cart, order_of, run_jobs

HX = {"HX-Request": "true"}
M = "\u2212"  # the minus sign the documents write
GSTIN = "29AAACR5055K1Z5"


def pdf_text(data: bytes) -> str:
    """The document's text with runs of whitespace as one space (cells wrap)."""
    reader = PdfReader(io.BytesIO(data))
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


def money(app: Flask, currency: str, amount: int) -> str:
    """An amount as the pages write it (the same filter, in a request like the test's)."""
    with app.test_request_context():
        return money_of_filter(currency, amount)


def _items(session: Session, order: Order) -> list[OrderItem]:
    stmt = select(OrderItem).where(OrderItem.order_id == order.id).order_by(OrderItem.id)
    return list(session.scalars(stmt))


def _receipt(client: FlaskClient, order: Order) -> str:
    answer = client.get(f"/orders/{order.token}/receipt.pdf")
    assert answer.status_code == 200 and answer.mimetype == "application/pdf"
    return pdf_text(answer.data)


def test_the_tax_invoice_names_seller_buyer_lines_and_the_snapshots_totals(
    app: Flask,
    client: FlaskClient,
    db_session: Session,
    buyer: User,
    pay_order: Callable[..., Order],
) -> None:
    make_coupon("TENOFF", percent_off_bp=1000)
    order = pay_order(
        "INR",
        (("Pandas in practice", 80000, 100000), ("SQL basics", 50001)),
        coupon="TENOFF",
        billing_name="Rao Consulting LLP",
        tax_id=GSTIN,
    )
    text = _receipt(client, order)
    cash = lambda amount: money(app, "INR", amount)  # noqa: E731
    assert "Tax invoice" in text and order.invoice_number and order.invoice_number in text
    assert app.config["SELLER_TAX_ID"] in text and app.config["SELLER_NAME"] in text
    assert f"Tax ID: {GSTIN}" in text and "Rao Consulting LLP" in text and buyer.email in text
    assert "State: Karnataka (29)" in text and "India" in text
    for item in _items(db_session, order):
        sale, coupon = item.base_minor - item.sale_minor, item.coupon_discount_minor
        cgst, sgst = (item.tax_minor + 1) // 2, item.tax_minor // 2
        row = (
            f"{item.title} {cash(item.base_minor)} "
            + (f"{M}{cash(sale)} " if sale else "— ")
            + f"{M}{cash(coupon)} {cash(item.total_minor - item.tax_minor)} "
            f"CGST 9%: {cash(cgst)} SGST 9%: {cash(sgst)} {cash(item.total_minor)}"
        )
        assert row in text
    assert order.sale_discount_minor == 20000 and order.coupon_discount_minor > 0
    cgst, sgst = split_tax(terms_of(order, "29"), order.tax_minor)
    totals = (
        f"Subtotal (list prices) {cash(order.subtotal_minor)} "
        f"Sale discount {M}{cash(order.sale_discount_minor)} "
        f"Coupon TENOFF {M}{cash(order.coupon_discount_minor)} "
        f"Taxable value {cash(order.total_minor - order.tax_minor)} "
        f"CGST 9% {cash(cgst.amount)} SGST 9% {cash(sgst.amount)} "
        f"Total (INR) {cash(order.total_minor)}"
    )
    assert totals in text
    assert cgst.amount + sgst.amount == order.tax_minor
    assert re.search(r"Paid with Sandbox on \d{2} \w{3} \d{4}, \d{2}:\d{2} UTC", text)


def test_the_figures_add_up_to_the_order_snapshot(
    db_session: Session, pay_order: Callable[..., Order]
) -> None:
    make_coupon("FIVE", percent_off_bp=500)
    order = pay_order("INR", (("A", 33333, 40001), ("B", 10001), ("C", 777)), coupon="FIVE")
    figures = receipt_figures(order, _items(db_session, order), "29")
    assert figures.total == order.total_minor == sum(line.tax.total for line in figures.lines)
    assert sum(part.amount for part in figures.tax_parts) == order.tax_minor
    assert sum(line.list_price for line in figures.lines) == order.subtotal_minor
    assert sum(line.sale_discount for line in figures.lines) == order.sale_discount_minor
    assert sum(line.coupon_discount for line in figures.lines) == order.coupon_discount_minor
    assert figures.taxable == sum(line.tax.taxable for line in figures.lines)


def test_a_line_with_an_access_period_says_how_long(
    db_session: Session, pay_order: Callable[..., Order]
) -> None:
    order = pay_order("INR", (("Timed", 10000), ("Forever", 5000)))
    timed, forever = _items(db_session, order)
    timed.access_period_value, timed.access_period_unit = 6, "month"
    figures = receipt_figures(order, [timed, forever], "29")
    assert [line.title for line in figures.lines] == [
        f"{timed.title} (6 months of access)",
        forever.title,
    ]


def test_another_state_pays_igst(
    app: Flask, client: FlaskClient, pay_order: Callable[..., Order]
) -> None:
    order = pay_order("INR", (("Go", 100000),), state="27")
    text = _receipt(client, order)
    assert "IGST 18%: " + money(app, "INR", 18000) in text
    assert "State: Maharashtra (27)" in text and "CGST" not in text


def test_a_eur_invoice_says_vat_is_included(
    app: Flask, client: FlaskClient, pay_order: Callable[..., Order]
) -> None:
    order = pay_order("EUR", (("Rust", 1999),), tax_id="DE123456789")
    assert (order.tax_minor, order.total_minor) == (319, 1999)
    text = _receipt(client, order)
    eur = lambda amount: money(app, "EUR", amount)  # noqa: E731
    assert "Tax (VAT 19% included)" in text and "Tax ID: DE123456789" in text
    assert (
        f"Taxable value {eur(1680)} VAT 19% (included) {eur(319)} Total (EUR) {eur(1999)}" in text
    )


def test_a_usd_receipt_without_tax_says_so(
    client: FlaskClient, pay_order: Callable[..., Order]
) -> None:
    text = _receipt(client, pay_order("USD", (("Elm", 2500),)))
    assert "Tax (No tax)" in text and "No tax $0.00" in text and "Total (USD) $25.00" in text


def test_refunds_show_as_credit_notes_and_each_is_its_own_pdf(
    app: Flask, client: FlaskClient, db_session: Session, pay_order: Callable[..., Order]
) -> None:
    order = pay_order("INR", (("Course A", 100000), ("Course B", 50000)), state="29")
    done = app.test_cli_runner().invoke(
        args=["orders", "refund", order.token, "--amount", "59000", "--reason", "x", "--yes"]
    )
    assert done.exit_code == 0, done.output
    run_jobs()
    (note,) = list_credit_notes(order.id)
    text = _receipt(client, order)
    cash = lambda amount: money(app, "INR", amount)  # noqa: E731
    assert f"Credit note {note.number}" in text
    assert f"Amount refunded {cash(59000)}" in text
    half = note.tax_minor // 2
    assert f"Tax returned: CGST 9% {cash(note.tax_minor - half)}" in text
    assert f"Tax returned: SGST 9% {cash(half)}" in text
    assert f"Refunded (see credit notes) {M}{cash(59000)}" in text
    page = client.get(f"/orders/{order.token}")
    assert f"/orders/{order.token}/credit-notes/{note.number}.pdf" in page.text
    own = client.get(f"/orders/{order.token}/credit-notes/{note.number}.pdf")
    assert own.status_code == 200
    own_text = pdf_text(own.data)
    assert f"Credit note no. {note.number}" in own_text
    assert f"Against invoice {order.invoice_number}" in own_text
    assert client.get(f"/orders/{order.token}/credit-notes/CN-1999-000001.pdf").status_code == 404


def test_who_may_download_a_receipt(
    app: Flask, client: FlaskClient, db_session: Session, pay_order: Callable[..., Order]
) -> None:
    order = pay_order("USD", (("Private", 2000),))
    url = f"/orders/{order.token}/receipt.pdf"
    assert client.get(url).status_code == 200
    login_as(client, make_user(email="stranger@example.com"))
    assert client.get(url).status_code == 404
    login_as(client, make_user(Role.ADMIN, email="admin@example.com"))
    assert client.get(url).status_code == 200
    anonymous = app.test_client()
    answer = anonymous.get(url)
    assert answer.status_code in (302, 303) and "/login" in answer.headers["Location"]
    assert client.get("/orders/not-a-token/receipt.pdf").status_code == 404


def test_an_unpaid_order_has_no_receipt_yet(
    client: FlaskClient, db_session: Session, buyer: User
) -> None:
    fill_cart(buyer, [make_course("Later", prices={"USD": 900}).id])
    assert checkout(client).status_code == 303
    order = order_of(db_session, buyer)
    answer = client.get(f"/orders/{order.token}/receipt.pdf")
    assert answer.status_code == 409 and "No receipt yet" in answer.text
    assert "Download receipt" not in client.get(f"/orders/{order.token}").text


def test_the_order_page_and_list_link_the_receipt(
    client: FlaskClient, pay_order: Callable[..., Order]
) -> None:
    order = pay_order("USD", (("Linked", 1500),))
    link = f'href="/orders/{order.token}/receipt.pdf"'
    page = client.get(f"/orders/{order.token}").text
    assert link in page and "Download receipt (PDF)" in page and str(order.invoice_number) in page
    assert link in client.get("/orders").text


def test_the_receipt_email_names_the_invoice_number(
    mailbox: Any, pay_order: Callable[..., Order]
) -> None:
    order = pay_order("USD", (("Mailed", 1500),))
    (mail,) = list(mailbox.glob("*.eml"))
    assert f"Tax invoice: {order.invoice_number}" in mail.read_text()


# --- the checkout form's billing fields --------------------------------------------------------


@pytest.fixture
def inr_cart(buyer: User) -> None:
    fill_cart(buyer, [make_course("Billing", prices={"INR": 100000}).id], "INR")


def _orders(session: Session, user: User) -> int:
    session.expire_all()
    return len(session.scalars(select(Order).where(Order.user_id == user.id)).all())


def test_the_form_offers_billing_fields_with_the_users_name(
    client: FlaskClient, buyer: User, inr_cart: None
) -> None:
    page = client.get("/checkout").text
    assert 'name="billing_name"' in page and 'value="Bea Buyer"' in page
    assert 'name="tax_id"' in page and "GSTIN / VAT ID" in page
    assert '<option value="29">Karnataka (29)</option>' in page


def test_no_state_for_a_cart_in_another_currency(client: FlaskClient, buyer: User) -> None:
    fill_cart(buyer, [make_course("Dollars", prices={"USD": 1000}).id])
    page = client.get("/checkout").text
    assert 'name="tax_id"' in page and 'name="state"' not in page


@pytest.mark.parametrize("hx", [False, True], ids=["plain", "htmx"])
@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"tax_id": "29ABCDE1234"}, "A GSTIN has 15 characters"),
        ({"tax_id": "ABCDE1234F1Z5"}, "An EU VAT ID starts with its country code"),
        ({"tax_id": "99ABCDE1234F1Z5"}, "99 is not an Indian state code"),
        ({"tax_id": GSTIN, "state": "27"}, "Your GSTIN is registered in Karnataka (29)"),
    ],
    ids=["short-gstin", "no-prefix", "bad-state-code", "state-mismatch"],
)
def test_bad_billing_details_are_refused_inline_and_change_nothing(
    client: FlaskClient,
    db_session: Session,
    buyer: User,
    inr_cart: None,
    fields: dict[str, str],
    message: str,
    hx: bool,
) -> None:
    data = {"provider": "sandbox", "accept_terms": "y", "idempotency_key": "key-bad-0001", **fields}
    answer = client.post("/checkout", data=data, headers=HX if hx else {})
    assert answer.status_code == 422
    assert message in answer.text and 'class="error"' in answer.text
    if hx:
        assert answer.text.lstrip().startswith('<form id="checkout-form"')
        assert "<html" not in answer.text
    else:
        assert "<html" in answer.text and 'id="checkout-form"' in answer.text
    assert _orders(db_session, buyer) == 0


def test_good_billing_details_are_kept_on_the_order(
    client: FlaskClient, db_session: Session, buyer: User, inr_cart: None
) -> None:
    answer = checkout(client, billing_name="  Rao LLP ", tax_id="29 aaacr5055k1z5", state="29")
    assert answer.status_code == 303
    order = order_of(db_session, buyer)
    assert (order.buyer_name, order.buyer_tax_id, order.buyer_region) == ("Rao LLP", GSTIN, "29")
    # the same form again (a double click) replays the first answer and changes nothing
    again = checkout(client, billing_name="  Rao LLP ", tax_id="29 aaacr5055k1z5", state="29")
    assert again.headers["Location"] == answer.headers["Location"]
    assert _orders(db_session, buyer) == 1


def test_the_gstins_state_is_used_when_no_state_is_chosen(
    client: FlaskClient, db_session: Session, buyer: User, inr_cart: None
) -> None:
    assert checkout(client, tax_id="27ABCDE1234F1Z5").status_code == 303
    order = order_of(db_session, buyer)
    assert (order.buyer_region, order.buyer_name) == ("27", "Bea Buyer")


def test_the_same_key_with_other_details_is_a_conflict(
    client: FlaskClient, db_session: Session, buyer: User, inr_cart: None
) -> None:
    assert checkout(client, billing_name="First").status_code == 303
    answer = checkout(client, billing_name="Second")
    assert answer.status_code == 422
    assert order_of(db_session, buyer).buyer_name == "First"


def test_htmx_checkout_success_redirects_the_whole_page(
    client: FlaskClient, buyer: User, inr_cart: None
) -> None:
    data = {"provider": "sandbox", "accept_terms": "y", "idempotency_key": "key-hx-00001"}
    answer = client.post("/checkout", data=data, headers=HX)
    assert answer.status_code == 204 and "/pay/" in answer.headers["HX-Redirect"]
