"""Start an RQ worker on critical, default, media and low (in that priority) inside the app.

python worker.py [--burst] [--max-backoff SECONDS] [--sweep-every SECONDS]
"""

import argparse

from app import create_app
from app.jobs.worker import MAX_BACKOFF_S, SWEEP_EVERY_S, run_worker

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Start an RQ worker inside the app.")
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
    args = parser.parse_args()
    run_worker(create_app(), args.burst, args.sweep_every, args.max_backoff)
