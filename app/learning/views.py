"""The learner's pages."""

from __future__ import annotations

from flask.typing import ResponseReturnValue
from flask_login import login_required

from app.accounts.access import viewer
from app.core.htmx import render
from app.core.visitor import visitor_currency

# The other view modules register their routes on the blueprint when imported.
from app.learning import (  # noqa: F401
    bp,
    certificate_views,
    playback_views,
    player_views,
    progress_views,
    queries,
)


@bp.get("/learning")
@login_required
def my_learning() -> ResponseReturnValue:
    user = viewer()
    assert user is not None
    enrollments = queries.list_learning(user.id)
    return render(
        "learning/my_learning.html",
        "learning/my_learning.html",
        enrollments=enrollments,
        currency=visitor_currency(),
    )
