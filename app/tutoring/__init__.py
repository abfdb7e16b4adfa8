"""Tutoring packages: purchases, trainers, allocations and sessions."""

from flask import Blueprint

bp = Blueprint("tutoring", __name__)
