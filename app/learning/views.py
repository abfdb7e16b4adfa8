"""The learner's pages."""

from __future__ import annotations

from flask.typing import ResponseReturnValue
from flask_login import login_required

from app.accounts.access import viewer
from app.checkout.queries import list_orders
from app.core.htmx import render

# The other view modules register their routes on the blueprint when imported.
from app.learning import (  # noqa: F401
    bp,
    certificate_views,
    dashboard,
    playback_views,
    player_views,
    progress_views,
)

RECENT_ORDERS = 5

bp.add_app_template_filter(dashboard.ago, "ago")


@bp.get("/learning")
@login_required
def my_learning() -> ResponseReturnValue:
    """Courses in progress, completed and ended, certificates and recent orders."""
    user = viewer()
    assert user is not None
    return render(
        "learning/my_learning.html",
        "learning/my_learning.html",
        board=dashboard.get_dashboard(user.id),
        orders=list_orders(user.id, limit=RECENT_ORDERS),
    )
