"""Reports (to be built)."""

from __future__ import annotations

from flask.typing import ResponseReturnValue

from app.admin import bp
from app.admin.web import placeholder


@bp.get("/reports")
def report_list() -> ResponseReturnValue:
    return placeholder("Reports")
