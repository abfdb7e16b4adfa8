"""Reads for the coupons and sales pages: each coupon with its uses split by redemption status,
each sale with what it sold (one grouped query for the whole page or export, not one per row)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, func, or_, select, union

from app.admin.web import CSV_LIMIT, ListArgs
from app.cart.models import (
    Coupon,
    CouponRedemption,
    RedemptionStatus,
    Sale,
    SaleCategory,
    SalePrice,
    sale_courses,
)
from app.cart.pricing import CouponKind
from app.checkout.models import Order, OrderItem, OrderStatus
from app.core.models import utcnow
from app.core.money import Money
from app.core.pagination import Page, paginate, paginate_scalars
from app.extensions import db

COUPON_STATES = (("active", "Active"), ("inactive", "Deactivated"))


@dataclass(frozen=True)
class CouponUsage:
    """A coupon with how it has been used: reserved (orders placed, not yet paid), redeemed
    (paid) and released (orders that failed or expired, their use given back)."""

    coupon: Coupon
    reserved: int = 0
    redeemed: int = 0
    released: int = 0

    @property
    def remaining(self) -> int | None:
        """Uses left before max_uses; None when unlimited."""
        if self.coupon.max_uses is None:
            return None
        return max(self.coupon.max_uses - self.coupon.uses, 0)

    @property
    def discount(self) -> str:
        c = self.coupon
        if c.kind is CouponKind.PERCENT:
            return f"{c.percent_off_bp / 100:g}%"
        return str(Money(c.amount_off_minor, c.currency or "USD"))


def coupon_statement(args: ListArgs) -> Select[Any]:
    """Coupons by code; `q` matches the code or description, `state` active/inactive."""
    stmt = select(Coupon).order_by(Coupon.created_at.desc(), Coupon.id.desc())
    if args.q:
        like = f"%{args.q}%"
        stmt = stmt.where(or_(Coupon.code.ilike(like), Coupon.description.ilike(like)))
    if args.get("state") in ("active", "inactive"):
        stmt = stmt.where(Coupon.active.is_(args.get("state") == "active"))
    return stmt


def usage_by_coupon(coupon_ids: list[int]) -> dict[int, dict[RedemptionStatus, int]]:
    """Redemption counts per coupon and status, in one query."""
    if not coupon_ids:
        return {}
    rows = db.session.execute(
        select(CouponRedemption.coupon_id, CouponRedemption.status, func.count())
        .where(CouponRedemption.coupon_id.in_(coupon_ids))
        .group_by(CouponRedemption.coupon_id, CouponRedemption.status)
    )
    counts: dict[int, dict[RedemptionStatus, int]] = {}
    for coupon_id, status, count in rows:
        counts.setdefault(coupon_id, {})[status] = count
    return counts


def _usages(coupons: list[Coupon]) -> list[CouponUsage]:
    counts = usage_by_coupon([c.id for c in coupons])
    out = []
    for coupon in coupons:
        mine = counts.get(coupon.id, {})
        out.append(
            CouponUsage(
                coupon,
                reserved=mine.get(RedemptionStatus.RESERVED, 0),
                redeemed=mine.get(RedemptionStatus.REDEEMED, 0),
                released=mine.get(RedemptionStatus.RELEASED, 0),
            )
        )
    return out


def list_coupons(args: ListArgs, per_page: int) -> Page[CouponUsage]:
    page = paginate(db.session, coupon_statement(args), args.page, per_page)
    usages = _usages([row[0] for row in page.items])
    return Page(usages, page.page, page.per_page, page.total)


def get_coupon_usage(coupon_id: int) -> CouponUsage | None:
    coupon = db.session.get(Coupon, coupon_id)
    return _usages([coupon])[0] if coupon else None


COUPON_CSV_HEADER = (
    "code",
    "discount",
    "active",
    "uses",
    "max uses",
    "remaining",
    "reserved",
    "redeemed",
    "released",
    "valid from",
    "valid until",
)


def coupon_csv_rows(args: ListArgs) -> Iterator[tuple[Any, ...]]:
    coupons = list(db.session.scalars(coupon_statement(args).limit(CSV_LIMIT)))
    for u in _usages(coupons):
        c = u.coupon
        yield (
            c.code,
            u.discount,
            "yes" if c.active else "no",
            c.uses,
            c.max_uses,
            u.remaining,
            u.reserved,
            u.redeemed,
            u.released,
            c.valid_from.isoformat() if c.valid_from else "",
            c.valid_until.isoformat() if c.valid_until else "",
        )


def sale_statement(args: ListArgs) -> Select[Any]:
    """Sales, latest start first; `state` live/upcoming/ended/inactive."""
    now = utcnow()
    stmt = select(Sale).order_by(Sale.starts_at.desc(), Sale.id.desc())
    if args.q:
        like = f"%{args.q}%"
        stmt = stmt.where(or_(Sale.slug.ilike(like), Sale.name.ilike(like)))
    state = args.get("state")
    live = Sale.active.is_(True)
    if state == "live":
        stmt = stmt.where(live, Sale.starts_at <= now, Sale.ends_at > now)
    elif state == "upcoming":
        stmt = stmt.where(live, Sale.starts_at > now)
    elif state == "ended":
        stmt = stmt.where(Sale.ends_at <= now)
    elif state == "inactive":
        stmt = stmt.where(Sale.active.is_(False))
    return stmt


SALE_STATES = (
    ("live", "Running now"),
    ("upcoming", "Upcoming"),
    ("ended", "Ended"),
    ("inactive", "Deactivated"),
)


def sale_state(sale: Sale) -> str:
    """How the list labels a sale."""
    now = utcnow()
    if not sale.active:
        return "inactive"
    if sale.ends_at <= now:
        return "ended"
    return "upcoming" if sale.starts_at > now else "live"


def list_sales(args: ListArgs, per_page: int) -> Page[Any]:
    return paginate_scalars(db.session, sale_statement(args), args.page, per_page)


@dataclass(frozen=True)
class SaleUsage:
    """What a sale has done so far: course lines sold at its price in paid orders (refunded ones
    included: the sale still made them), and the discount given, per currency."""

    sold: int = 0
    discounts: tuple[Money, ...] = ()


def usage_by_sale(sales: Sequence[Sale]) -> dict[str, SaleUsage]:
    """Each sale's usage by slug (order lines keep the slug they were priced with), in one
    grouped query for the whole page."""
    slugs = [sale.slug for sale in sales]
    return _usage(slugs) if slugs else {}


def _usage(slugs: Sequence[str] | Select[Any]) -> dict[str, SaleUsage]:
    """Usage of the sales whose slugs are listed (or selected by a subquery), in one query."""
    rows = db.session.execute(
        select(
            OrderItem.sale_slug,
            Order.currency,
            func.count(),
            func.coalesce(func.sum(OrderItem.base_minor - OrderItem.sale_minor), 0),
        )
        .join(Order, Order.id == OrderItem.order_id)
        .where(OrderItem.sale_slug.in_(slugs), Order.status.in_(OrderStatus.FULFILLED))
        .group_by(OrderItem.sale_slug, Order.currency)
        .order_by(Order.currency)
    )
    sold: dict[str, int] = {}
    given: dict[str, list[Money]] = {}
    for slug, currency, count, discount in rows:
        if slug is None:  # filtered out by the query; narrows the type
            continue
        sold[slug] = sold.get(slug, 0) + count
        given.setdefault(slug, []).append(Money(int(discount), currency))
    return {slug: SaleUsage(sold[slug], tuple(given[slug])) for slug in sold}


SALE_CSV_HEADER = (
    "slug",
    "name",
    "percent",
    "courses",
    "categories",
    "starts",
    "ends",
    "active",
    "state",
    "lines sold",
    "discount given",
)


def _scope_counts() -> tuple[ColumnElement[int], ColumnElement[int]]:
    """Per sale: the courses it names (chosen, or given a fixed price) and its categories."""
    chosen = select(sale_courses.c.course_id).where(sale_courses.c.sale_id == Sale.id)
    fixed = select(SalePrice.course_id).where(SalePrice.sale_id == Sale.id)
    named = union(chosen.correlate(Sale), fixed.correlate(Sale)).subquery()
    courses = select(func.count()).select_from(named).scalar_subquery()
    categories = select(func.count()).where(SaleCategory.sale_id == Sale.id).scalar_subquery()
    return courses, categories


def sale_csv_rows(args: ListArgs) -> Iterator[tuple[Any, ...]]:
    """The sales the filters match: one query for the sales with their scope counts, one for
    the usage of all of them."""
    stmt = sale_statement(args).limit(CSV_LIMIT)
    usage = _usage(stmt.with_only_columns(Sale.slug))
    for sale, courses, categories in db.session.execute(stmt.add_columns(*_scope_counts())):
        used = usage.get(sale.slug, SaleUsage())
        yield (
            sale.slug,
            sale.name,
            f"{sale.percent_off_bp / 100:g}" if sale.percent_off_bp else "",  # "": fixed prices
            "all" if sale.all_courses else courses,
            categories,
            sale.starts_at.isoformat(),
            sale.ends_at.isoformat(),
            "yes" if sale.active else "no",
            sale_state(sale),
            used.sold,
            "; ".join(f"{m.currency} {m.to_decimal()}" for m in used.discounts),
        )
