"""`flask dev`: migrate, seed on first start, then run web + worker + scheduler in one terminal.

This process owns the embedded PostgreSQL and Redis (when no URLs are set) and hands their URLs
to the processes it starts, so all of them share one database and one Redis. Ctrl-C stops all.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass
from typing import IO, Any

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from flask_migrate import upgrade

from app import embedded
from app.config import ROOT, child_environment

COLOURS = {"web": "\033[36m", "worker": "\033[33m", "cron": "\033[35m"}
RESET = "\033[0m"
DEMO_LOGINS = [
    "admin@example.com",
    "teacher1@example.com … teacher3@example.com",
    "trainer1@example.com, trainer2@example.com",
    "student1@example.com … student5@example.com",
]


@dataclass
class Child:
    name: str
    process: subprocess.Popen[bytes]


def _commands(app: Flask) -> dict[str, list[str]]:
    python = sys.executable
    bindir = ROOT / ".venv" / "bin"
    gunicorn = str(bindir / "gunicorn") if (bindir / "gunicorn").exists() else "gunicorn"
    rq = str(bindir / "rq") if (bindir / "rq").exists() else "rq"
    return {
        "web": [
            gunicorn,
            "wsgi:app",
            "--bind",
            f"127.0.0.1:{app.config['PORT']}",
            "--workers",
            str(app.config["WEB_CONCURRENCY"]),
            "--access-logfile",
            "-",
        ],
        "worker": [python, "worker.py"],
        "cron": [rq, "cron", "app.jobs.schedule", "--url", app.config["REDIS_URL"]],
    }


def _pump(name: str, stream: IO[bytes]) -> None:
    colour = COLOURS.get(name, "")
    for raw in iter(stream.readline, b""):
        line = raw.decode(errors="replace").rstrip()
        sys.stdout.write(f"{colour}{name:>6} |{RESET} {line}\n")
        sys.stdout.flush()


def _start(app: Flask) -> list[Child]:
    env = child_environment(
        DATABASE_URL=app.config["DATABASE_URL"],
        REDIS_URL=app.config["REDIS_URL"],
        PYTHONUNBUFFERED="1",
    )
    children = []
    for name, cmd in _commands(app).items():
        proc = subprocess.Popen(  # noqa: S603 - fixed argv of our own tools
            cmd,
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        assert proc.stdout is not None
        threading.Thread(target=_pump, args=(name, proc.stdout), daemon=True).start()
        children.append(Child(name, proc))
    return children


def _stop(children: list[Child]) -> None:
    for child in children:
        if child.process.poll() is None:
            child.process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 10
    for child in children:
        try:
            child.process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.process.kill()
            child.process.wait()


def _wait_until_up(url: str, children: list[Child], timeout: float = 60) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(c.process.poll() is not None for c in children):
            return False
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:  # noqa: S310 - our own localhost
                if resp.status == 200:
                    return True
        except OSError:
            time.sleep(0.3)
    return False


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
    from app.demo import seed_demo
    from app.extensions import db

    click.echo("Applying database migrations…")
    upgrade()
    if get_user_by_email("admin@example.com") is None:
        click.echo("First start: adding demo data…")
        seed_demo()
        db.session.commit()
    db.session.remove()
    db.engine.dispose()  # the children open their own connections


@click.command("dev")
@with_appcontext
def dev_command() -> None:
    """Set up the database and run web, worker and scheduler until Ctrl-C."""
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    if app.config["APP_ENV"] == "production":
        raise click.ClickException("`flask dev` is for development; see the README for production.")
    _prepare()
    children = _start(app)
    stopping = threading.Event()

    def _on_signal(_signum: int, _frame: Any) -> None:
        stopping.set()

    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)
    if _wait_until_up(f"http://127.0.0.1:{app.config['PORT']}/healthz", children):
        _banner(app)
    while not stopping.is_set():
        dead = [c for c in children if c.process.poll() is not None]
        if dead:
            click.echo(f"{dead[0].name} exited with code {dead[0].process.returncode}; stopping.")
            break
        stopping.wait(0.5)
    click.echo("Stopping web, worker and scheduler…")
    _stop(children)
    embedded.stop_all()
    click.echo("Stopped.")
