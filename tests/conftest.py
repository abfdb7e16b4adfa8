"""Session-wide real PostgreSQL and Redis; a rolled-back transaction per test."""

from __future__ import annotations

import atexit
import contextvars
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import nullcontext
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask, current_app, has_app_context
from flask.testing import FlaskClient
from flask_migrate import upgrade
from redis import Redis
from sqlalchemy.orm import Session

from app import create_app, embedded
from app.config import ROOT
from app.core import shared_cache
from app.extensions import db
from tests.fakes.fixtures import (  # noqa: F401 - shared fixtures
    moto_endpoint,
    razorpay_double,
    stripe_double,
)

TEST_DB = "coursefront_test"


def _reset_database(url: str) -> None:
    """An empty public schema, so the migrations build everything from nothing."""
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session")
def service_urls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """TEST_DATABASE_URL / TEST_REDIS_URL (or REDIS_URL) when set, else embedded servers.

    An embedded run gets a database and a Redis of its own, so two runs never disturb each other.
    """
    own_db = f"{TEST_DB}_{os.getpid()}"
    db_url = os.environ.get("TEST_DATABASE_URL") or embedded.start_postgres(
        ROOT / "instance" / "test-postgres", database=own_db
    )
    db_url = embedded.normalise_database_url(db_url)
    redis_url = (
        os.environ.get("TEST_REDIS_URL")
        or os.environ.get("REDIS_URL")
        or embedded.start_redis(tmp_path_factory.mktemp("redis"))
    )
    _reset_database(db_url)
    yield {"DATABASE_URL": db_url, "REDIS_URL": redis_url}
    try:
        if not os.environ.get("TEST_DATABASE_URL"):
            for engine_owner in list(db._app_engines.values()):
                for engine in engine_owner.values():
                    engine.dispose()
            embedded.drop_database(ROOT / "instance" / "test-postgres", own_db)
    finally:
        # Stops what this session started (by pid; the shared PostgreSQL only when no other
        # run uses it), whoever is still connected; pytest_sessionfinish checks it did.
        embedded.stop_all()


@pytest.hookimpl(trylast=True)  # after the runner's own sessionfinish has torn fixtures down
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the run when an embedded server it started outlives it (issue 7)."""
    left = embedded.leftovers()
    if not left:
        return
    message = "embedded servers still running after teardown: " + "; ".join(left)
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.ensure_newline()
        reporter.write_line(message, red=True)
    else:
        sys.stderr.write(message + "\n")
    session.exitstatus = pytest.ExitCode.TESTS_FAILED


# Media files of this run (uploads, HLS outputs): the web apps and worker processes share it.
MEDIA_ROOT = tempfile.mkdtemp(prefix="cf-test-media-")
atexit.register(shutil.rmtree, MEDIA_ROOT, ignore_errors=True)
# Prometheus samples of this run (app/core/metrics.py): its own directory, set before any app
# exists, inherited by the workers and servers it starts (which so never wipe it).
os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="cf-test-metrics-")
atexit.register(shutil.rmtree, os.environ["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)


def make_test_app(urls: dict[str, str], **overrides: Any) -> Flask:
    config = {
        "TESTING": True,
        "MEDIA_ROOT": MEDIA_ROOT,
        "APP_ENV": "test",
        "SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789",
        "WTF_CSRF_ENABLED": False,
        "SERVER_NAME": None,
        **urls,
        **overrides,
    }
    return create_app(config)


@pytest.fixture(scope="session")
def app(service_urls: dict[str, str]) -> Flask:
    application = make_test_app(service_urls)
    with application.app_context():
        upgrade()  # every test session runs the real migrations
        db.session.remove()
    return application


@pytest.fixture(autouse=True)
def _clean_redis(app: Flask) -> None:
    Redis.from_url(app.config["REDIS_URL"]).flushdb()
    # Each test rolls its rows back: what this process cached of them must go too.
    shared_cache.clear()


@pytest.fixture
def db_session(app: Flask) -> Iterator[Session]:
    """A session whose commits are savepoints inside one transaction rolled back afterwards."""
    with app.app_context():
        engines = db._app_engines[app]  # Flask-SQLAlchemy ignores a session-level bind=
        engine = engines[None]
        connection = engine.connect()
        outer = connection.begin()
        engines[None] = connection  # type: ignore[assignment]
        db.session.remove()
        db.session.configure(join_transaction_mode="create_savepoint")
        try:
            yield db.session
        finally:
            db.session.remove()
            outer.rollback()
            connection.close()
            engines[None] = engine


class IsolatedClient(FlaskClient):
    """Each request gets its own app context (and so its own db session and `g`), as in
    production, instead of reusing the test's; it still sees the test's uncommitted rows
    because every session shares the test's connection."""

    def open(self, *args: Any, **kwargs: Any) -> Any:
        return contextvars.Context().run(super().open, *args, **kwargs)


@pytest.fixture
def client(app: Flask, db_session: Session) -> FlaskClient:
    app.test_client_class = IsolatedClient
    return app.test_client()


def login_as(client: FlaskClient, user: Any) -> None:
    """Sign the test client in as the user (or a user's get_id()) without the login form,
    through a real login session: logging out or revoking it ends this client's session."""
    from app.accounts.models import User
    from app.accounts.sessions import start_login_session

    user_id = int(user.partition(":")[0]) if isinstance(user, str) else user.id
    app = client.application
    # The test's own app context when it has one (so the row joins its transaction), else one
    # of the client's app (a thread of a concurrency test), whose commit is real.
    same_app = has_app_context() and current_app._get_current_object() is app
    with nullcontext() if same_app else app.app_context():
        account = db.session.get(User, user_id)
        assert account is not None, f"no user {user_id}"
        start_login_session(account, remember=False, user_agent="test client")
        cookie_id = account.get_id()
        db.session.commit()  # a savepoint under db_session; real under `committed`
    with client.session_transaction() as sess:
        sess["_user_id"] = cookie_id
        sess["_fresh"] = True


class QueryCounter:
    def __init__(self) -> None:
        self.statements: list[str] = []

    def __call__(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK")):
            self.statements.append(statement)

    @property
    def count(self) -> int:
        return len(self.statements)


@pytest.fixture
def count_queries(app: Flask, db_session: Session) -> Iterator[QueryCounter]:
    counter = QueryCounter()
    engine = db.engines[None]
    sa.event.listen(engine, "before_cursor_execute", counter)
    try:
        yield counter
    finally:
        sa.event.remove(engine, "before_cursor_execute", counter)


@pytest.fixture(scope="session")
def live_app(app: Flask, service_urls: dict[str, str]) -> Flask:
    """A second app on the same database whose commits are real (`app` has migrated it)."""
    return make_test_app(service_urls)


@pytest.fixture
def committed(live_app: Flask) -> Iterator[Any]:
    """An app context whose data is committed for real; every table is emptied afterwards."""
    with live_app.app_context():
        yield db.session
        db.session.rollback()
        db.session.remove()
        truncate_all()


def truncate_all(attempts: int = 5) -> None:
    """Empty every table; a request still finishing elsewhere may hold a lock, so retry."""
    tables = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
    for attempt in range(attempts):
        try:
            with db.engine.begin() as conn:
                conn.execute(sa.text("SET LOCAL lock_timeout = '3s'"))
                conn.execute(sa.text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
            return
        except sa.exc.OperationalError:
            if attempt == attempts - 1:
                raise
            time.sleep(0.5)
