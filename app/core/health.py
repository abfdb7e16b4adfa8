"""Liveness and readiness endpoints for load balancers and orchestrators.

`/readyz` answers 503 only when this web process cannot serve (database or Redis down); the
scheduler and the workers are reported in the body, since the web keeps working without them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, jsonify
from flask.wrappers import Response
from sqlalchemy import text

from app.core.models import utcnow
from app.extensions import db, get_redis

bp = Blueprint("ops", __name__)

# Written by the scheduler's `record_heartbeat` job each minute, once a worker has run it: a
# fresh stamp proves both the scheduler and a worker on the low queue are alive.
HEARTBEAT_KEY = "coursefront:scheduler:heartbeat"
HEARTBEAT_STALE_S = 180


@bp.get("/healthz")
def healthz() -> Response:
    return jsonify({"status": "ok"})


def _check(probe: Any) -> str:
    try:
        probe()
    except Exception as exc:  # any failure means not ready; say which
        return f"error: {exc.__class__.__name__}"
    return "ok"


def _ping_database() -> None:
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:
        db.session.rollback()
        raise


def scheduler_status() -> dict[str, Any]:
    raw = get_redis().get(HEARTBEAT_KEY)
    if raw is None:
        return {"status": "missing", "last_heartbeat": None}
    stamp = datetime.fromisoformat(raw.decode() if isinstance(raw, bytes) else str(raw))
    age = int((utcnow() - stamp).total_seconds())
    status = "ok" if age <= HEARTBEAT_STALE_S else "stale"
    return {"status": status, "last_heartbeat": stamp.isoformat(), "age_s": age}


def workers_status() -> dict[str, Any]:
    from rq import Worker  # on demand: web processes skip RQ until they need it

    count = len(Worker.all(connection=get_redis()))
    return {"status": "ok" if count else "none", "count": count}


def _background(redis_ok: bool) -> dict[str, Any]:
    if not redis_ok:  # both live in Redis: nothing to ask (and no second timeout to wait for)
        return {"scheduler": {"status": "unknown"}, "workers": {"status": "unknown"}}
    report: dict[str, Any] = {}
    for name, probe in (("scheduler", scheduler_status), ("workers", workers_status)):
        try:
            report[name] = probe()
        except Exception as exc:
            report[name] = {"status": f"error: {exc.__class__.__name__}"}
    return report


@bp.get("/readyz")
def readyz() -> tuple[Response, int]:
    checks = {"database": _check(_ping_database), "redis": _check(lambda: get_redis().ping())}
    failed = [k for k, v in checks.items() if v != "ok"]
    body = {
        "status": "unavailable" if failed else "ok",
        "checks": checks,
        "failed": failed,
        "background": _background(checks["redis"] == "ok"),
    }
    return jsonify(body), 503 if failed else 200
