"""`python worker.py`: several worker processes, one of them on the critical queue alone.

A job spends most of its time waiting on PostgreSQL and Redis, so one process per core keeps
the cores busy without crowding out the web and database processes on the same machine
(WORKER_PROCESSES, 0 = one per core and at least 2). The first WORKER_CRITICAL_PROCESSES take
critical jobs only: a backlog of receipts and other mail never delays a payment. The others
take every queue, critical first.

The processes are this one's children, in its process group: `kill -9 -PGID` (and `flask dev`
stopping or restarting the worker) reaches all of them, as it reached RQ's work horses. One
that dies is started again (app/supervisor.py); SIGTERM or SIGINT stops them all, each after
its current job (at most WORKER_STOP_TIMEOUT seconds).
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Mapping
from typing import Any

from app.config import ROOT
from app.jobs.queues import WORKER_QUEUES, QueueName
from app.supervisor import SignalFlag, Supervisor

ALL_QUEUES = ",".join(q.value for q in WORKER_QUEUES)


def process_count(config: Mapping[str, Any]) -> int:
    """WORKER_PROCESSES, or one per CPU core (at least 2: critical alone, and the rest)."""
    configured = int(config.get("WORKER_PROCESSES") or 0)
    return configured if configured > 0 else max(2, os.cpu_count() or 1)


def plan(config: Mapping[str, Any], extra: list[str] | None = None) -> dict[str, list[str]]:
    """Name -> command line of each worker process."""
    total = process_count(config)
    critical = min(max(0, int(config.get("WORKER_CRITICAL_PROCESSES") or 0)), total - 1)
    base = [sys.executable, str(ROOT / "worker.py"), "--single", *(extra or [])]
    commands = {}
    for i in range(total):
        queues = QueueName.CRITICAL.value if i < critical else ALL_QUEUES
        commands[f"w{i + 1}"] = [*base, "--queues", queues]
    return commands


class WorkerSupervisor(Supervisor):
    """Children in our process group, each stopped by its pid."""

    own_groups = False
    label = "pool"


def run_pool(config: Mapping[str, Any], extra: list[str] | None = None) -> None:
    """Run the planned worker processes until SIGTERM or SIGINT, restarting any that dies."""
    stopping = SignalFlag()
    hurry = SignalFlag()

    def _handle(_signum: int, _frame: Any) -> None:
        if stopping.is_set():
            hurry.set()
        stopping.set()

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, _handle)
    supervisor = WorkerSupervisor(plan(config, extra), dict(os.environ), cwd=ROOT)
    supervisor.stop_timeout = float(config.get("WORKER_STOP_TIMEOUT") or 30.0)
    supervisor.start()
    try:
        while not stopping.is_set():
            supervisor.poll()
            stopping.wait(0.5)
    finally:
        supervisor.stop(hurry)
