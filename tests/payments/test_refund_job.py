"""Every refund is one job, execute_refund(refund_id): the asker commits the pending row and
queues it; the job is idempotent on the row and on the provider's idempotency key."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from rq.utils import import_attribute
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.checkout.models import Order, OrderStatus
from app.extensions import get_redis
from app.jobs.queues import QueueName, get_queue
from app.learning.models import Enrollment, EnrollmentStatus
from app.payments import jobs
from app.payments.models import Payment, Refund, RefundStatus, SandboxSession, SandboxStatus
from app.payments.providers import get_provider
from app.payments.services.refunds import EXECUTE_REFUND, SEND_REFUND_NOTICE
from tests.payments.conftest import order_of, paid_course_order, run_jobs

HX = {"HX-Request": "true"}


def _paid(client: FlaskClient, db_session: Session, buyer: User) -> tuple[Order, int]:
    return paid_course_order(client, db_session, buyer, "Refund by job")


def _ask(client: FlaskClient, order: Order, course_id: int, key: str = "job-form-0001") -> None:
    form = {"courses": course_id, "confirm": "y", "request_key": key, "reason": "not for me"}
    assert client.post(f"/orders/{order.token}/refund", data=form).status_code == 303


def _sandbox(db_session: Session, refund: Refund) -> SandboxSession:
    payment = db_session.get(Payment, refund.payment_id)
    assert payment is not None
    sbx = db_session.get(SandboxSession, payment.provider_session_id)
    assert sbx is not None
    db_session.refresh(sbx)
    return sbx


def _refund(db_session: Session) -> Refund:
    db_session.expire_all()
    return db_session.scalars(select(Refund)).one()


@pytest.fixture
def asked(client: FlaskClient, db_session: Session, buyer: User) -> tuple[Order, Refund]:
    """A paid order of one course whose refund the buyer asked for (the row is pending)."""
    order, course = _paid(client, db_session, buyer)
    _ask(client, order, course)
    return order, _refund(db_session)


def test_the_refund_view_queues_the_job_and_the_order_page_follows_it(
    client: FlaskClient, db_session: Session, asked: tuple[Order, Refund]
) -> None:
    order, refund = asked
    assert refund.status is RefundStatus.PENDING
    [job] = get_queue(QueueName.CRITICAL, get_redis()).get_jobs()
    assert (job.func_name, job.args) == ("app.payments.jobs.execute_refund", (refund.id,))
    assert (job.retries_left, job.retry_intervals) == (3, [2, 4, 8])

    page = client.get(f"/orders/{order.token}")
    assert "Your refund is being made" in page.text and "on its way" in page.text
    assert '<noscript><meta http-equiv="refresh"' in page.text  # it polls while pending
    fragment = client.get(f"/orders/{order.token}", headers=HX)
    assert fragment.text.lstrip().startswith('<div id="order-body"')
    assert 'hx-trigger="every 2s"' in fragment.text and "Your refund is being made" in fragment.text

    run_jobs()
    assert _refund(db_session).status is RefundStatus.SUCCEEDED
    done = client.get(f"/orders/{order.token}", headers=HX)
    assert "Your refund was made" in done.text and "being made" not in done.text
    assert "every 2s" not in done.text
    enrollment = db_session.scalars(select(Enrollment)).one()
    assert enrollment.status is EnrollmentStatus.DROPPED


def test_the_job_queued_twice_refunds_once(
    db_session: Session, buyer: User, asked: tuple[Order, Refund]
) -> None:
    _, refund = asked
    assert jobs.enqueue_refund(refund.id)  # a sweep (or an admin) queues it again
    assert get_queue(QueueName.CRITICAL, get_redis()).count == 2
    run_jobs()
    refund = _refund(db_session)
    assert refund.status is RefundStatus.SUCCEEDED
    sbx = _sandbox(db_session, refund)
    assert (sbx.refunded_minor, len(sbx.refunds)) == (2000, 1)
    assert order_of(db_session, buyer).refunded_minor == 2000
    assert jobs.execute_refund(refund.id) == "succeeded"  # and once more, by hand: nothing
    assert order_of(db_session, buyer).refunded_minor == 2000


def test_a_worker_killed_after_the_provider_call_makes_no_second_refund(
    db_session: Session, buyer: User, asked: tuple[Order, Refund]
) -> None:
    _, refund = asked
    # The first worker asked the provider, then died before committing: the provider has the
    # refund under our key, our row is still pending and RQ runs the job again.
    payment = db_session.get(Payment, refund.payment_id)
    assert payment is not None
    made = get_provider("sandbox").refund(payment, refund.amount_minor, refund.idempotency_key)
    db_session.flush()  # the provider's books are its own: they keep the refund
    run_jobs()
    refund = _refund(db_session)
    assert (refund.status, refund.provider_refund_id) == (RefundStatus.SUCCEEDED, made.refund_id)
    sbx = _sandbox(db_session, refund)
    assert (sbx.refunded_minor, len(sbx.refunds)) == (2000, 1)
    assert order_of(db_session, buyer).status is OrderStatus.REFUNDED


def test_a_refused_refund_shows_on_the_order_page(
    client: FlaskClient, db_session: Session, buyer: User, asked: tuple[Order, Refund]
) -> None:
    order, refund = asked
    get_queue(QueueName.CRITICAL, get_redis()).empty()
    _sandbox(db_session, refund).status = SandboxStatus.CANCELED  # the provider refuses
    db_session.flush()
    assert jobs.execute_refund(refund.id) == "failed"  # outside a worker: the last attempt
    page = client.get(f"/orders/{order.token}")
    assert "could not be made" in page.text and "being made" not in page.text
    assert "every 2s" not in page.text
    assert order_of(db_session, buyer).status is OrderStatus.PAID
    assert db_session.scalars(select(Enrollment)).one().status is EnrollmentStatus.ACTIVE


def test_the_jobs_services_name_by_path_exist() -> None:
    assert import_attribute(EXECUTE_REFUND) is jobs.execute_refund
    assert import_attribute(SEND_REFUND_NOTICE) is jobs.send_refund_notice


def test_the_cli_queues_and_reports_where_the_refund_stands(
    app: Flask, client: FlaskClient, db_session: Session, buyer: User
) -> None:
    order, _ = _paid(client, db_session, buyer)
    args = ["orders", "refund", order.token, "--reason", "goodwill", "--key", "ticket-7", "--yes"]
    runner = app.test_cli_runner()
    queued = runner.invoke(args=[*args, "--wait", "0"])  # no worker runs here
    assert queued.exit_code == 0, queued.output
    assert "still pending" in queued.output and _refund(db_session).is_pending
    run_jobs()
    again = runner.invoke(args=args)  # the same key: that refund, as it stands now
    assert again.exit_code == 0, again.output
    assert "succeeded: $20.00" in again.output
    assert get_queue(QueueName.CRITICAL, get_redis()).count == 0  # nothing queued again
    assert order_of(db_session, buyer).refunded_minor == 2000
