"""JSON API v1. Endpoints are declared with app.api.spec.operation; the modules below register
theirs on import (after `bp` exists)."""

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")
# Seed 000's service-to-service endpoints live outside /api/v1.
internal_bp = Blueprint("internal", __name__, url_prefix="/internal")
EXTRA_BLUEPRINTS = (internal_bp,)

from app.api import (  # noqa: E402 - each module registers its operations on bp
    auth,
    auth_views,
    course_views,
    enrollment_views,
    internal,
    lecture_views,
    openapi,
    payment_views,
    tutoring_views,
    views,
)

__all__ = [
    "auth",
    "auth_views",
    "bp",
    "course_views",
    "enrollment_views",
    "internal",
    "internal_bp",
    "lecture_views",
    "openapi",
    "payment_views",
    "tutoring_views",
    "views",
]
