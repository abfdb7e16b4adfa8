"""Cart reads: carts with their courses, active sales, coupons, tax rules and the estimate."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from flask import current_app
from sqlalchemy import func, inspect, select
from sqlalchemy.orm import joinedload, selectinload

from app.accounts.models import User
from app.cart.models import Cart, CartItem, Coupon, CouponEvent, Sale
from app.cart.pricing import (
    NO_TAX,
    Breakdown,
    Campaign,
    CouponTerms,
    Line,
    TaxRule,
    best_sale,
    price_cart,
)
from app.catalog.models import Course
from app.catalog.queries import Priced
from app.core.models import utcnow
from app.core.periods import AccessPeriod
from app.extensions import db
from app.learning.queries import get_enrollment
from app.tutoring.models import TutoringPackage

log = logging.getLogger(__name__)


def get_cart_by_token(token: str) -> Cart | None:
    """The cart with this token (anonymous or not: callers check the owner)."""
    return db.session.scalars(select(Cart).where(Cart.token == token)).first()


def list_coupon_events(coupon_id: int | None = None, limit: int = 200) -> list[CouponEvent]:
    """Coupon uses honoured past a limit (all coupons, or one), newest first."""
    stmt = select(CouponEvent).order_by(CouponEvent.created_at.desc(), CouponEvent.id.desc())
    if coupon_id is not None:
        stmt = stmt.where(CouponEvent.coupon_id == coupon_id)
    return list(db.session.scalars(stmt.limit(limit)))


def count_coupon_events(start: datetime, end: datetime) -> int:
    """Coupon uses honoured past a limit, recorded in [start, end)."""
    stmt = select(func.count(CouponEvent.id)).where(
        CouponEvent.created_at >= start, CouponEvent.created_at < end
    )
    return int(db.session.scalar(stmt) or 0)


def get_user_cart(user_id: int) -> Cart | None:
    """The user's cart, if they have one."""
    return db.session.scalars(select(Cart).where(Cart.user_id == user_id)).first()


def load_cart(cart_id: int) -> Cart:
    """The cart with its courses (prices, category, teacher) and coupon (with its courses)."""
    stmt = (
        select(Cart)
        .where(Cart.id == cart_id)
        .options(
            selectinload(Cart.items).options(
                joinedload(CartItem.course).options(
                    selectinload(Course.prices), joinedload(Course.teacher)
                ),
                joinedload(CartItem.package).selectinload(TutoringPackage.prices),
            ),
            joinedload(Cart.coupon).selectinload(Coupon.courses),
        )
        .execution_options(populate_existing=True)
    )
    return db.session.scalars(stmt).one()


def count_items(cart_id: int) -> int:
    """How many courses the cart holds."""
    stmt = select(func.count(CartItem.id)).where(CartItem.cart_id == cart_id)
    return int(db.session.scalar(stmt) or 0)


def cart_course_ids(cart_id: int) -> set[int]:
    """Ids of the courses in the cart."""
    return set(db.session.scalars(select(CartItem.course_id).where(CartItem.cart_id == cart_id)))


def get_coupon_by_code(code: str) -> Coupon | None:
    """The coupon with this code, compared case-insensitively, with its courses."""
    stmt = (
        select(Coupon)
        .where(func.upper(Coupon.code) == code.strip().upper())
        .options(selectinload(Coupon.courses))
    )
    return db.session.scalars(stmt).first()


def list_active_campaigns(currency: str, now: datetime | None = None) -> list[Campaign]:
    """Sale campaigns running now, as pricing campaigns in one currency (fixed query count)."""
    now = now or utcnow()
    stmt = (
        select(Sale)
        .where(Sale.active.is_(True), Sale.starts_at <= now, Sale.ends_at > now)
        .options(
            selectinload(Sale.courses), selectinload(Sale.category_ids), selectinload(Sale.prices)
        )
        .order_by(Sale.id)
    )
    return [_campaign(sale, currency) for sale in db.session.scalars(stmt)]


def next_sale_change(now: datetime | None = None) -> datetime | None:
    """The next moment a sale starts or ends: until then the running campaigns stay the same."""
    now = now or utcnow()
    starts = select(func.min(Sale.starts_at)).where(Sale.active.is_(True), Sale.starts_at > now)
    ends = select(func.min(Sale.ends_at)).where(Sale.active.is_(True), Sale.ends_at > now)
    row = db.session.execute(select(starts.scalar_subquery(), ends.scalar_subquery())).one()
    return min((moment for moment in row if moment is not None), default=None)


def _campaign(sale: Sale, currency: str) -> Campaign:
    return Campaign(
        slug=sale.slug,
        name=sale.name,
        percent_off_bp=sale.percent_off_bp,
        fixed_prices={p.course_id: p.amount_minor for p in sale.prices if p.currency == currency},
        all_courses=sale.all_courses,
        course_ids=frozenset(c.id for c in sale.courses),
        category_ids=frozenset(sc.category_id for sc in sale.category_ids),
    )


def course_line(course: Priced, currency: str) -> Line | None:
    """The course as a pricing line in the currency, or None when it has no price there."""
    price = course.price_in(currency)
    if price is None:
        return None
    return Line(
        course_id=course.id,
        title=course.title,
        price=price.amount_minor,
        list_price=price.list_amount_minor,
        category_id=course.category_id,
    )


@dataclass(frozen=True)
class SaleDisplay:
    """What a course page or card shows while a campaign lowers the price."""

    price: int
    base_price: int
    campaign_name: str


def sale_displays(
    courses: Sequence[Priced], currency: str, campaigns: Sequence[Campaign]
) -> dict[int, SaleDisplay]:
    """Sale prices of the given courses in the currency, by course id (only those on sale)."""
    shown: dict[int, SaleDisplay] = {}
    for course in courses:
        line = course_line(course, currency)
        if line is None:
            continue
        price, campaign = best_sale(line, campaigns)
        if campaign is not None:
            shown[course.id] = SaleDisplay(price, line.base_price, campaign.name)
    return shown


def coupon_terms(coupon: Coupon) -> CouponTerms:
    return CouponTerms(
        code=coupon.code.upper(),
        kind=coupon.kind,
        percent_off_bp=coupon.percent_off_bp,
        amount_off=coupon.amount_off_minor,
        max_discount=coupon.max_discount_minor,
        course_ids=frozenset(c.id for c in coupon.courses),
    )


def tax_rule_for(country: str | None) -> TaxRule:
    """The configured tax rule of a buyer country; no tax where none is configured."""
    rules: dict[str, tuple[str, int, bool]] = current_app.config["TAX_RULES"]
    if not country or country.upper() not in rules:
        return TaxRule(country=(country or "").upper(), name="Tax", rate_bp=0, inclusive=False)
    name, rate_bp, inclusive = rules[country.upper()]
    return TaxRule(country=country.upper(), name=name, rate_bp=rate_bp, inclusive=inclusive)


def buyer_country(cart: Cart, user: User | None) -> str:
    """Country chosen on the cart, else the profile's, else the currency's home country."""
    if cart.country:
        return cart.country
    if user is not None and user.country:
        return user.country
    mapping: dict[str, str] = current_app.config["CURRENCY_COUNTRY"]
    return mapping.get(cart.currency, "").upper()


def package_line(course: Course, package: TutoringPackage, currency: str) -> Line | None:
    """A tutoring package as a pricing line (its course's id, sales and coupons apply to it),
    or None when it has no price in the currency."""
    price = next((p.amount_minor for p in package.prices if p.currency == currency), None)
    if price is None:
        return None
    return Line(
        course_id=course.id,
        title=f"{course.title} · {package.sessions} sessions",
        price=price,
        category_id=course.category_id,
    )


def item_line(item: CartItem, currency: str) -> Line | None:
    if item.package is not None:
        return package_line(item.course, item.package, currency)
    return course_line(item.course, currency)


def cart_lines(cart: Cart) -> list[Line]:
    """Pricing lines of a loaded cart (items without a price in its currency are skipped)."""
    lines = (item_line(item, cart.currency) for item in cart.items)
    return [line for line in lines if line is not None]


def price_lines(
    currency: str,
    lines: Sequence[Line],
    coupon: Coupon | None,
    country: str,
    now: datetime | None = None,
) -> Breakdown:
    """The one pricing call shared by the cart, the order snapshot and the API."""
    campaigns = list_active_campaigns(currency, now)
    terms = coupon_terms(coupon) if coupon is not None else None
    tax = tax_rule_for(country) if country else NO_TAX
    return price_cart(currency, lines, campaigns, terms, tax)


@dataclass(frozen=True)
class PurchaseState:
    """What a course page offers this visitor: owned, extend, free, in_cart, no_price or buy.

    `extend`: enrolled with access until `expires_at`; buying again adds the price's period
    (`period`) from that end. `expires_at` is also set for `owned` and `in_cart` when the
    visitor's access ends (an owned one then has no price to extend with here)."""

    kind: str
    currency: str
    expires_at: datetime | None = None
    period: AccessPeriod | None = None


class PeriodPrice(Protocol):
    @property
    def access_period(self) -> AccessPeriod | None: ...


class ForSale(Protocol):
    """What a purchase state needs of a course: a Course with its prices, or a course page."""

    @property
    def id(self) -> int: ...
    @property
    def is_free(self) -> bool: ...
    def price_in(self, currency: str) -> PeriodPrice | None: ...


def purchase_state(
    course: ForSale, user: User | None, cart: Cart | None, currency: str
) -> PurchaseState:
    """How this visitor can get the course right now (course prices must be loaded)."""
    currency = cart.currency if cart is not None else currency
    enrollment = get_enrollment(user.id, course.id) if user is not None else None
    if enrollment is not None and enrollment.has_access:
        return _owned_state(course, cart, currency, enrollment.expires_at)
    if course.is_free:
        return PurchaseState("free", currency)
    if cart is not None and course.id in cart_course_ids(cart.id):
        return PurchaseState("in_cart", currency)
    if course.price_in(currency) is None:
        return PurchaseState("no_price", currency)
    return PurchaseState("buy", currency)


def _owned_state(
    course: ForSale, cart: Cart | None, currency: str, expires_at: datetime | None
) -> PurchaseState:
    """An enrolled visitor's state: owned for good, or time-limited and so extendable."""
    price = course.price_in(currency)
    if expires_at is None or course.is_free or price is None:
        return PurchaseState("owned", currency, expires_at)
    if cart is not None and course.id in cart_course_ids(cart.id):
        return PurchaseState("in_cart", currency, expires_at, price.access_period)
    return PurchaseState("extend", currency, expires_at, price.access_period)


def load_course(course_id: int | None) -> Course | None:
    """A course with its prices (what adding it to a cart needs); no query when this session
    already holds it with them."""
    if course_id is None:
        return None
    course = db.session.get(Course, course_id, options=[joinedload(Course.prices)])
    if course is not None and "prices" in inspect(course).unloaded:
        stmt = (
            select(Course)
            .where(Course.id == course_id)
            .options(selectinload(Course.prices))
            .execution_options(populate_existing=True)
        )
        course = db.session.scalars(stmt).first()
    return course


def get_sale_by_slug(slug: str) -> Sale | None:
    """The sale campaign with this slug (running or not)."""
    return db.session.scalars(select(Sale).where(Sale.slug == slug.strip().lower())).first()
