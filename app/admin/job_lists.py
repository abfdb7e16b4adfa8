"""The jobs console's list of one queue (registry "queued") or one of its registries: a page of
it, a search by function name or job id, and the same list as CSV rows.

RQ lists a registry by id only, so a search reads the newest SEARCH_SCAN ids and their jobs (one
pipeline) and matches there; Redis round trips stay bounded however big the registry is."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from app.admin.jobs_console import JobView, QueueCounts, describe_many, registry_of
from app.admin.web import CSV_LIMIT
from app.core.pagination import Page
from app.jobs.queues import QueueName, get_queue

if TYPE_CHECKING:
    from rq import Queue
    from rq.job import Job

SEARCH_SCAN = 2_000  # ids a search reads, newest first
EXPORT_CHUNK = 500  # jobs fetched per pipeline in an export


def registry_size(counts: Sequence[QueueCounts], queue: QueueName, registry: str) -> int:
    """How many jobs the chosen list holds (from the counts the page already read)."""
    return next((c[registry] for c in counts if c.name == queue.value), 0)


def _ids(queue: Queue, registry: str, start: int, length: int) -> list[str]:
    """Ids in list order: a queue oldest first (as it runs), a registry newest first."""
    if registry == "queued":
        return queue.get_job_ids(offset=start, length=length)
    return registry_of(queue, registry).get_job_ids(start, start + length - 1, desc=True)


def _newest_ids(queue: Queue, registry: str) -> list[str]:
    if registry == "queued":  # the tail of the list: the last ones enqueued
        return queue.get_job_ids(offset=-SEARCH_SCAN, length=SEARCH_SCAN)
    return _ids(queue, registry, 0, SEARCH_SCAN)


def _fetch(queue: Queue, ids: Sequence[str]) -> list[Job]:
    jobs = queue.job_class.fetch_many(ids, connection=queue.connection)
    return [job for job in jobs if job is not None]


def _func(job: Job) -> str:
    try:
        return str(job.func_name)
    except Exception:  # data that does not unpickle here: only the id can match
        return ""


def _matching(queue: Queue, registry: str, q: str) -> list[Job]:
    """The newest SEARCH_SCAN jobs whose id or function name holds q, any case."""
    needle = q.lower()
    jobs = _fetch(queue, _newest_ids(queue, registry))
    return [job for job in jobs if needle in job.id.lower() or needle in _func(job).lower()]


def list_jobs(
    queue_name: QueueName, registry: str, page: int, per_page: int, q: str = ""
) -> Page[JobView]:
    """One page of the list (newest first for registries), or of the jobs matching q."""
    queue = get_queue(queue_name)
    start = (page - 1) * per_page
    if q:
        found = _matching(queue, registry, q)
        jobs, total = found[start : start + per_page], len(found)
    else:
        total = queue.count if registry == "queued" else registry_of(queue, registry).count
        jobs = _fetch(queue, _ids(queue, registry, start, per_page))
    return Page(items=describe_many(jobs), page=page, per_page=per_page, total=total)


JOB_CSV_HEADER = (
    "id",
    "queue",
    "status",
    "function",
    "args",
    "kwargs",
    "enqueued",
    "started",
    "ended",
    "exception",
)


def _chunks(queue: Queue, registry: str, q: str) -> Iterator[list[Job]]:
    if q:
        yield _matching(queue, registry, q)
        return
    ids = _ids(queue, registry, 0, CSV_LIMIT)
    for start in range(0, len(ids), EXPORT_CHUNK):
        yield _fetch(queue, ids[start : start + EXPORT_CHUNK])


def _iso(when: datetime | None) -> str:
    return when.isoformat() if when else ""


def job_csv_rows(queue_name: QueueName, registry: str, q: str = "") -> Iterator[tuple[Any, ...]]:
    """The list as the page shows it (q included), at most CSV_LIMIT jobs, fetched in chunks;
    arguments clipped as on the page, an exception as its last line."""
    queue = get_queue(queue_name)
    for jobs in _chunks(queue, registry, q):
        for job in describe_many(jobs):
            yield (
                job.id,
                job.queue,
                job.status,
                job.func,
                job.args,
                job.kwargs,
                _iso(job.enqueued_at),
                _iso(job.started_at),
                _iso(job.ended_at),
                job.exc.strip().splitlines()[-1] if job.exc and job.exc.strip() else "",
            )
