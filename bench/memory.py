"""Web worker memory, page by page: RSS of each gunicorn worker after start and after serving
each page of bench/pages.py's set a few hundred times, Coursefront against the lean reference.

    .venv/bin/python bench/memory.py [--requests 400] [--no-prepare] [--env MALLOC_ARENA_MAX=2]

Cheap next to bench/pages.py (two client threads, no wrk): it says where the RSS goes, while
bench/pages.py gives the figure after its full wrk run. Same production configuration
(bench/common.app_env), same 2 sync workers, 1,000 courses in coursefront_bench_pages. Ports
8310 (Coursefront) and 8311 (lean reference).

    .venv/bin/python bench/memory.py --imports

prints instead the RSS each top-level package adds when a gunicorn worker imports wsgi.py
(exclusive of the packages it imports in turn), largest first.
"""

from __future__ import annotations

import argparse
import http.client
import subprocess
import sys
import tempfile
import threading
from itertools import cycle
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common, pages
from bench.common import Request, Server, Servers, say

PORT_CF, PORT_LEAN = 8310, 8311
CLIENTS = 2  # one per sync worker, so both workers serve about half of each page's requests


def worker_rss_mb(master_pid: int) -> list[float]:
    """VmRSS of each of the master's children in MB (the measure bench/pages.py sums)."""
    return sorted(kb / 1024 for kb in common.children_rss_kb(master_pid))


def _send(port: int, requests: list[Request], count: int) -> int:
    """`count` requests over CLIENTS keep-alive-less connections; returns how many failed."""
    failed = [0]
    source = cycle(requests)
    lock = threading.Lock()

    def client(n: int) -> None:
        for _ in range(n):
            with lock:
                req = next(source)
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            conn.request(req.method, req.path, body=req.body or None, headers=req.headers)
            resp = conn.getresponse()
            resp.read()
            conn.close()
            if resp.status >= 400:
                failed[0] += 1

    threads = [threading.Thread(target=client, args=(count // CLIENTS,)) for _ in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return failed[0]


def _line(label: str, cf: list[float], lean: list[float] | None) -> str:
    def fmt(values: list[float]) -> str:
        each = " + ".join(f"{v:5.1f}" for v in values)
        return f"{sum(values):6.1f} MB ({each})"

    out = f"  {label:<24} Coursefront {fmt(cf)}"
    if lean is not None:
        ratio = sum(cf) / sum(lean) if sum(lean) else 0.0
        out += f"   lean {fmt(lean)}   {ratio:.2f}x"
    return out


def run(args: argparse.Namespace) -> None:
    if args.prepare:
        pages.prepare(1000)
    app = common.make_app(pages.DATABASE)
    wanted = {"cf_catalog", "cf_fragment", "cf_search", "cf_course", "cf_cart_htmx", "cf_healthz"}
    targets = {t.key: t for t in pages._coursefront_targets(app, wanted | {"lean_catalog"})}
    env = common.app_env(pages.DATABASE, **dict(kv.split("=", 1) for kv in args.env))
    with Servers() as servers, tempfile.TemporaryDirectory(prefix="bench-memory-") as tmp:
        log_dir = Path(tmp)
        cf = servers.add(
            Server("cf", PORT_CF, common.gunicorn("cf", "wsgi:app", PORT_CF, env, log_dir), log_dir)
        )
        lean_proc = common.gunicorn("lean", "bench.lean_ref:app", PORT_LEAN, env, log_dir)
        lean = servers.add(Server("lean", PORT_LEAN, lean_proc, log_dir))
        common.wait_http(PORT_CF, "/healthz")
        common.wait_http(PORT_LEAN, "/hello")
        say(f"{args.requests} requests per page, {CLIENTS} clients; RSS per worker")
        say(_line("started", worker_rss_mb(cf.proc.pid), worker_rss_mb(lean.proc.pid)))
        _send(PORT_LEAN, targets["lean_catalog"].requests, args.requests)
        say(_line("lean catalog served", worker_rss_mb(cf.proc.pid), worker_rss_mb(lean.proc.pid)))
        for key in ("cf_healthz", "cf_catalog", "cf_fragment", "cf_search", "cf_course"):
            _page(targets[key], args.requests, cf, lean)
        _page(targets["cf_cart_htmx"], args.requests, cf, lean)
        pages._truncate_carts()
        for key in ("cf_catalog", "cf_course"):  # a second pass: growth that does not stop
            _page(targets[key], args.requests, cf, lean, "again")


def _page(target: pages.Target, count: int, cf: Server, lean: Server, note: str = "") -> None:
    failed = _send(cf.port, target.requests, count)
    label = target.key.removeprefix("cf_") + (f" {note}" if note else "")
    say(_line(label, worker_rss_mb(cf.proc.pid), worker_rss_mb(lean.proc.pid)))
    if failed:
        say(f"  !! {failed} of {count} requests to {target.label} failed")


IMPORTS_SCRIPT = r"""
import importlib.abc, sys
sys.path.insert(0, sys.argv[1])

def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096 / 1024

stack, own = [], {}

class Loader(importlib.abc.Loader):
    def __init__(self, inner): self.inner = inner
    def create_module(self, spec): return self.inner.create_module(spec)
    def __getattr__(self, name): return getattr(self.inner, name)  # resource readers
    def exec_module(self, module):
        start = rss(); stack.append(0)
        try:
            self.inner.exec_module(module)
        finally:
            children = stack.pop(); total = rss() - start
            own[module.__name__] = total - children
            if stack: stack[-1] += total

class Finder(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(name, path, target)
            if spec is not None:
                if spec.loader is not None and hasattr(spec.loader, "exec_module"):
                    spec.loader = Loader(spec.loader)
                return spec
        return None

import gunicorn.app.base, gunicorn.workers.sync  # what a worker has before it loads the app
base = rss()
sys.meta_path.insert(0, Finder())
import wsgi
added = (rss() - base) / 1024
print(f"gunicorn worker before the app: {base / 1024:.1f} MB; wsgi.py adds {added:.1f} MB")
groups = {}
for name, kb in own.items():
    parts = name.split(".")
    key = ".".join(parts[:2]) if parts[0] == "app" else parts[0]
    groups[key] = groups.get(key, 0) + kb
for key, kb in sorted(groups.items(), key=lambda kv: -kv[1])[: int(sys.argv[2])]:
    print(f"  {kb / 1024:6.2f} MB  {key}")
"""


def imports(args: argparse.Namespace) -> None:
    env = common.app_env(pages.DATABASE, **dict(kv.split("=", 1) for kv in args.env))
    cmd = [sys.executable, "-c", IMPORTS_SCRIPT, str(common.ROOT), str(args.top)]
    subprocess.run(cmd, cwd=common.ROOT, env=env, check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=400, help="requests per page")
    parser.add_argument("--no-prepare", dest="prepare", action="store_false", help="reuse the DB")
    parser.add_argument("--env", action="append", default=[], help="NAME=VALUE for both servers")
    parser.add_argument("--imports", action="store_true", help="RSS by imported package")
    parser.add_argument("--top", type=int, default=40, help="packages --imports lists")
    args = parser.parse_args()
    for port in (PORT_CF, PORT_LEAN):
        if not args.imports and not common.port_free(port):
            raise SystemExit(f"port {port} is in use")
    imports(args) if args.imports else run(args)


if __name__ == "__main__":
    main()
