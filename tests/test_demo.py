from pathlib import Path

from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.accounts.models import Role, User
from app.catalog.models import Category, Course, CourseKind, CourseStatus
from app.catalog.queries import get_course_by_slug
from app.catalog.search import CourseSearch, search_courses
from app.catalog.services import slugify
from app.demo import _duration_words, seed_demo
from app.demo.content import COPY
from app.demo.videos import DEMO_VIDEOS, _first_lectures
from app.extensions import db


def test_seed_demo_is_complete_and_idempotent(app: Flask, db_session: Session) -> None:
    seed_demo()
    db.session.flush()
    counts = (
        db.session.scalar(select(func.count(Course.id))),
        db.session.scalar(select(func.count(Category.id))),
        db.session.scalar(select(func.count(User.id))),
    )
    # 40 video courses and 2 tutoring ones; the demo accounts and the history's 15 buyers.
    assert counts == (42, 8, 11 + 15)
    seed_demo()
    db.session.flush()
    assert db.session.scalar(select(func.count(Course.id))) == 42
    roles = dict(
        db.session.execute(select(User.role, func.count(User.id)).group_by(User.role)).all()
    )
    assert roles == {Role.ADMIN: 1, Role.TEACHER: 3, Role.TRAINER: 2, Role.STUDENT: 5 + 15}
    published = db.session.scalar(
        select(func.count(Course.id)).where(Course.status == CourseStatus.PUBLISHED)
    )
    assert 32 <= published < 42
    hits = search_courses(CourseSearch(q="python"), "USD", 50)
    assert hits.total >= 2
    assert "python" in hits.items[0].title.lower()
    _assert_the_demo_student_is_learning()
    _assert_the_tutee_gets_a_trainer()


def test_each_demo_description_states_its_courses_running_time(
    app: Flask, db_session: Session
) -> None:
    seed_demo()
    db.session.flush()
    described = 0
    for course in db.session.scalars(select(Course).where(Course.kind == CourseKind.VIDEO)):
        db.session.refresh(course)  # duration_s is kept by triggers
        words = _duration_words(course.duration_s, COPY["es" if course.language == "es" else "en"])
        assert words in course.description_md, f"{course.title}: not {words}"
        described += 1
    assert described == 40
    # The lectures that get a demo clip are planned at the clip's length, so processing the clip
    # leaves the course's running time, and the description, as they are.
    for title, count, seconds in DEMO_VIDEOS:
        course = get_course_by_slug(slugify(title))
        assert course is not None
        assert [lec.duration_s for lec in _first_lectures(course, count)] == [seconds] * count


def test_seed_demo_is_refused_in_production(app: Flask, db_session: Session) -> None:
    app.config["APP_ENV"] = "production"
    try:
        result = app.test_cli_runner().invoke(args=["seed-demo"])
    finally:
        app.config["APP_ENV"] = "test"
    assert result.exit_code != 0
    assert "production" in result.output


def test_demo_videos_go_through_the_real_pipeline(
    app: Flask, db_session: Session, tmp_path: Path
) -> None:
    from app.demo.videos import make_demo_video, queue_demo_videos
    from app.jobs.queues import QueueName, get_queue
    from app.media.models import MediaFile, MediaStatus
    from app.media.storage.local import LocalStorage
    from app.media.storage.signing import UrlSigner
    from tests.media.conftest import install

    summary = seed_demo()
    assert summary.videos_queued == 5  # 3 + 2 first lectures of two courses
    db.session.commit()  # the make-video jobs leave with the commit
    made = [
        j for j in get_queue(QueueName.MEDIA).get_jobs() if j.func_name.endswith("make_demo_video")
    ]
    assert len(made) == 5
    storage = LocalStorage(tmp_path / "media", UrlSigner(app.config["SECRET_KEY"]))
    for _ in install(app, storage):
        lecture_id, seconds = made[0].args
        media_id = make_demo_video(lecture_id, 2)
        assert media_id is not None and make_demo_video(lecture_id, seconds) is None
        media = db.session.get(MediaFile, media_id)
        assert media is not None and media.status is MediaStatus.UPLOADED
        assert storage.size(media.storage_key) == media.size_bytes
        queued = [j.args for j in get_queue(QueueName.MEDIA).get_jobs()]
        assert (media_id,) in queued  # its transcoding, as after a teacher's upload
        assert queue_demo_videos() == 4  # the rest are still missing


def test_the_demo_student_paid_orders_the_worker_fulfils(app: Flask, db_session: Session) -> None:
    """Sandbox payments through the shop's own path: the worker enrolls, invoices, receipts."""
    from app.checkout.models import Order, OrderStatus
    from app.learning.models import Enrollment
    from tests.payments.conftest import run_jobs

    seed_demo()
    db.session.commit()  # the payment events' jobs leave after the commit
    run_jobs()
    seed_demo()  # once only
    student = db.session.scalars(select(User).where(User.email == "student1@example.com")).one()
    orders = list(
        db.session.scalars(select(Order).where(Order.user_id == student.id, Order.total_minor > 0))
    )
    assert sorted(o.currency for o in orders) == ["INR", "USD"]
    for order in orders:
        db.session.refresh(order)
        assert order.status is OrderStatus.PAID and order.invoice_number is not None
    inr = next(o for o in orders if o.currency == "INR")
    assert inr.tax_minor > 0 and inr.buyer_region == "29"
    enrolled = db.session.scalar(
        select(func.count(Enrollment.id)).where(Enrollment.user_id == student.id)
    )
    assert enrolled == 3 + 3  # the three courses being learned, and the three bought


def _assert_the_demo_student_is_learning() -> None:
    """Two courses in progress with a place to resume, one completed with its certificate
    (written once, however often the demo is seeded)."""
    from app.learning.models import Certificate, Enrollment, EnrollmentStatus, LectureProgress

    student = db.session.scalars(select(User).where(User.email == "student1@example.com")).one()
    enrollments = list(
        db.session.scalars(select(Enrollment).where(Enrollment.user_id == student.id))
    )
    by_status = sorted((e.status, e.progress > 0) for e in enrollments)
    assert [s for s, _ in by_status].count(EnrollmentStatus.ACTIVE) == 2
    completed = [e for e in enrollments if e.status is EnrollmentStatus.COMPLETED]
    assert len(completed) == 1 and completed[0].progress == 100
    for e in enrollments:
        assert e.current_lecture_id is not None and e.last_accessed_at is not None
        if e.status is EnrollmentStatus.ACTIVE:
            resume = db.session.scalar(
                select(LectureProgress.position_s).where(
                    LectureProgress.enrollment_id == e.id,
                    LectureProgress.lecture_id == e.current_lecture_id,
                )
            )
            assert resume is not None and resume > 0
    certificates = list(db.session.scalars(select(Certificate)))
    assert [c.enrollment_id for c in certificates] == [completed[0].id]


def _assert_the_tutee_gets_a_trainer() -> None:
    """The demo's tutoring order is paid in the sandbox; the workers assign its trainer."""
    from app.tutoring.models import (
        AllocationStatus,
        Trainer,
        TrainerAllocation,
        TutoringPackage,
        TutoringSession,
    )
    from tests.payments.conftest import run_jobs

    assert db.session.scalar(select(func.count(Trainer.id))) == 2
    assert db.session.scalar(select(func.count(TutoringPackage.id))) == 6
    db.session.commit()  # a savepoint: the workers below see it on the test's connection
    run_jobs()
    db.session.expire_all()
    allocation = db.session.scalars(select(TrainerAllocation)).one()
    assert allocation.status is AllocationStatus.APPROVED and allocation.reasons
    assert db.session.scalar(select(func.count(TutoringSession.id))) == 10
