"""Start an RQ worker for our queues inside the app."""

from __future__ import annotations

import os

from flask import Flask
from rq import Worker

from app.extensions import db, get_redis
from app.jobs.context import AppJob, set_worker_app
from app.jobs.queues import WORKER_QUEUES, get_queue


def build_worker(app: Flask, name: str | None = None) -> Worker:
    """A worker on critical > default > media > low, with our job class and maintenance interval."""
    connection = get_redis()
    return Worker(
        [get_queue(q, connection) for q in WORKER_QUEUES],
        connection=connection,
        job_class=AppJob,
        name=name,
        # RQ's defaults (600 s, 30 s) leave a killed worker's job stranded for many minutes.
        maintenance_interval=app.config["WORKER_MAINTENANCE_INTERVAL"],
        job_monitoring_interval=app.config["WORKER_JOB_MONITORING_INTERVAL"],
    )


def run_worker(app: Flask, burst: bool = False) -> None:
    """Work until stopped; the scheduler thread makes delayed retries fire."""
    set_worker_app(app)
    with app.app_context():
        # Each job runs in a forked horse: it must not reuse the parent's pooled connections.
        engine = db.engine
        os.register_at_fork(after_in_child=lambda: engine.dispose(close=False))
        build_worker(app).work(burst=burst, with_scheduler=True)
