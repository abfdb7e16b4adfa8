"""The per-process shared cache follows writes: a committed change to a watched model ends the
entries (here at once, elsewhere within CHECK_INTERVAL_S); a rollback or an unwatched write
does not; an entry can end at a time of its own."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from redis import Redis
from sqlalchemy.orm import Session

from app.catalog.models import Category
from app.core import shared_cache
from app.core.models import utcnow
from app.extensions import db
from tests.factories import make_category, make_course


class Counter:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self) -> int:
        self.calls += 1
        return self.calls


def test_entries_last_until_a_watched_write_commits(db_session: Session, app: Flask) -> None:
    compute = Counter()
    assert shared_cache.cached("catalog", "k", compute) == 1
    assert shared_cache.cached("catalog", "k", compute) == 1  # kept
    db.session.add(Category(slug="new", name="New"))
    db.session.flush()
    assert shared_cache.cached("catalog", "k", compute) == 1  # not committed yet
    db.session.commit()
    assert shared_cache.cached("catalog", "k", compute) == 2
    version = Redis.from_url(app.config["REDIS_URL"]).get("cf:cache-version:catalog")
    assert version == b"1"


def test_a_rollback_changes_nothing(db_session: Session, app: Flask) -> None:
    compute = Counter()
    shared_cache.cached("catalog", "k", compute)
    with db.session.begin_nested():
        db.session.add(Category(slug="gone", name="Gone"))
        db.session.flush()
    db.session.rollback()
    assert shared_cache.cached("catalog", "k", compute) == 1
    assert Redis.from_url(app.config["REDIS_URL"]).get("cf:cache-version:catalog") is None


def test_another_process_follows_the_version(
    db_session: Session, app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    compute = Counter()
    shared_cache.cached("sales", "k", compute)
    # Another process committed a sale: it raised the version in Redis.
    Redis.from_url(app.config["REDIS_URL"]).incr("cf:cache-version:sales")
    assert shared_cache.cached("sales", "k", compute) == 1  # not looked at again yet
    monkeypatch.setattr(shared_cache, "CHECK_INTERVAL_S", 0.0)
    assert shared_cache.cached("sales", "k", compute) == 2


def test_an_entry_can_end_at_its_own_time(db_session: Session) -> None:
    compute = Counter()
    soon = utcnow() - timedelta(seconds=1)  # already past: never kept
    assert shared_cache.cached("sales", "t", compute, until=lambda _v: soon) == 1
    assert shared_cache.cached("sales", "t", compute, until=lambda _v: soon) == 2
    later = utcnow() + timedelta(hours=1)
    assert shared_cache.cached("sales", "u", compute, until=lambda _v: later) == 3
    assert shared_cache.cached("sales", "u", compute, until=lambda _v: later) == 3


def test_keys_from_visitors_are_bounded(
    db_session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(shared_cache, "MAX_ENTRIES", 3)
    for i in range(10):
        shared_cache.cached("catalog", ("count", i), lambda: 0)
    assert len(shared_cache._spaces["catalog"].entries) == 3


def test_publishing_shows_in_the_subject_counts(client: FlaskClient, db_session: Session) -> None:
    cat = make_category(name="Rust")
    make_course("First Rust", category=cat)
    assert "Rust (1)" in client.get("/courses").text
    make_course("Second Rust", category=cat)
    db.session.commit()
    assert "Rust (2)" in client.get("/courses").text
    filtered = client.get(f"/courses?category={cat.slug}").text
    assert "First Rust" in filtered and "Second Rust" in filtered
