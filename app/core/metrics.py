"""Prometheus series, in prometheus_client's multiprocess mode: every process (gunicorn workers,
RQ workers and their work horses) writes its samples to files under one directory, and a scrape
of /metrics adds them up.

prometheus_client picks its value class when it is first imported, from the environment variable
PROMETHEUS_MULTIPROC_DIR; so this module imports it only inside functions, after
`configure_metrics` has set the variable (create_app calls `init_metrics`; a first use inside an
app context does it too). An operator's own PROMETHEUS_MULTIPROC_DIR wins over METRICS_DIR.

Recording a sample never fails the caller: payments and jobs go on if the directory is full.
"""

from __future__ import annotations

import functools
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

from flask import Flask, current_app, has_app_context

if TYPE_CHECKING:
    from prometheus_client import Counter, Histogram

log = logging.getLogger(__name__)

ENV = "PROMETHEUS_MULTIPROC_DIR"
PREFIX = "coursefront_"
# Seconds: a webhook is fulfilled in well under a second; the seed's line is p95 > 2 s.
LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 300.0)
HTTP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# Transcoding runs minutes; the seed's line is 10 minutes.
VIDEO_BUCKETS = (10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1200.0, 1800.0, 3600.0, 7200.0)
UNMATCHED_ROUTE = "<unmatched>"  # 404s: one label value, not one per probed path

P = ParamSpec("P")
R = TypeVar("R")


@dataclass(frozen=True)
class Series:
    payments: Counter
    webhook_to_enrollment: Histogram
    webhook_events: Counter
    webhook_failures: Counter
    refunds: Counter
    refund_failures: Counter
    video_processing: Histogram
    http_duration: Histogram
    tutoring_purchases: Counter
    tutoring_assignments: Counter


_state = {"owner": False}


def configure_metrics(directory: str | Path) -> Path:
    """Point prometheus_client at `directory` (created) unless the environment already names
    one; the directory in use. The process that sets the variable owns the directory (its
    children inherit the variable); one that inherited it does not."""
    _state["owner"] = _state["owner"] or ENV not in os.environ
    chosen = Path(os.environ.setdefault(ENV, str(directory)))
    chosen.mkdir(parents=True, exist_ok=True)
    return chosen


def init_metrics(app: Flask) -> None:
    """Called from create_app, before any metric exists."""
    configure_metrics(metrics_dir(app))


def metrics_dir(app: Flask) -> str:
    return str(app.config.get("METRICS_DIR") or Path(app.instance_path) / "metrics")


def multiproc_dir() -> str | None:
    return os.environ.get(ENV)


# prometheus_client's file names: counter_<pid>.db, gauge_<mode>_<pid>.db, histogram_<pid>.db …
_SAMPLE_FILES = ("counter_*.db", "gauge_*.db", "histogram_*.db", "summary_*.db")


def wipe_metrics_dir(directory: str | Path | None = None) -> int:
    """Delete the sample files of processes of an earlier run; how many. Called by the owner
    (`flask dev`, a deploy step) before it starts any process that writes there: a live
    process's samples would be lost. Without `directory`, only the directory this process
    configured itself: one inherited belongs to the parent (a test run, an operator's shell).
    Other files are left alone, so a directory such as /tmp named by mistake loses nothing."""
    if directory is None and not _state["owner"]:
        return 0
    chosen = directory or multiproc_dir()
    if not chosen or not Path(chosen).is_dir():
        return 0
    files = [f for pattern in _SAMPLE_FILES for f in Path(chosen).glob(pattern)]
    for file in files:
        file.unlink(missing_ok=True)
    return len(files)


def mark_process_dead(pid: int, directory: str | None = None) -> None:
    """A process that wrote samples has exited (a gunicorn or RQ worker): its live gauges go.
    Its counters and histograms stay, so totals never go down while the others run."""
    chosen = directory or multiproc_dir()
    if not chosen or not Path(chosen).is_dir():
        return
    try:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid, chosen)  # type: ignore[no-untyped-call]
    except Exception:  # an exiting process must not fail on its metrics
        log.warning("event=metric_mark_dead_failed pid=%s", pid, exc_info=True)


def warm_up_metrics() -> None:
    """Worker start-up: make the series now. The first job to count something would otherwise
    import prometheus_client (~70 ms), and on a sale day that is the burst's first payment."""
    series()


@functools.cache
def series() -> Series:
    """The series, made on first use (after the directory is set)."""
    if multiproc_dir() is None and has_app_context():
        init_metrics(current_app)
    from prometheus_client import Counter, Histogram

    def counter(name: str, doc: str, labels: tuple[str, ...]) -> Counter:
        return Counter(PREFIX + name, doc, labels)

    return Series(
        payments=counter("payments", "Payments reaching a final status.", ("provider", "status")),
        webhook_to_enrollment=Histogram(
            PREFIX + "webhook_to_enrollment_seconds",
            "From the first webhook of an order to its enrollments.",
            ("provider",),
            buckets=LATENCY_BUCKETS,
        ),
        webhook_events=counter(
            "webhook_events", "Webhook events processed, by outcome.", ("provider", "status")
        ),
        webhook_failures=counter(
            "webhook_failures", "Webhook processing attempts that raised.", ("provider",)
        ),
        refunds=counter("refunds", "Refund executions, by outcome.", ("provider", "status")),
        refund_failures=counter("refund_failures", "Refunds the provider refused.", ("provider",)),
        video_processing=Histogram(
            PREFIX + "video_processing_seconds",
            "Transcoding one upload.",
            ("outcome",),
            buckets=VIDEO_BUCKETS,
        ),
        http_duration=Histogram(
            PREFIX + "http_request_duration_seconds",
            "Time to answer a request, by route.",
            ("method", "route"),
            buckets=HTTP_BUCKETS,
        ),
        tutoring_purchases=counter(
            "tutoring_purchases",
            "Tutoring purchase creations: created, existing (a replay), failed (raised).",
            ("outcome",),
        ),
        tutoring_assignments=counter(
            "tutoring_assignments",
            "Trainer assignment attempts: approved, pending (an admin decides), failed (raised).",
            ("outcome",),
        ),
    )


def _safely(record: Callable[[Series], Any]) -> None:
    try:
        record(series())
    except Exception:  # a metric must never fail a payment or a job
        log.warning("event=metric_failed", exc_info=True)


def count_payment(provider: str, status: str) -> None:
    _safely(lambda s: s.payments.labels(provider, status).inc())


def observe_webhook_to_enrollment(provider: str, seconds: float) -> None:
    _safely(lambda s: s.webhook_to_enrollment.labels(provider).observe(max(seconds, 0.0)))


def count_webhook_event(provider: str, status: str) -> None:
    _safely(lambda s: s.webhook_events.labels(provider, status).inc())


def count_webhook_failure(provider: str) -> None:
    """A processing attempt raised: counted as a failure and as a `failed` event outcome."""
    count_webhook_event(provider, "failed")
    _safely(lambda s: s.webhook_failures.labels(provider).inc())


def count_refund(provider: str, status: str) -> None:
    _safely(lambda s: s.refunds.labels(provider, status).inc())
    if status == "failed":
        _safely(lambda s: s.refund_failures.labels(provider).inc())


def count_tutoring_purchase(outcome: str) -> None:
    """`created`, `existing` (the key was known: a replay) or `failed` (creation raised)."""
    _safely(lambda s: s.tutoring_purchases.labels(outcome).inc())


def count_tutoring_assignment(outcome: str) -> None:
    """One assignment attempt: `approved`, `pending` or `failed` (raised; RQ retries it)."""
    _safely(lambda s: s.tutoring_assignments.labels(outcome).inc())


def observe_request(method: str, route: str | None, seconds: float) -> None:
    route = route or UNMATCHED_ROUTE
    _safely(lambda s: s.http_duration.labels(method, route).observe(seconds))


def timed_video_processing(func: Callable[P, R]) -> Callable[P, R]:
    """Decorate the transcode step: its wall time, outcome `ok` or `failed` (it raised)."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        started, outcome = time.monotonic(), "failed"
        try:
            result = func(*args, **kwargs)
            outcome = "ok"
            return result
        finally:
            elapsed = time.monotonic() - started
            _safely(lambda s: s.video_processing.labels(outcome).observe(elapsed))

    return wrapper


def collect_text(*extra: Any) -> bytes:
    """The exposition text: every process's samples added up, and `extra` collectors (values
    computed at scrape time, such as queue depths)."""
    from prometheus_client import CollectorRegistry, generate_latest
    from prometheus_client.multiprocess import MultiProcessCollector

    registry = CollectorRegistry()
    directory = multiproc_dir()
    if directory and Path(directory).is_dir():
        MultiProcessCollector(registry, path=directory)  # type: ignore[no-untyped-call]
    for collector in extra:
        registry.register(collector)
    return generate_latest(registry)


def content_type() -> str:
    from prometheus_client import CONTENT_TYPE_LATEST

    return str(CONTENT_TYPE_LATEST)
