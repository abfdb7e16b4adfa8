"""The admin console: the shop and its money from the browser. Top of the import order: it
may use every domain's queries and services; nothing imports it."""

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")
# /metrics: Prometheus scrapes it with a token or from an internal address, not an admin login.
metrics_bp = Blueprint("metrics", __name__)
EXTRA_BLUEPRINTS = (metrics_bp,)
