"""Dashboard (to be built)."""

from __future__ import annotations

from flask.typing import ResponseReturnValue

from app.admin import bp
from app.admin.web import placeholder


@bp.get("/")
def dashboard() -> ResponseReturnValue:
    return placeholder("Dashboard")
