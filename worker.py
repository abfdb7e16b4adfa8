"""Start the app's RQ workers: WORKER_PROCESSES processes (default one per core, at least 2),
the first on the critical queue alone, the others on critical, default, media and low (in that
priority). See app/jobs/pool.py.

python worker.py [--burst] [--max-backoff SECONDS] [--sweep-every SECONDS]
python worker.py --single [--queues critical,default]   # one process, no pool
"""

import argparse

from app.config import load_config
from app.jobs.worker import MAX_BACKOFF_S, SWEEP_EVERY_S


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description="Start RQ workers inside the app.")
    parser.add_argument("--burst", action="store_true", help="work until the queues are empty")
    parser.add_argument(
        "--max-backoff",
        type=float,
        default=MAX_BACKOFF_S,
        help="longest wait between two attempts while Redis is down",
    )
    parser.add_argument(
        "--sweep-every",
        type=float,
        default=SWEEP_EVERY_S,
        help="seconds between two sweeps of stuck webhook events",
    )
    parser.add_argument("--single", action="store_true", help="one worker process, no pool")
    parser.add_argument("--queues", default="", help="comma-separated (default: WORKER_QUEUES)")
    return parser


if __name__ == "__main__":
    args = _parser().parse_args()
    config = load_config()
    # A burst run (tests, one-off drains) and a pool of one need no pool process.
    if args.single or args.burst or config["WORKER_PROCESSES"] == 1:
        from app import create_app
        from app.jobs.worker import run_worker

        overrides = {"WORKER_QUEUES": tuple(args.queues.split(","))} if args.queues else None
        run_worker(create_app(overrides), args.burst, args.sweep_every, args.max_backoff)
    else:
        from app.jobs.pool import run_pool

        extra = ["--max-backoff", str(args.max_backoff), "--sweep-every", str(args.sweep_every)]
        run_pool(config, extra)
