"""The demo student's purchases: real orders paid through the sandbox provider, so the worker
fulfils them on first start as it fulfils any payment (enrollment, tax invoice, receipt)."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select

from app.accounts.models import User
from app.accounts.queries import get_user_by_email
from app.cart.models import Cart
from app.cart.queries import get_user_cart
from app.cart.services import add_course, open_cart, set_currency
from app.catalog.queries import get_course_by_slug
from app.catalog.services import slugify
from app.checkout.invoices import BuyerDetails, set_buyer_details
from app.checkout.models import Order
from app.checkout.services import place_order
from app.demo.learning import DEMO_LEARNER
from app.extensions import db
from app.jobs.queues import CRITICAL_RETRY, QueueName, enqueue_after_commit
from app.payments.jobs import process_webhook_event
from app.payments.providers.sandbox.hosted import checked_card, finish
from app.payments.providers.sandbox.models import SandboxSession
from app.payments.services import start_payment

TEST_CARD = "4242424242424242"

# (currency, course titles): an INR order (GST, one course sold for 6 months) and a USD one.
PURCHASES = (
    ("INR", ("SQL for Data Analysis", "Machine Learning Foundations")),
    ("USD", ("React from the Ground Up",)),
)


def seed_orders() -> int:
    """Place and pay the demo student's orders once (the worker fulfils them); how many."""
    student = get_user_by_email(DEMO_LEARNER)
    if student is None or _has_orders(student):
        return 0
    placed = 0
    for currency, titles in PURCHASES:
        course_ids = [c.id for c in map(get_course_by_slug, map(slugify, titles)) if c]
        if course_ids:
            _buy(student, currency, course_ids)
            placed += 1
    return placed


def _has_orders(student: User) -> bool:
    # Free enrollments (seed_learning) are orders too, of nothing to pay: not these.
    stmt = select(Order.id).where(Order.user_id == student.id, Order.total_minor > 0).limit(1)
    return db.session.scalar(stmt) is not None


def _buy(student: User, currency: str, course_ids: list[int]) -> None:
    def fill(cart: Cart) -> None:
        for course_id in course_ids:
            add_course(cart, course_id, student)

    buy_with_sandbox(student, currency, fill)


def buy_with_sandbox(student: User, currency: str, fill: Callable[[Cart], None]) -> None:
    """The shop's own path: cart (filled by `fill`), order, sandbox payment and the "pay"
    click's stored event, which the worker processes like any webhook."""
    cart = get_user_cart(student.id)  # one cart per user, emptied by each order
    if cart is None:
        cart = open_cart(currency, student)
    else:
        set_currency(cart, currency)
    fill(cart)
    order = place_order(student, cart)
    if currency == "INR":
        set_buyer_details(order, BuyerDetails(name=student.name, tax_id=None, region="29"))
    payment = start_payment(order, "sandbox")
    session = db.session.get(SandboxSession, payment.provider_session_id)
    assert session is not None
    event_id = finish(session, "pay", checked_card("pay", TEST_CARD))
    if event_id is not None:
        enqueue_after_commit(
            process_webhook_event, event_id, queue=QueueName.CRITICAL, retry=CRITICAL_RETRY
        )
