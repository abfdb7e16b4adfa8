"""Page benchmark: Coursefront's production configuration against a lean reference app (and
Django Oscar when bench/oscar is set up), wrk 2 threads x 32 connections, rounds in ABAB order.

    .venv/bin/python bench/pages.py [--quick] [--only catalog --only search] [--no-oscar]

See /work/notes/pages-readme.md (README section) for what it prints and the goals.
"""

from __future__ import annotations

import argparse
import importlib.util
import signal
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common, datagen
from bench.common import Request, Server, Servers, WrkResult, say

DATABASE = "coursefront_bench_pages"
PORT_CF, PORT_LEAN, PORT_OSCAR = 8201, 8202, 8203
VISITORS = 4000
OSCAR_REF = common.BENCH / "oscar" / "ref.py"


@dataclass
class Target:
    """One thing wrk hits: a server and the requests it cycles through."""

    key: str
    label: str
    server: str
    requests: list[Request]
    reset: Callable[[], None] | None = None  # run before each measurement (e.g. empty carts)
    script: Path | None = None  # a ready wrk script (Oscar's), else requests.lua on `requests`
    script_args: list[str] = field(default_factory=list)
    counts_adds: bool = False  # the script reports real adds (Oscar's basket script)
    results: dict[str, list[WrkResult]] = field(default_factory=dict)  # by page
    statements: str | None = None


@dataclass
class Comparison:
    ref: str  # target key
    goal: float | None  # page rate / reference rate should be at least this
    note: str = ""


@dataclass
class Page:
    name: str
    target: str
    comparisons: list[Comparison]


def _sql(query: str) -> list[tuple]:
    with common.connect(DATABASE) as conn:
        return conn.execute(query).fetchall()


def _truncate_carts() -> None:
    with common.connect(DATABASE) as conn:
        conn.execute("TRUNCATE carts CASCADE")


def _cart_items() -> int:
    return int(_sql("SELECT count(*) FROM cart_items")[0][0])


def _cart_requests(app: object, htmx: bool) -> list[Request]:
    """Each request a new visitor (fresh session cookie + CSRF token) adding a paid course."""
    rows = _sql(
        "SELECT c.id, c.slug FROM courses c JOIN course_prices p ON p.course_id = c.id "
        "AND p.currency = 'USD' AND p.amount_minor > 0 "
        # a tutoring course is added with a package and a schedule, not from a plain button
        "WHERE c.status = 'published' AND c.kind = 'video' ORDER BY c.id"
    )
    path = common.url_for_app(app, "cart.add_item")
    cookie_name = app.config["SESSION_COOKIE_NAME"]  # type: ignore[attr-defined]
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if htmx:
        headers |= {"HX-Request": "true", "HX-Target": "add-button"}
    out = []
    for i, (cookie, token) in enumerate(common.mint_visitors(app, VISITORS)):
        course_id, slug = rows[(i * 7) % len(rows)]  # vary the course too
        body = urlencode({"csrf_token": token, "course_id": course_id, "next": f"/courses/{slug}"})
        out.append(Request("POST", path, {**headers, "Cookie": f"{cookie_name}={cookie}"}, body))
    return out


def _coursefront_targets(app: object, wanted: set[str]) -> list[Target]:
    courses = common.url_for_app(app, "catalog.course_list")
    slugs = [r[0] for r in _sql("SELECT slug FROM courses WHERE status = 'published' ORDER BY id")]
    detail = [common.url_for_app(app, "catalog.course_detail", slug=s) for s in slugs]
    fragment = {"HX-Request": "true", "HX-Target": "results", "HX-Current-URL": courses}
    out = [
        Target("cf_catalog", "Coursefront /courses", "cf", [Request("GET", courses)]),
        Target(
            "cf_fragment", "Coursefront HTMX fragment", "cf", [Request("GET", courses, fragment)]
        ),
        Target("cf_search", "Coursefront ?q=python", "cf", [Request("GET", f"{courses}?q=python")]),
        Target("cf_course", "Coursefront course page", "cf", [Request("GET", p) for p in detail]),
        Target("cf_healthz", "Coursefront /healthz", "cf", [Request("GET", "/healthz")]),
        Target("lean_catalog", "lean catalog", "lean", [Request("GET", "/courses")]),
        Target("lean_hello", "lean /hello", "lean", [Request("GET", "/hello")]),
    ]
    for key, htmx in (("cf_cart_htmx", True), ("cf_cart_form", False)):
        if key in wanted:  # minting thousands of visitors takes a few seconds
            label = f"Coursefront add ({'HTMX' if htmx else 'form'})"
            out.append(Target(key, label, "cf", _cart_requests(app, htmx), _truncate_carts))
    return out


PAGES = [
    Page("catalog", "cf_catalog", [Comparison("lean_catalog", 0.60)]),
    Page("fragment", "cf_fragment", [Comparison("cf_catalog", 1.0, "fragment / full page")]),
    Page("search", "cf_search", [Comparison("lean_catalog", 0.50)]),
    Page(
        "course", "cf_course", [Comparison("lean_catalog", 0.70), Comparison("oscar_product", None)]
    ),
    Page("cart_add", "cf_cart_htmx", [Comparison("oscar_basket", 3.0)]),
    Page("cart_add_form", "cf_cart_form", [Comparison("oscar_basket", 3.0)]),
    Page("healthz", "cf_healthz", [Comparison("lean_hello", None, "vs bare Flask hello")]),
]


def _oscar_module() -> object | None:
    if not OSCAR_REF.exists():
        return None
    spec = importlib.util.spec_from_file_location("bench_oscar_ref", OSCAR_REF)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    ready = getattr(module, "is_set_up", lambda: True)
    return module if ready() else None


def _oscar_targets(oscar: object, files: Path) -> list[Target]:
    """Oscar's own wrk scripts: product pages cycled, basket adds by new visitors."""
    product, basket = files / "oscar-product.lua", files / "oscar-basket.lua"
    oscar.product_page_lua(product)  # type: ignore[attr-defined]
    oscar.basket_add_lua(basket, VISITORS)  # type: ignore[attr-defined]
    first = oscar.product_paths()[:1]  # type: ignore[attr-defined]
    return [
        Target(
            "oscar_product",
            "Oscar product page",
            "oscar",
            [Request("GET", first[0])],
            script=product,
        ),
        Target("oscar_basket", "Oscar basket add", "oscar", [], script=basket, counts_adds=True),
    ]


def prepare(courses: int) -> None:
    say(f"Preparing {DATABASE}: schema, migrations, {courses} courses")
    common.reset_schema(DATABASE)
    common.migrate(DATABASE)
    datagen.generate(DATABASE, courses)


def start_servers(servers: Servers, oscar: object | None, log_dir: Path) -> dict[str, Server]:
    for port in (PORT_CF, PORT_LEAN, PORT_OSCAR):
        if not common.port_free(port):
            raise SystemExit(f"port {port} is in use: stop whatever holds it first")
    env = common.app_env(DATABASE)
    started = {}
    for name, label, app, port in (
        ("cf", "coursefront", "wsgi:app", PORT_CF),
        ("lean", "lean", "bench.lean_ref:app", PORT_LEAN),
    ):
        proc = common.gunicorn(label, app, port, env, log_dir)
        started[name] = servers.add(Server(name, port, proc, log_dir / f"{label}.log"))
    if oscar is not None:  # serve() returns once a product page answers
        proc = oscar.serve(PORT_OSCAR)  # type: ignore[attr-defined]
        started["oscar"] = servers.add(Server("oscar", PORT_OSCAR, proc, log_dir / "oscar.log"))
    common.wait_http(PORT_CF, "/healthz")
    common.wait_http(PORT_LEAN, "/hello")
    return started


def check_requests(target: Target, port: int) -> None:
    """A few requests by hand before wrk: a wrong status (a CSRF 400, a 422) stops the run."""
    import http.client

    for req in target.requests[-3:]:  # the end of the list: wrk's threads start elsewhere
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.request(req.method, req.path, body=req.body or None, headers=req.headers)
        resp = conn.getresponse()
        resp.read()
        conn.close()
        if resp.status >= 400:
            raise SystemExit(f"{target.label}: {req.method} {req.path} answered {resp.status}")
    if target.reset:
        target.reset()


def measure(target: Target, page: str, port: int, args: argparse.Namespace) -> None:
    if target.reset:
        target.reset()
    before = _cart_items() if target.reset else 0
    assert target.script is not None
    wrk = common.WrkSettings(args.duration, args.connections, args.threads)
    result = common.run_wrk(port, target.script, target.script_args, wrk)
    bad = result.bad_status + result.socket_errors
    extra = ""
    if target.counts_adds and result.added is not None:  # where each add redirected
        extra = f", real adds {result.added}"
        bad += result.added < 0.99 * result.requests
    if target.reset:
        added = _cart_items() - before
        extra = f", cart_items +{added}"
        if added < result.requests - result.bad_status - result.socket_errors:
            bad += 1
            extra += " (fewer adds than 2xx/3xx answers!)"
    say(
        f"  {target.label:<30} {result.rps:8.1f} req/s  p50 {result.p50_ms:7.1f} ms  "
        f"p99 {result.p99_ms:7.1f} ms  non-2xx/3xx {result.bad_status}, "
        f"socket errors {result.socket_errors}{extra}"
    )
    if bad:
        say(f"  !! {target.label}: this run has errors and is INVALID")
    target.results.setdefault(page, []).append(result)


def count_statements(app: object, targets: dict[str, Target]) -> None:
    from bench import lean_ref

    """Statements of a request with the app's caches warm (the second of two), and cold (first)."""
    for target in targets.values():
        flask_app = {"cf": app, "lean": lean_ref.app}.get(target.server)
        if flask_app is not None and target.requests:
            first = target.requests[0]
            # A page twice (its caches warm the second time); a write (a new visitor's add) on
            # two different requests, as the second of the same would be refused.
            pair = [first, first] if first.method == "GET" else (target.requests * 2)[:2]
            runs = [common.capture_statements(flask_app, r) for r in pair]
            target.statements = f"{len(runs[1].statements)} ({len(runs[0].statements)} cold)"
            if any(run.status >= 400 for run in runs):
                say(f"  statement count for {target.label}: in-process answer {runs[0].status}")
    _truncate_carts()


def run_rounds(
    pages: list[Page], targets: dict[str, Target], ports: dict[str, int], args: argparse.Namespace
) -> None:
    say(f"Warm-up ({args.warmup} s per target)")
    warm = argparse.Namespace(**{**vars(args), "duration": args.warmup})
    for _page, key in dict.fromkeys(_order(pages, targets, 0)):
        measure(targets[key], "warm-up", ports[targets[key].server], warm)
    for n in range(args.rounds):
        say(f"Round {n + 1} of {args.rounds}")
        for page, key in _order(pages, targets, n):
            measure(targets[key], page, ports[targets[key].server], args)


def _order(pages: list[Page], targets: dict[str, Target], round_no: int) -> list[tuple[str, str]]:
    """(page, target key) in run order: the page then its references, reversed every other round."""
    keys: list[tuple[str, str]] = []
    for page in pages:
        group = [page.target, *(c.ref for c in page.comparisons if c.ref in targets)]
        keys.extend((page.name, k) for k in (group if round_no % 2 == 0 else reversed(group)))
    return keys


OSCAR_MISSING = "Oscar: not set up (run bench/oscar/setup.sh)"


def _rps(target: Target, page: str) -> float:
    return common.median([r.rps for r in target.results.get(page, [])])


def _row(page: str, target: Target) -> str:
    res = target.results.get(page, [])
    if not res:
        return f"| {page} | {target.label} | — | — | — | — |"
    rates = [r.rps for r in res]
    p50 = common.median([r.p50_ms for r in res])
    p99 = common.median([r.p99_ms for r in res])
    stmts = target.statements or "—"
    invalid = " INVALID" if any(r.bad_status or r.socket_errors for r in res) else ""
    return (
        f"| {page} | {target.label}{invalid} | {_rps(target, page):,.0f} ({min(rates):,.0f}-"
        f"{max(rates):,.0f}) | {p50:.1f} | {p99:.1f} | {stmts} |"
    )


def _verdict(page: Page, comp: Comparison, targets: dict[str, Target]) -> str:
    mine, ref = targets.get(page.target), targets.get(comp.ref)
    name = comp.note or f"vs {ref.label if ref else comp.ref}"
    if ref is None or mine is None or not ref.results.get(page.name) or not mine.results:
        why = OSCAR_MISSING if comp.ref.startswith("oscar") else "not run"
        return f"| {page.name} | {name} | not measured ({why}) | {_goal(comp)} | — |"
    # Paired: each round runs a page and its reference back to back, so a slow minute on a
    # shared machine slows both; the median of the rounds' ratios, with their range.
    pairs = [
        m.rps / r.rps
        for m, r in zip(mine.results[page.name], ref.results[page.name], strict=False)
        if r.rps
    ]
    ratio = common.median(pairs) if pairs else 0.0
    spread = f" ({min(pairs):.2f}-{max(pairs):.2f})" if len(pairs) > 1 else ""
    met = "—" if comp.goal is None else ("met" if ratio >= comp.goal else "NOT MET")
    return f"| {page.name} | {name} | {ratio:.2f}x{spread} | {_goal(comp)} | {met} |"


def _goal(comp: Comparison) -> str:
    return "—" if comp.goal is None else f"≥ {comp.goal:.2f}x"


def report(
    pages: list[Page], targets: dict[str, Target], rss: dict[str, tuple[int, int]], oscar: bool
) -> None:
    say("\n| page | app | req/s median (min-max) | p50 ms | p99 ms | SQL statements |")
    say("|---|---|---:|---:|---:|---:|")
    for page in pages:
        for key in dict.fromkeys((page.target, *(c.ref for c in page.comparisons))):
            if key in targets:
                say(_row(page.name, targets[key]))
    say("\n| page | ratio (median of the rounds, range) | value | goal | result |")
    say("|---|---|---:|---:|---|")
    for page in pages:
        for comp in page.comparisons:
            say(_verdict(page, comp, targets))
    say("\nWorker RSS after the run (sum of the 2 gunicorn workers, from /proc):")
    for name, (kb, n) in rss.items():
        say(f"  {name:<6} {kb / 1024:7.1f} MB in {n} workers")
    if "cf" in rss and "lean" in rss and rss["lean"][0]:
        ratio = rss["cf"][0] / rss["lean"][0]
        say(
            f"  Coursefront / lean: {ratio:.2f}x "
            f"(goal ≤ 1.20x: {'met' if ratio <= 1.2 else 'NOT MET'})"
        )
    if not oscar:
        say(OSCAR_MISSING)
    say("SQL statements: run by SQLAlchemy in one request, caches warm (cold: the first request")
    say("after start); pool pre-ping, BEGIN and ROLLBACK are not counted.")


def _interrupted(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt  # a kill (SIGTERM) stops the servers like Ctrl-C does


def main() -> None:
    signal.signal(signal.SIGTERM, _interrupted)
    args = parse_args()
    oscar = _oscar_module() if args.oscar else None
    pages = [p for p in PAGES if not args.only or p.name in args.only]
    if args.prepare:
        prepare(args.courses)
    if oscar is not None and args.prepare:
        say("Preparing Oscar")
        oscar.prepare(args.courses)  # type: ignore[attr-defined]
    app = common.make_app(DATABASE)
    with Servers() as servers, tempfile.TemporaryDirectory(prefix="bench-pages-") as tmp:
        targets = _targets(app, oscar, pages, Path(tmp))
        try:
            started = start_servers(servers, oscar, common.BENCH / ".run")
            ports = {name: s.port for name, s in started.items()}
            for target in targets.values():
                check_requests(target, ports[target.server])
            count_statements(app, targets)
            run_rounds(pages, targets, ports, args)
            rss = {name: common.worker_rss_kb(s.proc.pid) for name, s in started.items()}
        except KeyboardInterrupt:
            say("Interrupted: stopping the servers")
            raise SystemExit(130) from None
    report(pages, targets, rss, oscar is not None)


def _targets(
    app: object, oscar: object | None, pages: list[Page], files: Path
) -> dict[str, Target]:
    """The targets the chosen pages need, each with its wrk script and request file written."""
    wanted = {k for p in pages for k in (p.target, *(c.ref for c in p.comparisons))}
    found = _coursefront_targets(app, wanted) + (_oscar_targets(oscar, files) if oscar else [])
    targets = {t.key: t for t in found if t.key in wanted}
    for t in targets.values():
        if t.script is None:
            t.script = common.LUA / "requests.lua"
            t.script_args = [str(common.write_requests(files / f"{t.key}.tsv", t.requests))]
    return targets


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--warmup", type=int, default=3, help="seconds of wrk per target first")
    parser.add_argument("--courses", type=int, default=1000)
    parser.add_argument("--quick", action="store_true", help="1 round x 3 s, 1 s warm-up")
    parser.add_argument("--only", action="append", choices=[p.name for p in PAGES], default=[])
    parser.add_argument("--no-prepare", dest="prepare", action="store_false", help="reuse the DB")
    oscar_default = OSCAR_REF.exists()
    parser.add_argument("--oscar", action=argparse.BooleanOptionalAction, default=oscar_default)
    args = parser.parse_args()
    if args.quick:
        args.duration, args.rounds, args.warmup = 3, 1, 1
    return args


if __name__ == "__main__":
    main()
