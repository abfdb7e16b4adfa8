"""The pricing engine: seed 002's example exactly, and properties over generated carts."""

from hypothesis import given, settings
from hypothesis import strategies as st

from app.cart.pricing import (
    Campaign,
    CouponKind,
    CouponTerms,
    Line,
    TaxRule,
    allocate,
    half_up_div,
    price_cart,
)

GST = TaxRule(country="IN", name="GST", rate_bp=1800, inclusive=False)
VAT = TaxRule(country="DE", name="VAT", rate_bp=1900, inclusive=True)


def test_seed_002_estimate_is_reproduced_exactly() -> None:
    line = Line(course_id=123, title="Internship", price=43176)
    sale = Campaign(slug="summer2024", name="Summer", fixed_prices={123: 16776})
    b = price_cart("INR", [line], [sale], None, GST)
    item = b.lines[0]
    assert (item.base_price, item.sale_price, item.sale_slug) == (43176, 16776, "summer2024")
    assert b.discount_amount == 26400
    assert b.discount_percentage == 61
    assert item.tax_total == 3020  # 18% of 16776 = 3019.68, rounded half-up
    assert b.tax_total == 3020
    assert b.total == 19796
    payload = b.as_dict()
    assert payload["currency_code"] == "INR" and payload["tax_rate"] == 18
    assert payload["total"] == 19796 and payload["items"][0]["discount_percentage"] == 61


def test_half_up_rounding() -> None:
    assert half_up_div(5, 2) == 3
    assert half_up_div(7, 2) == 4
    assert half_up_div(301968, 100) == 3020
    assert half_up_div(301949, 100) == 3019
    assert half_up_div(-5, 2) == -3


def test_allocation_is_exact_and_proportional() -> None:
    assert allocate(100, [1, 1, 1]) == [34, 33, 33]
    assert sum(allocate(1001, [3, 5, 7, 11])) == 1001
    assert allocate(0, [5, 5]) == [0, 0]
    assert allocate(10, [0, 0]) == [0, 0]


def test_sale_then_coupon_then_tax() -> None:
    lines = [Line(1, "A", 10000), Line(2, "B", 5000, category_id=9)]
    sale = Campaign(slug="cat", name="Cat sale", percent_off_bp=2000, category_ids=frozenset({9}))
    coupon = CouponTerms(code="TEN", kind=CouponKind.PERCENT, percent_off_bp=1000)
    b = price_cart("INR", lines, [sale], coupon, GST)
    a, bb = b.lines
    assert (a.sale_price, a.coupon_discount, a.tax_total, a.total) == (10000, 1000, 1620, 10620)
    assert (bb.sale_price, bb.coupon_discount, bb.tax_total, bb.total) == (4000, 400, 648, 4248)
    assert b.total == 14868


def test_best_campaign_wins_and_never_raises_a_price() -> None:
    line = Line(1, "A", 10000, category_id=3)
    weak = Campaign(slug="weak", name="Weak", percent_off_bp=1000, all_courses=True)
    strong = Campaign(
        slug="strong", name="Strong", percent_off_bp=4000, category_ids=frozenset({3})
    )
    silly = Campaign(slug="silly", name="Silly", fixed_prices={1: 20000})
    b = price_cart("USD", [line], [weak, strong, silly])
    assert (b.lines[0].sale_price, b.lines[0].sale_slug) == (6000, "strong")


def test_coupon_applies_only_to_its_courses_and_respects_the_cap() -> None:
    lines = [Line(1, "A", 8000), Line(2, "B", 2000)]
    scoped = CouponTerms(
        code="A50", kind=CouponKind.PERCENT, percent_off_bp=5000, course_ids=frozenset({1})
    )
    b = price_cart("USD", lines, coupon=scoped)
    assert [ln.coupon_discount for ln in b.lines] == [4000, 0]
    capped = CouponTerms(
        code="CAP", kind=CouponKind.PERCENT, percent_off_bp=5000, max_discount=1001
    )
    b = price_cart("USD", lines, coupon=capped)
    assert b.coupon_discount == 1001
    assert [ln.coupon_discount for ln in b.lines] == [801, 200]


def test_fixed_coupon_never_makes_a_total_negative() -> None:
    coupon = CouponTerms(code="BIG", kind=CouponKind.FIXED, amount_off=50000)
    b = price_cart("USD", [Line(1, "A", 1999), Line(2, "B", 999)], coupon=coupon)
    assert b.total == 0
    assert [ln.total for ln in b.lines] == [0, 0]


def test_inclusive_tax_is_part_of_the_price() -> None:
    b = price_cart("EUR", [Line(1, "A", 11900)], tax=VAT)
    assert (b.tax_total, b.total) == (1900, 11900)


lines_strategy = st.lists(
    st.builds(
        Line,
        course_id=st.integers(1, 10_000),
        title=st.just("course"),
        price=st.integers(0, 10_000_000),
        list_price=st.one_of(st.none(), st.integers(0, 20_000_000)),
        category_id=st.one_of(st.none(), st.integers(1, 5)),
    ),
    min_size=0,
    max_size=8,
    unique_by=lambda line: line.course_id,
)
campaigns_strategy = st.lists(
    st.builds(
        Campaign,
        slug=st.sampled_from(["a", "b", "c"]),
        name=st.just("sale"),
        percent_off_bp=st.integers(0, 10_000),
        all_courses=st.booleans(),
        category_ids=st.frozensets(st.integers(1, 5), max_size=3),
    ),
    max_size=3,
)
coupon_strategy = st.one_of(
    st.none(),
    st.builds(
        CouponTerms,
        code=st.just("C"),
        kind=st.sampled_from(list(CouponKind)),
        percent_off_bp=st.integers(1, 10_000),
        amount_off=st.integers(1, 5_000_000),
        max_discount=st.one_of(st.none(), st.integers(0, 3_000_000)),
        course_ids=st.frozensets(st.integers(1, 10_000), max_size=3),
    ),
)
tax_strategy = st.builds(
    TaxRule,
    country=st.just("XX"),
    name=st.just("Tax"),
    rate_bp=st.integers(0, 3000),
    inclusive=st.booleans(),
)


@settings(max_examples=300, deadline=None)
@given(lines_strategy, campaigns_strategy, coupon_strategy, tax_strategy)
def test_breakdown_invariants(lines, campaigns, coupon, tax) -> None:  # type: ignore[no-untyped-def]
    b = price_cart("USD", lines, campaigns, coupon, tax)
    added_tax = 0 if tax.inclusive else b.tax_total
    assert b.total == b.sub_total - b.discount_amount + added_tax
    assert b.total == sum(line.total for line in b.lines)
    for line in b.lines:
        for amount in (
            line.base_price,
            line.sale_price,
            line.coupon_discount,
            line.tax_total,
            line.total,
            line.sale_discount,
        ):
            assert isinstance(amount, int) and amount >= 0
        assert line.sale_price <= line.base_price
        assert line.coupon_discount <= line.sale_price
        assert line.tax_total <= max(line.taxable, line.total)
    if coupon is not None and coupon.max_discount is not None:
        assert b.coupon_discount <= coupon.max_discount
    if coupon is not None and coupon.kind is CouponKind.FIXED:
        assert b.coupon_discount <= coupon.amount_off
    assert 0 <= b.discount_percentage <= 100
