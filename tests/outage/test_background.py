"""The scheduler and the worker ride out a Redis outage (real processes, a real Redis killed)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from rq import Worker

from app.config import ROOT
from app.extensions import get_redis
from app.jobs.maintenance import HEARTBEAT_KEY, record_heartbeat
from app.jobs.queues import QueueName, get_queue
from app.jobs.worker import run_worker
from tests.outage.conftest import RedisProcess, wait_for


class Child:
    """A process of ours with its output in a file (so the test can read what it logged)."""

    def __init__(self, argv: list[str], env: dict[str, str], log: Path) -> None:
        self.log = log
        with log.open("wb") as out:
            self.process = subprocess.Popen(
                argv, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip

    def said(self, text: str) -> int:
        return self.log.read_text(errors="replace").count(text)

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> int:
        if self.alive:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            return self.process.wait()


@pytest.fixture
def spawn(
    service_urls: dict[str, str], redis_proc: RedisProcess, tmp_path: Path
) -> Iterator[object]:
    children: list[Child] = []
    env = {
        **os.environ,
        "DATABASE_URL": service_urls["DATABASE_URL"],
        "REDIS_URL": redis_proc.url,
        "APP_ENV": "development",
        "PYTHONUNBUFFERED": "1",
    }

    def _spawn(name: str, *argv: str) -> Child:
        child = Child([sys.executable, *argv], env, tmp_path / f"{name}.log")
        children.append(child)
        return child

    yield _spawn
    for child in children:
        child.stop()


def test_scheduler_survives_a_redis_outage_and_resumes(
    outage_app: Flask, redis_proc: RedisProcess, spawn: object
) -> None:
    low = get_queue(QueueName.LOW)
    cron = spawn(  # type: ignore[operator]
        "cron", "-m", "app.jobs.cron", "--schedule", "tests.outage.fast_schedule",
        "--max-backoff", "0.5",
    )  # fmt: skip
    assert wait_for(lambda: low.count > 0 or not cron.alive), cron.log.read_text()
    assert cron.alive

    redis_proc.kill()
    # `rq cron` exits on its first Redis error; ours logs, backs off and keeps trying.
    assert wait_for(lambda: cron.said("event=scheduler_redis_down") >= 3 or not cron.alive)
    assert cron.alive, cron.log.read_text()

    redis_proc.start()  # a fresh, empty Redis on the same address
    assert wait_for(lambda: low.count > 0 or not cron.alive), cron.log.read_text()
    assert cron.said("event=scheduler_redis_back") >= 1
    run_worker(outage_app, burst=True)
    assert get_redis().get(HEARTBEAT_KEY) is not None  # the job it enqueued really ran
    assert cron.stop() == 0


def test_worker_started_during_an_outage_waits_then_works(
    outage_app: Flask, redis_proc: RedisProcess, spawn: object
) -> None:
    redis_proc.kill()
    worker = spawn("worker", "worker.py", "--max-backoff", "0.5")  # type: ignore[operator]
    assert wait_for(lambda: worker.said("event=worker_redis_down") >= 2 or not worker.alive)
    assert worker.alive, worker.log.read_text()

    redis_proc.start()
    redis = get_redis()
    # worker.py runs a pool (one per core, at least 2): any of them registering will do.
    assert wait_for(lambda: len(Worker.all(connection=redis)) >= 1 or not worker.alive)
    get_queue(QueueName.LOW).enqueue(record_heartbeat)
    assert wait_for(lambda: redis.get(HEARTBEAT_KEY) is not None), worker.log.read_text()

    redis_proc.kill()  # and once more while it waits for work
    assert wait_for(lambda: worker.said("could not connect to Redis") >= 1 or not worker.alive)
    redis_proc.start()
    get_queue(QueueName.LOW).enqueue(record_heartbeat)
    assert wait_for(lambda: redis.get(HEARTBEAT_KEY) is not None), worker.log.read_text()
    assert worker.alive
    assert worker.stop() == 0
