"""Demo coupons and one running sale, so the cart can be tried by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from app.cart.models import Sale
from app.cart.pricing import CouponKind
from app.cart.queries import get_coupon_by_code
from app.cart.services import CouponSpec, SaleSpec, create_coupon, create_sale
from app.catalog.models import Category
from app.catalog.queries import course_ids_by_slug
from app.core.models import utcnow
from app.core.money import Money
from app.extensions import db

ML_COURSES = ("machine-learning-foundations", "deep-learning-with-pytorch")


def _course_ids(*slugs: str) -> tuple[int, ...]:
    return tuple(course_ids_by_slug(slugs).values())


def _coupons() -> list[CouponSpec]:
    return [
        CouponSpec(
            "WELCOME10",
            CouponKind.PERCENT,
            percent_off_bp=1000,
            max_uses_per_user=1,
            description="10% off your first order",
        ),
        CouponSpec(
            "SAVE20",
            CouponKind.PERCENT,
            percent_off_bp=2000,
            currency="USD",
            minimum=3000,
            max_discount=2500,
            max_uses=500,
            description="20% off orders of $30 or more (up to $25 off)",
        ),
        CouponSpec(
            "RUPEE500",
            CouponKind.FIXED,
            amount_off=Money(50000, "INR"),
            minimum=199900,
            description="₹500 off orders of ₹1,999 or more",
        ),
        CouponSpec(
            "ML50",
            CouponKind.PERCENT,
            percent_off_bp=5000,
            course_ids=_course_ids(*ML_COURSES),
            description="Half price on the machine learning courses",
        ),
        CouponSpec(
            "EXPIRED2025",
            CouponKind.PERCENT,
            percent_off_bp=1500,
            valid_until=datetime(2025, 12, 31, tzinfo=UTC),
            description="Last year's offer",
        ),
        CouponSpec(
            "SPRING2027",
            CouponKind.PERCENT,
            percent_off_bp=1500,
            valid_from=datetime(2027, 3, 1, tzinfo=UTC),
            description="Not started yet",
        ),
    ]


def seed_shop() -> tuple[int, int]:
    """Create the demo coupons and the running sale that are missing; returns (coupons, sales)."""
    coupons = 0
    for spec in _coupons():
        if get_coupon_by_code(spec.code) is None:
            create_coupon(spec)
            coupons += 1
    if db.session.scalar(select(Sale.id).where(Sale.slug == "winter-data-sale")) is not None:
        return coupons, 0
    data = db.session.scalar(select(Category.id).where(Category.slug == "data-science"))
    now = utcnow()
    create_sale(
        SaleSpec(
            slug="winter-data-sale",
            name="Winter sale",
            percent_off_bp=3000,
            starts_at=now - timedelta(days=1),
            ends_at=now + timedelta(days=30),
            category_ids=(data,) if data else (),
            all_courses=data is None,
        )
    )
    return coupons, 1
