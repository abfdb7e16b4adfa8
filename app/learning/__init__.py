"""Enrollments, the learner's courses, progress and certificates."""

from flask import Blueprint

bp = Blueprint("learning", __name__)
