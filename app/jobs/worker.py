"""Start an RQ worker for our queues inside the app; it rides out Redis outages.

The worker runs each job in its own process (RQ's SimpleWorker: no work horse forked per job),
in an app context over a pool of database connections that outlives the job. The job timeout
is still enforced: RQ arms SIGALRM in this (main) thread around every job
(UnixSignalDeathPenalty), and the job ends with JobTimeoutException; app/jobs/timeouts.py first
cancels the query it waits on, and kills the process if the job still does not end.
`app/jobs/pool.py` runs several of these processes; one of them takes critical jobs only.

RQ's own loop retries a lost connection only while it waits for a job; a Redis error anywhere
else (starting up, between jobs, shutting down) ends `Worker.work`. `run_worker` then backs off
(1, 2, 4 … `max_backoff` s) and starts a fresh worker, until it is asked to stop.
Each worker process also sweeps stuck webhook events on start-up and every minute, so payments
are not left waiting when the scheduler is down.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from types import FrameType
from typing import Any

from flask import Flask
from redis import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from rq import SimpleWorker
from rq.exceptions import StopRequested
from rq.scheduler import SCHEDULER_KEY_TEMPLATE, RQScheduler
from rq.scripts import release_lock

from app.core.metrics import mark_process_dead
from app.extensions import db, redis_client
from app.jobs.context import AppJob, set_worker_app
from app.jobs.queues import WORKER_QUEUES, QueueName, get_queue
from app.jobs.schedule import WORKER_SWEEPS, WORKER_WARMUPS
from app.jobs.timeouts import CancellingDeathPenalty, track_connections
from app.supervisor import alive, die_with_parent

log = logging.getLogger(__name__)
REDIS_DOWN = (RedisConnectionError, RedisTimeoutError)
SWEEP_EVERY_S = 60.0
MAX_BACKOFF_S = 30.0


class AppWorker(SimpleWorker):
    """A worker that remembers being asked to stop, so a return from `work()` without that
    request is known to be RQ giving up on Redis."""

    stop_requested = False
    death_penalty_class = CancellingDeathPenalty

    def handle_warm_shutdown_request(self) -> None:
        self.stop_requested = True
        super().handle_warm_shutdown_request()  # type: ignore[no-untyped-call]

    @property
    def dequeue_timeout(self) -> int:
        # RQ runs maintenance (taking a free scheduler lock among it) only between blocking
        # pops, which wait up to 405 s: an idle worker would take over the lock of a killed
        # one, and fire the delayed retries it held, minutes late. Wake every interval.
        return max(1, min(super().dequeue_timeout, self.maintenance_interval))

    def run_maintenance_tasks(self) -> None:
        # A scheduler of this host that dies after this worker started (a pool sibling killed
        # with SIGKILL) leaves locks nobody takes for 61 s: free them every round instead.
        scheduler = self.scheduler
        if scheduler is not None and release_dead_schedulers(self.connection, self.queue_names()):
            if scheduler._process is not None and scheduler._process.is_alive():
                # It schedules only the queues it held when it started: restart it with all.
                self.stop_scheduler()
            scheduler.acquire_locks(auto_start=True)  # type: ignore[no-untyped-call]
        super().run_maintenance_tasks()  # type: ignore[no-untyped-call]


def worker_queues(app: Flask) -> list[QueueName]:
    """The queues of WORKER_QUEUES, in our priority order whatever order they are named in."""
    wanted = {str(name) for name in app.config.get("WORKER_QUEUES") or WORKER_QUEUES}
    unknown = wanted - {q.value for q in WORKER_QUEUES}
    if unknown:
        raise ValueError(f"WORKER_QUEUES names unknown queues: {', '.join(sorted(unknown))}")
    return [q for q in WORKER_QUEUES if q.value in wanted]


def build_worker(app: Flask, name: str | None = None) -> AppWorker:
    """A worker on WORKER_QUEUES (critical > default > media > low), with our job class and
    maintenance interval."""
    # Its own client: RQ raises the socket timeout above its blocking-pop timeout, and the
    # app's client (used by the jobs) must keep its short one.
    connection = redis_client(app.config, socket_timeout=None)
    return AppWorker(
        [get_queue(q, connection) for q in worker_queues(app)],
        connection=connection,
        job_class=AppJob,
        name=name,
        # RQ's defaults (600 s, 30 s) leave a killed worker's job stranded for many minutes.
        maintenance_interval=app.config["WORKER_MAINTENANCE_INTERVAL"],
        job_monitoring_interval=app.config["WORKER_JOB_MONITORING_INTERVAL"],
    )


def release_dead_schedulers(connection: Redis, queue_names: Iterable[str]) -> int:
    """Free the scheduler locks of our queues held by a scheduler process of this host that
    is gone (a worker killed with SIGKILL); the number freed.

    RQ's lock outlives its holder by up to 61 s, and until then no worker fires the delayed
    retries of those queues (a killed job's retry among them). A holder on another host, or
    not registered yet, is left alone.
    """
    freed = 0
    for name in queue_names:
        key = RQScheduler.get_locking_key(name)
        owner = connection.get(key)
        if owner is None:
            continue
        token = owner.decode() if isinstance(owner, bytes) else str(owner)
        info = {
            (k.decode() if isinstance(k, bytes) else k): (v.decode() if isinstance(v, bytes) else v)
            for k, v in connection.hgetall(SCHEDULER_KEY_TEMPLATE % token).items()
        }
        if info.get("hostname") != socket.gethostname() or not info.get("pid", "").isdigit():
            continue
        if not alive(int(info["pid"])) and release_lock(connection, key, token):
            log.warning("event=scheduler_lock_freed queue=%s dead_pid=%s", name, info["pid"])
            freed += 1
    return freed


def run_sweeps(app: Flask, sweeps: Sequence[Callable[[], Any]] = WORKER_SWEEPS) -> None:
    """Run each sweep once in its own app context; a failure is logged, never raised."""
    with app.app_context():
        for sweep in sweeps:
            try:
                sweep()
            except Exception:  # the next round tries again
                db.session.rollback()
                log.exception("event=worker_sweep_failed sweep=%s", sweep.__name__)
        db.session.remove()


def start_sweeper(app: Flask, every: float = SWEEP_EVERY_S) -> threading.Thread:
    """A daemon thread running the sweeps every `every` seconds (work horses don't inherit it)."""

    def _loop() -> None:
        while True:
            time.sleep(every)
            run_sweeps(app)

    thread = threading.Thread(target=_loop, name="coursefront-sweeper", daemon=True)
    thread.start()
    return thread


def _stop_on_signal() -> None:
    """Between two workers nobody listens for SIGTERM/SIGINT: make them end the loop."""

    def _raise(_signum: int, _frame: FrameType | None) -> None:
        raise StopRequested()

    signal.signal(signal.SIGTERM, _raise)
    signal.signal(signal.SIGINT, _raise)


def work_through_outages(app: Flask, burst: bool, max_backoff: float = MAX_BACKOFF_S) -> None:
    """Run RQ workers one after another until one is asked to stop (or a burst is done)."""
    backoff = min(1.0, max_backoff)
    while True:
        try:
            worker = build_worker(app)  # talks to Redis (CLIENT SETNAME)
            backoff = min(1.0, max_backoff)
            release_dead_schedulers(worker.connection, worker.queue_names())
            # RQ writes four INFO lines for every job: noise at sale-day rates. Failures still
            # log (WARNING and up); RQ_LOG_LEVEL=INFO brings the per-job lines back.
            worker.work(burst=burst, with_scheduler=True, logging_level=app.config["RQ_LOG_LEVEL"])
            if burst or worker.stop_requested:
                return
            log.warning("event=worker_restarting reason=rq_work_loop_ended")
        except REDIS_DOWN as exc:
            if burst:
                raise
            log.warning("event=worker_redis_down error=%r retry_in=%.1fs", exc, backoff)
        _stop_on_signal()
        time.sleep(backoff)
        backoff = min(backoff * 2, max_backoff)


def run_worker(
    app: Flask,
    burst: bool = False,
    sweep_every: float = SWEEP_EVERY_S,
    max_backoff: float = MAX_BACKOFF_S,
) -> None:
    """Sweep once, then work until stopped; the scheduler thread makes delayed retries fire."""
    set_worker_app(app)
    with app.app_context():
        # Jobs run in this process; should anything fork, the child opens its own connections.
        engine = db.engine
        os.register_at_fork(after_in_child=lambda: engine.dispose(close=False))
        # RQ's scheduler process (forked by each worker) ends with its worker, even a killed one.
        os.register_at_fork(after_in_child=die_with_parent)
        track_connections(engine)  # a timed-out job's query is cancelled (app/jobs/timeouts.py)
        CancellingDeathPenalty.hard_grace = app.config.get("WORKER_HARD_TIMEOUT_GRACE", 30.0)
        run_sweeps(app, WORKER_WARMUPS)
        run_sweeps(app)
        if not burst:
            _stop_on_signal()
            start_sweeper(app, sweep_every)
        try:
            work_through_outages(app, burst, max_backoff)
        except StopRequested:
            log.info("event=worker_stopped")
        finally:
            mark_process_dead(os.getpid())  # its samples stay in the totals; live gauges go
