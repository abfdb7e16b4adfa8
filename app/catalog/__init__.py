"""Categories, courses, chapters and lectures; search; the public course pages."""

from flask import Blueprint

bp = Blueprint("catalog", __name__)
