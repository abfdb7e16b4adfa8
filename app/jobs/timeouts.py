"""The job timeout in a worker that runs jobs in its own process (no work horse to kill).

RQ's UnixSignalDeathPenalty raises JobTimeoutException from SIGALRM in the main thread, which
interrupts a job even while it waits on PostgreSQL. But psycopg leaves the interrupted query
running: its transaction keeps its row locks, and the job's own error handling (a fresh
transaction recording the failure) can wait on those locks for ever. So before raising, the
query this process waits on is cancelled and its answer read; the transaction is then merely
failed, and rolls back as usual.

Should a job still not end (a C call that ignores signals, a handler that blocks), the process
kills itself WORKER_HARD_TIMEOUT_GRACE seconds after the timeout, as RQ's forking worker kills
its horse: the pool starts a new one and RQ's registries recover the job.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
import weakref
from types import FrameType
from typing import Any

from rq.timeouts import UnixSignalDeathPenalty
from sqlalchemy import event
from sqlalchemy.engine import Engine

log = logging.getLogger(__name__)

_checked_out: weakref.WeakSet[Any] = weakref.WeakSet()
HARD_GRACE_S = 30.0


def track_connections(engine: Engine) -> None:
    """Remember the DBAPI connections this process has checked out (idempotent)."""
    if not event.contains(engine, "checkout", _on_checkout):
        event.listen(engine, "checkout", _on_checkout)
        event.listen(engine, "checkin", _on_checkin)


def _on_checkout(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    _checked_out.add(dbapi_connection)


def _on_checkin(dbapi_connection: Any, _record: Any) -> None:
    _checked_out.discard(dbapi_connection)


def cancel_running_queries() -> int:
    """Cancel every query a checked-out connection is running, and read its answer; the
    number cancelled."""
    from psycopg import pq

    cancelled = 0
    for conn in list(_checked_out):
        pgconn = getattr(conn, "pgconn", None)
        if pgconn is None or pgconn.transaction_status != pq.TransactionStatus.ACTIVE:
            continue
        try:
            conn.cancel_safe(timeout=5.0)
            while pgconn.get_result() is not None:  # the server's "canceled" error
                pass
            cancelled += 1
        except Exception:  # a broken connection: the pool will discard it
            log.exception("event=job_timeout_cancel_failed")
    return cancelled


def _hard_kill(job_id: str | None, timeout: int) -> None:
    log.error("event=job_hard_timeout job=%s timeout=%ss: killing the worker process", job_id,
              timeout)  # fmt: skip
    os.kill(os.getpid(), signal.SIGKILL)


class _Watchdog:
    """One thread per process that kills it when a job outlives its hard deadline.

    A threading.Timer per job cost a thread start per job, and Thread.start() waits until the
    new thread runs: on a busy machine that was about a millisecond of every fulfilment. This
    thread is started once and sleeps until the earliest deadline it knows of; arming and
    disarming for a job only set the deadline, and wake it only when the new deadline comes
    before the time it sleeps until.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._deadline: float | None = None
        self._job: tuple[str | None, int] = (None, 0)
        self._wake_at: float | None = None  # None: sleeping until notified
        self._thread: threading.Thread | None = None

    def arm(self, job_id: str | None, timeout: int, grace: float) -> None:
        with self._cond:
            self._deadline = time.monotonic() + timeout + grace
            self._job = (job_id, timeout)
            if self._thread is None or not self._thread.is_alive():  # first job (or forked)
                self._wake_at = self._deadline
                self._thread = threading.Thread(target=self._run, name="job-watchdog", daemon=True)
                self._thread.start()
            elif self._wake_at is None or self._deadline < self._wake_at:
                self._cond.notify()

    def disarm(self) -> None:
        with self._cond:
            self._deadline = None  # the thread finds it gone when it next wakes

    def _run(self) -> None:
        with self._cond:
            while True:
                if self._deadline is not None and time.monotonic() >= self._deadline:
                    _hard_kill(*self._job)
                    return
                self._wake_at = self._deadline
                wait = None if self._deadline is None else self._deadline - time.monotonic()
                self._cond.wait(wait)


_watchdog = _Watchdog()


class CancellingDeathPenalty(UnixSignalDeathPenalty):
    """SIGALRM after the job's timeout: cancel the query it waits on, then raise."""

    hard_grace = HARD_GRACE_S

    def __init__(self, timeout: int, exception: type[Exception], **kwargs: Any) -> None:
        super().__init__(timeout, exception, **kwargs)  # type: ignore[no-untyped-call]
        self._job_id = kwargs.get("job_id")

    def handle_death_penalty(self, signum: int, frame: FrameType | None) -> None:
        cancelled = cancel_running_queries()
        log.warning("event=job_timeout job=%s timeout=%ss cancelled_queries=%d", self._job_id,
                    self._timeout, cancelled)  # fmt: skip
        super().handle_death_penalty(signum, frame)  # type: ignore[no-untyped-call]

    def setup_death_penalty(self) -> None:
        super().setup_death_penalty()  # type: ignore[no-untyped-call]
        if self._timeout > 0 and self.hard_grace > 0:
            _watchdog.arm(self._job_id, self._timeout, self.hard_grace)

    def cancel_death_penalty(self) -> None:
        _watchdog.disarm()
        super().cancel_death_penalty()  # type: ignore[no-untyped-call]
