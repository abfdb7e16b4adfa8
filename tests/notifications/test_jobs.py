"""Every notification job is queued with NOTIFY_RETRY (read back from the RQ job in real Redis),
renders its template's parts, and never mails twice when it runs again."""

from __future__ import annotations

import re
from email.message import EmailMessage
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient
from rq import SimpleWorker
from rq.job import Job
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.catalog.models import Course
from app.extensions import get_redis
from app.jobs.context import AppJob
from app.jobs.queues import NOTIFY_RETRY, WORKER_QUEUES, QueueName, get_queue
from app.notifications.models import Notification, NotificationKind
from tests.accounts.conftest import Outbox
from tests.conftest import login_as
from tests.factories import make_course, make_user
from tests.payments.conftest import (
    order_of,
    pay_with_sandbox,
    run_jobs,
)

NOTIFICATION_JOBS = {
    "app.checkout.jobs.send_order_receipt",
    "app.payments.jobs.send_refund_notice",
    "app.notifications.jobs.send_password_reset",
    "app.notifications.jobs.send_email_verification",
}
APP = Path(__file__).resolve().parents[2] / "app"


def _queued() -> list[Job]:
    redis = get_redis()
    return [job for name in WORKER_QUEUES for job in get_queue(name, redis).get_jobs()]


def notification_jobs() -> list[str]:
    """The notification jobs waiting in Redis, each checked to carry NOTIFY_RETRY's settings."""
    found = []
    for job in _queued():
        if job.func_name in NOTIFICATION_JOBS:
            assert job.origin == QueueName.DEFAULT.value, job.func_name
            assert (job.retries_left, job.retry_intervals) == (3, [2, 4, 8]), job.func_name
            assert (NOTIFY_RETRY.max, NOTIFY_RETRY.intervals) == (3, [2, 4, 8])
            found.append(job.func_name.rpartition(".")[2])
    return sorted(found)


def run_critical() -> None:
    """Run the critical path only (webhooks, refunds): what it queues for later stays queued."""
    redis = get_redis()
    queue = get_queue(QueueName.CRITICAL, redis)
    for _ in range(5):
        if not queue.count:
            return
        SimpleWorker([queue], connection=redis, job_class=AppJob).work(burst=True)


def _parts(message: EmailMessage) -> tuple[str, str]:
    text, html = message.get_body(("plain",)), message.get_body(("html",))
    assert text is not None and html is not None, message["Subject"]
    return text.get_content(), html.get_content()


def _kinds(session: Session, user: User) -> list[str]:
    stmt = select(Notification.kind).where(Notification.user_id == user.id).order_by("id")
    return list(session.scalars(stmt))


def test_no_retry_policy_is_written_outside_the_queues_module() -> None:
    copies = [
        f"{path.relative_to(APP.parent)}:{n}"
        for path in sorted(APP.rglob("*.py"))
        if path != APP / "jobs" / "queues.py"
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if re.search(r"\bRetry\(", line)
    ]
    assert copies == [], "use NOTIFY_RETRY or CRITICAL_RETRY from app.jobs.queues"


def test_account_emails_queue_with_notify_retry_and_send_once_per_job(
    client: FlaskClient, db_session: Session, mail_dir: Path
) -> None:
    outbox = Outbox(mail_dir)
    data = {"name": "Vera Fied", "email": "vera@example.com", "password": "learning-2026"}
    assert client.post("/register", data={**data, "confirm": data["password"]}).status_code == 303
    client.post("/logout")
    client.post("/password/forgot", data={"email": "vera@example.com"})
    client.post("/password/forgot", data={"email": "nobody@example.com"})
    assert notification_jobs() == ["send_email_verification"] + ["send_password_reset"] * 2
    [reset] = [job for job in _queued() if job.args == ("vera@example.com",)]
    run_jobs()
    reset.perform()  # the same job again, as RQ's retry would run it: no second email

    verify, reset_mail = outbox.messages()
    assert verify["Subject"] == "Confirm your email for Coursefront"
    assert reset_mail["Subject"] == "Reset your Coursefront password"
    text, html = _parts(reset_mail)
    [link] = re.findall(r"https?://\S+/password/reset/\S+", text)
    assert f'href="{link}"' in html and "Choose a new password" in html
    user = db_session.scalars(select(User).where(User.email == "vera@example.com")).one()
    assert _kinds(db_session, user) == [
        NotificationKind.EMAIL_VERIFY,
        NotificationKind.PASSWORD_RESET,
    ]
    note = db_session.scalars(select(Notification).where(Notification.user_id == user.id)).first()
    assert note is not None and note.link is not None and "/account/verify/" not in note.link
    assert note.body.startswith("We emailed a link to vera@example.com")


def test_free_order_receipt_queues_with_notify_retry(
    client: FlaskClient, db_session: Session, mail_dir: Path
) -> None:
    user = make_user(name="Fay Free")
    course = make_course("Tom & Jerry <Basics>", prices={"USD": 0})
    login_as(client, user)
    assert client.post(f"/courses/{course.slug}/enroll").status_code == 303
    assert notification_jobs() == ["send_order_receipt"]
    run_jobs()
    [message] = Outbox(mail_dir).messages()
    order = order_of(db_session, user)
    assert message["Subject"] == f"Your receipt for order {order.token[:8].upper()}"
    text, html = _parts(message)
    assert "- Tom & Jerry <Basics>: Free" in text and f"/orders/{order.token}" in text
    assert "Tom &amp; Jerry &lt;Basics&gt;" in html and "<Basics>" not in html
    [note] = db_session.scalars(select(Notification).where(Notification.user_id == user.id))
    assert note.title == message["Subject"] and note.kind == NotificationKind.RECEIPT
    assert note.body == "You're enrolled in Tom & Jerry <Basics>."
    assert note.link is not None and note.link.startswith("http")


def test_paid_receipt_and_refund_notice_queue_with_notify_retry(
    app: Flask, client: FlaskClient, db_session: Session, buyer: User, mail_dir: Path
) -> None:
    course = make_course("Refundable", prices={"USD": 2500})
    pay_with_sandbox(client, buyer, [course.id])
    run_critical()
    assert notification_jobs() == ["send_order_receipt"]
    run_jobs()
    order = order_of(db_session, buyer)
    slug = db_session.get(Course, course.id).slug  # type: ignore[union-attr]
    refund = app.test_cli_runner().invoke(
        args=["orders", "refund", order.token, "--course", slug, "--reason", "test", "--yes"]
    )
    assert refund.exit_code == 0, refund.output
    run_critical()
    assert notification_jobs() == ["send_refund_notice"]
    run_jobs()
    assert _kinds(db_session, buyer) == [NotificationKind.RECEIPT, NotificationKind.REFUND]
    messages = Outbox(mail_dir).messages()
    subjects = sorted(m["Subject"] for m in messages)
    short = order.token[:8].upper()
    assert subjects == [f"Your receipt for order {short}", f"Your refund for order {short}"]
    notice = next(m for m in messages if "refund" in m["Subject"])
    text, html = _parts(notice)
    assert "We have refunded $25.00" in text and "<strong>$25.00</strong>" in html
