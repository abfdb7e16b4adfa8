"""Django Oscar reference shop for the page benchmark, driven from the main venv.

Nothing here imports Django: Oscar runs in its own venv (bench/.venv-oscar, built by setup.sh) and
is reached through subprocesses. Typical use from bench/pages.py:

    from bench.oscar import ref
    ref.prepare()                              # venv, database, migrations, 1,000 products
    ref.basket_add_lua(tmp / "oscar-add.lua")  # and/or ref.product_page_lua(...)
    server = ref.serve(8210)
    try:
        ...  # wrk -s tmp/oscar-add.lua http://127.0.0.1:8210
    finally:
        ref.stop(server)

The Lua scripts print one line `BENCHJSON {...}` with the keys of bench/lua/requests.lua plus
"statuses" (count per HTTP status), "bad" (responses outside 200-399) and, for basket adds,
"added" (redirects to the success URL: Oscar also answers 302 when the form is invalid).
"""

from __future__ import annotations

import functools
import hashlib
import http.client
import json
import os
import secrets
import signal
import string
import subprocess
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
PROJECT = HERE / "project"
VENV = HERE.parent / ".venv-oscar"
VAR = VENV / "var"  # logs and media: inside the gitignored venv folder
PYTHON = VENV / "bin" / "python"
DATABASE = "oscar_bench"
PG_SERVER = "postgresql://postgres@127.0.0.1:5432"
# Where a successful add redirects: the form's `next`. An invalid form redirects to the Referer.
ADDED_LOCATION = "/basket/"
_CSRF_CHARS = string.ascii_letters + string.digits  # Django's CSRF_ALLOWED_CHARS


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(DJANGO_SETTINGS_MODULE="settings", OSCAR_BENCH_DB=DATABASE, PYTHONHASHSEED="0")
    env.pop("VIRTUAL_ENV", None)
    return env


def _manage(*args: str) -> str:
    done = subprocess.run(
        [str(PYTHON), "manage.py", *args],
        cwd=PROJECT,
        env=_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{done.stderr[-3000:]}")
    return done.stdout


def venv_ready() -> bool:
    """True when setup.sh has built the venv from the current requirements.txt."""
    stamp = VENV / ".requirements.sha256"
    want = hashlib.sha256((HERE / "requirements.txt").read_bytes()).hexdigest()
    return stamp.is_file() and stamp.read_text().strip() == want


def counts() -> dict[str, int]:
    """Bench products, baskets and basket lines in the database (to check that adds are real)."""
    return json.loads(_manage("bench_info"))


def is_set_up() -> bool:
    """True when the venv is built and the database holds the bench products."""
    if not venv_ready():
        return False
    try:
        return counts()["products"] > 0
    except RuntimeError:
        return False


def _ensure_database() -> None:
    # Run with the oscar venv's psycopg so this module needs nothing beyond the standard library.
    code = (
        "import psycopg, sys\n"
        f"with psycopg.connect('{PG_SERVER}/postgres', autocommit=True) as c:\n"
        "    if not c.execute('SELECT 1 FROM pg_database WHERE datname = %s',"
        " (sys.argv[1],)).fetchone():\n"
        "        c.execute(f'CREATE DATABASE \"{sys.argv[1]}\"')\n"
    )
    subprocess.run([str(PYTHON), "-c", code, DATABASE], check=True, env=_env())


def prepare(products: int = 1000) -> None:
    """Build the venv if needed, create the database, migrate, load `products` products.

    Idempotent; a re-run with nothing to do takes a few seconds (Django starts three times).
    Empties the basket tables each time, so the adds of earlier runs don't pile up.
    """
    if not venv_ready():
        subprocess.run(["bash", str(HERE / "setup.sh")], check=True)
    _ensure_database()
    _manage("migrate", "--noinput", "-v0")
    _manage("bench_data", "--products", str(products), "--reset-baskets")
    (VAR / "media").mkdir(parents=True, exist_ok=True)
    _catalogue.cache_clear()


@functools.cache
def _catalogue() -> tuple[tuple[int, str], ...]:
    rows = json.loads(_manage("bench_info", "--paths"))
    return tuple((row["id"], row["path"]) for row in rows)


def product_paths() -> list[str]:
    """URL paths of the bench products' pages, e.g. /catalogue/course-0000_1/."""
    return [path for _, path in _catalogue()]


def _wait(proc: subprocess.Popen[bytes], port: int, path: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"oscar gunicorn exited with {proc.returncode}; see {_log(port)}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", path)
            last = conn.getresponse().status
            conn.close()
            if last == 200:
                return
        except OSError as exc:
            last = exc
        time.sleep(0.2)
    raise RuntimeError(f"oscar on port {port} did not answer {path} in {timeout}s ({last!r})")


def _log(port: int) -> Path:
    return VAR / f"gunicorn-{port}.log"


def serve(port: int, workers: int = 2) -> subprocess.Popen[bytes]:
    """Start gunicorn (sync workers, production settings) in its own process group.

    Returns once a product page answers 200; stop it with stop(). Log: bench/.venv-oscar/var/.
    """
    VAR.mkdir(parents=True, exist_ok=True)
    cmd = [
        str(VENV / "bin" / "gunicorn"),
        "wsgi:application",
        "--workers",
        str(workers),
        "--worker-class",
        "sync",
        "--bind",
        f"127.0.0.1:{port}",
        "--log-level",
        "warning",
        "--timeout",
        "60",
        "--no-control-socket",  # gunicorn 27's default socket path is shared by every instance
    ]
    with _log(port).open("wb") as log:
        proc = subprocess.Popen(
            cmd, cwd=PROJECT, env=_env(), stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    try:
        _wait(proc, port, product_paths()[0], timeout=60)
    except BaseException:
        stop(proc)
        raise
    return proc


def stop(proc: subprocess.Popen[bytes], timeout: float = 15) -> None:
    """Stop a server started by serve() (its whole process group)."""
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def csrf_pair() -> tuple[str, str]:
    """A new visitor's (csrftoken cookie, masked form token), minted as Django 4.1+ does.

    The cookie holds the 32-character secret; the page's form carries it masked (64 characters):
    a random mask followed by the secret's characters shifted by the mask's.
    """
    secret = "".join(secrets.choice(_CSRF_CHARS) for _ in range(32))
    mask = "".join(secrets.choice(_CSRF_CHARS) for _ in range(32))
    n = len(_CSRF_CHARS)
    cipher = "".join(
        _CSRF_CHARS[(_CSRF_CHARS.index(s) + _CSRF_CHARS.index(m)) % n]
        for s, m in zip(secret, mask, strict=True)
    )
    return secret, mask + cipher


def _lua_list(items: list[str]) -> str:
    return "{\n" + "".join(f"  {item},\n" for item in items) + "}"


def basket_add_lua(path: str | Path, visitors: int = 5000) -> None:
    """Write a wrk script: each request is Oscar's basket add by a NEW visitor.

    The visitor has just loaded a product page: a csrftoken cookie, no session, no basket. It
    POSTs the page's form (masked CSRF token, quantity=1) to /basket/add/<pk>/ with the page as
    Referer; `visitors` distinct visitors cycle over the products.
    """
    catalogue = _catalogue()
    rows = []
    for k in range(visitors):
        pk, page = catalogue[k % len(catalogue)]
        secret, token = csrf_pair()
        rows.append(f'{{{pk}, "{page}", "{secret}", "{token}"}}')
    build = _BASKET_BUILD.replace("@ROWS@", _lua_list(rows))
    _write_lua(path, "Oscar basket add, a new visitor per request", build)


def product_page_lua(path: str | Path) -> None:
    """Write a wrk script cycling through every bench product page (no cookies sent)."""
    rows = [f'"{page}"' for page in product_paths()]
    build = _PAGE_BUILD.replace("@ROWS@", _lua_list(rows))
    _write_lua(path, "Oscar product pages, cycled", build)


def _write_lua(path: str | Path, what: str, build: str) -> None:
    text = _LUA.replace("@WHAT@", what).replace("@BUILD@", build)
    text = text.replace("@ADDED@", ADDED_LOCATION)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(text)


_BASKET_BUILD = """\
-- {product pk, product page, csrftoken cookie (secret), csrfmiddlewaretoken (masked)}
local VISITORS = @ROWS@

local function build_requests()
  local out = {}
  local origin = "http://" .. wrk.headers["Host"]
  for k, v in ipairs(VISITORS) do
    out[k] = wrk.format("POST", "/basket/add/" .. v[1] .. "/", {
      ["Content-Type"] = "application/x-www-form-urlencoded",
      ["Cookie"] = "csrftoken=" .. v[3],
      ["Referer"] = origin .. v[2],
    }, "csrfmiddlewaretoken=" .. v[4] .. "&quantity=1&next=@ADDED@")
  end
  return out
end
"""

_PAGE_BUILD = """\
local PAGES = @ROWS@

local function build_requests()
  local out = {}
  for k, page in ipairs(PAGES) do
    out[k] = wrk.format("GET", page)
  end
  return out
end
"""

_LUA = """\
-- Generated by bench/oscar/ref.py: @WHAT@.
-- Prints `BENCHJSON {...}`: the keys of bench/lua/requests.lua plus "statuses" (per HTTP
-- status), "bad" (outside 200-399) and "added" (302s to the add's success URL @ADDED@).
local counter = 0
local threads = {}

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

statuses = {}
added = 0
local reqs = {}
local idx = 1

@BUILD@
function init(args)
  reqs = build_requests()
  local n = #reqs
  -- threads start half-way apart so they do not send the same request at the same time
  idx = ((id or 0) * math.floor(n / 2)) % n + 1
end

function request()
  local r = reqs[idx]
  idx = idx + 1
  if idx > #reqs then idx = 1 end
  return r
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  if status == 302 and headers["Location"] == "@ADDED@" then added = added + 1 end
end

function done(summary, latency, requests)
  local total, adds, bad = {}, 0, 0
  for _, t in ipairs(threads) do
    for code, n in pairs(t:get("statuses")) do total[code] = (total[code] or 0) + n end
    adds = adds + t:get("added")
  end
  local parts = {}
  for code, n in pairs(total) do
    table.insert(parts, string.format('"%d": %d', code, n))
    if code < 200 or code > 399 then bad = bad + n end
  end
  table.sort(parts)
  local e = summary.errors
  io.write(string.format(
    'BENCHJSON {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, ' ..
    '"status": %d, "connect": %d, "read": %d, "write": %d, "timeout": %d, ' ..
    '"statuses": {%s}, "bad": %d, "added": %d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.status, e.connect, e.read, e.write, e.timeout, table.concat(parts, ", "), bad, adds))
end
"""
