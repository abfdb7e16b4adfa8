"""The assignment job under a real fault: the trainers table locked by another transaction.
Each attempt gives up after the lock timeout, RQ retries at 2, 4 and 8 s, then the job is
dead-lettered; the purchase is intact, and once the lock is gone a retry assigns."""

from __future__ import annotations

import time
from typing import Any

from flask import Flask
from rq import SimpleWorker
from rq.job import Job, JobStatus
from sqlalchemy import select, text

from app.extensions import db, get_redis
from app.jobs.context import AppJob
from app.jobs.queues import QueueName, get_queue
from app.tutoring.models import AllocationStatus, TrainerAllocation, TutoringPurchase
from tests.tutoring.conftest import trainer, tutoring_course
from tests.tutoring.test_assignment import EVERY_DAY, _purchase


def _work_until_final(job_id: str, limit_s: float = 45.0) -> float:
    """Run worker bursts (the scheduler enqueues due retries) until the job is finished or
    failed for good; the seconds it took."""
    redis = get_redis()
    queue = get_queue(QueueName.CRITICAL, redis)
    started = time.monotonic()
    while time.monotonic() - started < limit_s:
        SimpleWorker([queue], connection=redis, job_class=AppJob).work(
            burst=True, with_scheduler=True
        )
        job = Job.fetch(job_id, connection=redis)
        if job.get_status() in (JobStatus.FINISHED, JobStatus.FAILED):
            return time.monotonic() - started
        time.sleep(0.25)
    raise AssertionError(f"job {job_id} still {job.get_status()} after {limit_s} s")


def test_a_blocked_assignment_retries_at_2_4_8_s_then_dead_letters_and_a_retry_assigns(
    live_app: Flask, committed: Any
) -> None:
    live_app.config["TUTORING_LOCK_TIMEOUT_MS"] = 200
    course, category = tutoring_course()
    trainer([category.slug], slots=EVERY_DAY)
    purchase_id = _purchase(course.id, 1, weekday=2, hour=10)
    committed.commit()  # the purchase, and its assignment job queued after the commit
    queue = get_queue(QueueName.CRITICAL)
    (job_id,) = queue.job_ids

    with db.engine.connect() as blocker:
        held = blocker.begin()
        blocker.execute(text("LOCK TABLE trainers IN ACCESS EXCLUSIVE MODE"))
        took = _work_until_final(job_id)
        held.rollback()

    job = Job.fetch(job_id, connection=get_redis())
    assert job.get_status() is JobStatus.FAILED and job.retries_left == 0
    assert "lock timeout" in (job.exc_info or "")
    # The three waits between the four attempts: 2 + 4 + 8 s. RQ keeps a retry's time in whole
    # seconds (truncated), so each wait may come up to a second early.
    assert took >= 2 + 4 + 8 - 3
    assert job_id in queue.failed_job_registry.get_job_ids()
    committed.expire_all()
    purchase = committed.get(TutoringPurchase, purchase_id)
    assert purchase is not None and purchase.active  # a failed assignment never touches it
    assert committed.scalars(select(TrainerAllocation)).all() == []

    # The lock is gone: retrying the dead-lettered job (as the console's Retry does) assigns.
    queue.failed_job_registry.requeue(job_id)
    _work_until_final(job_id)
    committed.expire_all()
    allocation = committed.scalars(select(TrainerAllocation)).one()
    assert allocation.status is AllocationStatus.APPROVED
