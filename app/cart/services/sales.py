"""Sale campaigns: percent off a scope, or fixed sale prices per course."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select

from app.cart.models import Sale, SaleCategory, SalePrice
from app.catalog.models import Course
from app.catalog.services import slugify
from app.core.errors import DomainError
from app.extensions import db


@dataclass(frozen=True)
class SaleSpec:
    slug: str
    name: str
    starts_at: datetime
    ends_at: datetime
    percent_off_bp: int = 0
    all_courses: bool = False
    course_ids: Sequence[int] = ()
    category_ids: Sequence[int] = ()
    # (course id, currency, amount in minor units)
    fixed_prices: Sequence[tuple[int, str, int]] = field(default_factory=tuple)


def create_sale(spec: SaleSpec) -> Sale:
    """A new campaign; the best campaign for a course wins when several run at once."""
    slug = slugify(spec.slug)
    if db.session.scalar(select(Sale.id).where(Sale.slug == slug)) is not None:
        raise DomainError(f"A sale {slug} already exists.", code="sale_exists")
    if spec.ends_at <= spec.starts_at:
        raise DomainError("A sale must end after it starts.", code="bad_window")
    if not spec.fixed_prices and not 0 < spec.percent_off_bp <= 10_000:
        raise DomainError("Give a percentage above 0 and at most 100, or fixed prices.")
    if spec.percent_off_bp and not (spec.all_courses or spec.course_ids or spec.category_ids):
        raise DomainError("Say which courses the sale covers (all, categories or courses).")
    sale = Sale(
        slug=slug,
        name=spec.name,
        starts_at=spec.starts_at,
        ends_at=spec.ends_at,
        percent_off_bp=spec.percent_off_bp,
        all_courses=spec.all_courses,
    )
    if spec.course_ids:
        sale.courses = list(
            db.session.scalars(select(Course).where(Course.id.in_(spec.course_ids)))
        )
    sale.category_ids = [SaleCategory(category_id=cid) for cid in spec.category_ids]
    sale.prices = [
        SalePrice(course_id=cid, currency=cur, amount_minor=amount)
        for cid, cur, amount in spec.fixed_prices
    ]
    db.session.add(sale)
    db.session.flush()
    return sale


def update_sale(sale: Sale, name: str, starts_at: datetime, ends_at: datetime) -> Sale:
    """Rename the campaign or move its window."""
    if ends_at <= starts_at:
        raise DomainError("A sale must end after it starts.", code="bad_window")
    sale.name = name
    sale.starts_at = starts_at
    sale.ends_at = ends_at
    return sale


def set_sale_active(sale: Sale, active: bool) -> Sale:
    """Stop (or restart) the campaign; prices return to normal at once."""
    sale.active = active
    return sale
