"""Job functions for the jobs console's tests (the RQ worker imports them by their dotted path),
and the helpers that run them on a real worker."""

from __future__ import annotations

from typing import Any

from rq import Queue, SimpleWorker, get_current_job

from app.extensions import get_redis
from app.jobs.context import AppJob
from app.jobs.queues import QueueName, get_queue

FLAKY = "tests.admin.jobs_fixture.flaky"
PEEK = "tests.admin.jobs_fixture.peek_console"

# What peek_console saw: set by the test, read by the test (the job runs in its process).
console: dict[str, Any] = {}


def runs_key(key: str) -> str:
    return f"tests:flaky:{key}"


def flaky(key: str, value: int) -> int:
    """Fails the first time it runs for `key`, then returns value * 2 (runs counted in Redis)."""
    job = get_current_job()
    assert job is not None
    if job.connection.incr(runs_key(key)) == 1:
        raise RuntimeError(f"flaky job {key} fails on its first run")
    return value * 2


def peek_console() -> str:
    """Load the console's jobs page while this job runs on a worker, with the test's client."""
    client = console["client"]
    console["page"] = client.get("/admin/jobs").get_data(as_text=True)
    job = get_current_job()
    assert job is not None
    return job.id


def work(queue: Queue) -> None:
    """One burst of a real worker on the queue: every job waiting there runs, in this process."""
    SimpleWorker([queue], connection=queue.connection, job_class=AppJob).work(burst=True)


def failed_job(key: str = "a", value: int = 21, queue: QueueName = QueueName.DEFAULT) -> str:
    """A flaky job run once by a real worker: it fails and waits in the failed registry."""
    q = get_queue(queue, get_redis())
    job = q.enqueue(FLAKY, key, value)
    work(q)
    assert job.id in q.failed_job_registry.get_job_ids()
    return job.id
