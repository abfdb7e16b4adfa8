"""The order lifecycle, owned by checkout: every status change of an order, and what it gives
or takes back. Payments decides "this payment is captured" (or failed, expired, refunded at the
provider) and calls these functions; nothing outside checkout writes an order's state.

    pending ─► awaiting payment ─► paid ─► partially refunded ─► refunded
       │              │     ▲
       ▼              ▼     │ try again / money arriving late
    completed    failed · canceled · expired
    (nothing to pay)

What a line sells is granted (and taken back) through one table keyed by the line's kind:
a course becomes an enrollment; a tutoring package will add its own pair of functions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from app.cart.services import redeem_coupon, release_coupon
from app.checkout.carts import reclaim_from_cart, restore_cart
from app.checkout.errors import OrderError
from app.checkout.invoices import assign_invoice_number, issue_credit_note
from app.checkout.jobs import record_conversion, send_order_receipt
from app.checkout.models import LineKind, Order, OrderEvent, OrderItem, OrderItemStatus, OrderStatus
from app.checkout.queries import get_earlier_course_order, load_items
from app.core.metrics import count_tutoring_purchase
from app.core.models import utcnow
from app.extensions import db
from app.jobs.queues import NOTIFY_RETRY, QueueName, enqueue_after_commit
from app.learning.models import EnrollmentSource
from app.learning.queries import get_enrollment
from app.learning.services import (
    AccessTerm,
    drop_enrollment,
    grant_enrollment,
    shorten_enrollment,
)
from app.tutoring.lifecycle import end_purchase_of_line
from app.tutoring.purchases import PurchaseRequest, create_purchase, line_key, parse_choice

S = OrderStatus
ALLOWED: dict[OrderStatus, set[OrderStatus]] = {
    S.PENDING: {S.AWAITING_PAYMENT, S.PAID, S.COMPLETED, S.FAILED, S.CANCELED, S.EXPIRED},
    S.AWAITING_PAYMENT: {S.AWAITING_PAYMENT, S.PAID, S.FAILED, S.CANCELED, S.EXPIRED},
    S.FAILED: {S.AWAITING_PAYMENT, S.PAID, S.CANCELED, S.EXPIRED},
    # Money can still arrive after we gave up on an order: it must be honoured, never lost.
    S.EXPIRED: {S.PAID, S.AWAITING_PAYMENT},
    S.CANCELED: {S.PAID, S.AWAITING_PAYMENT},
    S.PAID: {S.PARTIALLY_REFUNDED, S.REFUNDED},
    S.PARTIALLY_REFUNDED: {S.PARTIALLY_REFUNDED, S.REFUNDED},
    S.COMPLETED: set(),
    S.REFUNDED: set(),
}


def record_event(order: Order, note: str) -> None:
    """Note something an admin should see in the order's history, without a status change."""
    db.session.add(
        OrderEvent(
            order_id=order.id,
            from_status=order.status.value,
            to_status=order.status.value,
            note=note,
        )
    )


def transition(order: Order, to: OrderStatus, note: str = "") -> Order:
    """Move the order to a new status and record when and why; refuses impossible moves."""
    if to not in ALLOWED[order.status]:
        raise OrderError(
            f"An order that is {order.status.label.lower()} cannot become {to.label.lower()}.",
            code="bad_transition",
        )
    if to is S.AWAITING_PAYMENT and order.status in S.GAVE_UP:
        reclaim_from_cart(order)  # "Try again": the courses are this order's again
    db.session.add(
        OrderEvent(order_id=order.id, from_status=order.status.value, to_status=to.value, note=note)
    )
    order.status = to
    if to is S.PAID and order.paid_at is None:
        order.paid_at = utcnow()
    return order


# What each kind of line grants: True when this order is the one that grants it (False: the
# buyer already had it through another order, so this line's money should go back).
Grant = Callable[[Order, OrderItem], bool]
Revoke = Callable[[Order, OrderItem], None]


def grant_course(order: Order, item: OrderItem) -> bool:
    """Enroll the buyer in the line's course for the line's access period, counted from the
    payment; True when the enrollment is this order's.

    Decided from the enrollment row after the upsert (which waits for a concurrent grant),
    so two orders of a lifetime course paid at the same moment still end with one of them
    refunded, while an order that extends a time-limited enrollment is this order's (kept).
    """
    source = EnrollmentSource.FREE if order.total_minor == 0 else EnrollmentSource.PURCHASE
    term = AccessTerm(item.access_period, order.paid_at)
    enrollment = grant_enrollment(order.user_id, item.course_id, source, order.id, term)
    return enrollment.order_id == order.id


def revoke_course(order: Order, item: OrderItem) -> None:
    """End the access this order gave; access another order gave (the course bought twice)
    stays. An order that extended a time-limited enrollment takes back only its period: the
    access the earlier order paid for runs on to its own end (or ends now if that is past)."""
    enrollment = get_enrollment(order.user_id, item.course_id)
    if enrollment is None or enrollment.order_id != order.id:
        return
    period = item.access_period
    earlier = get_earlier_course_order(order.user_id, item.course_id, order.id)
    if period is not None and enrollment.expires_at is not None and earlier is not None:
        shorten_enrollment(enrollment, period, earlier)
    else:
        drop_enrollment(order.user_id, item.course_id)


def grant_package(order: Order, item: OrderItem) -> bool:
    """A tutoring purchase for the line (its trainer is assigned by a job after the commit);
    always this order's: each line is its own package of sessions."""
    assert item.sessions is not None  # the kind says so
    try:
        details = item.details or {}
        choice = parse_choice(details, str(details.get("timezone") or ""), None)
        create_purchase(
            PurchaseRequest(
                key=line_key(item.id),
                user_id=order.user_id,
                course_id=item.course_id,
                tier=item.sessions,
                choice=choice,
                package_id=item.package_id,
                order_id=order.id,
                order_item_id=item.id,
                purchased_at=order.paid_at,
            )
        )
    except Exception:
        # Counted, then raised: the whole fulfilment rolls back (a webhook job retries it).
        count_tutoring_purchase("failed")
        raise
    return True


def revoke_package(order: Order, item: OrderItem) -> None:
    """The line was refunded: its future sessions are canceled and the trainer freed."""
    end_purchase_of_line(item.id, f"order {order.token[:8].upper()} refunded")


GRANTS: dict[LineKind, Grant] = {LineKind.COURSE: grant_course, LineKind.TUTORING: grant_package}
REVOKES: dict[LineKind, Revoke] = {
    LineKind.COURSE: revoke_course,
    LineKind.TUTORING: revoke_package,
}


@dataclass(frozen=True)
class Fulfilment:
    granted: tuple[OrderItem, ...] = ()
    # Lines the buyer already had through another order: nothing was granted for them.
    held_elsewhere: tuple[OrderItem, ...] = ()
    done_before: bool = False


def fulfil_order(order: Order, source: str, now: datetime | None = None) -> Fulfilment:
    """Paid, or nothing to pay: the order becomes paid (or completed), every line is granted
    through GRANTS, the coupon use becomes final, and receipt and conversion are queued for
    after the commit; a paid order gets its invoice number. Idempotent: an order fulfilled
    before is left as it is.

    `source` says what paid it, for the history ("stripe pi_…", "nothing to pay"). The
    caller holds the order's row lock.
    """
    if order.fulfilled_at is not None:
        return Fulfilment(done_before=True)
    free = order.total_minor == 0
    transition(order, S.COMPLETED if free else S.PAID, source)
    # Set with the status, so both go out in one UPDATE (the flush before load_items); the
    # transaction commits them together with the grants or not at all.
    order.fulfilled_at = now or utcnow()
    granted: list[OrderItem] = []
    elsewhere: list[OrderItem] = []
    for item in load_items(order.id):
        if item.status is OrderItemStatus.ACTIVE:
            (granted if GRANTS[item.kind](order, item) else elsewhere).append(item)
    # An order has a coupon use exactly when it has coupon_id (both are set at checkout, by
    # place_order): without one there is no redemption row to look up.
    if order.coupon_id is None:
        pass
    elif granted:
        redeem_order_coupon(order)
    else:  # every line came from another order: nothing is kept, so the use goes back
        release_coupon(order.id)
    enqueue_after_commit(send_order_receipt, order.id, retry=NOTIFY_RETRY)
    if not free:
        # Last, so the invoice counter's row lock is held for as little of the transaction as
        # possible (concurrent payments queue on it); a free order gets no tax invoice.
        assign_invoice_number(order, now)
        enqueue_after_commit(record_conversion, order.id, queue=QueueName.LOW)
    return Fulfilment(tuple(granted), tuple(elsewhere))


def redeem_order_coupon(order: Order) -> None:
    """Make the order's coupon use final; a use honoured past the coupon's limit is noted."""
    redeemed = redeem_coupon(order.id)
    for event in redeemed.overages if redeemed else ():
        record_event(order, event.note)


def revoke_lines(order: Order, items: Iterable[OrderItem]) -> None:
    """Whole lines given back: each is marked refunded and what it granted is taken back,
    through REVOKES (access another order gave stays)."""
    for item in items:
        item.status = OrderItemStatus.REFUNDED
        REVOKES[item.kind](order, item)


def record_refund(order: Order, amounts: Mapping[int, int], note: str) -> bool:
    """Money given back on the order's lines (order item id -> amount): each line's refunded
    amount grows, lines refunded in full are revoked, and the order becomes partially refunded
    or refunded; an invoiced order gets a credit note for it. True when the whole order is
    refunded now."""
    issue_credit_note(order, amounts, note)  # first: it reads what the lines had refunded before
    whole = []
    for item in load_items(order.id):
        amount = amounts.get(item.id, 0)
        if amount <= 0:
            continue
        item.refunded_minor += amount
        if item.refunded_minor >= item.total_minor and not item.is_refunded:
            whole.append(item)
    revoke_lines(order, whole)
    order.refunded_minor += sum(amounts.values())
    full = order.refunded_minor >= order.total_minor
    transition(order, S.REFUNDED if full else S.PARTIALLY_REFUNDED, note)
    return full


def await_payment(order: Order, provider: str, expires_at: datetime, note: str) -> None:
    """A payment attempt started: the order waits for it until `expires_at`."""
    order.provider = provider
    order.expires_at = expires_at
    transition(order, S.AWAITING_PAYMENT, note)


def close_order(order: Order, to: OrderStatus, reason: str) -> bool:
    """The attempt the order waited for ended without money (failed or canceled): the order
    says so and its courses go back to the buyer's cart. False when it was not waiting."""
    if to not in (S.FAILED, S.CANCELED):
        raise ValueError(f"an unpaid order closes as failed or canceled, not {to}")
    if not order.is_awaiting_payment:
        return False
    transition(order, to, reason)
    # Here, not when the browser comes back: a decline by webhook or a buyer who closes the
    # tab must leave the courses in the cart all the same.
    restore_cart(order)
    return True


def expire_order(order: Order, note: str = "not paid in time") -> bool:
    """An unpaid order past its payment window expires and gives back its coupon use.
    False when it was paid or given up on meanwhile (the caller holds the row lock)."""
    if order.status not in S.UNPAID:
        return False
    transition(order, S.EXPIRED, note)
    release_coupon(order.id)
    return True


def note_first_webhook(order: Order, received_at: datetime) -> None:
    """Remember when the first webhook saying the order is paid arrived (for the latency figure:
    webhook → enrollment). Set on the locked order, so it goes out in the fulfilment's UPDATE
    of the row rather than in one of its own."""
    if order.first_webhook_at is None or order.first_webhook_at > received_at:
        order.first_webhook_at = received_at
