"""Search at 100,000 courses (1.2 M lectures) through the app's real code path.

    .venv/bin/python bench/search.py                 # 50 timed requests per query
    .venv/bin/python bench/search.py --regenerate    # rebuild coursefront_bench_search first
    .venv/bin/python bench/search.py --quick --plans

One client sends HTTP requests (keep-alive, one at a time) to Coursefront's production
configuration (gunicorn wsgi:app, 2 sync workers, APP_ENV=production) and prints p50/p95 per
query. The baseline is the lean reference catalog (bench/lean_ref.py: one joined query for 24
rows, Jinja) on the same 100,000 courses over the same kind of connection: it costs what any
page costs on this stack (HTTP, Flask, SQLAlchemy, a template, one indexed query), so the ratio
says what the search itself adds. Then each search's SQL statements (captured in-process with a
before_cursor_execute listener) are run again under EXPLAIN (ANALYZE, BUFFERS), and we say
whether the GIN index ix_course_search_search_vector is used.
"""

from __future__ import annotations

import argparse
import http.client
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import psycopg

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common, datagen
from bench.common import Request, Server, Servers, say

DATABASE = "coursefront_bench_search"
PORT_CF, PORT_LEAN = 8205, 8206
GIN = "ix_course_search_search_vector"


@dataclass
class Query:
    name: str
    params: dict[str, str]
    goal_ms: float | None  # p95 goal


def queries(category: str) -> list[Query]:
    paid = {"category": category, "level": "beginner", "price": "paid"}
    return [
        Query("one word", {"q": "python"}, 50),
        Query("rare word", {"q": "kubernetes"}, 50),
        Query("prefix pyth", {"q": "pyth"}, 50),
        Query("prefix kube", {"q": "kube"}, 50),
        Query("multi-word", {"q": "python data analysis"}, None),
        Query("word + filters", {"q": "python", **paid}, 100),
        Query("word + filters, newest", {"q": "python", **paid, "sort": "newest"}, 100),
        Query("word + filters, price up", {"q": "python", **paid, "sort": "price_asc"}, 100),
        Query("prefix + filters", {"q": "kube", "level": "advanced", "price": "paid"}, 100),
        Query("filters only", paid, 100),
        Query("unfiltered", {}, None),
    ]


def published_count(database: str) -> int:
    try:
        with common.connect(database) as conn:
            row = conn.execute("SELECT count(*) FROM courses WHERE status = 'published'").fetchone()
    except psycopg.Error:
        return -1
    return int(row[0]) if row else 0


def ensure_data(courses: int, regenerate: bool) -> None:
    common.ensure_database(DATABASE)
    have = published_count(DATABASE)
    if regenerate or have != courses:
        say(f"Generating {courses} courses in {DATABASE} (found {have})")
        common.reset_schema(DATABASE)
        common.migrate(DATABASE)
        datagen.generate(DATABASE, courses)
    else:
        common.migrate(DATABASE)  # a newer schema applies to the existing data
        say(f"Reusing {DATABASE}: {have} published courses (--regenerate to rebuild)")


def time_path(port: int, path: str, count: int, warmup: int) -> list[float]:
    """Milliseconds for `count` sequential GETs on one keep-alive connection, after a warm-up."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    out = []
    for i in range(warmup + count):
        start = time.perf_counter()
        conn.request("GET", path)
        resp = conn.getresponse()
        resp.read()
        elapsed = (time.perf_counter() - start) * 1000
        if resp.status != 200:
            raise SystemExit(f"GET {path} answered {resp.status}")
        if i >= warmup:
            out.append(elapsed)
    conn.close()
    return out


def explain(app: object, path: str, show_plans: bool) -> str:
    """EXPLAIN (ANALYZE, BUFFERS) of each statement the request runs; returns the GIN verdict."""
    from flask import Flask

    assert isinstance(app, Flask)
    captured = common.capture_statements(app, Request("GET", path))
    uses_gin, touches_vector = False, False
    with app.app_context():
        engine = app.extensions["sqlalchemy"].engine
        with engine.connect() as conn:
            for n, (statement, params) in enumerate(captured.statements, 1):
                if not statement.lstrip().upper().startswith(("SELECT", "WITH")):
                    continue
                plan_rows = conn.exec_driver_sql(
                    "EXPLAIN (ANALYZE, BUFFERS) " + statement, params or {}
                ).all()
                plan = "\n".join(r[0] for r in plan_rows)
                vector = "search_vector" in statement or "@@" in statement
                touches_vector |= vector
                uses_gin |= GIN in plan
                total = next((ln for ln in reversed(plan.splitlines()) if "Execution" in ln), "")
                gin = f" [GIN {'used' if GIN in plan else 'NOT used'}]" if vector else ""
                first = " ".join(statement.split())[:90]
                say(f"    #{n} {total.strip()}{gin}: {first}...")
                if show_plans and vector:
                    say("      " + plan.replace("\n", "\n      "))
    if not touches_vector:
        return "no full-text statement"
    return f"{GIN} {'used' if uses_gin else 'NOT used'}"


def start(servers: Servers, log_dir: Path) -> None:
    env = common.app_env(DATABASE)
    for name, app, port in (("cf", "wsgi:app", PORT_CF), ("lean", "bench.lean_ref:app", PORT_LEAN)):
        if not common.port_free(port):
            raise SystemExit(f"port {port} is in use: stop whatever holds it first")
        proc = common.gunicorn(f"search-{name}", app, port, env, log_dir)
        servers.add(Server(name, port, proc, log_dir / f"search-{name}.log"))
    common.wait_http(PORT_CF, "/healthz")
    common.wait_http(PORT_LEAN, "/hello")


def main() -> None:
    args = parse_args()
    ensure_data(args.courses, args.regenerate)
    app = common.make_app(DATABASE)
    with common.connect(DATABASE) as conn:
        row = conn.execute("SELECT slug FROM categories ORDER BY position LIMIT 1 OFFSET 1")
        category = row.fetchone()[0]  # type: ignore[index]
    courses_path = common.url_for_app(app, "catalog.course_list")
    rows = []
    with Servers() as servers:
        start(servers, common.BENCH / ".run")
        base = time_path(PORT_LEAN, "/courses", args.requests, args.warmup)
        base_p50 = common.median(base)
        say(f"Baseline: lean catalog p50 {base_p50:.1f} ms, p95 {common.percentile(base, 95):.1f}")
        for q in queries(category):
            path = courses_path + ("?" + urlencode(q.params) if q.params else "")
            times = time_path(PORT_CF, path, args.requests, args.warmup)
            rows.append((q, path, common.median(times), common.percentile(times, 95)))
            say(f"  {q.name:<26} p50 {rows[-1][2]:7.1f} ms  p95 {rows[-1][3]:7.1f} ms  {path}")
    say("\nEXPLAIN (ANALYZE, BUFFERS) of each request's statements:")
    verdicts = {}
    for q, path, *_ in rows:
        say(f"  {q.name}: {path}")
        verdicts[q.name] = explain(app, path, args.plans)
    report(rows, base_p50, verdicts)


def report(rows: list[tuple[Query, str, float, float]], base: float, gin: dict[str, str]) -> None:
    say("\n| query | p50 ms | p95 ms | p50 / lean p50 | p95 goal | result | GIN index |")
    say("|---|---:|---:|---:|---:|---|---|")
    for q, _path, p50, p95 in rows:
        goal = "—" if q.goal_ms is None else f"< {q.goal_ms:.0f} ms"
        met = "—" if q.goal_ms is None else ("met" if p95 < q.goal_ms else "NOT MET")
        ratio = p50 / base if base else 0.0
        say(f"| {q.name} | {p50:.1f} | {p95:.1f} | {ratio:.1f}x | {goal} | {met} | {gin[q.name]} |")
    say(f"Baseline: the lean reference catalog page, p50 {base:.1f} ms (one client, same DB).")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--courses", type=int, default=100_000)
    parser.add_argument("--regenerate", action="store_true", help="rebuild the database first")
    parser.add_argument("--requests", type=int, default=50, help="timed requests per query")
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--plans", action="store_true", help="print the full plans")
    parser.add_argument("--quick", action="store_true", help="10 requests per query")
    args = parser.parse_args()
    if args.quick:
        args.requests, args.warmup = 10, 2
    return args


if __name__ == "__main__":
    main()
