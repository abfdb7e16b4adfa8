"""Queues and the after-commit enqueue helper. Jobs leave a transaction only if it commits."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from flask import current_app
from redis import Redis
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from app.extensions import db, get_redis

if TYPE_CHECKING:
    from rq import Queue, Retry

log = logging.getLogger(__name__)


class QueueName(StrEnum):
    CRITICAL = "critical"
    DEFAULT = "default"
    MEDIA = "media"
    LOW = "low"


WORKER_QUEUES = [QueueName.CRITICAL, QueueName.DEFAULT, QueueName.MEDIA, QueueName.LOW]


@dataclass(frozen=True)
class RetryPolicy:
    """RQ's Retry, as data: web processes import RQ only when they first enqueue (8 MB)."""

    max: int
    intervals: list[int]

    def rq(self) -> Retry:
        from rq import Retry

        return Retry(max=self.max, interval=list(self.intervals))


def warm_up_enqueue() -> None:
    """A web worker of a shop that takes payments: import RQ before the first webhook enqueues
    its job (~60 ms a worker, while the burst queues behind it). Other web workers import it
    on their first enqueue, if any."""
    import rq  # noqa: F401


# The only two retry policies; every enqueue names one of them, never a Retry(...) of its own.
# Seed 003: the critical path (webhooks, refunds) retries 3 times, after 2, 4 and 8 seconds,
# then the job waits in RQ's failed registry (the dead-letter queue).
CRITICAL_RETRY = RetryPolicy(max=3, intervals=[2, 4, 8])
# Notification jobs (receipts, refund notices, account emails): the same rhythm today, a
# separate name so mail can back off differently without touching the payment path.
NOTIFY_RETRY = RetryPolicy(max=3, intervals=[2, 4, 8])
# Transcoding: a killed worker or a transient ffmpeg failure tries again a little later.
MEDIA_RETRY = RetryPolicy(max=3, intervals=[10, 60, 300])


def get_queue(name: QueueName, connection: Redis | None = None) -> Queue:
    from rq import Queue

    from app.jobs.context import AppJob

    return Queue(name.value, connection=connection or get_redis(), job_class=AppJob)


# A job is its function, or its dotted path ("app.payments.jobs.execute_refund"), which RQ
# imports in the worker: services name the job of a module that imports them (no cycle).
JobFunc = Callable[..., Any] | str


@dataclass
class PendingJob:
    func: JobFunc
    args: tuple[Any, ...]
    queue: QueueName
    retry: RetryPolicy | None = None
    options: dict[str, Any] = field(default_factory=dict)


_KEY = "coursefront_pending_jobs"


def enqueue_after_commit(
    func: JobFunc,
    *args: Any,
    queue: QueueName = QueueName.DEFAULT,
    retry: RetryPolicy | None = None,
    **options: Any,
) -> None:
    """Enqueue func(*args) once the current transaction commits; dropped if it rolls back."""
    db.session.connection()  # begin the transaction now, so its rollback is seen and drops these
    pending: list[PendingJob] = db.session.info.setdefault(_KEY, [])
    pending.append(PendingJob(func, args, queue, retry, options))


def enqueue_now(job: PendingJob) -> bool:
    """Put one job on its queue; False (logged) when Redis is unreachable."""
    return enqueue_all([job])


def enqueue_all(jobs: list[PendingJob]) -> bool:
    """Put the jobs on their queues in one Redis round trip (one MULTI/EXEC: all or none);
    False (logged) when Redis is unreachable."""
    try:
        with get_redis().pipeline() as pipe:
            for job in jobs:
                func: Any = job.func  # RQ takes either; its stubs want one or the other
                retry = job.retry.rq() if job.retry is not None else None
                queue = get_queue(job.queue)
                queue.enqueue(func, *job.args, retry=retry, pipeline=pipe, **job.options)
            pipe.execute()
    except Exception:  # Redis down: the caller's outbox row (if any) keeps the work
        calls = [
            f"{job.func if isinstance(job.func, str) else job.func.__name__}{job.args}"
            for job in jobs
        ]
        log.exception("event=enqueue_failed jobs=%s", calls)
        return False
    return True


def _flush(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint released (after_commit fires for those too): wait for the commit
    pending: list[PendingJob] = session.info.pop(_KEY, [])
    if not pending or not current_app:
        return
    enqueue_all(pending)


def _drop(session: Session, previous: SessionTransaction) -> None:
    # A rolled-back savepoint inside a service keeps the outer transaction's jobs.
    if previous.parent is None and not previous.nested:
        session.info.pop(_KEY, None)


def install_session_hooks() -> None:
    """Wire the after-commit and after-rollback hooks on every session (idempotent)."""
    if not event.contains(Session, "after_commit", _flush):
        event.listen(Session, "after_commit", _flush)
        event.listen(Session, "after_soft_rollback", _drop)
