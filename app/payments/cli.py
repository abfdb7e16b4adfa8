"""`flask orders ...`: refunds from the command line (the admin UI comes later)."""

from __future__ import annotations

import time

import click
from flask.cli import AppGroup
from sqlalchemy import select

from app.catalog.queries import course_ids_by_slug
from app.checkout.models import Order
from app.core.errors import DomainError
from app.core.money import Money
from app.core.unit import committing
from app.extensions import db
from app.payments import services
from app.payments.jobs import enqueue_refund
from app.payments.models import Refund, RefundSource

orders_cli = AppGroup("orders", help="Inspect and refund orders.")


def _course_ids(slugs: tuple[str, ...]) -> list[int]:
    found = course_ids_by_slug(slugs)
    missing = sorted(set(slugs) - set(found))
    if missing:
        raise click.BadParameter(f"no course with slug {', '.join(missing)}", param_hint="--course")
    return [found[s] for s in slugs]


def _print_plan(plan: services.RefundPlan) -> None:
    order = plan.order
    click.echo(f"Refund plan for order {order.token} ({order.status.label.lower()}):")
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
@click.option(
    "--wait",
    type=float,
    is_flag=False,
    flag_value=60.0,
    default=None,
    help="wait for a worker to make it (up to SECONDS, default 60) and print the outcome",
)
def refund(
    token: str,
    courses: tuple[str, ...],
    amount: int | None,
    reason: str,
    key: str | None,
    yes: bool,
    wait: float | None,
) -> None:
    """Refund an order, or some of its courses, through its payment provider.

    The refund row is committed, then the execute_refund job makes it at the provider.
    """
    order = db.session.scalars(select(Order).where(Order.token == token)).first()
    if order is None:
        raise click.ClickException(f"No order {token}.")
    earlier = services.find_refund(key) if key else None
    if earlier is not None and earlier.order_id != order.id:
        raise click.ClickException(f"Key {key} was used for another order's refund.")
    if earlier is not None:  # this key asked already: that refund, never a second one
        click.echo(f"Key {key} already asked for refund {earlier.token}.")
        _queue_and_report(earlier, wait)
        return
    try:
        plan = services.plan_refund(order, _course_ids(courses), amount)
    except DomainError as err:
        raise click.ClickException(err.message) from err
    _print_plan(plan)
    if not yes and not click.confirm("Refund this?", default=False):
        raise click.Abort()
    request_key = key or f"cli:{token}:{','.join(sorted(courses)) or '*'}:{amount or 'all'}"
    try:
        with committing():  # the row exists before the job asks the provider
            pending = services.request_refund(plan, RefundSource.ADMIN, reason, request_key)
    except DomainError as err:
        raise click.ClickException(err.message) from err
    _queue_and_report(pending, wait)


def _queue_and_report(refund: Refund, wait: float | None) -> None:
    """Queue the refund's job (the one every refund runs in) and say where the refund stands."""
    amount = Money(refund.amount_minor, refund.currency)
    if refund.status.is_final:  # the same key again: that refund, as it stands
        _report(refund)
        return
    if not enqueue_refund(refund.id):
        click.echo(f"Refund {refund.token} of {amount} saved, but Redis is unreachable: the")
        click.echo("reconciliation sweep queues it within 30 minutes.")
        return
    if wait is None:
        click.echo(f"Refund {refund.token} of {amount} queued; a worker makes it.")
        return
    deadline = time.monotonic() + wait
    while not refund.status.is_final and time.monotonic() < deadline:
        time.sleep(0.5)
        db.session.rollback()  # end the read: the next one sees the worker's commit
        refund = db.session.get_one(Refund, refund.id)
    _report(refund)


def _report(refund: Refund) -> None:
    amount = Money(refund.amount_minor, refund.currency)
    if refund.failed:
        raise click.ClickException(f"The provider refused: {refund.failure_reason}")
    if refund.is_pending:
        click.echo(f"Refund {refund.token} of {amount} still pending; a worker makes it.")
        return
    click.echo(f"Refund {refund.token} {refund.status.value}: {amount}.")
