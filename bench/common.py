"""Shared bench helpers: database URLs, server processes, wrk runs and their parsing, RSS.

Only the HTTP routes, the migrations and the table names of the app are relied on here.
"""

from __future__ import annotations

import json
import math
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
LUA = BENCH / "lua"
VENV_BIN = ROOT / ".venv" / "bin"
PG_SERVER = "postgresql://postgres@127.0.0.1:5432"
REDIS_URL = "redis://127.0.0.1:6379/13"
# 32+ characters so check_config accepts it; only ever used against the bench databases.
SECRET_KEY = "bench-secret-key-0123456789abcdef0123456789"


def db_url(name: str) -> str:
    return f"{PG_SERVER}/{name}"


def connect(name: str, autocommit: bool = True) -> psycopg.Connection:
    return psycopg.connect(db_url(name), autocommit=autocommit)


def ensure_database(name: str) -> None:
    with psycopg.connect(db_url("postgres"), autocommit=True) as conn:
        found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not found:
            conn.execute(f'CREATE DATABASE "{name}"')


def reset_schema(name: str) -> None:
    """Drop and recreate the public schema (extensions in it go too; the migrations re-add them)."""
    ensure_database(name)
    with connect(name) as conn:
        conn.execute("DROP SCHEMA IF EXISTS public CASCADE")
        conn.execute("CREATE SCHEMA public")


def app_env(database: str, **extra: str) -> dict[str, str]:
    """The production configuration's environment for the app (and for `flask db upgrade`)."""
    env = dict(os.environ)
    env.update(
        APP_ENV="production",
        SECRET_KEY=SECRET_KEY,
        DATABASE_URL=db_url(database),
        REDIS_URL=REDIS_URL,
        SESSION_COOKIE_SECURE="0",  # plain http on localhost
        LOG_LEVEL="WARNING",  # a log line per request would be measured too
        PYTHONDONTWRITEBYTECODE="1",
    )
    env.update(extra)
    return env


def migrate(database: str) -> None:
    subprocess.run(
        [str(VENV_BIN / "flask"), "--app", "wsgi", "db", "upgrade"],
        cwd=ROOT,
        env=app_env(database, LOG_LEVEL="WARNING"),
        check=True,
        stdout=subprocess.DEVNULL,
    )


def has_columns(conn: psycopg.Connection, table: str, *columns: str) -> bool:
    rows = conn.execute(
        "SELECT column_name FROM information_schema.columns "
        "WHERE table_schema = 'public' AND table_name = %s",
        (table,),
    ).fetchall()
    names = {r[0] for r in rows}
    return all(c in names for c in columns)


# --- servers -------------------------------------------------------------------------------


@dataclass
class Server:
    name: str
    port: int
    proc: subprocess.Popen[bytes]
    log: Path

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)


@dataclass
class Servers:
    """Every server a run starts; stopped together at the end, also on Ctrl-C or an error."""

    items: list[Server] = field(default_factory=list)

    def add(self, server: Server) -> Server:
        self.items.append(server)
        return server

    def stop_all(self) -> None:
        # A second Ctrl-C (or a signal forwarded twice) must not leave servers behind.
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            for server in reversed(self.items):
                server.stop()
            self.items.clear()
        finally:
            signal.signal(signal.SIGINT, previous)

    def __enter__(self) -> Servers:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop_all()


def gunicorn(
    name: str, app: str, port: int, env: dict[str, str], log_dir: Path
) -> subprocess.Popen[bytes]:
    """gunicorn with 2 sync workers (the production configuration) in its own process group."""
    log_dir.mkdir(parents=True, exist_ok=True)
    log = (log_dir / f"{name}.log").open("wb")
    cmd = [
        str(VENV_BIN / "gunicorn"),
        app,
        "--workers",
        "2",
        "--worker-class",
        "sync",
        "--bind",
        f"127.0.0.1:{port}",
        "--log-level",
        "warning",
        "--timeout",
        "60",
    ]
    return subprocess.Popen(
        cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )


def wait_http(port: int, path: str, timeout: float = 30.0) -> None:
    """Wait until GET path answers (any status below 500)."""
    import http.client

    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", path)
            status = conn.getresponse().status
            conn.close()
            if status < 500:
                return
            last = status
        except OSError as exc:
            last = exc
        time.sleep(0.2)
    raise RuntimeError(f"port {port} did not answer {path} within {timeout}s (last: {last!r})")


def port_free(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


def children_rss_kb(master_pid: int) -> list[int]:
    """VmRSS in kB of each of the master's children, from /proc."""
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        if fields.get("PPid", "").strip() == str(master_pid):
            out.append(int(fields.get("VmRSS", "0 kB").split()[0]))
    return out


def worker_rss_kb(master_pid: int) -> tuple[int, int]:
    """(sum of VmRSS of the master's children in kB, number of children)."""
    sizes = children_rss_kb(master_pid)
    return sum(sizes), len(sizes)


# --- wrk -----------------------------------------------------------------------------------


@dataclass
class WrkResult:
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    bad_status: int
    socket_errors: int
    added: int | None = None  # scripts that check each answer count the real adds


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    body: str = ""


def write_requests(path: Path, requests: Iterable[Request]) -> Path:
    """One request per line for bench/lua/requests.lua: method, path, body, then headers (TSV)."""
    lines = []
    for r in requests:
        heads = [f"{k}: {v}" for k, v in r.headers.items()]
        for part in (r.path, r.body, *heads):
            if "\t" in part or "\n" in part:
                raise ValueError(f"tab or newline in request part {part!r}")
        lines.append("\t".join([r.method, r.path, r.body, *heads]))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    return path


@dataclass
class WrkSettings:
    duration: int
    connections: int
    threads: int = 2


def run_wrk(port: int, script: Path, script_args: Sequence[str], wrk: WrkSettings) -> WrkResult:
    """wrk --latency with a script printing `BENCHJSON {...}` (bench/lua/requests.lua's keys)."""
    cmd = [
        "wrk",
        f"-t{wrk.threads}",
        f"-c{wrk.connections}",
        f"-d{wrk.duration}s",
        "--latency",
        "--timeout",
        "10s",
        "-s",
        str(script),
        f"http://127.0.0.1:{port}",
        "--",
        *script_args,
    ]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    line = next((ln for ln in out.splitlines() if ln.startswith("BENCHJSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no summary:\n{out}")
    data = json.loads(line[len("BENCHJSON ") :])
    seconds = data["duration_us"] / 1e6
    return WrkResult(
        rps=data["requests"] / seconds if seconds else 0.0,
        p50_ms=data["p50_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        requests=data["requests"],
        bad_status=max(data["status"], data.get("bad", 0)),
        socket_errors=data["connect"] + data["read"] + data["write"] + data["timeout"],
        added=data.get("added"),
    )


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else 0.0


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile of a small sample."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(pct / 100 * len(ordered))))
    return ordered[rank - 1]


def say(*parts: object) -> None:
    print(*parts, flush=True)
    sys.stdout.flush()


# --- the app in this process (statement counts, visitor cookies) ---------------------------


def make_app(database: str) -> object:
    """Coursefront's Flask app in this process, configured like the benchmarked servers."""
    os.environ.update(app_env(database))
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from app import create_app

    return create_app()


def url_for_app(app: object, endpoint: str, **values: object) -> str:
    """A route's path from the app's url_map (so the bench follows renamed URLs)."""
    from flask import Flask, url_for

    assert isinstance(app, Flask)
    with app.test_request_context("/"):
        return url_for(endpoint, **values)


def mint_visitors(app: object, count: int) -> list[tuple[str, str]]:
    """(session cookie value, csrf token) of `count` new visitors who have loaded one page.

    The app's own session interface and flask_wtf's generate_csrf, with the bench SECRET_KEY:
    exactly the cookie a first page view hands out when the page has a form.
    """
    from flask import Flask, session
    from flask_wtf.csrf import generate_csrf

    assert isinstance(app, Flask)
    serializer = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
    out = []
    for _ in range(count):
        with app.test_request_context("/"):
            token = generate_csrf()
            out.append((serializer.dumps(dict(session)), token))
    return out


@dataclass
class Captured:
    statements: list[tuple[str, object]] = field(default_factory=list)
    status: int = 0


def capture_statements(app: object, request: Request, engine: object = None) -> Captured:
    """Run one request through the app's test client and collect the SQL it sends (with params).

    Counts statements SQLAlchemy executes; pool pre-ping, BEGIN and ROLLBACK are not included.
    """
    from flask import Flask
    from sqlalchemy import event

    assert isinstance(app, Flask)
    captured = Captured()

    def listen(_conn: object, _cursor: object, statement: str, params: object, *_a: object) -> None:
        captured.statements.append((statement, params))

    with app.app_context():
        if engine is None:
            engine = app.extensions["sqlalchemy"].engine
        event.listen(engine, "before_cursor_execute", listen)
        try:
            client = app.test_client()
            headers = dict(request.headers)
            cookie = headers.pop("Cookie", "")
            for part in filter(None, cookie.split("; ")):
                name, value = part.split("=", 1)
                client.set_cookie(name, value)
            response = client.open(
                request.path,
                method=request.method,
                headers=headers,
                data=request.body or None,
                base_url="http://localhost",  # as the bench's servers: plain http, no Referer check
            )
            captured.status = response.status_code
        finally:
            event.remove(engine, "before_cursor_execute", listen)
    return captured
