"""`flask coupons ...` and `flask sales ...` (the admin UI comes later)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation

import click
from flask.cli import AppGroup
from sqlalchemy import select

from app.cart import services
from app.cart.models import Coupon
from app.cart.pricing import CouponKind
from app.catalog.models import Category
from app.catalog.queries import course_ids_by_slug
from app.core.errors import DomainError
from app.core.money import Money
from app.core.unit import committing
from app.extensions import db

coupons_cli = AppGroup("coupons", help="Create and list coupons.")
sales_cli = AppGroup("sales", help="Create sale campaigns.")


def _bp(percent: str) -> int:
    try:
        value = Decimal(percent) * 100
    except InvalidOperation as exc:
        raise click.BadParameter(f"{percent!r} is not a number") from exc
    if value != int(value):
        raise click.BadParameter("at most two decimals")
    return int(value)


def _minor(amount: str | None, currency: str | None) -> int | None:
    if amount is None:
        return None
    if not currency:
        raise click.BadParameter("amounts need --currency")
    try:
        return Money.from_decimal(amount, currency.upper()).amount
    except (ValueError, InvalidOperation) as exc:
        raise click.BadParameter(str(exc)) from exc


def _when(value: str | None) -> datetime | None:
    if value is None:
        return None
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _course_ids(slugs: tuple[str, ...]) -> tuple[int, ...]:
    found = course_ids_by_slug(slugs)
    missing = sorted(set(slugs) - set(found))
    if missing:
        raise click.BadParameter(f"no course with slug {', '.join(missing)}")
    return tuple(found[s] for s in slugs)


@coupons_cli.command("create")
@click.argument("code")
@click.option("--percent", help="percent off, e.g. 20 or 12.5")
@click.option("--amount", help="fixed amount off in major units, e.g. 10.00 (needs --currency)")
@click.option("--currency", help="currency of --amount, --minimum and --max-discount")
@click.option("--minimum", help="minimum order amount in major units")
@click.option("--max-discount", help="cap on the discount in major units")
@click.option("--max-uses", type=int, help="uses in total")
@click.option("--per-user", type=int, help="uses per user")
@click.option("--valid-from", help="ISO date/time (UTC when no zone)")
@click.option("--valid-until", help="ISO date/time (UTC when no zone)")
@click.option("--course", "courses", multiple=True, help="course slug it applies to (repeatable)")
@click.option("--description", default="")
def create_coupon(
    code: str,
    percent: str | None,
    amount: str | None,
    currency: str | None,
    minimum: str | None,
    max_discount: str | None,
    max_uses: int | None,
    per_user: int | None,
    valid_from: str | None,
    valid_until: str | None,
    courses: tuple[str, ...],
    description: str,
) -> None:
    """Create a percentage (--percent) or fixed-amount (--amount, --currency) coupon."""
    if (percent is None) == (amount is None):
        raise click.UsageError("give exactly one of --percent and --amount")
    cur = currency.upper() if currency else None
    spec = services.CouponSpec(
        code=code,
        kind=CouponKind.PERCENT if percent else CouponKind.FIXED,
        percent_off_bp=_bp(percent) if percent else 0,
        amount_off=Money(_minor(amount, cur) or 0, cur) if amount and cur else None,
        currency=cur,
        minimum=_minor(minimum, cur),
        max_discount=_minor(max_discount, cur),
        max_uses=max_uses,
        max_uses_per_user=per_user,
        valid_from=_when(valid_from),
        valid_until=_when(valid_until),
        course_ids=_course_ids(courses),
        description=description,
    )
    try:
        with committing():
            coupon = services.create_coupon(spec)
    except DomainError as err:
        raise click.ClickException(err.message) from err
    click.echo(f"Coupon {coupon.code} created.")


@coupons_cli.command("list")
def list_coupons() -> None:
    """Every coupon with its uses."""
    for c in db.session.scalars(select(Coupon).order_by(Coupon.code)):
        off = (
            f"{c.percent_off_bp / 100:g}%"
            if c.kind is CouponKind.PERCENT
            else str(Money(c.amount_off_minor, c.currency or "USD"))
        )
        limit = f"/{c.max_uses}" if c.max_uses is not None else ""
        state = "active" if c.active else "inactive"
        click.echo(f"{c.code:<16} {off:>10} uses {c.uses}{limit:<6} {state}")


@sales_cli.command("create")
@click.argument("slug")
@click.option("--name", required=True)
@click.option("--percent", help="percent off for the scope")
@click.option("--all", "all_courses", is_flag=True, help="every course")
@click.option("--category", "categories", multiple=True, help="category slug (repeatable)")
@click.option("--course", "courses", multiple=True, help="course slug (repeatable)")
@click.option("--price", "prices", multiple=True, help="fixed sale price SLUG:CURRENCY:AMOUNT")
@click.option("--starts", help="ISO date/time; default now")
@click.option("--ends", help="ISO date/time; default in 7 days")
def create_sale(
    slug: str,
    name: str,
    percent: str | None,
    all_courses: bool,
    categories: tuple[str, ...],
    courses: tuple[str, ...],
    prices: tuple[str, ...],
    starts: str | None,
    ends: str | None,
) -> None:
    """Create a sale campaign: percent off a scope, or fixed prices per course."""
    fixed = []
    for entry in prices:
        course_slug, cur, amount = entry.split(":")
        (course_id,) = _course_ids((course_slug,))
        fixed.append((course_id, cur.upper(), _minor(amount, cur.upper()) or 0))
    cats = dict(
        db.session.execute(
            select(Category.slug, Category.id).where(Category.slug.in_(categories))
        ).all()
    )
    start = _when(starts) or datetime.now(UTC)
    spec = services.SaleSpec(
        slug=slug,
        name=name,
        starts_at=start,
        ends_at=_when(ends) or start + timedelta(days=7),
        percent_off_bp=_bp(percent) if percent else 0,
        all_courses=all_courses,
        course_ids=_course_ids(courses),
        category_ids=tuple(cats.values()),
        fixed_prices=fixed,
    )
    try:
        with committing():
            sale = services.create_sale(spec)
    except DomainError as err:
        raise click.ClickException(err.message) from err
    window = f"{sale.starts_at:%Y-%m-%d %H:%M} to {sale.ends_at:%Y-%m-%d %H:%M} UTC"
    click.echo(f"Sale {sale.slug} runs {window}.")
