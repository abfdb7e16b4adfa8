"""How an invoice presents tax, from the order's frozen tax snapshot: per line its rate and
mode (Indian GST as CGST + SGST within the seller's state or IGST across states, VAT included
in the price, another tax added on top, or none) and the same split summed over the order.

Pure functions on integers: the amounts were rounded once, by the pricing engine, when the order
was placed; here they are only divided between CGST and SGST, never recomputed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from app.cart.pricing import allocate

if TYPE_CHECKING:
    from app.checkout.models import Order

# GST state codes (the first two digits of a GSTIN), as the GST portal lists them today.
INDIAN_STATES: dict[str, str] = {
    "01": "Jammu and Kashmir",
    "02": "Himachal Pradesh",
    "03": "Punjab",
    "04": "Chandigarh",
    "05": "Uttarakhand",
    "06": "Haryana",
    "07": "Delhi",
    "08": "Rajasthan",
    "09": "Uttar Pradesh",
    "10": "Bihar",
    "11": "Sikkim",
    "12": "Arunachal Pradesh",
    "13": "Nagaland",
    "14": "Manipur",
    "15": "Mizoram",
    "16": "Tripura",
    "17": "Meghalaya",
    "18": "Assam",
    "19": "West Bengal",
    "20": "Jharkhand",
    "21": "Odisha",
    "22": "Chhattisgarh",
    "23": "Madhya Pradesh",
    "24": "Gujarat",
    "26": "Dadra and Nagar Haveli and Daman and Diu",
    "27": "Maharashtra",
    "29": "Karnataka",
    "30": "Goa",
    "31": "Lakshadweep",
    "32": "Kerala",
    "33": "Tamil Nadu",
    "34": "Puducherry",
    "35": "Andaman and Nicobar Islands",
    "36": "Telangana",
    "37": "Andhra Pradesh",
    "38": "Ladakh",
    "97": "Other Territory",
}
# Codes no longer offered but still found in GSTINs issued before states merged or split.
FORMER_STATES = {"25": "Daman and Diu", "28": "Andhra Pradesh (before 2014)"}
GSTIN = re.compile(r"\d{2}[A-Z]{5}\d{4}[A-Z][1-9A-Z]Z[0-9A-Z]")
EU_VAT = re.compile(r"[A-Z]{2}[0-9A-Z]{2,13}")
# VAT ID prefixes: the EU members (Greece writes EL) and Northern Ireland (XI).
EU_VAT_PREFIXES = frozenset(
    {"AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "EL", "ES", "FI", "FR", "HR", "HU"}
    | {"IE", "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK", "XI"}
)


def normalise_tax_id(raw: str | None) -> str:
    """A tax id as written on documents: upper case, without spaces, dots or dashes."""
    return re.sub(r"[\s.\-]", "", raw or "").upper()


def is_gstin(tax_id: str | None) -> bool:
    return GSTIN.fullmatch(tax_id or "") is not None


def is_eu_vat_id(tax_id: str | None) -> bool:
    value = tax_id or ""
    return EU_VAT.fullmatch(value) is not None and value[:2] in EU_VAT_PREFIXES


def state_name(code: str | None) -> str | None:
    """The state a GST state code names, or None."""
    if not code:
        return None
    return INDIAN_STATES.get(code) or FORMER_STATES.get(code)


def buyer_state(region: str | None, tax_id: str | None) -> str | None:
    """The buyer's Indian state: the one their GSTIN is registered in, else the one they chose."""
    if is_gstin(tax_id):
        return (tax_id or "")[:2]
    return region or None


def percent_label(rate_bp: int) -> str:
    """1800 -> "18%", 950 -> "9.5%" (integers only)."""
    whole, rest = divmod(rate_bp, 100)
    if not rest:
        return f"{whole}%"
    return f"{whole}.{rest:02d}".rstrip("0") + "%"


class TaxMode(StrEnum):
    CGST_SGST = "cgst_sgst"  # Indian GST within the seller's state
    IGST = "igst"  # Indian GST across states
    INCLUDED = "included"  # in the price (EU VAT)
    ADDED = "added"  # on top of the price
    NONE = "none"


@dataclass(frozen=True)
class TaxTerms:
    """What the order's snapshot says about tax, and where seller and buyer are."""

    currency: str
    country: str | None
    name: str
    rate_bp: int
    inclusive: bool
    buyer_state: str | None = None
    seller_state: str | None = None

    @property
    def mode(self) -> TaxMode:
        if self.rate_bp <= 0:
            return TaxMode.NONE
        if self.currency == "INR" and self.country == "IN":
            # A buyer whose state is unknown is supplied where the seller is (IGST Act
            # s. 12(2)(b)): within the seller's state, CGST + SGST, like a buyer of that state.
            same = self.buyer_state is None or self.buyer_state == self.seller_state
            return TaxMode.CGST_SGST if same else TaxMode.IGST
        return TaxMode.INCLUDED if self.inclusive else TaxMode.ADDED

    @property
    def label(self) -> str:
        """The mode as a document states it: "CGST 9% + SGST 9%", "VAT 19% included"."""
        rate, mode = percent_label(self.rate_bp), self.mode
        if mode is TaxMode.NONE:
            return "No tax"
        if mode is TaxMode.CGST_SGST:
            cgst, sgst = halves(self.rate_bp)
            return f"CGST {percent_label(cgst)} + SGST {percent_label(sgst)}"
        if mode is TaxMode.IGST:
            return f"IGST {rate}"
        return f"{self.name} {rate} {'included' if mode is TaxMode.INCLUDED else 'added'}"


@dataclass(frozen=True)
class TaxPart:
    name: str  # CGST, SGST, IGST, VAT, ...
    rate_bp: int
    amount: int

    @property
    def label(self) -> str:
        return f"{self.name} {percent_label(self.rate_bp)}"


@dataclass(frozen=True)
class LineTax:
    """One line's tax as the invoice shows it; `taxable` is the value net of tax."""

    mode: TaxMode
    taxable: int
    parts: tuple[TaxPart, ...]
    total: int

    @property
    def tax(self) -> int:
        return sum(part.amount for part in self.parts)


def halves(amount: int) -> tuple[int, int]:
    """An amount split in two that adds up exactly; an odd unit goes to the first (CGST)."""
    first, second = allocate(amount, [1, 1])
    return first, second


def terms_of(order: Order, seller_state: str | None) -> TaxTerms:
    """The tax terms of an order's snapshot and its buyer details."""
    return TaxTerms(
        currency=order.currency,
        country=order.tax_country,
        name=order.tax_name,
        rate_bp=order.tax_rate_bp,
        inclusive=order.tax_inclusive,
        buyer_state=buyer_state(order.buyer_region, order.buyer_tax_id),
        seller_state=seller_state,
    )


def split_tax(terms: TaxTerms, tax: int) -> tuple[TaxPart, ...]:
    """An amount of tax divided the way the terms' mode names it (nothing for no tax)."""
    mode = terms.mode
    if mode is TaxMode.NONE:
        return ()
    if mode is TaxMode.CGST_SGST:
        cgst_rate, sgst_rate = halves(terms.rate_bp)
        cgst, sgst = halves(tax)
        return (TaxPart("CGST", cgst_rate, cgst), TaxPart("SGST", sgst_rate, sgst))
    name = "IGST" if mode is TaxMode.IGST else terms.name
    return (TaxPart(name, terms.rate_bp, tax),)


def line_tax(terms: TaxTerms, tax: int, total: int) -> LineTax:
    """A line's tax (`tax` of the line's `total`, both frozen on the order) as shown."""
    return LineTax(mode=terms.mode, taxable=total - tax, parts=split_tax(terms, tax), total=total)


def sum_parts(parts: Iterable[TaxPart]) -> tuple[TaxPart, ...]:
    """Parts of the same name and rate added up, in the order they first appear."""
    totals: dict[tuple[str, int], int] = {}
    for part in parts:
        key = (part.name, part.rate_bp)
        totals[key] = totals.get(key, 0) + part.amount
    return tuple(TaxPart(name, rate, amount) for (name, rate), amount in totals.items())
