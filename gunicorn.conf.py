"""gunicorn's settings file, read from the working directory (`flask dev` starts gunicorn in the
repository; so does the production unit in the README). Command-line flags win over it."""

from typing import Any


def child_exit(_server: Any, worker: Any) -> None:
    """A web worker exited: prometheus_client drops its live gauges; its counters and
    histograms stay in the totals (app/core/metrics.py). Runs in the master, which has not
    imported the app: the directory comes from the environment or the config."""
    from app.config import load_config
    from app.core.metrics import mark_process_dead, multiproc_dir

    mark_process_dead(worker.pid, multiproc_dir() or load_config()["METRICS_DIR"])
