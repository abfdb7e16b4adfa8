"""JSON API v1. The cart endpoints (seed 002) authorise by cart token, never by cookie."""

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")
