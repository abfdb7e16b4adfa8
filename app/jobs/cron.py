"""The scheduler: RQ's CronScheduler in a loop that rides out Redis outages.

    python -m app.jobs.cron [--schedule app.jobs.schedule] [--url REDIS_URL] [--max-backoff 30]

`rq cron` exits on its first Redis error. This runner logs the error, backs off (1, 2, 4 … 30 s)
and carries on with the same schedule: a job that fell due during the outage is enqueued as
soon as Redis answers again, and the scheduler registers itself again if Redis lost its data.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import signal
import time
from types import FrameType

from redis import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from rq.cron import CronScheduler
from rq.exceptions import SchedulerNotFound, StopRequested

from app.config import load_config
from app.core.logging import setup_logging
from app.extensions import redis_client

log = logging.getLogger("app.jobs.cron")
REDIS_DOWN = (RedisConnectionError, RedisTimeoutError)
SCHEDULE = "app.jobs.schedule"
MAX_BACKOFF_S = 30.0


def build_scheduler(connection: Redis, schedule: str = SCHEDULE) -> CronScheduler:
    """A CronScheduler with the jobs `schedule` registers (loading it needs no Redis)."""
    scheduler = CronScheduler(connection=connection)
    scheduler.load_config_from_file(schedule)
    return scheduler


def tick(scheduler: CronScheduler) -> float:
    """Enqueue what is due and send the heartbeat; the seconds until the next round."""
    if scheduler.enqueue_jobs():
        scheduler.save()  # the next run times, for `rq cron` monitoring
    scheduler.heartbeat()
    return float(scheduler.calculate_sleep_interval())


class Runner:
    """Runs the scheduler's rounds; a Redis error costs a logged warning and a back-off."""

    def __init__(self, scheduler: CronScheduler, max_backoff: float = MAX_BACKOFF_S) -> None:
        self.scheduler = scheduler
        self.max_backoff = max_backoff
        self.backoff = min(1.0, max_backoff)
        self.registered = False
        self.down = False

    def round(self) -> float:
        """One round; the seconds to sleep before the next one."""
        try:
            if not self.registered:
                self.scheduler.register_birth()
                self.registered = True
            pause = tick(self.scheduler)
        except REDIS_DOWN as exc:
            log.warning("event=scheduler_redis_down error=%r retry_in=%.1fs", exc, self.backoff)
            self.down, pause = True, self.backoff
            self.backoff = min(self.backoff * 2, self.max_backoff)
            return pause
        if self.down:
            log.info("event=scheduler_redis_back")
        self.down, self.backoff = False, min(1.0, self.max_backoff)
        return pause

    def run(self) -> None:
        """Until SIGTERM or SIGINT."""
        log.info("event=scheduler_started name=%s", self.scheduler.name)
        try:
            while True:
                time.sleep(self.round())
        except (StopRequested, KeyboardInterrupt):
            log.info("event=scheduler_stopping name=%s", self.scheduler.name)
        finally:
            # Redis down, or restarted empty since the last heartbeat: nothing to unregister.
            with contextlib.suppress(SchedulerNotFound, *REDIS_DOWN):
                self.scheduler.register_death()


def _raise_stop(_signum: int, _frame: FrameType | None) -> None:
    raise StopRequested()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m app.jobs.cron", description=__doc__)
    parser.add_argument("--schedule", default=SCHEDULE, help="module that calls rq.cron.register")
    parser.add_argument("--url", default="", help="Redis URL (default: REDIS_URL)")
    parser.add_argument(
        "--max-backoff",
        type=float,
        default=MAX_BACKOFF_S,
        help="longest wait between two attempts while Redis is down",
    )
    args = parser.parse_args(argv)
    config = load_config()
    setup_logging(config["LOG_LEVEL"])
    url = args.url or config["REDIS_URL"]
    if not url:
        parser.error("REDIS_URL is not set (or pass --url)")
    signal.signal(signal.SIGTERM, _raise_stop)
    signal.signal(signal.SIGINT, _raise_stop)
    connection = redis_client({**config, "REDIS_URL": url})
    Runner(build_scheduler(connection, args.schedule), args.max_backoff).run()


if __name__ == "__main__":
    main()
