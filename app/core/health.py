"""Liveness and readiness endpoints for load balancers and orchestrators."""

from __future__ import annotations

from flask import Blueprint, jsonify
from flask.wrappers import Response
from sqlalchemy import text

from app.extensions import db, get_redis

bp = Blueprint("ops", __name__)


@bp.get("/healthz")
def healthz() -> Response:
    return jsonify({"status": "ok"})


@bp.get("/readyz")
def readyz() -> tuple[Response, int]:
    checks: dict[str, str] = {}
    try:
        db.session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # any failure means not ready; say which
        db.session.rollback()
        checks["database"] = f"error: {exc.__class__.__name__}"
    try:
        get_redis().ping()
        checks["redis"] = "ok"
    except Exception as exc:
        checks["redis"] = f"error: {exc.__class__.__name__}"
    ready = all(v == "ok" for v in checks.values())
    failed = [k for k, v in checks.items() if v != "ok"]
    body = {"status": "ok" if ready else "unavailable", "checks": checks, "failed": failed}
    return jsonify(body), 200 if ready else 503
