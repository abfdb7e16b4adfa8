"""The worker process model: a pool sized to the cores, one process on the critical queue
alone, no work horse forked per job, and the job timeout still enforced. Real processes
(`python worker.py`), real Redis and PostgreSQL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from rq import Worker
from rq.job import Job, JobStatus

from app.config import ROOT
from app.extensions import db, get_redis
from app.jobs.pool import ALL_QUEUES, plan, process_count
from app.jobs.queues import QueueName, get_queue
from app.payments.jobs import process_webhook_event
from app.payments.models import WebhookEvent, WebhookStatus
from tests.factories import make_user
from tests.jobs.stubborn import ignore_the_timeout
from tests.payments.conftest import paid_sandbox_event
from tests.processes import alive, kill_leftovers, stop_group, tree, wait_gone

Spawn = Callable[..., subprocess.Popen[bytes]]


def _wait(predicate: Callable[[], Any], timeout: float = 30) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


@pytest.fixture
def spawn(committed: Any, service_urls: dict[str, str]) -> Iterator[Spawn]:
    """Start `python worker.py ARGS` (its own process group); whatever is left is killed.
    Runs in `committed`'s app context: the processes see what the test commits."""
    started: list[subprocess.Popen[bytes]] = []
    pids: list[int] = []

    def _spawn(*args: str, **env: str) -> subprocess.Popen[bytes]:
        full = {**os.environ, **service_urls, "APP_ENV": "development", **env}
        proc = subprocess.Popen(
            [sys.executable, "worker.py", *args],
            cwd=ROOT,
            env=full,
            start_new_session=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        started.append(proc)
        return proc

    yield _spawn
    for proc in started:
        pids.extend(tree(proc.pid))
        stop_group(proc)
    kill_leftovers(pids)
    get_redis().flushdb()


def _workers() -> list[Worker]:
    return [w for w in Worker.all(connection=get_redis()) if alive(w.pid)]


def _queue_sets() -> list[tuple[str, ...]]:
    return sorted(tuple(w.queue_names()) for w in _workers())


def test_the_pool_is_sized_to_the_cores_with_one_critical_process() -> None:
    config = {"WORKER_PROCESSES": 0, "WORKER_CRITICAL_PROCESSES": 1}
    commands = plan(config)
    assert len(commands) == process_count(config) == max(2, os.cpu_count() or 1)
    queues = [argv[argv.index("--queues") + 1] for argv in commands.values()]
    assert queues[0] == QueueName.CRITICAL.value
    assert set(queues[1:]) == {ALL_QUEUES}
    # Never every process on critical alone: something must send the mail.
    assert len(plan({"WORKER_PROCESSES": 2, "WORKER_CRITICAL_PROCESSES": 5})) == 2
    assert [a[-1] for a in plan({"WORKER_PROCESSES": 2, "WORKER_CRITICAL_PROCESSES": 5}).values()] \
        == [QueueName.CRITICAL.value, ALL_QUEUES]  # fmt: skip


def test_worker_py_starts_the_configured_processes_and_restarts_a_dead_one(spawn: Spawn) -> None:
    pool = spawn(WORKER_PROCESSES="3")
    expected = sorted([("critical",), *[tuple(ALL_QUEUES.split(","))] * 2])
    assert _wait(lambda: _queue_sets() == expected, 60), _queue_sets()
    assert all(w.pid in tree(pool.pid) for w in _workers())  # the pool's own children

    victim = next(w.pid for w in _workers() if w.queue_names() == ["critical"])
    os.kill(victim, signal.SIGKILL)
    assert _wait(lambda: victim not in [w.pid for w in _workers()] and
                 _queue_sets() == expected, 60), _queue_sets()  # fmt: skip

    children = tree(pool.pid)
    os.killpg(pool.pid, signal.SIGTERM)
    assert pool.wait(timeout=60) == 0  # each child finishes its job (WORKER_STOP_TIMEOUT 30 s)
    assert wait_gone(children) == []


def test_a_job_over_its_timeout_is_stopped_by_the_non_forking_worker(spawn: Spawn) -> None:
    job = get_queue(QueueName.CRITICAL).enqueue("time.sleep", 30, job_timeout=1)
    started = time.monotonic()
    worker = spawn("--burst", "--queues", "critical")
    assert worker.wait(timeout=60) == 0
    assert time.monotonic() - started < 25  # far less than the job's 30 s
    job.refresh()
    assert job.get_status() == JobStatus.FAILED
    assert "JobTimeoutException" in _error(job)


def test_a_job_that_ignores_its_timeout_is_killed_with_its_process(spawn: Spawn) -> None:
    queue = get_queue(QueueName.CRITICAL)
    # A long timeout first: the hard deadline the watchdog sleeps towards is minutes away when
    # the next job, with a short one, starts; it must wake up for the earlier deadline.
    first = queue.enqueue("os.getpid", job_timeout=600)
    queue.enqueue(ignore_the_timeout, 120, job_timeout=1)
    started = time.monotonic()
    worker = spawn("--burst", "--queues", "critical", WORKER_HARD_TIMEOUT_GRACE="2")
    assert worker.wait(timeout=60) == -signal.SIGKILL
    assert time.monotonic() - started < 40  # timeout 1 s + grace 2 s, far from 120 s or 600 s
    assert first.get_status(refresh=True) == JobStatus.FINISHED


def _error(job: Job) -> str:
    result = job.latest_result()
    return (result.exc_string or "") if result is not None else ""


def test_the_timeout_also_stops_a_job_waiting_on_a_postgres_lock(spawn: Spawn) -> None:
    order_id, event_id = paid_sandbox_event(make_user(email="slow@example.com"), "Slow course")
    blocker = db.engine.connect()  # holds the order row: the job waits inside fulfilment
    lock = blocker.begin()
    blocker.execute(sa.text("SELECT id FROM orders WHERE id = :id FOR UPDATE"), {"id": order_id})
    try:
        job = get_queue(QueueName.CRITICAL).enqueue(process_webhook_event, event_id, job_timeout=2)
        worker = spawn("--burst", "--queues", "critical")
        assert worker.wait(timeout=60) == 0  # ended while the lock is still held
        job = Job.fetch(job.id, connection=get_redis())
        assert job.get_status() == JobStatus.FAILED
        assert "JobTimeoutException" in _error(job)
        # The job's query was cancelled, so its own failure handling (a fresh transaction)
        # could record the failure instead of waiting on its first transaction's locks.
        db.session.expire_all()
        event = db.session.get(WebhookEvent, event_id)
        assert event is not None and event.status is WebhookStatus.FAILED
        db.session.rollback()
    finally:
        lock.rollback()
        blocker.close()


def test_critical_jobs_are_not_starved_by_a_backlog_of_mail(spawn: Spawn) -> None:
    default = get_queue(QueueName.DEFAULT)
    backlog = [default.enqueue("time.sleep", 0.5) for _ in range(60)]  # 30 s of "mail"
    spawn(WORKER_PROCESSES="2")
    assert _wait(lambda: len(_workers()) == 2, 60)
    assert _wait(lambda: backlog[0].get_status(refresh=True) != JobStatus.QUEUED, 30)
    job = get_queue(QueueName.CRITICAL).enqueue("os.getpid")
    assert _wait(lambda: job.get_status(refresh=True) == JobStatus.FINISHED, 5)
    assert default.count > 40  # the mail is still waiting: critical went first
