"""RQ, read and acted on for the jobs console: each queue's registries, one job's details
(its function, arguments and exception), retry and delete, and the workers alive (the lists of
jobs are in job_lists.py).

Reads go to Redis only, a bounded number of round trips per page (counts in one pipeline, one
page of jobs fetched together, their exceptions in one more)."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from app.core.errors import DomainError
from app.extensions import get_redis
from app.jobs.queues import WORKER_QUEUES, QueueName, get_queue

if TYPE_CHECKING:
    from redis import Redis
    from rq import Queue
    from rq.job import Job
    from rq.registry import BaseRegistry

# "queued" is the queue itself; the rest are RQ's registries of that queue.
REGISTRIES = ("queued", "started", "scheduled", "deferred", "failed", "finished", "canceled")
GAUGE_STATES = ("queued", "started", "scheduled", "failed")
REPR_LIMIT = 300
EXC_LIMIT = 20_000
_JOB_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")


class JobNotFound(LookupError):
    pass


class JobNotRetryable(ValueError):
    pass


@dataclass(frozen=True)
class QueueCounts:
    name: str
    counts: dict[str, int]

    def __getitem__(self, state: str) -> int:
        return self.counts.get(state, 0)


@dataclass(frozen=True)
class JobView:
    id: str
    queue: str
    status: str
    func: str
    args: str
    kwargs: str
    enqueued_at: datetime | None
    started_at: datetime | None
    ended_at: datetime | None
    exc: str | None
    retries_left: int | None
    worker: str | None

    @property
    def retryable(self) -> bool:
        return self.status in ("failed", "canceled", "stopped")


@dataclass(frozen=True)
class WorkerView:
    name: str
    state: str
    queues: list[str]
    current_job: str | None
    current_func: str | None
    last_heartbeat: datetime | None
    birth_date: datetime | None
    successful: int
    failed: int
    hostname: str | None = None
    pid: int | None = None


def registry_of(queue: Queue, name: str) -> BaseRegistry:
    registries: dict[str, BaseRegistry] = {
        "started": queue.started_job_registry,
        "scheduled": queue.scheduled_job_registry,
        "deferred": queue.deferred_job_registry,
        "failed": queue.failed_job_registry,
        "finished": queue.finished_job_registry,
        "canceled": queue.canceled_job_registry,
    }
    return registries[name]


def queue_counts(redis: Redis | None = None) -> list[QueueCounts]:
    """Every worker queue's depth and registry sizes, in one round trip."""
    redis = redis or get_redis()
    queues = [get_queue(name, redis) for name in WORKER_QUEUES]
    with redis.pipeline() as pipe:
        for queue in queues:
            pipe.llen(queue.key)
            for name in REGISTRIES[1:]:
                pipe.zcard(registry_of(queue, name).key)
        results = pipe.execute()
    width = len(REGISTRIES)
    return [
        QueueCounts(
            q.name, dict(zip(REGISTRIES, results[i * width : (i + 1) * width], strict=True))
        )
        for i, q in enumerate(queues)
    ]


def parse_queue(raw: str) -> QueueName:
    try:
        return QueueName(raw)
    except ValueError:
        return WORKER_QUEUES[0]


class BadJobFilter(DomainError):
    code = "bad_filter"
    status = 400


DEFAULT_REGISTRY = "failed"  # the dead-letter queue: what an admin comes here for


def choose_filters(
    raw_queue: str, raw_registry: str, counts: Sequence[QueueCounts]
) -> tuple[QueueName, str]:
    """The queue and registry asked for; junk is refused (400), not silently swapped for a
    default. No queue named: the first one with jobs in that registry."""
    registry = raw_registry or DEFAULT_REGISTRY
    if registry not in REGISTRIES:
        raise BadJobFilter(f"Unknown registry {registry!r}: use one of {', '.join(REGISTRIES)}.")
    if not raw_queue:
        first = next((QueueName(c.name) for c in counts if c[registry]), WORKER_QUEUES[0])
        return first, registry
    if raw_queue not in {q.value for q in WORKER_QUEUES}:
        names = ", ".join(q.value for q in WORKER_QUEUES)
        raise BadJobFilter(f"Unknown queue {raw_queue!r}: use one of {names}.")
    return QueueName(raw_queue), registry


def _clip(text: str, limit: int = REPR_LIMIT) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _safe(read: Any, default: str | None = "?") -> Any:
    try:
        return read()
    except Exception:  # arguments that do not unpickle here (a class this process lacks)
        return default


def _exc(job: Job) -> str | None:
    result = _safe(job.latest_result, None)
    text = getattr(result, "exc_string", None)
    return _clip(text, EXC_LIMIT) if text else None


def _status(job: Job) -> str:
    status = _safe(lambda: job.get_status(refresh=False))
    return str(getattr(status, "value", status))


def _view(job: Job, exc: str | None) -> JobView:
    return JobView(
        id=job.id,
        queue=job.origin,
        status=_status(job),
        func=str(_safe(lambda: job.func_name)),
        args=_clip(_safe(lambda: ", ".join(repr(a) for a in job.args))),
        kwargs=_clip(_safe(lambda: ", ".join(f"{k}={v!r}" for k, v in job.kwargs.items()))),
        enqueued_at=job.enqueued_at,
        started_at=job.started_at,
        ended_at=job.ended_at,
        exc=exc,
        retries_left=job.retries_left,
        worker=job.worker_name,
    )


def describe(job: Job) -> JobView:
    """One job's view; a failed job's exception costs one more round trip."""
    return _view(job, _exc(job) if _status(job) == "failed" else None)


def describe_many(jobs: Sequence[Job]) -> list[JobView]:
    """The jobs' views, the failed ones' exceptions read in one pipeline (not one trip each)."""
    from rq.results import Result

    failed = [job for job in jobs if _status(job) == "failed"]
    if not failed:
        return [_view(job, None) for job in jobs]
    with failed[0].connection.pipeline() as pipe:
        for job in failed:
            key = Result.get_key(job.id)  # type: ignore[no-untyped-call]  # rq leaves it untyped
            pipe.xrevrange(key, "+", "-", count=1)
        replies = dict(zip((job.id for job in failed), pipe.execute(), strict=True))
    return [_view(job, _exc_of(job, replies.get(job.id))) for job in jobs]


def _exc_of(job: Job, reply: Any) -> str | None:
    """The exception in a job's latest result, as read by describe_many (what _exc reads)."""
    from rq.results import Result

    if not reply:
        return None
    result_id, payload = reply[0]

    def restore() -> Any:
        return Result.restore(job.id, result_id.decode(), payload, job.connection, job.serializer)

    text = getattr(_safe(restore, None), "exc_string", None)
    return _clip(text, EXC_LIMIT) if text else None


def _load(job_id: str) -> Job:
    from rq.exceptions import NoSuchJobError

    from app.jobs.context import AppJob

    if not _JOB_ID.match(job_id):
        raise JobNotFound(job_id)
    try:
        return AppJob.fetch(job_id, connection=get_redis())
    except NoSuchJobError as err:
        raise JobNotFound(job_id) from err


def get_job(job_id: str) -> JobView:
    return describe(_load(job_id))


def retry_job(job_id: str) -> JobView:
    """Put a failed (or canceled/stopped) job back at the end of its queue."""
    from rq.exceptions import InvalidJobOperation

    job = _load(job_id)
    before = describe(job)
    if not before.retryable:
        raise JobNotRetryable(job_id)
    queue = get_queue(parse_queue(job.origin))
    registry = queue.failed_job_registry if before.status == "failed" else _other(queue, before)
    try:
        registry.requeue(job)
    except InvalidJobOperation as err:  # someone else retried or deleted it first
        raise JobNotRetryable(job_id) from err
    return before


def _other(queue: Queue, view: JobView) -> BaseRegistry:
    registry: BaseRegistry = (
        queue.canceled_job_registry if view.status == "canceled" else queue.failed_job_registry
    )
    return registry


def delete_job(job_id: str) -> JobView:
    """Remove a job, its queue entry and its registry entries."""
    job = _load(job_id)
    before = describe(job)
    job.delete()
    return before


def list_workers(redis: Redis | None = None) -> list[WorkerView]:
    from rq import Worker

    from app.jobs.context import AppJob

    redis = redis or get_redis()
    views = []
    for worker in Worker.all(connection=redis, job_class=AppJob):
        job = _safe(worker.get_current_job, None)
        views.append(
            WorkerView(
                name=worker.name,
                state=str(worker.get_state()),
                queues=worker.queue_names(),
                current_job=job.id if job else None,
                current_func=_safe(lambda j=job: j.func_name, None) if job else None,
                last_heartbeat=worker.last_heartbeat,
                birth_date=worker.birth_date,
                successful=worker.successful_job_count,
                failed=worker.failed_job_count,
                hostname=worker.hostname,
                pid=worker.pid,
            )
        )
    return sorted(views, key=lambda w: w.name)


class RQCollector:
    """coursefront_rq_jobs{queue,state}, read from Redis at scrape time."""

    def describe(self) -> list[Any]:
        return []  # computed on collect; nothing to check at registration

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import GaugeMetricFamily

        family = GaugeMetricFamily(
            "coursefront_rq_jobs", "Jobs per RQ queue and state.", labels=("queue", "state")
        )
        for counts in queue_counts():
            for state in GAUGE_STATES:
                family.add_metric((counts.name, state), counts[state])
        yield family
