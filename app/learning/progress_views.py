"""The player's heartbeat: POST /learning/progress/<lecture id>, form-encoded (so the page's
`navigator.sendBeacon` on leaving can send it with its csrf_token field, no header needed)."""

from __future__ import annotations

import math

from flask import Response, jsonify, request
from flask.typing import ResponseReturnValue

from app.accounts.access import viewer
from app.core.errors import json_error
from app.core.unit import committing
from app.learning import bp
from app.learning.progress import Beat, ProgressUpdate, record_heartbeat


@bp.post("/learning/progress/<int:lecture_id>")
def heartbeat(lecture_id: int) -> ResponseReturnValue:
    user = viewer()
    if user is None:
        return json_error("login_required", "Log in to save your progress.", 401)
    beat = _beat()
    if isinstance(beat, Response):
        return beat
    with committing():
        update = record_heartbeat(user.id, lecture_id, beat)
    if update is None:
        return json_error("no_access", "Your progress in this lecture cannot be saved.", 403)
    response = jsonify(success=True, data=_data(update))
    response.headers["Cache-Control"] = "no-store"
    return response


def _beat() -> Beat | Response:
    """The form's numbers, or the JSON error naming the first bad one."""
    values: dict[str, float] = {}
    for name, default in (("position", None), ("watched", None), ("rate", 1.0)):
        raw = request.form.get(name, "").strip()
        try:
            value = float(raw) if raw else default
        except ValueError:
            value = None
        if value is None or not math.isfinite(value) or value < 0:
            message = f"“{name}” is a number of seconds, 0 or more."
            if name == "rate":
                message = "“rate” is the playback rate, a positive number."
            return json_error("invalid", message, 400, field=name)
        values[name] = value
    return Beat(values["position"], values["watched"], values["rate"] or 1.0)


def _data(update: ProgressUpdate) -> dict[str, object]:
    return {
        "lectureId": update.lecture_id,
        "position": update.position_s,
        "watchedSeconds": update.watched_s,
        "credited": update.credited_s,
        "lectureDone": update.lecture_done,
        "progress": update.progress,
        "completedLectures": update.completed_lectures,
        "totalLectures": update.total_lectures,
        "courseCompleted": update.course_completed,
    }
