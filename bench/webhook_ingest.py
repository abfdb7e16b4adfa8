"""How long a webhook takes to be answered (verify, store, commit, enqueue), next to a baseline.

Run on demand against a real PostgreSQL and Redis (the production configuration):

    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/coursefront_bench \\
    BENCH_REDIS_URL=redis://127.0.0.1:6379/15 .venv/bin/python bench/webhook_ingest.py

It prints the median and 99th percentile of each, and their ratio against GET /healthz measured
in the same run. The database's public schema is recreated; Redis db 15 is flushed.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app import create_app
from app.cart import services as cart_services
from app.catalog import services as catalog
from app.checkout.services import place_order
from app.core.money import Money
from app.extensions import db, get_redis
from app.payments.models import SandboxSession, SandboxStatus
from app.payments.providers import sandbox_secret
from app.payments.providers.sandbox import event_body, sign
from app.payments.services import start_payment

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "300"))


def _prepare(url: str) -> None:
    admin_url = url.rsplit("/", 1)[0] + "/postgres"
    name = url.rsplit("/", 1)[1]
    engine = sa.create_engine(
        admin_url.replace("postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT"
    )
    with engine.connect() as conn:
        exists = conn.execute(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name})
        if exists.scalar() is None:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public"))
    engine.dispose()


def _events(n: int) -> list[tuple[bytes, dict[str, str]]]:
    from app.accounts.models import Role
    from app.accounts.services import register_user

    teacher = register_user(
        "bench.teacher@example.com", "q7-lantern-orbit", "Bench Teacher", Role.TEACHER
    )
    course = catalog.create_course(teacher, catalog.CourseDraft("Bench course", "", ""))
    catalog.set_price(course, Money(1000, "USD"))
    catalog.add_lecture(catalog.add_chapter(course, "One"), "Hello", 60)
    catalog.publish_course(course)
    out = []
    for i in range(n):
        user = register_user(f"bench{i}@example.com", "q7-lantern-orbit", f"Bench {i}")
        cart = cart_services.open_cart("USD", user)
        cart_services.add_course(cart, course.id, user)
        payment = start_payment(place_order(user, cart), "sandbox")
        sbx = db.session.get(SandboxSession, payment.provider_session_id)
        assert sbx is not None
        sbx.status, sbx.charge_id = SandboxStatus.PAID, f"sbx_ch_bench{i}"
        body = event_body(sbx, "payment.succeeded")
        out.append((body, {"X-Sandbox-Signature": sign(sandbox_secret(), body)}))
    db.session.commit()
    return out


def _time(call: object, rounds: int) -> list[float]:
    samples = []
    for i in range(rounds):
        start = time.perf_counter()
        call(i)  # type: ignore[operator]
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def _summary(name: str, samples: list[float], base: float) -> str:
    p50 = statistics.median(samples)
    p99 = sorted(samples)[int(len(samples) * 0.99) - 1]
    return f"{name:<22} p50 {p50:7.2f} ms   p99 {p99:7.2f} ms   p50 ratio {p50 / base:6.1f}x"


def main() -> None:
    db_url = os.environ.get(
        "BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/coursefront_bench"
    )
    redis_url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/15")
    _prepare(db_url)
    app = create_app(
        {
            "DATABASE_URL": db_url,
            "REDIS_URL": redis_url,
            "RATELIMIT_ENABLED": False,
            "LOG_LEVEL": "WARNING",
            "APP_ENV": "development",
        }
    )
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
        get_redis().flushdb()
        events = _events(ROUNDS)
        client = app.test_client()
        health = _time(lambda _i: client.get("/healthz"), ROUNDS)
        hooks = _time(
            lambda i: client.post("/webhooks/sandbox", data=events[i][0], headers=events[i][1]),
            ROUNDS,
        )
        dupes = _time(
            lambda i: client.post("/webhooks/sandbox", data=events[i][0], headers=events[i][1]),
            ROUNDS,
        )
        base = statistics.median(health)
        print(f"{ROUNDS} rounds each, PostgreSQL {db_url.rsplit('@', 1)[-1]}, Redis {redis_url}")
        print(_summary("GET /healthz (baseline)", health, base))
        print(_summary("webhook, new event", hooks, base))
        print(_summary("webhook, duplicate", dupes, base))
        get_redis().flushdb()


if __name__ == "__main__":
    main()
