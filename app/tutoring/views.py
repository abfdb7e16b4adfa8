"""Tutoring pages (the trainer's agenda, the student's sessions) register here."""

from __future__ import annotations

from app.tutoring import bp  # noqa: F401  (the blueprint the app registers)
