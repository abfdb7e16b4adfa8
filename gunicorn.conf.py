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


def post_worker_init(worker: Any) -> None:
    """A web worker is about to serve its first request: build the configured payment providers
    now. Each imports its SDK on first use (Stripe's takes 0.1-0.3 s of CPU, more with aiohttp
    installed), and on a sale day that first use is the first webhook of a burst, with every
    worker importing at once while the burst queues behind them (bench/fulfilment.py); RQ, which
    the first webhook's enqueue would import, goes with them. A shop without Stripe or Razorpay
    imports none of these."""
    app = worker.wsgi
    if getattr(app, "import_name", None) != "app":  # another app served from here (bench/lean_ref)
        return
    from app.jobs.queues import warm_up_enqueue
    from app.payments.jobs import warm_up_providers

    with app.app_context():
        if warm_up_providers():
            warm_up_enqueue()  # each webhook enqueues a job
