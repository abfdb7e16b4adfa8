"""Seed 000's "Testing the Flows" scripts, run as written (curl + jq in bash) with only the host
changed, against a live server and a real worker process; then what they did is checked in the
database: the course, the buyer's enrollment, the lecture's transcoded video.

The scripts are copied verbatim from the seed into tests/api/seed000/. They log in as
test@example.com / password123 (an account the seed assumes exists and that is too weak for
our sign-up form: it is created here directly) and create the course "as teacher", then buy it
with the same token, as the seed does.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from app.accounts.models import Role, User
from app.accounts.passwords import hash_password
from app.catalog.models import Course, CourseStatus, Lecture
from app.learning.models import Enrollment
from app.media.models import MediaFile, MediaStatus
from app.media.testcard import make_clip

SCRIPTS = Path(__file__).parent.parent / "api" / "seed000"
SEED_HOST = "http://localhost:3000"
# Appended after the scripts, to read back what they got; the scripts themselves are untouched.
REPORT = """
printf '\\n@@REPORT@@{"token":"%s","course":"%s","payment":"%s","lecture":"%s","file":"%s"}\\n' \\
  "$TOKEN" "$COURSE_ID" "$PAYMENT_ID" "$LECTURE_ID" "$FILE_ID"
"""


def _until(check: Any, seconds: float) -> Any:
    deadline = time.monotonic() + seconds
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.25)


@pytest.mark.timeout(180)
def test_the_seed_purchase_and_video_upload_scripts_run_as_written(
    live_server: str, live_worker: None, committed: Any, tmp_path: Path
) -> None:
    assert shutil.which("curl") and shutil.which("jq"), "make system-packages installs them"
    committed.add(
        User(
            email="test@example.com",
            name="Test Teacher",
            role=Role.TEACHER,
            password_hash=hash_password("password123"),
        )
    )
    committed.commit()
    make_clip(tmp_path / "test.mp4", seconds=2, height=240)
    script = "\n".join(
        (SCRIPTS / name).read_text().replace(SEED_HOST, live_server)
        for name in ("purchase_flow.sh", "video_upload_flow.sh")
    )
    assert SEED_HOST not in script and live_server in script
    run = subprocess.run(
        ["/bin/bash", "-c", script + REPORT],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path)},
    )
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout.rsplit("@@REPORT@@", 1)[1])
    assert report["token"] not in ("", "null"), run.stdout
    for key in ("course", "payment", "lecture", "file"):
        assert report[key] not in ("", "null"), (key, run.stdout)

    committed.expire_all()
    teacher = committed.scalar(select(User).where(User.email == "test@example.com"))
    course = committed.get(Course, int(report["course"]))
    assert course is not None and course.title == "Test Course"
    assert course.teacher_id == teacher.id and course.status is CourseStatus.PUBLISHED

    def enrolled() -> Enrollment | None:
        committed.expire_all()
        return committed.scalar(
            select(Enrollment).where(
                Enrollment.user_id == teacher.id, Enrollment.course_id == course.id
            )
        )

    assert _until(enrolled, 30) is not None, run.stdout  # the payment's fulfilment, by the worker

    lecture = committed.get(Lecture, int(report["lecture"]))
    assert lecture is not None and lecture.title == "Test Lecture"

    def transcoded() -> bool:
        committed.expire_all()
        media = committed.get(MediaFile, lecture.media_file_id) if lecture.media_file_id else None
        if media is None:
            committed.refresh(lecture)
            return False
        return media.status is MediaStatus.READY

    assert _until(transcoded, 90), run.stdout
