"""GET /metrics in Prometheus format (to be built)."""

from __future__ import annotations

from flask.typing import ResponseReturnValue

from app.admin import metrics_bp


@metrics_bp.get("/metrics")
def metrics() -> ResponseReturnValue:
    return ("", 404)
