"""Worker memory over a long run: 10,000 jobs through `python worker.py`, RSS sampled.

    .venv/bin/python bench/worker_memory.py [--jobs 10000] [--sample-every 1000]

Starts the production worker setup (APP_ENV=production, the system PostgreSQL and Redis of
BENCH_DATABASE_URL / BENCH_REDIS_URL; the schema is recreated, the Redis db flushed), then
enqueues a mix of real jobs: a receipt for an existing order (template rendering, a notification
upsert), the webhook sweep (a query), a webhook event that does not exist (a row lock attempt)
and the scheduler heartbeat (Redis). Every `--sample-every` finished jobs it prints each worker
process's RSS; at the end, first vs last sample and their ratio (flat: close to 1.0).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import fulfil_stack
import fulfilment as stack  # bench/fulfilment.py: the same orders

MIX = (
    "app.checkout.jobs.send_order_receipt",
    "app.payments.jobs.sweep_webhook_events",
    "app.payments.jobs.process_webhook_event",
    "app.jobs.maintenance.record_heartbeat",
)


def _children(pid: int) -> list[psutil.Process]:
    """The RQ worker processes under `python worker.py` (the pool's children, or itself)."""
    try:
        proc = psutil.Process(pid)
        kids = proc.children(recursive=True)
    except psutil.NoSuchProcess:
        return []
    return kids or [proc]


def _rss_mb(procs: list[psutil.Process]) -> list[float]:
    out = []
    for proc in procs:
        try:
            out.append(proc.memory_info().rss / 2**20)
        except psutil.NoSuchProcess:
            out.append(float("nan"))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--sample-every", type=int, default=1_000)
    args, rest = parser.parse_known_args(argv)
    conf = stack.parse_args(["--setup", "production", "--worker-commands", "1", *rest])
    instance = Path(tempfile.mkdtemp(prefix="fulfil-mem-", dir="/tmp"))
    procs = fulfil_stack.start_stack(conf, instance)
    worker = procs[1]
    try:
        fulfil_stack.wait_healthy(conf.port)
        app = fulfil_stack.bench_app(conf, instance)
        with app.app_context():
            return _run(args, worker.pid)
    finally:
        fulfil_stack.stop_stack(procs)


def _run(args: argparse.Namespace, worker_pid: int) -> int:
    from app.extensions import db
    from app.jobs.queues import QueueName, get_queue

    order_id = stack.prepare_orders(1, "mem")[0][0]
    queue = get_queue(QueueName.DEFAULT)
    time.sleep(3)  # the pool's processes start
    procs = _children(worker_pid)
    pids = {p.pid for p in procs}
    for proc in procs:  # the pool's workers, and the RQ scheduler process one of them forked
        role = "RQ scheduler of " + str(proc.ppid()) if proc.ppid() in pids else "worker"
        print(f"process {proc.pid}: {role} {' '.join(proc.cmdline()[-2:])}")
    samples = [_rss_mb(procs)]
    print(f"{0:>6} jobs  RSS MB {' '.join(f'{x:7.1f}' for x in samples[0])}")
    done, started = 0, time.monotonic()
    while done < args.jobs:
        batch = min(args.sample_every, args.jobs - done)
        datas = []
        for i in range(batch):
            func = MIX[i % len(MIX)]
            call_args = (order_id,) if "receipt" in func else (0,) if "event" in func else ()
            datas.append(queue.prepare_data(func, call_args))
        jobs = queue.enqueue_many(datas)
        while queue.count or any(j.get_status(refresh=True) in ("queued", "started")
                                 for j in jobs[-5:]):  # fmt: skip
            time.sleep(0.2)
        done += batch
        samples.append(_rss_mb(procs))
        print(f"{done:>6} jobs  RSS MB {' '.join(f'{x:7.1f}' for x in samples[-1])}")
    took = time.monotonic() - started
    print(f"{done} jobs in {took:.1f} s ({done / took:.0f} jobs/s)")
    for i, proc in enumerate(procs):
        first, last = samples[0][i], samples[-1][i]
        after_warmup = samples[1][i]
        print(f"process {proc.pid}: first {first:.1f} MB, after {args.sample_every} jobs "
              f"{after_warmup:.1f} MB, last {last:.1f} MB, last/first {last / first:.2f}, "
              f"last/after-warm-up {last / after_warmup:.2f}")  # fmt: skip
    db.session.remove()
    db.engine.dispose()
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    raise SystemExit(main())
