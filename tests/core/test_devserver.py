"""`flask dev` as a real process tree: a child that dies is restarted; Ctrl-C stops every child and
the embedded PostgreSQL and Redis; a SIGKILLed `flask dev` leaves nothing behind after the next run.

One instance directory for the module: the first start migrates and seeds the demo data."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import psutil
import pytest

from app.config import ROOT
from tests.processes import (
    alive,
    kill_leftovers,
    postgres_pid,
    processes_mentioning,
    redis_pid,
    redis_settings,
    tree,
    wait_gone,
)

T = TypeVar("T")
FLASK = ROOT / ".venv" / "bin" / "flask"
ROLES = {"web": "gunicorn", "worker": "worker.py", "cron": "cron"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Dev:
    """One `flask dev` process on the shared instance, its output in a log file."""

    def __init__(self, instance: Path) -> None:
        self.instance, self.port = instance, _free_port()
        self.log = instance.with_name(instance.name + f"-{self.port}.log")
        drop = {"DATABASE_URL", "REDIS_URL", "TEST_DATABASE_URL", "TEST_REDIS_URL", "APP_ENV"}
        env = {k: v for k, v in os.environ.items() if k not in drop}
        env.update(
            INSTANCE_PATH=str(instance),
            PORT=str(self.port),
            WEB_CONCURRENCY="1",
            FLASK_APP="wsgi",
            PYTHONUNBUFFERED="1",
        )
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(
                [str(FLASK), "dev"],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def children(self) -> dict[str, int]:
        """web / worker / cron -> pid of the direct child running it."""
        found: dict[str, int] = {}
        try:
            kids = psutil.Process(self.proc.pid).children()
        except psutil.NoSuchProcess:
            return found
        for kid in kids:
            with_cmdline = " ".join(_cmdline(kid))
            for role, needle in ROLES.items():
                if needle in with_cmdline and alive(kid.pid):
                    found[role] = kid.pid
        return found

    def healthy(self) -> bool:
        url = f"http://127.0.0.1:{self.port}/healthz"
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                return bool(resp.status == 200)
        except OSError:
            return False

    def ready(self) -> bool:
        """All three children up, the web one with a gunicorn worker of its own, /healthz 200."""
        kids = self.children()
        return set(kids) == set(ROLES) and len(tree(kids["web"])) > 1 and self.healthy()

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]


def _cmdline(proc: psutil.Process) -> list[str]:
    try:
        return list(proc.cmdline())
    except psutil.Error:
        return []


def wait_for(dev: Dev, predicate: Callable[[], T], what: str, timeout: float = 90) -> T:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and dev.proc.poll() is None:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    state = "timed out" if dev.proc.poll() is None else f"flask dev exited ({dev.proc.returncode})"
    raise AssertionError(f"{state} waiting for {what}; flask dev output:\n{dev.tail()}")


def restarted(dev: Dev, role: str, old: int) -> Callable[[], bool]:
    return lambda: dev.children().get(role, old) != old


def server_pids(instance: Path) -> list[int]:
    """The embedded PostgreSQL (postmaster and its backends) and Redis of the instance."""
    pids: list[int] = []
    with contextlib.suppress(OSError, ValueError):
        pids.extend(tree(postgres_pid(instance / "postgres")))
    with contextlib.suppress(OSError, ValueError, KeyError):
        pids.append(redis_pid(instance / "redis"))
    return pids


def everything(dev: Dev) -> list[int]:
    return [*tree(dev.proc.pid), *server_pids(dev.instance)]


def instance_paths(instance: Path) -> list[str]:
    """Paths naming the instance's servers on a command line (the redis socket is under /tmp)."""
    paths = [str(instance)]
    with contextlib.suppress(OSError, ValueError, KeyError):
        paths.append(str(Path(redis_settings(instance / "redis")["unixsocket"]).parent))
    return paths


def interrupt(dev: Dev) -> None:
    dev.proc.send_signal(signal.SIGINT)
    try:
        dev.proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        raise AssertionError(f"flask dev did not stop on SIGINT:\n{dev.tail()}") from None


@pytest.fixture(scope="module")
def instance() -> Iterator[Path]:
    """A short path under /tmp (pgserver's socket lives in it) shared by the module's runs."""
    path = Path(tempfile.mkdtemp(prefix="cf-dev-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)
    for log in path.parent.glob(path.name + "-*.log"):
        log.unlink()


@pytest.fixture
def recorded(instance: Path) -> Iterator[list[int]]:
    """Pids a test saw; whatever of them still runs afterwards is killed (a failing test must
    not leave a process tree behind)."""
    pids: list[int] = []
    yield pids
    strays = [p.pid for p in processes_mentioning(*instance_paths(instance))]
    kill_leftovers([*pids, *server_pids(instance), *strays])


def test_dead_children_are_restarted_and_ctrl_c_stops_everything(
    instance: Path, recorded: list[int]
) -> None:
    dev = Dev(instance)
    recorded.append(dev.proc.pid)
    wait_for(dev, dev.ready, "flask dev to come up", timeout=180)
    for role in ("worker", "web"):
        old = tree(dev.children()[role])
        recorded.extend(old)
        os.kill(old[0], signal.SIGKILL)
        wait_for(dev, restarted(dev, role, old[0]), f"a new {role}")
        wait_for(dev, dev.ready, f"flask dev to be whole again after the {role} died")
        assert wait_gone(old) == []  # the dead child's whole process group, too
        assert dev.proc.poll() is None
    recorded.extend(everything(dev))
    paths = instance_paths(instance)

    interrupt(dev)

    assert dev.proc.returncode == 0, dev.tail()
    assert wait_gone(recorded) == []
    assert processes_mentioning(*paths) == []


def test_a_sigkilled_dev_leaves_nothing_running_after_a_hurried_next_run(
    instance: Path, recorded: list[int]
) -> None:
    first = Dev(instance)
    recorded.append(first.proc.pid)
    wait_for(first, first.ready, "the first flask dev to come up", timeout=180)
    recorded.extend(everything(first))
    paths = instance_paths(instance)
    first.proc.kill()  # only flask dev itself: its children and servers are left to themselves
    first.proc.wait()

    second = Dev(instance)
    recorded.append(second.proc.pid)
    wait_for(second, second.ready, "the second flask dev to come up")
    recorded.extend(everything(second))
    paths += instance_paths(instance)

    # A shutdown cut short: a second signal right after Ctrl-C skips the graceful wait.
    second.proc.send_signal(signal.SIGINT)
    second.proc.send_signal(signal.SIGTERM)
    interrupt(second)

    assert wait_gone(recorded) == [], second.tail()
    assert processes_mentioning(*paths) == []
