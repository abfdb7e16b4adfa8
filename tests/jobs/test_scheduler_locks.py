"""A killed worker's scheduler leaves its queue locks in Redis for up to 61 s, and until they
go no worker fires the delayed retries of those queues. The workers free the locks of a dead
scheduler of this host, a zombie one included, when they start and every maintenance round.
Real processes, real Redis."""

from __future__ import annotations

import socket
import subprocess
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import psutil
import pytest
from rq import Worker
from rq.job import Job, JobStatus
from rq.scheduler import SCHEDULER_KEY_TEMPLATE, RQScheduler

from app.extensions import get_redis
from app.jobs.queues import WORKER_QUEUES, QueueName, get_queue
from app.jobs.worker import release_dead_schedulers
from tests.jobs.stubborn import echo
from tests.processes import start_worker, stop_group, wait_for

LOCK_TTL_S = 61  # RQ's: the scheduler interval (1 s) + 60


def _hold_locks(pid: int, queues: list[str]) -> None:
    """What a scheduler process with this pid leaves behind when it is SIGKILLed."""
    redis = get_redis()
    token = f"scheduler-of-{pid}"
    redis.hset(
        SCHEDULER_KEY_TEMPLATE % token,
        mapping={"name": token, "hostname": socket.gethostname(), "pid": str(pid)},
    )
    for name in queues:
        redis.set(RQScheduler.get_locking_key(name), token, ex=LOCK_TTL_S)


def _held(queues: list[str]) -> list[str]:
    return [q for q in queues if get_redis().exists(RQScheduler.get_locking_key(q))]


@pytest.fixture
def holder() -> Iterator[subprocess.Popen[bytes]]:
    """A process standing in for a scheduler: alive until the test kills it."""
    proc = subprocess.Popen(["sleep", "600"])
    yield proc
    proc.kill()
    proc.wait()


def test_a_zombie_scheduler_is_dead_and_a_live_one_keeps_its_locks(
    committed: Any, holder: subprocess.Popen[bytes]
) -> None:
    queues = [q.value for q in WORKER_QUEUES]
    _hold_locks(holder.pid, queues)
    assert release_dead_schedulers(get_redis(), queues) == 0
    assert _held(queues) == queues

    holder.kill()  # not reaped: a zombie, as a killed scheduler is until init reaps it
    assert wait_for(lambda: psutil.Process(holder.pid).status() == psutil.STATUS_ZOMBIE)
    assert release_dead_schedulers(get_redis(), queues) == len(queues)
    assert _held(queues) == []
    get_redis().flushdb()


def test_a_lock_freed_after_the_worker_started_is_taken_in_its_next_round(
    committed: Any, service_urls: dict[str, str], holder: subprocess.Popen[bytes]
) -> None:
    queues = [q.value for q in WORKER_QUEUES]
    _hold_locks(holder.pid, queues)  # alive when the worker starts: it must leave them alone
    worker = start_worker(service_urls, WORKER_PROCESSES="1")
    try:
        assert wait_for(lambda: len(Worker.all(connection=get_redis())) == 1), "no worker"
        assert _held(queues) == queues
        holder.kill()
        holder.wait()
        job = get_queue(QueueName.CRITICAL).enqueue_in(timedelta(seconds=1), echo, "retried")
        # Within a maintenance round (5 s here), not the lock's 61 s.
        assert wait_for(
            lambda: Job.fetch(job.id, connection=get_redis()).get_status() == JobStatus.FINISHED,
            timeout=25,
        ), "the delayed job waited for the dead scheduler's lock to expire"
    finally:
        stop_group(worker)
    get_redis().flushdb()
