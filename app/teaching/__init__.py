"""The teacher's studio: their courses, authoring, lecture uploads and the state of each video."""

from flask import Blueprint

bp = Blueprint("teaching", __name__, url_prefix="/studio")
