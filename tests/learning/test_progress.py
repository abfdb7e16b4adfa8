"""Honest progress: heartbeats credited no more than the time that passed, the 90 % rule,
enrollment progress over the course's lectures, completion exactly once under concurrency."""

from __future__ import annotations

import random
import threading
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from app.accounts.models import User
from app.catalog import services as catalog
from app.catalog.models import Chapter, Course, Lecture
from app.core.models import utcnow
from app.extensions import db
from app.learning import services as learning
from app.learning.models import (
    Certificate,
    Enrollment,
    EnrollmentSource,
    EnrollmentStatus,
    LectureProgress,
)
from app.learning.progress import Beat, LectureHasVideo, mark_lecture_done, record_heartbeat
from tests.conftest import login_as
from tests.factories import make_course, make_user
from tests.learning.builders import lectures_of, ready_video

T0 = utcnow().replace(microsecond=0) - timedelta(days=3)


def _course(lectures: int = 4, seconds: int = 100) -> Course:
    return make_course(
        chapters=(("One", tuple((f"Lecture {i + 1}", seconds) for i in range(lectures))),)
    )


def _enrol(user: User, course: Course) -> Enrollment:
    return learning.grant_enrollment(user.id, course.id, EnrollmentSource.ADMIN)


def _watch(user: User, lecture: Lecture, seconds: int, start: Any = T0) -> Any:
    """A real viewing: a start beat, then one beat every 15 s of wall time; the last answer."""
    record_heartbeat(user.id, lecture.id, Beat(0, 0), now=start)
    answer, at, played = None, start, 0
    while played < seconds:
        step = min(15, seconds - played)
        at, played = at + timedelta(seconds=step), played + step
        answer = record_heartbeat(user.id, lecture.id, Beat(played, step), now=at)
    return answer


def _fresh(enrollment: Enrollment) -> Enrollment:
    db.session.refresh(enrollment)
    return enrollment


def test_heartbeats_advance_position_watched_time_and_the_enrollment(db_session: Any) -> None:
    user, course = make_user(), _course()
    enrollment = _enrol(user, course)
    first = lectures_of(course)[0]
    answer = _watch(user, first, 45)
    assert answer is not None
    assert (answer.position_s, answer.watched_s, answer.credited_s) == (45, 45, 15)
    assert not answer.lecture_done and answer.progress == 0
    enrollment = _fresh(enrollment)
    assert enrollment.total_time_spent_s == 45
    assert enrollment.current_lecture_id == first.id
    assert enrollment.last_accessed_at == T0 + timedelta(seconds=45)


def test_a_claim_of_600_s_after_15_s_of_wall_time_credits_at_most_16(db_session: Any) -> None:
    user, course = make_user(), _course()
    _enrol(user, course)
    lecture = lectures_of(course)[0]
    record_heartbeat(user.id, lecture.id, Beat(0, 0), now=T0)
    answer = record_heartbeat(user.id, lecture.id, Beat(600, 600), now=T0 + timedelta(seconds=15))
    assert answer is not None
    assert answer.credited_s <= 16 and answer.watched_s <= 16
    # The first heartbeat of a lecture has no earlier one to measure from: it starts the clock.
    other = lectures_of(course)[1]
    first = record_heartbeat(user.id, other.id, Beat(0, 300), now=T0)
    assert first is not None and first.credited_s == 0


def test_a_faster_rate_is_credited_faster_but_never_more_than_twice(db_session: Any) -> None:
    user, course = make_user(), _course()
    _enrol(user, course)
    lecture = lectures_of(course)[0]
    record_heartbeat(user.id, lecture.id, Beat(0, 0), now=T0)
    at = T0 + timedelta(seconds=15)
    answer = record_heartbeat(user.id, lecture.id, Beat(30, 30, rate=2.0), now=at)
    assert answer is not None and answer.credited_s == 30
    answer = record_heartbeat(
        user.id, lecture.id, Beat(90, 60, rate=8.0), now=at + timedelta(seconds=15)
    )
    assert answer is not None and answer.credited_s == 32  # 15 s at 2x, plus 7 %


def test_a_lecture_is_done_at_90_percent_watched(db_session: Any) -> None:
    user, course = make_user(), _course(lectures=2, seconds=100)
    enrollment = _enrol(user, course)
    lecture = lectures_of(course)[0]
    answer = _watch(user, lecture, 89)
    assert answer is not None and not answer.lecture_done
    assert _fresh(enrollment).completed_lectures == 0
    answer = record_heartbeat(user.id, lecture.id, Beat(90, 1), now=T0 + timedelta(seconds=89 + 1))
    assert answer is not None and answer.lecture_done and answer.watched_s == 90
    assert (answer.completed_lectures, answer.total_lectures, answer.progress) == (1, 2, 50)


def test_three_of_four_lectures_done_is_75_percent(db_session: Any) -> None:
    user, course = make_user(), _course(lectures=4, seconds=30)
    enrollment = _enrol(user, course)
    for i, lecture in enumerate(lectures_of(course)[:3]):
        _watch(user, lecture, 30, start=T0 + timedelta(hours=i))
    enrollment = _fresh(enrollment)
    assert (enrollment.progress, enrollment.completed_lectures) == (75, 3)
    assert enrollment.status is EnrollmentStatus.ACTIVE and enrollment.completed_at is None


def test_the_last_lecture_completes_the_course_and_earns_one_certificate(db_session: Any) -> None:
    user, course = make_user(), _course(lectures=2, seconds=20)
    enrollment = _enrol(user, course)
    first, last = lectures_of(course)
    _watch(user, first, 20)
    answer = _watch(user, last, 20, start=T0 + timedelta(hours=1))
    assert answer is not None and answer.course_completed and answer.progress == 100
    enrollment = _fresh(enrollment)
    assert enrollment.status is EnrollmentStatus.COMPLETED
    assert enrollment.completed_at == T0 + timedelta(hours=1, seconds=20)
    # Watching again changes nothing: no second completion, no second certificate.
    again = _watch(user, last, 20, start=T0 + timedelta(hours=2))
    assert again is not None and not again.course_completed
    assert db.session.scalar(select(func.count()).select_from(Certificate)) == 1


def test_completed_stays_completed_when_lectures_are_added(db_session: Any) -> None:
    user, course = make_user(), _course(lectures=1, seconds=20)
    enrollment = _enrol(user, course)
    _watch(user, lectures_of(course)[0], 20)
    chapter = db.session.scalars(select(Chapter).where(Chapter.course_id == course.id)).one()
    added = catalog.add_lecture(chapter, "Bonus", 20)
    db.session.flush()
    answer = _watch(user, added, 20, start=T0 + timedelta(hours=1))
    assert answer is not None and not answer.course_completed
    enrollment = _fresh(enrollment)
    assert enrollment.status is EnrollmentStatus.COMPLETED
    assert (enrollment.progress, enrollment.completed_lectures) == (100, 2)


def test_progress_never_decreases(db_session: Any) -> None:
    """Seeks back, repeated lectures, silly claims and clocks: nothing goes down."""
    rng = random.Random(11)
    user, course = make_user(), _course(lectures=3, seconds=60)
    enrollment = _enrol(user, course)
    lectures, at = lectures_of(course), T0
    seen = {"progress": 0, "time": 0, "watched": dict.fromkeys((x.id for x in lectures), 0)}
    for _ in range(150):
        lecture = rng.choice(lectures)
        at += timedelta(seconds=rng.choice([-30, 0, 1, 5, 15, 15, 40]))
        beat = Beat(rng.uniform(0, 80), rng.choice([0, 3, 15, 600]), rng.choice([0.5, 1, 2]))
        answer = record_heartbeat(user.id, lecture.id, beat, now=at)
        assert answer is not None
        enrollment = _fresh(enrollment)
        assert answer.watched_s >= seen["watched"][lecture.id]
        assert enrollment.progress >= seen["progress"]
        assert enrollment.total_time_spent_s >= seen["time"]
        seen["watched"][lecture.id] = answer.watched_s
        seen["progress"], seen["time"] = enrollment.progress, enrollment.total_time_spent_s


def test_no_credit_without_access(db_session: Any) -> None:
    user, course, other = make_user(), _course(), _course()
    lecture, foreign = lectures_of(course)[0], lectures_of(other)[0]
    assert record_heartbeat(user.id, lecture.id, Beat(10, 10), now=T0) is None  # not enrolled
    _enrol(user, course)
    assert record_heartbeat(user.id, foreign.id, Beat(10, 10), now=T0) is None  # another course
    learning.drop_enrollment(user.id, course.id)
    assert record_heartbeat(user.id, lecture.id, Beat(10, 10), now=T0) is None  # refunded
    enrollment = _enrol(user, course)
    enrollment.expires_at = T0 - timedelta(seconds=1)
    db.session.flush()
    assert record_heartbeat(user.id, lecture.id, Beat(10, 10), now=T0) is None  # expired
    assert db.session.scalar(select(func.count()).select_from(LectureProgress)) == 0


def test_the_streak_counts_consecutive_days(db_session: Any) -> None:
    user, course = make_user(), _course()
    enrollment = _enrol(user, course)
    lecture = lectures_of(course)[0]
    for days, expected in ((0, 1), (0, 1), (1, 2), (2, 3), (4, 1), (5, 2)):
        record_heartbeat(user.id, lecture.id, Beat(0, 0), now=T0 + timedelta(days=days))
        assert _fresh(enrollment).streak_days == expected


def test_mark_as_done_is_for_lectures_without_a_video(db_session: Any) -> None:
    user, course = make_user(), _course(lectures=2, seconds=0)
    enrollment = _enrol(user, course)
    reading, video = lectures_of(course)
    ready_video(video, seconds=0)
    answer = mark_lecture_done(user.id, reading.id, now=T0)
    assert answer is not None and answer.lecture_done and answer.progress == 50
    with pytest.raises(LectureHasVideo):
        mark_lecture_done(user.id, video.id, now=T0)
    assert mark_lecture_done(make_user().id, reading.id, now=T0) is None
    assert _fresh(enrollment).completed_lectures == 1


# -- real concurrency: committed data, one connection per thread -----------------------------


def _race(app: Flask, calls: list[tuple[int, int, Beat]], at: Any) -> list[Any]:
    barrier = threading.Barrier(len(calls))
    answers: list[Any] = []

    def beat(user_id: int, lecture_id: int, b: Beat) -> None:
        with app.app_context():
            barrier.wait()
            try:
                answers.append(record_heartbeat(user_id, lecture_id, b, now=at))
                db.session.commit()
            finally:
                db.session.remove()

    threads = [threading.Thread(target=beat, args=call) for call in calls]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return answers


@pytest.mark.parametrize("same_lecture", [True, False], ids=["one-lecture", "two-lectures"])
def test_20_concurrent_final_heartbeats_complete_the_course_once(
    live_app: Flask, committed: Any, same_lecture: bool
) -> None:
    user, course = make_user(), _course(lectures=2, seconds=20)
    enrollment = _enrol(user, course)
    first, last = lectures_of(course)
    # Both lectures one beat short of done (18 of 20 s): any final beat completes one.
    for lecture in (first, last):
        record_heartbeat(user.id, lecture.id, Beat(0, 0), now=T0)
        record_heartbeat(user.id, lecture.id, Beat(17, 17), now=T0 + timedelta(seconds=17))
    if same_lecture:
        _watch(user, first, 20, start=T0 + timedelta(hours=1))
    db.session.commit()
    at = T0 + timedelta(hours=2)
    targets = [last] * 20 if same_lecture else [first, last] * 10
    answers = _race(live_app, [(user.id, x.id, Beat(20, 5)) for x in targets], at)
    assert len(answers) == 20 and all(a is not None for a in answers)
    assert sum(a.course_completed for a in answers) == 1
    db.session.expire_all()
    enrollment = db.session.get(Enrollment, enrollment.id)
    assert enrollment is not None and enrollment.status is EnrollmentStatus.COMPLETED
    assert (enrollment.progress, enrollment.completed_lectures) == (100, 2)
    certificates = select(func.count()).select_from(Certificate)
    assert db.session.scalar(certificates.where(Certificate.enrollment_id == enrollment.id)) == 1


def test_concurrent_heartbeats_cannot_both_claim_the_same_seconds(
    live_app: Flask, committed: Any
) -> None:
    user, course = make_user(), _course(lectures=1, seconds=1000)
    _enrol(user, course)
    lecture = lectures_of(course)[0]
    record_heartbeat(user.id, lecture.id, Beat(0, 0), now=T0)
    db.session.commit()
    at = T0 + timedelta(seconds=15)
    _race(live_app, [(user.id, lecture.id, Beat(15, 15))] * 10, at)
    watched = db.session.scalar(select(LectureProgress.watched_s))
    assert watched is not None and watched <= 16


# -- the endpoint ----------------------------------------------------------------------------


def test_the_heartbeat_endpoint(client: FlaskClient, db_session: Any) -> None:
    user, course = make_user(), _course()
    lecture = lectures_of(course)[0]
    url = f"/learning/progress/{lecture.id}"
    anonymous = client.post(url, data={"position": "1", "watched": "1"})
    assert anonymous.status_code == 401 and anonymous.json["error"]["code"] == "login_required"
    login_as(client, user)
    refused = client.post(url, data={"position": "1", "watched": "1"})
    assert refused.status_code == 403 and refused.json["error"]["code"] == "no_access"
    _enrol(user, course)
    for bad in (
        {"position": "x", "watched": "1"},
        {"position": "1"},
        {"position": "1", "watched": "-3"},
        {"position": "nan", "watched": "1"},
    ):
        answer = client.post(url, data=bad)
        assert answer.status_code == 400 and answer.json["error"]["code"] == "invalid"
    assert db.session.scalar(select(func.count()).select_from(LectureProgress)) == 0
    ok = client.post(url, data={"position": "12.5", "watched": "0", "rate": "1.5"})
    assert ok.status_code == 200 and ok.headers["Cache-Control"] == "no-store"
    data = ok.json["data"]
    assert data["lectureId"] == lecture.id and data["position"] == 12
    assert data["totalLectures"] == 4 and data["lectureDone"] is False
    hx = client.post(url, data={"position": "13", "watched": "0"}, headers={"HX-Request": "true"})
    assert hx.status_code == 200 and hx.json["success"] is True


def test_buying_a_finished_course_again_completes_it_again(db_session: Any) -> None:
    """Refunded after finishing, bought again: completed at once, the certificate valid again."""
    user, course = make_user(), _course(lectures=1, seconds=20)
    enrollment = _enrol(user, course)
    _watch(user, lectures_of(course)[0], 20)
    learning.drop_enrollment(user.id, course.id)
    certificate = db.session.scalars(select(Certificate)).one()
    assert certificate.revoked_at is not None
    enrollment = _enrol(user, course)
    assert enrollment.status is EnrollmentStatus.COMPLETED and enrollment.progress == 100
    db.session.refresh(certificate)
    assert certificate.revoked_at is None
