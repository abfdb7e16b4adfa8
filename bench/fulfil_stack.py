"""Starting and stopping the stack the fulfilment benchmarks run against (bench/fulfilment.py,
bench/worker_memory.py): `flask dev` with a fresh INSTANCE_PATH, or gunicorn + worker.py + cron
with APP_ENV=production against the system PostgreSQL and Redis."""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
WEBHOOK_SECRET = "whsec_bench_fulfilment"
SECRET_KEY = "bench-fulfilment-" + "k" * 40


def _stack_env(args: argparse.Namespace, instance: Path) -> dict[str, str]:
    env = {
        **os.environ,
        "PYTHONUNBUFFERED": "1",
        "INSTANCE_PATH": str(instance),
        "PORT": str(args.port),
        "LOG_LEVEL": args.log_level,
        "STRIPE_SECRET_KEY": "sk_test_bench",
        "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        # Nothing on the fulfilment path calls Stripe; a call would fail fast here.
        "STRIPE_API_BASE": "http://127.0.0.1:9",
        "FLASK_APP": "wsgi",
    }
    if args.worker_processes:
        env["WORKER_PROCESSES"] = str(args.worker_processes)
    if args.setup == "production":
        env.update(
            APP_ENV="production",
            SECRET_KEY=SECRET_KEY,
            DATABASE_URL=args.database_url,
            REDIS_URL=args.redis_url,
            SESSION_COOKIE_SECURE="false",
            SANDBOX_PAYMENTS="off",
        )
    else:
        env["APP_ENV"] = "development"
        env["SANDBOX_PAYMENTS"] = "on"  # `flask dev` seeds the demo shop's orders through it
        env.pop("DATABASE_URL", None)
        env.pop("REDIS_URL", None)
    return env


def _bin(name: str) -> str:
    return str(ROOT / ".venv" / "bin" / name)


def _start(argv: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    out = log.open("ab")
    return subprocess.Popen(
        argv, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
    )


def _reset_database(url: str) -> None:
    import sqlalchemy as sa

    admin_url, name = url.rsplit("/", 1)[0] + "/postgres", url.rsplit("/", 1)[1]
    engine = sa.create_engine(
        admin_url.replace("postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT"
    )
    with engine.connect() as conn:
        found = conn.execute(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name})
        if found.scalar() is None:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public"))
    engine.dispose()


def start_stack(args: argparse.Namespace, instance: Path) -> list[subprocess.Popen[bytes]]:
    env = _stack_env(args, instance)
    log = instance / "stack.log"
    if args.setup == "dev":
        return [_start([_bin("flask"), "dev"], env, log)]
    import redis

    _reset_database(args.database_url)
    redis.Redis.from_url(args.redis_url).flushdb()
    subprocess.run([_bin("flask"), "db", "upgrade"], cwd=ROOT, env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    web = [_bin("gunicorn"), "wsgi:app", "--bind", f"127.0.0.1:{args.port}", "--workers",
           str(args.web_workers), "--limit-request-line", "8190",
           "--control-socket", str(instance / "gunicorn.ctl")]  # fmt: skip
    procs = [_start(web, env, log)]
    procs += [_start([sys.executable, "worker.py"], env, log) for _ in range(args.worker_commands)]
    procs.append(_start([sys.executable, "-m", "app.jobs.cron"], env, log))
    return procs


def stop_stack(procs: list[subprocess.Popen[bytes]]) -> None:
    for proc in procs:
        _killpg(proc.pid, signal.SIGTERM)
    deadline = time.monotonic() + 20
    for proc in procs:
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        _killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def _killpg(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def wait_healthy(port: int, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"the stack did not answer on port {port} within {timeout:.0f} s")


def bench_app(args: argparse.Namespace, instance: Path) -> Any:
    os.environ.update(_stack_env(args, instance))
    from app import create_app

    return create_app({"LOG_LEVEL": "WARNING"})
