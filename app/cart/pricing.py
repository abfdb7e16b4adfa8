"""The pricing engine: a pure function from cart lines, campaigns, coupon and tax to a breakdown.

The cart page, the order snapshot and the JSON API all call `price_cart`, so they cannot disagree.

Order of application: sale -> coupon -> tax on the discounted amount.

Rounding (written once, here): every amount is an integer number of minor units. A percentage of
an amount is rounded half-up on each line separately; a capped or fixed coupon amount is spread over
the lines in proportion to their price with the largest-remainder method, so the line amounts add up
exactly to the coupon amount. Tax is computed per line, rounded half-up, and every total is the sum
of its lines: nothing is rounded twice.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

BP = 10_000  # basis points in 100 %


def half_up_div(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded half away from zero, in integers (no floats)."""
    if denominator <= 0:
        raise ValueError("denominator must be positive")
    sign = -1 if numerator < 0 else 1
    q, r = divmod(abs(numerator), denominator)
    return sign * (q + (1 if 2 * r >= denominator else 0))


def allocate(total: int, weights: Sequence[int]) -> list[int]:
    """Split total over weights in proportion, as integers that add up to total exactly."""
    weight_sum = sum(weights)
    if total == 0 or weight_sum == 0:
        return [0] * len(weights)
    shares = [total * w // weight_sum for w in weights]
    remainders = sorted(range(len(weights)), key=lambda i: (-(total * weights[i] % weight_sum), i))
    for i in remainders[: total - sum(shares)]:
        shares[i] += 1
    return shares


def percent_of(amount: int, percent_bp: int) -> int:
    """percent_bp basis points of amount, rounded half-up."""
    return half_up_div(amount * percent_bp, BP)


@dataclass(frozen=True)
class Line:
    """A course in the cart with its prices in the cart's currency."""

    course_id: int
    title: str
    price: int  # the regular selling price
    list_price: int | None = None  # a higher "was" price, if the teacher set one
    category_id: int | None = None

    @property
    def base_price(self) -> int:
        return max(self.price, self.list_price or 0)


@dataclass(frozen=True)
class Campaign:
    """A sale: percent off for its scope, or fixed sale prices per course."""

    slug: str
    name: str
    percent_off_bp: int = 0
    fixed_prices: Mapping[int, int] = field(default_factory=dict)  # course id -> price
    all_courses: bool = False
    course_ids: frozenset[int] = frozenset()
    category_ids: frozenset[int] = frozenset()

    def price_for(self, line: Line) -> int | None:
        """The campaign's price for the line, or None when it does not apply."""
        if line.course_id in self.fixed_prices:
            return min(line.price, self.fixed_prices[line.course_id])
        in_scope = (
            self.all_courses
            or line.course_id in self.course_ids
            or (line.category_id is not None and line.category_id in self.category_ids)
        )
        if not in_scope or self.percent_off_bp <= 0:
            return None
        return max(0, line.price - percent_of(line.price, self.percent_off_bp))


class CouponKind(StrEnum):
    PERCENT = "percent"
    FIXED = "fixed"


@dataclass(frozen=True)
class CouponTerms:
    """What a coupon takes off; its eligibility is checked before pricing."""

    code: str
    kind: CouponKind
    percent_off_bp: int = 0
    amount_off: int = 0
    max_discount: int | None = None
    course_ids: frozenset[int] = frozenset()  # empty: every course

    def applies_to(self, line: Line) -> bool:
        return not self.course_ids or line.course_id in self.course_ids


@dataclass(frozen=True)
class TaxRule:
    country: str
    name: str
    rate_bp: int
    inclusive: bool

    @property
    def label(self) -> str:
        percent = f"{self.rate_bp / 100:g}%"
        return f"{self.name} {percent} {'included' if self.inclusive else 'added'}"


NO_TAX = TaxRule(country="", name="Tax", rate_bp=0, inclusive=False)


@dataclass(frozen=True)
class PricedLine:
    course_id: int
    title: str
    base_price: int
    sale_price: int
    sale_discount: int
    sale_slug: str | None
    coupon_discount: int
    tax_total: int
    total: int

    @property
    def discount(self) -> int:
        return self.sale_discount + self.coupon_discount

    @property
    def taxable(self) -> int:
        return self.sale_price - self.coupon_discount

    @property
    def discount_percentage(self) -> int:
        return half_up_div(self.discount * 100, self.base_price) if self.base_price else 0

    @property
    def net(self) -> int:
        """The line before tax: after sale and coupon, tax not added (or taken out)."""
        return self.total - self.tax_total


@dataclass(frozen=True)
class Breakdown:
    currency: str
    lines: tuple[PricedLine, ...]
    tax: TaxRule
    coupon_code: str | None

    @property
    def sub_total(self) -> int:
        return sum(line.base_price for line in self.lines)

    @property
    def sale_total(self) -> int:
        return sum(line.sale_price for line in self.lines)

    @property
    def sale_discount(self) -> int:
        return sum(line.sale_discount for line in self.lines)

    @property
    def coupon_discount(self) -> int:
        return sum(line.coupon_discount for line in self.lines)

    @property
    def discount_amount(self) -> int:
        return self.sale_discount + self.coupon_discount

    @property
    def discount_percentage(self) -> int:
        return half_up_div(self.discount_amount * 100, self.sub_total) if self.sub_total else 0

    @property
    def tax_total(self) -> int:
        return sum(line.tax_total for line in self.lines)

    @property
    def net_total(self) -> int:
        """What the lines come to before tax (seed 002's `sub_total`): total - tax_total."""
        return sum(line.net for line in self.lines)

    @property
    def total(self) -> int:
        return sum(line.total for line in self.lines)

    @property
    def is_free(self) -> bool:
        return self.total == 0

    def as_dict(self) -> dict[str, Any]:
        """Seed 002's estimate payload; every amount in minor units.

        `sub_total` and `items[].total` are before tax and after every discount (seed 002:
        16776 after a sale from 43176), so sub_total + tax_total = total for added tax; the
        undiscounted prices are in `base_total` / `items[].base_price`."""
        return {
            "currency_code": self.currency,
            "tax_rate": rate_percent(self.tax.rate_bp),
            "tax_name": self.tax.name,
            "tax_inclusive": self.tax.inclusive,
            "sub_total": self.net_total,
            "base_total": self.sub_total,
            "sale_total": self.sale_total,
            "discount_amount": self.discount_amount,
            "discount_percentage": self.discount_percentage,
            "coupon_code": self.coupon_code,
            "coupon_discount": self.coupon_discount,
            "tax_total": self.tax_total,
            "total": self.total,
            "items": [
                {
                    "internship_id": line.course_id,
                    "course_id": line.course_id,
                    "course": line.title,
                    "base_price": line.base_price,
                    "sale_price": line.sale_price,
                    "sale_slug": line.sale_slug,
                    "discount": line.discount,
                    "discount_percentage": line.discount_percentage,
                    "coupon_discount": line.coupon_discount,
                    "tax_total": line.tax_total,
                    "total": line.net,
                    "total_with_tax": line.total,
                }
                for line in self.lines
            ],
        }


def rate_percent(rate_bp: int) -> int | float:
    """A tax rate in percent as the seed shows it: 18, or 7.25 when not whole (display only)."""
    return rate_bp // 100 if rate_bp % 100 == 0 else rate_bp / 100


def best_sale(line: Line, campaigns: Sequence[Campaign]) -> tuple[int, Campaign | None]:
    """The lowest price any campaign gives the line (never above its regular price)."""
    best_price, best_campaign = line.price, None
    for campaign in campaigns:
        price = campaign.price_for(line)
        if price is not None and price < best_price:
            best_price, best_campaign = price, campaign
    return best_price, best_campaign


def coupon_discounts(
    sale_prices: Sequence[int], eligible: Sequence[bool], coupon: CouponTerms
) -> list[int]:
    """Per-line coupon discounts: never more than a line's price, capped in total."""
    bases = [p if ok else 0 for p, ok in zip(sale_prices, eligible, strict=True)]
    if coupon.kind is CouponKind.PERCENT:
        amounts = [percent_of(b, coupon.percent_off_bp) for b in bases]
    else:
        amounts = allocate(min(coupon.amount_off, sum(bases)), bases)
    cap = coupon.max_discount
    if cap is not None and sum(amounts) > cap:
        amounts = allocate(cap, amounts)
    return [min(a, b) for a, b in zip(amounts, bases, strict=True)]


def line_tax(taxable: int, tax: TaxRule) -> int:
    """Tax on one line: added on top (exclusive), or the part of the price that is tax."""
    if tax.inclusive:
        return half_up_div(taxable * tax.rate_bp, BP + tax.rate_bp)
    return percent_of(taxable, tax.rate_bp)


def price_cart(
    currency: str,
    lines: Sequence[Line],
    campaigns: Sequence[Campaign] = (),
    coupon: CouponTerms | None = None,
    tax: TaxRule = NO_TAX,
) -> Breakdown:
    """Price every line: sale, then coupon, then tax on what is left."""
    sales = [best_sale(line, campaigns) for line in lines]
    sale_prices = [price for price, _ in sales]
    if coupon is not None:
        eligible = [coupon.applies_to(line) for line in lines]
        coupons = coupon_discounts(sale_prices, eligible, coupon)
    else:
        coupons = [0] * len(lines)
    priced = []
    for line, (sale_price, campaign), off in zip(lines, sales, coupons, strict=True):
        taxable = sale_price - off
        tax_amount = line_tax(taxable, tax)
        priced.append(
            PricedLine(
                course_id=line.course_id,
                title=line.title,
                base_price=line.base_price,
                sale_price=sale_price,
                sale_discount=line.base_price - sale_price,
                sale_slug=campaign.slug if campaign else None,
                coupon_discount=off,
                tax_total=tax_amount,
                total=taxable if tax.inclusive else taxable + tax_amount,
            )
        )
    code = coupon.code if coupon is not None else None
    return Breakdown(currency=currency, lines=tuple(priced), tax=tax, coupon_code=code)
