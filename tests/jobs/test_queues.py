"""Jobs leave a transaction only when it commits, and a real RQ worker runs them."""

from flask import Flask
from redis import Redis
from rq import SimpleWorker
from sqlalchemy.orm import Session

from app.extensions import db, get_redis
from app.jobs.context import AppJob
from app.jobs.maintenance import HEARTBEAT_KEY, record_heartbeat
from app.jobs.queues import QueueName, enqueue_after_commit, get_queue
from app.payments.jobs import CRITICAL_RETRY


def _queued(name: QueueName) -> int:
    return get_queue(name).count


def test_enqueued_after_commit_and_run_by_a_worker(app: Flask, db_session: Session) -> None:
    enqueue_after_commit(record_heartbeat, queue=QueueName.LOW)
    assert _queued(QueueName.LOW) == 0  # nothing leaves before commit
    db.session.commit()
    assert _queued(QueueName.LOW) == 1
    redis: Redis = get_redis()
    worker = SimpleWorker([get_queue(QueueName.LOW)], connection=redis, job_class=AppJob)
    assert worker.work(burst=True)
    assert redis.get(HEARTBEAT_KEY) is not None
    assert _queued(QueueName.LOW) == 0


def test_the_jobs_of_one_commit_leave_together_in_one_transaction(
    app: Flask, db_session: Session
) -> None:
    redis: Redis = get_redis()
    before = _exec_calls(redis)
    enqueue_after_commit(record_heartbeat, queue=QueueName.LOW)
    enqueue_after_commit(record_heartbeat, queue=QueueName.DEFAULT, retry=CRITICAL_RETRY)
    db.session.commit()
    assert _queued(QueueName.LOW) == 1 and _queued(QueueName.DEFAULT) == 1
    assert _exec_calls(redis) == before + 1  # one MULTI/EXEC for both
    (job,) = get_queue(QueueName.DEFAULT).get_jobs()
    assert job.retries_left == CRITICAL_RETRY.max


def _exec_calls(redis: Redis) -> int:
    stats = redis.info("commandstats")
    return int(stats.get("cmdstat_exec", {}).get("calls", 0))


def test_dropped_on_rollback(app: Flask, db_session: Session) -> None:
    enqueue_after_commit(record_heartbeat, queue=QueueName.LOW)
    db.session.rollback()
    db.session.commit()
    assert _queued(QueueName.LOW) == 0


def test_enqueue_failure_is_logged_not_raised(app: Flask, db_session: Session, caplog) -> None:  # type: ignore[no-untyped-def]
    real = app.extensions["redis"]
    app.extensions["redis"] = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)
    try:
        enqueue_after_commit(record_heartbeat, queue=QueueName.LOW)
        db.session.commit()  # must not raise: the transaction's work is already durable
    finally:
        app.extensions["redis"] = real
    assert "event=enqueue_failed" in caplog.text


def test_schedule_module_registers_jobs() -> None:
    from rq import cron

    from app.jobs import schedule

    cron._job_data_registry.clear()
    import importlib

    importlib.reload(schedule)
    names = [d["func"].__name__ for d in cron._job_data_registry]
    cron._job_data_registry.clear()
    assert "record_heartbeat" in names


def test_a_released_savepoint_does_not_send_its_jobs_early(app: Flask, db_session: Session) -> None:
    """SQLAlchemy's after_commit also fires when a savepoint is released: the jobs queued inside
    it must still wait for the real commit (and go with its rollback)."""
    with db.session.begin_nested():
        enqueue_after_commit(record_heartbeat, queue=QueueName.LOW)
    assert _queued(QueueName.LOW) == 0
    db.session.rollback()
    db.session.commit()
    assert _queued(QueueName.LOW) == 0
    with db.session.begin_nested():
        enqueue_after_commit(record_heartbeat, queue=QueueName.LOW)
    assert _queued(QueueName.LOW) == 0
    db.session.commit()
    assert _queued(QueueName.LOW) == 1
