"""A worker SIGKILLed in the middle of a fulfilment job: RQ's registries recover the job and
exactly one enrollment results. Real worker processes, real Redis, committed data."""

from __future__ import annotations

import os
import signal
import time
from typing import Any

import sqlalchemy as sa
from flask import Flask
from rq.registry import StartedJobRegistry
from sqlalchemy import func, select

from app.checkout.models import Order, OrderStatus
from app.extensions import db, get_redis
from app.jobs.queues import QueueName, get_queue
from app.learning.models import Enrollment
from app.payments.jobs import CRITICAL_RETRY, process_webhook_event
from app.payments.models import WebhookEvent, WebhookStatus
from tests.factories import make_user
from tests.payments.conftest import paid_sandbox_event
from tests.processes import start_worker, stop_group, wait_for


def _event_status(event_id: int) -> WebhookStatus | None:
    db.session.expire_all()
    event = db.session.get(WebhookEvent, event_id)
    db.session.rollback()  # end the read so the next poll sees new commits
    return event.status if event else None


def test_killed_worker_job_is_recovered_once(
    live_app: Flask, committed: Any, service_urls: dict[str, str]
) -> None:
    user = make_user(email="crash@example.com")
    order_id, event_id = paid_sandbox_event(user, "Crash course")
    queue = get_queue(QueueName.CRITICAL)

    blocker = db.engine.connect()  # holds the order row so the job stops inside fulfilment
    lock = blocker.begin()
    blocker.execute(sa.text("SELECT id FROM orders WHERE id = :id FOR UPDATE"), {"id": order_id})
    job = queue.enqueue(process_webhook_event, event_id, retry=CRITICAL_RETRY.rq())
    worker = start_worker(service_urls)
    try:
        registry = StartedJobRegistry(queue=queue)
        assert wait_for(lambda: job.id in registry.get_job_ids()), "the job never started"
        os.killpg(worker.pid, signal.SIGKILL)  # the worker and its work horse, mid-job
        worker.wait(timeout=10)
    finally:
        lock.rollback()
        blocker.close()
    assert db.session.scalar(select(func.count(Enrollment.id))) == 0

    # What any live worker's maintenance does once the dead one's heartbeat has lapsed.
    registry.cleanup(timestamp=time.time() + 3600)
    job.refresh()
    assert job.retries_left == CRITICAL_RETRY.max - 1

    worker = start_worker(service_urls)  # its scheduler fires the retry after 2 s
    try:
        assert wait_for(lambda: _event_status(event_id) is WebhookStatus.PROCESSED), "not recovered"
    finally:
        stop_group(worker)
    db.session.expire_all()
    assert db.session.scalar(select(func.count(Enrollment.id))) == 1
    assert db.session.get(Order, order_id).status is OrderStatus.PAID  # type: ignore[union-attr]
    get_redis().flushdb()
