"""/metrics: Prometheus text that the official parser reads, with the payment, webhook, HTTP and
queue series after a real purchase, the tutoring series after a real package, samples of a real worker process added in (multiprocess
mode), and only for a scraper with the token or from an allowed network."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.exc import NoResultFound
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.admin.jobs_console import GAUGE_STATES
from app.checkout.lifecycle import grant_package
from app.checkout.models import Order, OrderItem
from app.core.models import utcnow
from app.extensions import db, get_redis
from app.jobs.queues import WORKER_QUEUES, QueueName, get_queue
from app.payments.jobs import process_webhook_event
from app.payments.models import WebhookEvent, WebhookStatus
from app.tutoring.jobs import assign_trainer
from app.tutoring.models import AllocationStatus, TrainerAllocation
from app.tutoring.schedule import ScheduleError
from tests.factories import make_course, make_user
from tests.payments.conftest import (  # noqa: F401 - shared fixtures
    buyer,
    order_of,
    paid_sandbox_event,
    pay_with_sandbox,
    run_jobs,
)
from tests.processes import start_worker, stop_group, wait_for
from tests.tutoring.conftest import next_weekday, package, sunday_choice, trainer, tutoring_course
from tests.tutoring.test_purchase_flow import _buy

OUTSIDE = {"REMOTE_ADDR": "203.0.113.7"}


class Scrape:
    """The samples of one GET /metrics, read with prometheus_client's own parser."""

    def __init__(self, client: FlaskClient, **request: Any) -> None:
        from prometheus_client.parser import text_string_to_metric_families

        response = client.get("/metrics", **request)
        assert response.status_code == 200, response.text
        assert response.headers["Content-Type"].startswith("text/plain; version=")
        self.samples = [
            sample
            for family in text_string_to_metric_families(response.text)
            for sample in family.samples
        ]

    def value(self, name: str, **labels: str) -> float:
        """The sum of the samples called `name` whose labels include `labels`."""
        return sum(
            s.value for s in self.samples if s.name == name and labels.items() <= s.labels.items()
        )

    def labels(self, name: str, key: str) -> set[str]:
        return {s.labels[key] for s in self.samples if s.name == name and key in s.labels}


def test_series_after_a_purchase(
    client: FlaskClient,
    db_session: Session,
    buyer: User,  # noqa: F811
) -> None:
    before = Scrape(client)
    course = make_course("Observed", prices={"USD": 2500})
    pay_with_sandbox(client, buyer, [course.id])
    run_jobs()  # delivers the sandbox webhook, then processes it
    assert order_of(db_session, buyer).fulfilled_at is not None
    after = Scrape(client)

    def grew(name: str, **labels: str) -> float:
        return after.value(name, **labels) - before.value(name, **labels)

    assert grew("coursefront_payments_total", provider="sandbox", status="succeeded") == 1
    assert grew("coursefront_webhook_events_total", provider="sandbox", status="processed") >= 1
    assert grew("coursefront_webhook_to_enrollment_seconds_count", provider="sandbox") == 1
    assert grew("coursefront_webhook_to_enrollment_seconds_bucket", le="+Inf") == 1
    # Requests by their URL rule: the pay page's token is not a label value.
    routes = after.labels("coursefront_http_request_duration_seconds_count", "route")
    assert {"/checkout", "/pay/<token>/sandbox"} <= routes
    assert grew("coursefront_http_request_duration_seconds_count", route="/checkout") == 1
    # Queue depths for every queue, read from Redis at scrape time.
    for queue in WORKER_QUEUES:
        states = {
            s.labels["state"]
            for s in after.samples
            if s.name == "coursefront_rq_jobs" and s.labels["queue"] == queue.value
        }
        assert states == set(GAUGE_STATES), queue
    assert after.value("coursefront_rq_jobs", queue="critical", state="queued") == 0


def test_tutoring_series_after_a_package_is_bought_and_assigned(
    client: FlaskClient,
    db_session: Session,
    buyer: User,  # noqa: F811
) -> None:
    before = Scrape(client)
    course, category = tutoring_course()
    ten = package(course, 10)
    trainer([category.slug], name="Metered Mo")
    _buy(client, buyer, ten.id, sunday_choice(next_weekday(utcnow().date(), 7)))
    allocation = db_session.scalars(select(TrainerAllocation)).one()
    assert allocation.status is AllocationStatus.APPROVED
    after = Scrape(client)

    def grew(name: str, **labels: str) -> float:
        return after.value(name, **labels) - before.value(name, **labels)

    assert grew("coursefront_tutoring_purchases_total", outcome="created") == 1
    assert grew("coursefront_tutoring_assignments_total", outcome="approved") == 1
    assert grew("coursefront_tutoring_purchases_total", outcome="failed") == 0
    assert grew("coursefront_tutoring_assignments_total", outcome="failed") == 0


def test_tutoring_failures_are_counted_and_still_raise(
    client: FlaskClient, db_session: Session
) -> None:
    before = Scrape(client)
    # A line whose stored schedule cannot be read: the fulfilment must fail, not skip it.
    broken = OrderItem(id=1, course_id=1, sessions=10, details={"date": "someday"})
    with pytest.raises(ScheduleError):
        grant_package(Order(id=1, user_id=1), broken)
    with pytest.raises(NoResultFound):  # no such purchase: the job raises, RQ retries it
        assign_trainer(2**31 - 1)
    after = Scrape(client)
    for name in ("coursefront_tutoring_purchases_total", "coursefront_tutoring_assignments_total"):
        assert after.value(name, outcome="failed") - before.value(name, outcome="failed") == 1
    assert after.value("coursefront_tutoring_purchases_total", outcome="created") == before.value(
        "coursefront_tutoring_purchases_total", outcome="created"
    )


def test_queue_depth_is_read_at_scrape_time(client: FlaskClient) -> None:
    get_queue(QueueName.LOW).enqueue("app.jobs.maintenance.record_heartbeat")
    assert Scrape(client).value("coursefront_rq_jobs", queue="low", state="queued") == 1


def _event_status(event_id: int) -> WebhookStatus | None:
    db.session.expire_all()
    event = db.session.get(WebhookEvent, event_id)
    db.session.rollback()  # end the read so the next poll sees new commits
    return event.status if event else None


def test_samples_of_a_worker_process_are_added_in(
    live_app: Flask, committed: Any, service_urls: dict[str, str]
) -> None:
    """The webhook is processed in a separate `python worker.py`: its samples, written to its
    own files, are in this process's scrape (the point of multiprocess mode)."""
    user = make_user(email="scraped@example.com")
    _order_id, event_id = paid_sandbox_event(user, "Scraped course")
    client = live_app.test_client()
    before = Scrape(client)
    get_queue(QueueName.CRITICAL).enqueue(process_webhook_event, event_id)
    worker = start_worker(service_urls, WORKER_PROCESSES="1")
    try:
        assert wait_for(lambda: _event_status(event_id) is WebhookStatus.PROCESSED), "not run"
    finally:
        stop_group(worker)
    after = Scrape(client)  # the worker is gone: what it counted stays in the totals

    for name, labels in [
        ("coursefront_webhook_events_total", {"provider": "sandbox", "status": "processed"}),
        ("coursefront_payments_total", {"provider": "sandbox", "status": "succeeded"}),
        ("coursefront_webhook_to_enrollment_seconds_count", {"provider": "sandbox"}),
    ]:
        assert after.value(name, **labels) - before.value(name, **labels) == 1, name
    get_redis().flushdb()


@pytest.fixture
def scrape_client(app: Flask, db_session: Session) -> FlaskClient:
    return app.test_client()


def test_only_allowed_networks_without_a_token(
    app: Flask, scrape_client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "METRICS_TOKEN", "")
    assert scrape_client.get("/metrics").status_code == 200  # the test client is 127.0.0.1
    refused = scrape_client.get("/metrics", environ_base=OUTSIDE)
    assert refused.status_code == 403 and "coursefront_" not in refused.text
    # Relayed by a proxy on this host: the address is the proxy's, not the visitor's.
    relayed = scrape_client.get("/metrics", headers={"X-Forwarded-For": "198.51.100.4"})
    assert relayed.status_code == 403
    assert scrape_client.get("/metrics", environ_base={"REMOTE_ADDR": "::1"}).status_code == 200

    monkeypatch.setitem(app.config, "METRICS_ALLOW", ("10.0.0.0/8", "203.0.113.0/24"))
    assert scrape_client.get("/metrics", environ_base=OUTSIDE).status_code == 200
    assert scrape_client.get("/metrics").status_code == 403  # loopback is no longer listed


def test_a_token_is_needed_once_set(
    app: Flask, scrape_client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "METRICS_TOKEN", "s3cret-scrape-token")
    right = {"Authorization": "Bearer s3cret-scrape-token"}
    response = scrape_client.get("/metrics", headers=right, environ_base=OUTSIDE)
    assert response.status_code == 200 and "coursefront_rq_jobs" in response.text
    for headers in (
        {"Authorization": "Bearer wrong-token"},
        {"Authorization": "Basic czNjcmV0LXNjcmFwZS10b2tlbg=="},
        {"Authorization": "s3cret-scrape-token"},
        {},
    ):
        for where in (OUTSIDE, {}):  # the allowed networks are not enough any more
            refused = scrape_client.get("/metrics", headers=headers, environ_base=where)
            assert refused.status_code == 403, (headers, where)


def test_a_wipe_takes_sample_files_only_and_never_an_inherited_directory(
    app: Flask, tmp_path: Path
) -> None:
    from app.core.metrics import multiproc_dir, wipe_metrics_dir

    for name in ("counter_41.db", "histogram_41.db", "gauge_livesum_41.db", "notes.txt"):
        (tmp_path / name).write_text("x")
    assert wipe_metrics_dir(tmp_path) == 3
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]
    # This run's directory came from its environment (tests/conftest.py): the parent's to wipe.
    session_dir = Path(multiproc_dir() or "")
    Scrape(app.test_client())  # at least one request observed, so this process has a file
    files = sorted(session_dir.glob("*.db"))
    assert files and wipe_metrics_dir() == 0 and sorted(session_dir.glob("*.db")) == files
