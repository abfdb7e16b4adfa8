"""`flask orders ...`: refunds from the command line (the admin UI comes later)."""

from __future__ import annotations

import click
from flask.cli import AppGroup
from sqlalchemy import select

from app.catalog.queries import course_ids_by_slug
from app.checkout.models import Order
from app.core.errors import DomainError
from app.core.money import Money
from app.extensions import db
from app.payments import services
from app.payments.models import RefundSource

orders_cli = AppGroup("orders", help="Inspect and refund orders.")


def _course_ids(slugs: tuple[str, ...]) -> list[int]:
    found = course_ids_by_slug(slugs)
    missing = sorted(set(slugs) - set(found))
    if missing:
        raise click.BadParameter(f"no course with slug {', '.join(missing)}", param_hint="--course")
    return [found[s] for s in slugs]


def _print_plan(plan: services.RefundPlan) -> None:
    order = plan.order
    click.echo(f"Refund plan for order {order.token} ({order.status.value}):")
    for line in plan.lines:
        access = "access ends" if line.drops_access else "access stays"
        amount, tax = Money(line.amount, order.currency), Money(line.tax, order.currency)
        click.echo(f"  {line.item.title}: {amount} (tax {tax}), {access}")
    click.echo(f"  Total: {Money(plan.amount, order.currency)}")


@orders_cli.command("refund")
@click.argument("token")
@click.option("--course", "courses", multiple=True, help="course slug to refund (repeatable)")
@click.option("--amount", type=int, help="amount in minor units (default: the whole lines)")
@click.option("--reason", required=True, help="why, for the record")
@click.option(
    "--key", help="request key; the same key never refunds twice (default from the request)"
)
@click.option("--yes", is_flag=True, help="do not ask for confirmation")
def refund(
    token: str,
    courses: tuple[str, ...],
    amount: int | None,
    reason: str,
    key: str | None,
    yes: bool,
) -> None:
    """Refund an order, or some of its courses, through its payment provider."""
    order = db.session.scalars(select(Order).where(Order.token == token)).first()
    if order is None:
        raise click.ClickException(f"No order {token}.")
    try:
        plan = services.plan_refund(order, _course_ids(courses), amount)
    except DomainError as err:
        raise click.ClickException(err.message) from err
    _print_plan(plan)
    if not yes and not click.confirm("Refund this?", default=False):
        raise click.Abort()
    request_key = key or f"cli:{token}:{','.join(sorted(courses)) or '*'}:{amount or 'all'}"
    try:
        pending = services.request_refund(plan, RefundSource.ADMIN, reason, request_key)
        db.session.commit()  # the refund row exists before the provider is asked
        done = services.execute_refund(pending)
        db.session.commit()
    except DomainError as err:
        db.session.rollback()
        raise click.ClickException(err.message) from err
    if done.status.value == "failed":
        raise click.ClickException(f"The provider refused: {done.failure_reason}")
    click.echo(
        f"Refund {done.token} {done.status.value}: {Money(done.amount_minor, done.currency)}."
    )
