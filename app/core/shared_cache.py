"""Process-local caches of what every visitor sees the same (category lists, running sales),
dropped when the rows behind them change. Never for anything that depends on who is asking.

Each namespace ("catalog", "sales") has a version number in Redis. A flush that writes a watched
model marks its namespace; when the transaction commits, the version goes up and this process
drops its entries at once. Other processes read the version at most once per CHECK_INTERVAL_S,
so they follow within a second. An entry may also end at a time of its own (a sale that starts
or ends then). With Redis unreachable, entries live at most FALLBACK_TTL_S; no entry outlives
MAX_AGE_S whatever happens.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from flask import current_app
from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction

from app.core.models import utcnow
from app.extensions import get_redis

log = logging.getLogger(__name__)
T = TypeVar("T")

CHECK_INTERVAL_S = 1.0
FALLBACK_TTL_S = 10.0
MAX_AGE_S = 300.0
# Keys may come from visitors (a search's filters): the oldest entry goes past this many.
MAX_ENTRIES = 2000
_KEY = "coursefront_cache_changes"
_MISSING = object()


@dataclass
class _Space:
    version: int | None = None
    checked_at: float = float("-inf")
    entries: dict[Hashable, tuple[Any, float]] = field(default_factory=dict)


_spaces: dict[str, _Space] = {}
_watched: dict[type, str] = {}


def watch(namespace: str, *models: type) -> None:
    """Writes to these models (ORM flushes, or ORM update/delete statements) end the namespace's
    entries once their transaction commits."""
    for model in models:
        _watched[model] = namespace


def _redis_key(namespace: str) -> str:
    return f"cf:cache-version:{namespace}"


def _read_version(namespace: str) -> int | None:
    try:
        raw = get_redis().get(_redis_key(namespace))
    except Exception:  # Redis down: entries fall back to a short life (FALLBACK_TTL_S)
        log.warning("event=shared_cache_unavailable namespace=%s", namespace)
        return None
    return int(raw) if raw else 0


def _space(namespace: str, now: float) -> _Space:
    space = _spaces.setdefault(namespace, _Space())
    if now - space.checked_at >= CHECK_INTERVAL_S:
        version = _read_version(namespace)
        if version is None or version != space.version:
            space.entries.clear()
        space.version, space.checked_at = version, now
    return space


def cached(
    namespace: str,
    key: Hashable,
    compute: Callable[[], T],
    until: Callable[[T], datetime | None] | None = None,
) -> T:
    """The namespace's entry for key, computed (and kept) on a miss. `until` may name a moment
    the value stops being true (UTC), such as the next sale start."""
    hit = peek(namespace, key, _MISSING)
    if hit is not _MISSING:
        return hit  # type: ignore[no-any-return]
    value = compute()
    keep(namespace, key, value, until(value) if until else None)
    return value


def peek(namespace: str, key: Hashable, default: Any = None) -> Any:
    """The entry for key, or `default`: for a value that is cheaper to compute along with something
    else (a text search's count comes with its ranking), then `keep`-ed."""
    now = time.monotonic()
    hit = _space(namespace, now).entries.get(key)
    return hit[0] if hit is not None and hit[1] > now else default


def keep(namespace: str, key: Hashable, value: Any, ends: datetime | None = None) -> None:
    """Keep a value for key until the namespace changes (or `ends`, UTC, if sooner)."""
    now = time.monotonic()
    space = _space(namespace, now)
    life = MAX_AGE_S if space.version is not None else FALLBACK_TTL_S
    if ends is not None:
        life = min(life, (ends - utcnow()).total_seconds())
    if life > 0:
        if len(space.entries) >= MAX_ENTRIES:
            space.entries.pop(next(iter(space.entries)))
        space.entries[key] = (value, now + life)


def clear() -> None:
    """Forget every entry and version this process holds (tests, after a manual data load)."""
    _spaces.clear()


def _bump(namespace: str) -> None:
    space = _spaces.setdefault(namespace, _Space())
    space.entries.clear()
    try:
        space.version = int(get_redis().incr(_redis_key(namespace)))
        space.checked_at = time.monotonic()
    except Exception:  # other processes' entries end by FALLBACK_TTL_S or MAX_AGE_S
        log.warning("event=shared_cache_bump_failed namespace=%s", namespace)
        space.version = None


def _mark(session: Session, namespaces: set[str]) -> None:
    if namespaces:
        session.info.setdefault(_KEY, set()).update(namespaces)


def _after_flush(session: Session, _context: object) -> None:
    changed = {*session.new, *session.dirty, *session.deleted}
    _mark(session, {ns for obj in changed if (ns := _watched.get(type(obj))) is not None})


def _on_execute(state: ORMExecuteState) -> None:
    if (state.is_update or state.is_delete) and state.bind_mapper is not None:
        namespace = _watched.get(state.bind_mapper.class_)
        if namespace is not None:
            _mark(state.session, {namespace})


def _after_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint released: the change is not visible to others until the real commit
    changed: set[str] = session.info.pop(_KEY, set())
    if changed and current_app:
        for namespace in changed:
            _bump(namespace)


def _after_rollback(session: Session, previous: SessionTransaction) -> None:
    if previous.parent is None and not previous.nested:
        session.info.pop(_KEY, None)


def install_cache_hooks() -> None:
    """Wire the change tracking on every session (idempotent)."""
    if not event.contains(Session, "after_commit", _after_commit):
        event.listen(Session, "after_flush", _after_flush)
        event.listen(Session, "do_orm_execute", _on_execute)
        event.listen(Session, "after_commit", _after_commit)
        event.listen(Session, "after_soft_rollback", _after_rollback)
