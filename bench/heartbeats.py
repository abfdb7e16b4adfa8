"""Heartbeat ingestion: 200 students watching at once, each player's progress heartbeat
(POST /learning/progress/<lecture>) against the production configuration, next to GET /healthz
measured in the same run with the same connections.

    .venv/bin/python bench/heartbeats.py [--watchers 200] [--duration 15]

Needs the machine's PostgreSQL and Redis (bench/common.py: 127.0.0.1:5432, Redis db 13) and
wrk. The database coursefront_bench_heartbeats is recreated. Prints req/s, p50/p99, the ratio
to /healthz, the statements one heartbeat runs, and checks every watcher's progress was kept.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common

DATABASE = "coursefront_bench_heartbeats"
PORT = 8611
PASSWORD = "q7-lantern-orbit-heartbeat"
CSRF = re.compile(r'name="csrf-token" content="([^"]+)"|name="csrf_token"[^>]*value="([^"]+)"')


def seed(app: object, watchers: int) -> int:
    """A published course of 3 lectures and `watchers` enrolled students; the first lecture's id."""
    from flask import Flask
    from sqlalchemy import insert, select

    from app.accounts.models import Role, User
    from app.accounts.services import register_user
    from app.catalog import services as catalog
    from app.catalog.models import Chapter, Lecture
    from app.core.money import Money
    from app.extensions import db
    from app.learning.models import EnrollmentSource
    from app.learning.services import grant_enrollment

    assert isinstance(app, Flask)
    with app.app_context():
        teacher = register_user("teacher@example.com", PASSWORD, "Bench Teacher", Role.TEACHER)
        course = catalog.create_course(
            teacher, catalog.CourseDraft(title="Heartbeats", subtitle="s", description_md="d")
        )
        catalog.set_price(course, Money(1999, "USD"))
        chapter = catalog.add_chapter(course, "One")
        for i in range(3):
            catalog.add_lecture(chapter, f"Lecture {i + 1}", 600)
        catalog.publish_course(course)
        first = register_user("w0@example.com", PASSWORD, "Watcher 0")
        db.session.flush()
        # One argon2 hash for everyone: hashing 200 passwords would be the slowest part.
        rows = [
            {
                "email": f"w{i}@example.com",
                "name": f"Watcher {i}",
                "role": Role.STUDENT,
                "password_hash": first.password_hash,
            }
            for i in range(1, watchers)
        ]
        db.session.execute(insert(User), rows)
        for user_id in db.session.scalars(select(User.id).where(User.role == Role.STUDENT)):
            grant_enrollment(user_id, course.id, EnrollmentSource.ADMIN)
        lecture_id = db.session.scalar(
            select(Lecture.id)
            .join(Chapter)
            .where(Chapter.course_id == course.id)
            .order_by(Lecture.position)
            .limit(1)
        )
        db.session.commit()
        assert lecture_id is not None
        return int(lecture_id)


def log_in(port: int, email: str) -> tuple[str, str]:
    """(Cookie header, CSRF token) of a real login over HTTP."""
    http = requests.Session()
    base = f"http://127.0.0.1:{port}"
    page = http.get(f"{base}/login", timeout=10)
    token = _token(page.text)
    answer = http.post(
        f"{base}/login",
        data={"email": email, "password": PASSWORD, "csrf_token": token},
        timeout=10,
        allow_redirects=False,
    )
    if answer.status_code not in (302, 303):
        raise RuntimeError(f"login of {email} answered {answer.status_code}")
    token = _token(http.get(f"{base}/learning", timeout=10).text)
    cookie = "; ".join(f"{c.name}={c.value}" for c in http.cookies)
    return cookie, token


def _token(html: str) -> str:
    found = CSRF.search(html)
    if found is None:
        raise RuntimeError("no CSRF token on the page")
    return found.group(1) or found.group(2)


def beat_request(lecture_id: int, cookie: str, token: str) -> common.Request:
    body = urlencode({"csrf_token": token, "position": "30", "watched": "15", "rate": "1"})
    return common.Request(
        "POST",
        f"/learning/progress/{lecture_id}",
        {"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"},
        body,
    )


def main() -> None:
    args = parse_args()
    common.reset_schema(DATABASE)
    common.migrate(DATABASE)
    app = common.make_app(DATABASE)
    lecture_id = seed(app, args.watchers)
    env = common.app_env(DATABASE, RATELIMIT_ENABLED="0")
    work = Path(tempfile.mkdtemp(prefix="bench-heartbeats-"))
    proc = common.gunicorn("coursefront", "wsgi:app", PORT, env, work)
    try:
        common.wait_http(PORT, "/healthz")
        logins = [log_in(PORT, f"w{i}@example.com") for i in range(args.watchers)]
        beats = [beat_request(lecture_id, cookie, token) for cookie, token in logins]
        started = time.monotonic()
        captured = common.capture_statements(app, beats[0])
        common.say(
            f"one heartbeat: HTTP {captured.status}, {len(captured.statements)} statement(s)"
        )
        for statement, _ in captured.statements:
            common.say("   ", " ".join(statement.split())[:110], "...")
        beat_file = common.write_requests(work / "beats.tsv", beats)
        health_file = common.write_requests(
            work / "healthz.tsv", [common.Request("GET", "/healthz")]
        )
        wrk = common.WrkSettings(duration=args.duration, connections=args.watchers)
        warm = common.WrkSettings(duration=3, connections=args.watchers)
        script = common.LUA / "requests.lua"
        common.run_wrk(PORT, script, [str(beat_file)], warm)
        beat = common.run_wrk(PORT, script, [str(beat_file)], wrk)
        health = common.run_wrk(PORT, script, [str(health_file)], wrk)
        report(beat, health, args)
        check(args.watchers, time.monotonic() - started)
    finally:
        proc.terminate()
        proc.wait(10)


def report(beat: common.WrkResult, health: common.WrkResult, args: argparse.Namespace) -> None:
    common.say(
        f"\n{args.watchers} watchers, wrk 2 threads x {args.watchers} connections, "
        f"{args.duration} s each, gunicorn 2 sync workers"
    )
    common.say(f"{'':<12}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'non-2xx':>9}{'errors':>8}")
    for name, r in (("heartbeat", beat), ("/healthz", health)):
        common.say(
            f"{name:<12}{r.rps:>9.0f}{r.p50_ms:>9.1f}{r.p99_ms:>9.1f}"
            f"{r.bad_status:>9}{r.socket_errors:>8}"
        )
    common.say(
        f"heartbeat / healthz: {beat.rps / health.rps:.2f}x req/s, "
        f"p99 {beat.p99_ms / max(health.p99_ms, 0.001):.1f}x"
    )


def check(watchers: int, elapsed_s: float) -> None:
    """Every watcher's progress row exists and nobody was credited more than time allows."""
    with common.connect(DATABASE) as conn:
        rows, spent = conn.execute(
            "SELECT count(*), coalesce(max(e.total_time_spent_s), 0) FROM lecture_progress lp "
            "JOIN enrollments e ON e.id = lp.enrollment_id"
        ).fetchone()
    common.say(
        f"progress rows: {rows} of {watchers}; most credited to one watcher: {spent} s "
        f"in {elapsed_s:.0f} s of wall time"
    )
    if rows != watchers:
        raise SystemExit("a watcher's heartbeats were not kept")
    if spent > elapsed_s * 1.07 + 1:
        raise SystemExit("a watcher was credited more than the time that passed")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--watchers", type=int, default=200)
    parser.add_argument("--duration", type=int, default=15)
    return parser.parse_args()


if __name__ == "__main__":
    main()
