"""`flask dev`: migrate, seed on first start, then run web + worker + scheduler in one terminal.

This process owns the embedded PostgreSQL and Redis (when no URLs are set) and hands their URLs
to the processes it starts, so all of them share one database and one Redis. A child that dies is
restarted after a backoff (app/supervisor.py). Ctrl-C or SIGTERM stops the children, then the
embedded servers; a second one skips the graceful wait, and the servers are still stopped.
"""

from __future__ import annotations

import signal
import sys
import urllib.request
from pathlib import Path
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from flask_migrate import upgrade

from app import embedded
from app.config import ROOT, child_environment
from app.core.metrics import wipe_metrics_dir
from app.supervisor import SignalFlag, Supervisor

COLOURS = {"web": "\033[36m", "worker": "\033[33m", "cron": "\033[35m"}
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
DEMO_LOGINS = [
    "admin@example.com",
    "teacher1@example.com … teacher3@example.com",
    "trainer1@example.com, trainer2@example.com",
    "student1@example.com … student5@example.com",
]


def _commands(app: Flask) -> dict[str, list[str]]:
    python = sys.executable
    bindir = ROOT / ".venv" / "bin"
    gunicorn = str(bindir / "gunicorn") if (bindir / "gunicorn").exists() else "gunicorn"
    return {
        "web": [
            gunicorn,
            "wsgi:app",
            "--bind",
            f"127.0.0.1:{app.config['PORT']}",
            "--workers",
            str(app.config["WEB_CONCURRENCY"]),
            # No --access-logfile: the app logs each request once (app/core/logging.py).
            # Not the default ~/.gunicorn/gunicorn.ctl, which every instance on a machine shares.
            "--control-socket",
            str(Path(app.config["INSTANCE_PATH"]) / "gunicorn.ctl"),
            # gunicorn's default (4094 bytes) answers a long search URL with a bare 400 page
            "--limit-request-line",
            "8190",
        ],
        "worker": [python, "worker.py"],
        # Not `rq cron`: that exits on a Redis outage; ours backs off and resumes.
        "cron": [python, "-m", "app.jobs.cron", "--url", app.config["REDIS_URL"]],
    }


def _environment(app: Flask) -> dict[str, str]:
    return child_environment(
        DATABASE_URL=app.config["DATABASE_URL"],
        REDIS_URL=app.config["REDIS_URL"],
        PYTHONUNBUFFERED="1",
    )


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:  # noqa: S310 - our own localhost
            return bool(resp.status == 200)
    except OSError:
        return False


class _StopSignals:
    """The first SIGINT, SIGTERM or SIGHUP asks for an orderly stop; a second one hurries it
    (children are killed at once; the embedded servers are still stopped)."""

    def __init__(self) -> None:
        self.stopping, self.hurry = SignalFlag(), SignalFlag()
        for sig in STOP_SIGNALS:
            signal.signal(sig, self._handle)

    def _handle(self, _signum: int, _frame: Any) -> None:
        if self.stopping.is_set():
            self.hurry.set()
        self.stopping.set()


def _supervise(app: Flask, supervisor: Supervisor, stopping: SignalFlag) -> None:
    """Restart children that die until asked to stop; show the banner once the site answers."""
    url = f"http://127.0.0.1:{app.config['PORT']}/healthz"
    announced = False
    while not stopping.is_set():
        supervisor.poll()
        if not announced and _answers(url):
            _banner(app)
            announced = True
        stopping.wait(0.5)


def _banner(app: Flask) -> None:
    url = f"http://127.0.0.1:{app.config['PORT']}"
    lines = [
        "",
        f"  Coursefront is running at {url}",
        "",
        "  Demo logins (password: demo12345):",
        *[f"    {x}" for x in DEMO_LOGINS],
        "",
        "  Press Ctrl-C to stop web, worker and scheduler.",
        "",
    ]
    click.echo("\n".join(lines))


def _prepare() -> None:
    from app.accounts.queries import get_user_by_email
    from app.core.unit import committing
    from app.demo import seed_demo
    from app.extensions import db

    click.echo("Applying database migrations…")
    upgrade()
    if get_user_by_email("admin@example.com") is None:
        click.echo("First start: adding demo data…")
        with committing():
            seed_demo()
    db.session.remove()
    db.engine.dispose()  # the children open their own connections


@click.command("dev")
@with_appcontext
def dev_command() -> None:
    """Set up the database and run web, worker and scheduler until Ctrl-C."""
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    if app.config["APP_ENV"] == "production":
        raise click.ClickException("`flask dev` is for development; see the README for production.")
    # Until the supervisor takes over, SIGTERM and SIGHUP end `flask dev` as Ctrl-C does: with
    # an exception, so the embedded servers are stopped at exit (app/embedded.py).
    for sig in STOP_SIGNALS[1:]:
        signal.signal(sig, signal.default_int_handler)
    # This process owns the metrics directory: emptied before any child writes there (a child
    # restarted later adds to the totals instead).
    wipe_metrics_dir()
    _prepare()
    signals = _StopSignals()
    supervisor = Supervisor(_commands(app), _environment(app), cwd=ROOT, colours=COLOURS)
    try:
        supervisor.start()
        _supervise(app, supervisor, signals.stopping)
    finally:
        click.echo("Stopping web, worker and scheduler…")
        supervisor.stop(signals.hurry)
        embedded.stop_all()
    click.echo("Stopped.")
