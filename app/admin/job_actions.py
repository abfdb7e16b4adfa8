"""What an admin does to an RQ job from the console: retry a failed one, delete one. The change
is made in Redis, then its audit row is written in the caller's transaction (a refusal raises
before anything changes, so nothing is written)."""

from __future__ import annotations

from typing import Any

from app.accounts.audit import Actor, Diff, Target, record_audit
from app.admin import jobs_console
from app.admin.jobs_console import JobNotFound, JobNotRetryable, JobView
from app.core.errors import DomainError, NotFound


class JobActionRefused(DomainError):
    """The job is not in a state the action applies to (or someone else acted on it first)."""

    code = "job_not_retryable"
    status = 409


def find_job(job_id: str) -> JobView:
    """The job with this id, or NotFound (404) when Redis has no such job (expired, deleted)."""
    try:
        return jobs_console.get_job(job_id)
    except JobNotFound as err:
        raise NotFound("No job with that id: it finished and expired, or was deleted.") from err


def refusal(job: JobView) -> JobActionRefused:
    return JobActionRefused(
        f"This job is {job.status}: only a failed, canceled or stopped job can be retried."
    )


def _target(job: JobView) -> Target:
    return Target("job", job.id, f"{job.func} ({job.queue})")


def _state(job: JobView) -> dict[str, Any]:
    return {
        "status": job.status,
        "queue": job.queue,
        "func": job.func,
        "args": job.args,
        "kwargs": job.kwargs,
        "retries_left": job.retries_left,
    }


def retry_job(job_id: str, who: Actor, reason: str) -> JobView:
    """Put the failed job back on its queue (a worker runs it again); the job as it is now."""
    try:
        before = jobs_console.retry_job(job_id)
    except JobNotFound as err:
        raise NotFound("No job with that id: it was deleted meanwhile.") from err
    except JobNotRetryable as err:  # retried or deleted by someone else since the page showed
        raise refusal(find_job(job_id)) from err
    after = find_job(job_id)
    record_audit(who, "job.retry", _target(before), Diff(_state(before), _state(after)), reason)
    return after


def delete_job(job_id: str, who: Actor, reason: str) -> JobView:
    """Remove the job (queue entry, registries, arguments, result) from Redis; the job as it was."""
    try:
        before = jobs_console.delete_job(job_id)
    except JobNotFound as err:
        raise NotFound("No job with that id: it was deleted meanwhile.") from err
    diff = Diff(_state(before), {"status": "deleted"})
    record_audit(who, "job.delete", _target(before), diff, reason)
    return before
