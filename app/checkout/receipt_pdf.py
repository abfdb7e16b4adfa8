"""The receipt PDF (a tax invoice for a paid order, a plain receipt for a free one) and the
credit note PDF, drawn from the order's frozen snapshot: every amount printed is a snapshot
amount or an exact integer split of one, so the document's totals are the order's totals.

`receipt_figures` computes what is printed without fpdf2 (cheap to test); the drawing functions
only lay it out. fpdf2 is imported on first use, by app.core.pdf.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Any

from app.checkout.models import CreditNote, Order, OrderItem
from app.checkout.tax_lines import (
    LineTax,
    TaxPart,
    TaxTerms,
    line_tax,
    split_tax,
    state_name,
    sum_parts,
    terms_of,
)
from app.core.forms import country_choices
from app.core.money import format_money
from app.core.pdf import FONT, new_document, to_bytes

if TYPE_CHECKING:
    from fpdf import FPDF

Money = Callable[[int], str]
MARGIN = 15.0
WIDTH = 210.0 - 2 * MARGIN  # A4
MINUS = "\u2212"  # the pages' minus sign, not a hyphen


@dataclass(frozen=True)
class Seller:
    name: str
    address: str
    tax_id: str
    state: str
    email: str


def seller_from(config: Mapping[str, Any]) -> Seller:
    """The seller the documents name, from the SELLER_* settings."""
    return Seller(
        name=config["SELLER_NAME"],
        address=config["SELLER_ADDRESS"],
        tax_id=config["SELLER_TAX_ID"],
        state=config["SELLER_STATE"],
        email=config["SELLER_EMAIL"],
    )


@dataclass(frozen=True)
class ReceiptLine:
    title: str
    list_price: int
    sale_discount: int
    coupon_discount: int
    tax: LineTax


@dataclass(frozen=True)
class ReceiptFigures:
    """What a receipt prints; the totals are the order snapshot's."""

    terms: TaxTerms
    lines: tuple[ReceiptLine, ...]
    tax_parts: tuple[TaxPart, ...]
    subtotal: int
    sale_discount: int
    coupon_discount: int
    tax: int
    total: int
    refunded: int

    @property
    def taxable(self) -> int:
        return self.total - self.tax


def _line_title(item: OrderItem) -> str:
    """The course, and how long the line gives access when that is not for good."""
    period = item.access_period
    return f"{item.title} ({period.label} of access)" if period is not None else item.title


def receipt_figures(order: Order, items: Sequence[OrderItem], seller_state: str) -> ReceiptFigures:
    """The lines with their tax split by mode, and the order's totals."""
    terms = terms_of(order, seller_state)
    lines = tuple(
        ReceiptLine(
            title=_line_title(item),
            list_price=item.base_minor,
            sale_discount=item.base_minor - item.sale_minor,
            coupon_discount=item.coupon_discount_minor,
            tax=line_tax(terms, item.tax_minor, item.total_minor),
        )
        for item in items
    )
    return ReceiptFigures(
        terms=terms,
        lines=lines,
        tax_parts=sum_parts(part for line in lines for part in line.tax.parts),
        subtotal=order.subtotal_minor,
        sale_discount=order.sale_discount_minor,
        coupon_discount=order.coupon_discount_minor,
        tax=order.tax_minor,
        total=order.total_minor,
        refunded=order.refunded_minor,
    )


def document_title(order: Order) -> str:
    """A paid order's document is a tax invoice; a free order's (or one paid before invoices
    were numbered) a receipt."""
    return "Tax invoice" if order.invoice_number else "Receipt"


def day(at: datetime | None) -> str:
    return at.strftime("%d %b %Y") if at else ""


def render_receipt(
    order: Order, credit_notes: Sequence[CreditNote], seller: Seller, locale: str
) -> bytes:
    """The receipt of a fulfilled order (its user and items loaded) as a PDF."""
    figures = receipt_figures(order, order.items, seller.state)
    money: Money = partial(format_money, currency=order.currency, locale=locale)
    title = document_title(order)
    pdf = _page(f"{title} {order.invoice_number or order.token[:8].upper()}")
    if order.invoice_number:
        facts = [("Invoice no.", order.invoice_number), ("Invoice date", day(order.invoiced_at))]
    else:
        facts = [
            ("Receipt for order", order.token[:8].upper()),
            ("Date", day(order.paid_at or order.fulfilled_at)),
        ]
    _heading(pdf, title, [*facts, ("Order", order.token[:8].upper())])
    _parties(pdf, seller, order)
    _items_table(pdf, figures, money)
    _totals(pdf, figures, order, money)
    _payment(pdf, order)
    titles = {str(item.id): item.title for item in order.items}
    for note in credit_notes:
        _credit_note_section(pdf, note, figures.terms, titles, money)
    _footer(pdf, order, seller)
    return to_bytes(pdf)


def render_credit_note(order: Order, note: CreditNote, seller: Seller, locale: str) -> bytes:
    """One credit note of an invoiced order (its user and items loaded) as a PDF."""
    terms = terms_of(order, seller.state)
    money: Money = partial(format_money, currency=order.currency, locale=locale)
    pdf = _page(f"Credit note {note.number}")
    facts = [
        ("Credit note no.", note.number),
        ("Date", day(note.issued_at)),
        ("Against invoice", f"{order.invoice_number} of {day(order.invoiced_at)}"),
    ]
    _heading(pdf, "Credit note", facts)
    _parties(pdf, seller, order)
    titles = {str(item.id): item.title for item in order.items}
    _credit_note_section(pdf, note, terms, titles, money)
    _footer(pdf, order, seller)
    return to_bytes(pdf)


# --- layout --------------------------------------------------------------------------------


def _page(title: str) -> FPDF:
    pdf = new_document(title)
    pdf.set_margins(MARGIN, MARGIN, MARGIN)
    pdf.add_page()
    return pdf


def _text(pdf: FPDF, size: float, bold: bool = False) -> None:
    pdf.set_font(FONT, "B" if bold else "", size)


def _heading(pdf: FPDF, title: str, facts: Sequence[tuple[str, str]]) -> None:
    _text(pdf, 20, bold=True)
    pdf.cell(WIDTH, 10, title, new_x="LMARGIN", new_y="NEXT")
    for label, value in facts:
        _text(pdf, 10)
        pdf.cell(32, 5.5, label)
        _text(pdf, 10, bold=True)
        pdf.cell(WIDTH - 32, 5.5, value, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)


def _block(pdf: FPDF, x: float, y: float, heading: str, lines: Sequence[str]) -> float:
    """A titled block of lines at (x, y), half the page wide; the y below it."""
    pdf.set_xy(x, y)
    _text(pdf, 9, bold=True)
    pdf.cell(WIDTH / 2 - 4, 5, heading.upper(), new_x="LEFT", new_y="NEXT")
    _text(pdf, 10)
    for line in lines:
        pdf.multi_cell(WIDTH / 2 - 4, 5, line, align="L", new_x="LEFT", new_y="NEXT")
    return float(pdf.get_y())


def _parties(pdf: FPDF, seller: Seller, order: Order) -> None:
    top, left = pdf.get_y(), pdf.l_margin
    seller_lines = [seller.name, seller.address, f"GSTIN / Tax ID: {seller.tax_id}"]
    seller_lines += [seller.email] if seller.email else []
    bottom = _block(pdf, left, top, "Seller", seller_lines)
    bottom = max(bottom, _block(pdf, left + WIDTH / 2, top, "Billed to", buyer_lines(order)))
    pdf.set_xy(left, bottom + 5)


def buyer_lines(order: Order) -> list[str]:
    """The buyer as the invoice names them: name, email, country, state, tax id."""
    countries = dict(country_choices())
    lines = [order.buyer_name or order.user.name, order.user.email]
    if order.tax_country:
        lines.append(countries.get(order.tax_country, order.tax_country))
    state = state_name(order.buyer_region)
    if state and order.currency == "INR":
        lines.append(f"State: {state} ({order.buyer_region})")
    if order.buyer_tax_id:
        lines.append(f"Tax ID: {order.buyer_tax_id}")
    return lines


def _tax_cell(tax: LineTax, money: Money) -> str:
    if not tax.parts:
        return "No tax"
    return "\n".join(f"{part.label}: {money(part.amount)}" for part in tax.parts)


def _items_table(pdf: FPDF, figures: ReceiptFigures, money: Money) -> None:
    from fpdf.fonts import FontFace

    inclusive = figures.terms.inclusive
    headings = ["Course", "List price", "Sale discount", "Coupon discount"]
    headings += ["Taxable value", f"Tax ({figures.terms.label})", "Total"]
    _text(pdf, 8.5)
    with pdf.table(
        col_widths=(46, 20, 20, 20, 22, 32, 20),
        text_align=("LEFT", "RIGHT", "RIGHT", "RIGHT", "RIGHT", "RIGHT", "RIGHT"),
        line_height=4.5,
        borders_layout="HORIZONTAL_LINES",
        headings_style=FontFace(emphasis="BOLD"),
        padding=1.2,
    ) as table:
        row = table.row()
        for heading in headings:
            row.cell(heading)
        for line in figures.lines:
            row = table.row()
            row.cell(line.title)
            row.cell(money(line.list_price))
            row.cell(f"{MINUS}{money(line.sale_discount)}" if line.sale_discount else "—")
            row.cell(f"{MINUS}{money(line.coupon_discount)}" if line.coupon_discount else "—")
            row.cell(money(line.tax.taxable))
            row.cell(_tax_cell(line.tax, money) + ("\n(included)" if inclusive else ""))
            row.cell(money(line.tax.total))
    pdf.ln(4)


def _total_row(pdf: FPDF, label: str, value: str, bold: bool = False) -> None:
    _text(pdf, 10, bold=bold)
    pdf.set_x(pdf.l_margin + WIDTH - 110)
    pdf.cell(75, 6, label, align="R")
    pdf.cell(35, 6, value, align="R", new_x="LMARGIN", new_y="NEXT")


def _totals(pdf: FPDF, figures: ReceiptFigures, order: Order, money: Money) -> None:
    _total_row(pdf, "Subtotal (list prices)", money(figures.subtotal))
    if figures.sale_discount:
        _total_row(pdf, "Sale discount", f"{MINUS}{money(figures.sale_discount)}")
    if figures.coupon_discount:
        label = f"Coupon {order.coupon_code or ''}".strip()
        _total_row(pdf, label, f"{MINUS}{money(figures.coupon_discount)}")
    _total_row(pdf, "Taxable value", money(figures.taxable))
    suffix = " (included)" if figures.terms.inclusive else ""
    for part in figures.tax_parts:
        _total_row(pdf, f"{part.label}{suffix}", money(part.amount))
    if not figures.tax_parts:
        _total_row(pdf, "No tax", money(0))
    _total_row(pdf, f"Total ({order.currency})", money(figures.total), bold=True)
    if figures.refunded:
        _total_row(pdf, "Refunded (see credit notes)", f"{MINUS}{money(figures.refunded)}")
        _total_row(pdf, "Net paid", money(figures.total - figures.refunded), bold=True)
    pdf.ln(3)


def _payment(pdf: FPDF, order: Order) -> None:
    _text(pdf, 10)
    if order.total_minor == 0:
        text = f"Nothing to pay: enrolled on {day(order.paid_at or order.fulfilled_at)}."
    else:
        provider = (order.provider or "card").capitalize()
        paid = order.paid_at.strftime("%d %b %Y, %H:%M UTC") if order.paid_at else ""
        text = f"Paid with {provider} on {paid}."
    pdf.multi_cell(WIDTH, 5.5, text, align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)


def _credit_note_section(
    pdf: FPDF, note: CreditNote, terms: TaxTerms, titles: Mapping[str, str], money: Money
) -> None:
    _text(pdf, 12, bold=True)
    heading = f"Credit note {note.number} · {day(note.issued_at)}"
    pdf.cell(WIDTH, 8, heading, new_x="LMARGIN", new_y="NEXT")
    _text(pdf, 10)
    for item_id, amount in note.lines.items():
        pdf.cell(WIDTH - 35, 5.5, titles.get(item_id, f"Line {item_id}"))
        pdf.cell(35, 5.5, money(int(amount)), align="R", new_x="LMARGIN", new_y="NEXT")
    _total_row(pdf, "Amount refunded", money(note.amount_minor), bold=True)
    suffix = " (included)" if terms.inclusive else ""
    for part in split_tax(terms, note.tax_minor):
        _total_row(pdf, f"Tax returned: {part.label}{suffix}", money(part.amount))
    pdf.ln(3)


def _footer(pdf: FPDF, order: Order, seller: Seller) -> None:
    _text(pdf, 8)
    pdf.ln(4)
    text = f"Amounts in {order.currency}. A computer-generated document: no signature needed."
    if order.total_minor == 0:
        text += " Not a tax invoice: nothing was charged."
    text += f" Questions: {seller.email}."
    pdf.multi_cell(WIDTH, 4, text, align="L", new_x="LMARGIN", new_y="NEXT")
