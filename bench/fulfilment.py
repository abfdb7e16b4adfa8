"""A burst of signed paid webhooks against a running stack: how fast buyers are enrolled.

    .venv/bin/python bench/fulfilment.py --setup dev          # `flask dev`, as `make run` starts it
    .venv/bin/python bench/fulfilment.py --setup production   # gunicorn + worker.py + cron

`dev` starts `flask dev` with a fresh INSTANCE_PATH under /tmp (its embedded PostgreSQL and Redis,
its default worker count); `production` starts gunicorn, `python worker.py` and
`python -m app.jobs.cron` with APP_ENV=production against the system PostgreSQL and Redis
(BENCH_DATABASE_URL, BENCH_REDIS_URL; the database's public schema is recreated, the Redis db
flushed). Orders are paid by Stripe-style `checkout.session.completed` events signed with
STRIPE_WEBHOOK_SECRET (fulfilment makes no Stripe API call; session creation is stubbed here).

Printed: acceptance (2xx share, req/s), webhook -> enrollment p50/p95 (send time vs the
enrollment row's `enrolled_at`), last webhook -> all enrolled, first webhook -> all receipts
(`notifications.emailed_at`), and the same burst of no-op jobs through the same workers
(RQ's floor with our job class) as the baseline, then the goals with met / NOT MET.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import http.client
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fulfil_stack import WEBHOOK_SECRET, bench_app, start_stack, stop_stack, wait_healthy

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


GOAL_P95_S, GOAL_TAIL_S = 2.0, 5.0


@dataclass
class Sent:
    order_id: int
    at: float  # wall clock, comparable with the rows' timestamps (same machine)
    status: int
    done: float


def _stub_stripe_sessions() -> None:
    """Session creation is the one Stripe call of checkout: answer it locally."""
    from app.payments.providers.base import SessionStart
    from app.payments.providers.stripe import StripeProvider

    def create_session(_self: Any, order: Any, *_args: Any) -> Any:
        return SessionStart(f"cs_bench_{order.token}", "https://checkout.example/pay")

    StripeProvider.create_session = create_session  # type: ignore[method-assign]


def prepare_orders(n: int, run: str) -> list[tuple[int, bytes]]:
    """n buyers, each with an order awaiting a Stripe payment, and its signed paid event."""
    from app.accounts.models import Role, User
    from app.accounts.passwords import hash_password
    from app.cart import services as cart_services
    from app.catalog import services as catalog
    from app.checkout.services import place_order
    from app.core.money import Money
    from app.extensions import db
    from app.payments.services import start_payment

    _stub_stripe_sessions()
    pw = hash_password("q7-lantern-orbit")
    teacher = User(email=f"t-{run}@bench.example", name="Teacher", role=Role.TEACHER,
                   password_hash=pw)  # fmt: skip
    db.session.add(teacher)
    db.session.flush()
    course = catalog.create_course(teacher, catalog.CourseDraft(f"Burst {run}", "", ""))
    catalog.set_price(course, Money(1000, "USD"))
    catalog.add_lecture(catalog.add_chapter(course, "One"), "Hello", 60)
    catalog.publish_course(course)
    out = []
    for i in range(n):
        user = User(email=f"b{i}-{run}@bench.example", name=f"Buyer {i}", password_hash=pw)
        db.session.add(user)
        db.session.flush()
        cart = cart_services.open_cart("USD", user)
        cart_services.add_course(cart, course.id, user)
        order = place_order(user, cart)
        payment = start_payment(order, "stripe")
        out.append((order.id, _event(f"evt_{run}_{i}", order, payment.provider_session_id)))
    db.session.commit()
    return out


def _event(event_id: str, order: Any, session_id: str | None) -> bytes:
    obj = {
        "id": session_id,
        "object": "checkout.session",
        "status": "complete",
        "payment_status": "paid",
        "amount_total": order.total_minor,
        "currency": order.currency.lower(),
        "client_reference_id": order.token,
        "payment_intent": f"pi_{event_id}",
        "metadata": {"order_token": order.token},
    }
    body = {"id": event_id, "object": "event", "type": "checkout.session.completed",
            "data": {"object": obj}}  # fmt: skip
    return json.dumps(body).encode()


def _signature(body: bytes) -> str:
    stamp = int(time.time())
    mac = hmac.new(WEBHOOK_SECRET.encode(), f"{stamp}.".encode() + body, hashlib.sha256)
    return f"t={stamp},v1={mac.hexdigest()}"


def send_burst(port: int, events: list[tuple[int, bytes]], concurrency: int) -> list[Sent]:
    def post(item: tuple[int, bytes]) -> Sent:
        order_id, body = item
        headers = {"Content-Type": "application/json", "Stripe-Signature": _signature(body)}
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        at = time.time()
        try:
            conn.request("POST", "/webhooks/stripe", body=body, headers=headers)
            status = conn.getresponse().status
        except OSError:
            status = 0
        finally:
            conn.close()
        return Sent(order_id, at, status, time.time())

    with ThreadPoolExecutor(concurrency) as pool:
        return list(pool.map(post, events))


def _poll(count: Callable[[], int], target: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and count() < target:
        time.sleep(0.1)


def enrolled_at(order_ids: list[int], timeout: float) -> dict[int, float]:
    from sqlalchemy import func, select

    from app.extensions import db
    from app.learning.models import Enrollment

    def count() -> int:
        stmt = select(func.count(Enrollment.id)).where(Enrollment.order_id.in_(order_ids))
        n = int(db.session.scalar(stmt) or 0)
        db.session.rollback()
        return n

    _poll(count, len(order_ids), timeout)
    rows = db.session.execute(
        select(Enrollment.order_id, Enrollment.enrolled_at).where(
            Enrollment.order_id.in_(order_ids)
        )
    ).all()
    db.session.rollback()
    return {int(r[0]): r[1].timestamp() for r in rows}


def receipts_at(order_ids: list[int], timeout: float) -> list[float]:
    from sqlalchemy import select

    from app.checkout.models import Order
    from app.extensions import db
    from app.notifications.models import Notification, NotificationKind

    buyers = select(Order.user_id).where(Order.id.in_(order_ids))
    stmt = select(Notification.emailed_at).where(
        Notification.user_id.in_(buyers),
        Notification.kind == NotificationKind.RECEIPT.value,
        Notification.emailed_at.is_not(None),
    )

    def count() -> int:
        n = len(db.session.scalars(stmt).all())
        db.session.rollback()
        return n

    _poll(count, len(order_ids), timeout)
    stamps = [t.timestamp() for t in db.session.scalars(stmt).all()]
    db.session.rollback()
    return stamps


def baseline(n: int, timeout: float) -> tuple[float, float, float]:
    """n no-op jobs (the function is `os.getpid`) through the same queue, job class and
    workers: p50, p95 of enqueue -> end, and enqueue of the last -> all done."""
    from rq.job import JobStatus

    from app.jobs.queues import QueueName, get_queue

    queue = get_queue(QueueName.CRITICAL)
    jobs = queue.enqueue_many([queue.prepare_data("os.getpid") for _ in range(n)])
    last_enqueued = time.time()

    def count() -> int:
        statuses = [j.get_status(refresh=True) for j in jobs[-20:]]
        if all(s == JobStatus.FINISHED for s in statuses):
            return sum(1 for j in jobs if j.get_status(refresh=True) == JobStatus.FINISHED)
        return 0

    _poll(count, n, timeout)
    waits = []
    for job in jobs:
        job.refresh()
        if job.ended_at and job.enqueued_at:
            waits.append((job.ended_at - job.enqueued_at).total_seconds())
    ends = [j.ended_at.timestamp() for j in jobs if j.ended_at]
    if len(waits) < n:
        print(f"baseline: only {len(waits)}/{n} no-op jobs finished")
    return _pct(waits, 50), _pct(waits, 95), (max(ends) - last_enqueued) if ends else float("nan")


def _pct(values: list[float], p: int) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(len(ordered) * p / 100) - 1))]


def report(sent: list[Sent], enrolled: dict[int, float], receipts: list[float],
           base: tuple[float, float, float], n: int) -> bool:  # fmt: skip
    ok = [s for s in sent if 200 <= s.status < 300]
    first, last = min(s.at for s in sent), max(s.at for s in sent)
    span = max(s.done for s in sent) - first
    print(f"acceptance        {len(ok)}/{n} 2xx ({100 * len(ok) / n:.1f} %), "
          f"{n / span:.0f} req/s, burst sent in {last - first:.2f} s")  # fmt: skip
    lat = [enrolled[s.order_id] - s.at for s in sent if s.order_id in enrolled]
    p50, p95 = _pct(lat, 50), _pct(lat, 95)
    tail = (max(enrolled.values()) - last) if len(enrolled) == n else float("inf")
    print(f"enrolled          {len(enrolled)}/{n}")
    print(f"webhook->enrolled p50 {p50:.2f} s   p95 {p95:.2f} s   max {max(lat, default=0):.2f} s")
    print(f"last webhook -> all enrolled   {tail:.2f} s")
    rtail = (max(receipts) - first) if len(receipts) == n else float("inf")
    print(f"first webhook -> all receipts  {rtail:.2f} s ({len(receipts)}/{n} sent)")
    bp50, bp95, btail = base
    print(f"baseline: {n} no-op jobs   p50 {bp50:.2f} s   p95 {bp95:.2f} s   "
          f"last enqueued -> all done {btail:.2f} s")  # fmt: skip
    print(f"ratio fulfilment/no-op   p95 {p95 / bp95 if bp95 else float('nan'):.1f}x   "
          f"tail {tail / btail if btail else float('nan'):.1f}x")  # fmt: skip
    met_p95, met_tail = p95 < GOAL_P95_S, tail < GOAL_TAIL_S and len(enrolled) == n
    print(f"GOAL p95 webhook->enrollment < {GOAL_P95_S:.0f} s: "
          f"{'met' if met_p95 else 'NOT MET'} ({p95:.2f} s)")  # fmt: skip
    print(f"GOAL all {n} enrolled within {GOAL_TAIL_S:.0f} s of the last webhook: "
          f"{'met' if met_tail else 'NOT MET'} ({tail:.2f} s)")  # fmt: skip
    return met_p95 and met_tail


DB_URL = "postgresql://postgres@127.0.0.1:5432/coursefront_bench_fulfil"
OPTIONS: list[tuple[str, type, Any, str]] = [  # name, type, default, help
    ("--concurrency", int, 32, "parallel senders"),
    ("--port", int, 8101, "the web port"),
    ("--web-workers", int, 2, "gunicorn --workers (production)"),
    ("--worker-commands", int, 1, "`python worker.py` commands started (production)"),
    ("--worker-processes", int, 0, "WORKER_PROCESSES for the stack (0: its default)"),
    ("--timeout", float, 180.0, "seconds to wait for the work to be done"),
    ("--log-level", str, "WARNING", "LOG_LEVEL of the stack"),
    ("--database-url", str, os.environ.get("BENCH_DATABASE_URL", DB_URL), "production"),
    ("--redis-url", str, os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14"), ""),
]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--setup", choices=("dev", "production"), default="dev")
    parser.add_argument("-n", "--count", type=int, default=300, help="webhooks in the burst")
    for name, kind, default, text in OPTIONS:
        parser.add_argument(name, type=kind, default=default, help=text or None)
    return parser.parse_args(argv)


def wait_idle(timeout: float) -> None:
    """Wait until no job is queued or running: `flask dev` seeds the demo shop on first start,
    and its lecture videos transcode on the workers (ffmpeg on both cores) for a while."""
    from rq.registry import StartedJobRegistry

    from app.jobs.queues import WORKER_QUEUES, get_queue

    deadline = time.monotonic() + timeout
    queues = [get_queue(q) for q in WORKER_QUEUES]
    while time.monotonic() < deadline:
        if not any(q.count or StartedJobRegistry(queue=q).count for q in queues):
            return
        time.sleep(1)
    print(f"warning: jobs still queued or running after {timeout:.0f} s")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    instance = Path(tempfile.mkdtemp(prefix=f"fulfil-{args.setup}-", dir="/tmp"))
    procs = start_stack(args, instance)
    try:
        wait_healthy(args.port)
        app = bench_app(args, instance)
        with app.app_context():
            run = str(int(time.time()))
            t0 = time.monotonic()
            events = prepare_orders(args.count, run)
            took = time.monotonic() - t0
            print(f"setup {args.setup}: {args.count} orders prepared in {took:.1f} s "
                  f"(stack log {instance / 'stack.log'})")  # fmt: skip
            time.sleep(2)  # let the workers settle after the prepare's load
            wait_idle(args.timeout)
            sent = send_burst(args.port, events, args.concurrency)
            ids = [s.order_id for s in sent]
            enrolled = enrolled_at(ids, args.timeout)
            receipts = receipts_at(ids, args.timeout)
            base = baseline(args.count, args.timeout)
            met = report(sent, enrolled, receipts, base, args.count)
            from app.extensions import db

            db.session.remove()
            db.engine.dispose()
    finally:
        stop_stack(procs)
    return 0 if met else 1


if __name__ == "__main__":
    raise SystemExit(main())
