"""Certificates: issued once per completed enrollment, rendered once by a real RQ worker into
storage (local and S3), verifiable at a public page, revoked by a real full refund."""

from __future__ import annotations

import email
import io
import re
import secrets
import threading
from pathlib import Path
from typing import Any
from urllib.request import urlopen

import pytest
from flask import Flask
from flask.testing import FlaskClient
from pypdf import PdfReader
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.accounts.models import Role, User
from app.catalog.models import Course, CourseStatus
from app.core.models import utcnow
from app.extensions import db
from app.learning import certificates
from app.learning import services as learning
from app.learning.certificates import ALPHABET, award_certificate, revoke_certificate
from app.learning.jobs import render_certificate
from app.learning.models import Certificate, Enrollment, EnrollmentSource, EnrollmentStatus
from app.media.storage.local import LocalStorage
from app.media.storage.s3 import S3Storage
from app.notifications.models import Notification
from tests.factories import make_course, make_user
from tests.media import conftest as media
from tests.payments import conftest as payments
from tests.payments.conftest import paid_course_order, queued, run_jobs

buyer, mailbox = payments.buyer, payments.mailbox  # shared fixtures
CODE = re.compile(r"^CF-[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}$")
STUDENT = "Zoë Łukasiewicz-Øster"


storage, s3 = media.local, media.s3  # the media tests' storages, installed for each test


@pytest.fixture
def visitor(app: Flask, db_session: Session) -> FlaskClient:
    """Someone with no account, shown the link."""
    return app.test_client()


def _course(title: str = "Søren's Rust & Ünïcode") -> Course:
    teacher = make_user(Role.TEACHER, name="Ana Teacher")
    return make_course(title, teacher=teacher)


def _complete(enrollment: Enrollment) -> Enrollment:
    """What the progress code does when the last lecture is done."""
    enrollment.status = EnrollmentStatus.COMPLETED
    enrollment.progress = 100
    enrollment.completed_at = utcnow()
    db.session.flush()
    return enrollment


def _completed(user: User | None = None, course: Course | None = None) -> Enrollment:
    user = user or make_user(name=STUDENT)
    course = course or _course()
    enrollment = learning.grant_enrollment(user.id, course.id, EnrollmentSource.ADMIN)
    return _complete(enrollment)


def _issued(session: Session, enrollment: Enrollment | None = None) -> Certificate:
    enrollment = enrollment or _completed()
    certificate = award_certificate(enrollment.id)
    assert certificate is not None
    session.commit()
    return certificate


def _fresh(session: Session, certificate_id: int) -> Certificate:
    session.expire_all()
    found = session.get(Certificate, certificate_id)
    assert found is not None
    return found


def _certificate_mails(folder: Path) -> list[email.message.Message]:
    files = sorted(folder.glob("*.eml")) if folder.exists() else []
    mails = [email.message_from_bytes(f.read_bytes()) for f in files]
    return [m for m in mails if "certificate" in str(m["Subject"]).lower()]


def _text(mail: email.message.Message) -> str:
    for part in mail.walk():
        if part.get_content_type() == "text/plain":
            payload: Any = part.get_payload(decode=True)
            return str(payload.decode(part.get_content_charset() or "utf-8"))
    return ""


# -- issuing ----------------------------------------------------------------------------------


def test_awarded_once_with_one_render_job(db_session: Session) -> None:
    enrollment = _completed()
    first = award_certificate(enrollment.id)
    second = award_certificate(enrollment.id)
    db_session.commit()
    assert first is not None and second is None
    assert CODE.match(first.code), first.code
    assert (first.student_name, first.course_title, first.teacher_name) == (
        STUDENT,
        "Søren's Rust & Ünïcode",
        "Ana Teacher",
    )
    assert first.issued_at == enrollment.completed_at
    assert first.rendered_at is None and first.is_valid
    count = db_session.scalar(select(func.count()).select_from(Certificate))
    assert count == 1
    assert queued("default") == 1
    assert award_certificate(enrollment.id) is None  # a later call changes nothing either
    db_session.commit()
    assert queued("default") == 1


def test_no_certificate_for_an_enrollment_not_completed(db_session: Session) -> None:
    enrollment = learning.grant_enrollment(make_user().id, _course().id, EnrollmentSource.FREE)
    assert award_certificate(enrollment.id) is None
    assert award_certificate(10**9) is None
    db_session.commit()
    assert db_session.scalar(select(func.count()).select_from(Certificate)) == 0
    assert queued() == 0


def test_codes_are_random_and_unambiguous() -> None:
    assert len(ALPHABET) == 31 and not set("0O1IL") & set(ALPHABET)
    codes = {certificates.new_code() for _ in range(2000)}
    assert len(codes) == 2000
    assert all(CODE.match(c) for c in codes)


def test_a_code_collision_draws_another_code(
    db_session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    taken = _issued(db_session)
    digits = iter(taken.code.replace("CF-", "").replace("-", ""))
    real = secrets.SystemRandom().choice
    # The random source first repeats the taken code, then draws at random again.
    monkeypatch.setattr(secrets, "choice", lambda seq: next(digits, None) or real(seq))
    other = award_certificate(_completed().id)
    assert other is not None and other.code != taken.code and CODE.match(other.code)


def test_revoked_then_reinstated_when_bought_and_completed_again(db_session: Session) -> None:
    enrollment = _completed()
    issued = _issued(db_session, enrollment)
    learning.drop_enrollment(enrollment.user_id, enrollment.course_id)  # the full refund
    revoked = revoke_certificate(enrollment.id, "other")  # idempotent: the first stays
    assert revoked is not None and revoked.revoked_at is not None
    assert revoked.revoked_reason == "refunded" and not revoked.is_valid
    first_revoked_at = revoked.revoked_at
    assert revoke_certificate(enrollment.id, "again").revoked_at == first_revoked_at  # type: ignore[union-attr]
    again = learning.grant_enrollment(
        enrollment.user_id, enrollment.course_id, EnrollmentSource.ADMIN
    )
    assert award_certificate(again.id) is None  # active again, not completed yet
    back = award_certificate(_complete(again).id)
    db_session.commit()
    assert back is not None and back.id == issued.id and back.code == issued.code
    assert back.is_valid and back.revoked_reason is None
    assert revoke_certificate(10**9, "refunded") is None


# -- rendering --------------------------------------------------------------------------------


def test_rendered_once_by_the_worker_and_notified_once(
    db_session: Session, storage: LocalStorage, mailbox: Path
) -> None:
    certificate = _issued(db_session)
    assert run_jobs() >= 1
    done = _fresh(db_session, certificate.id)
    assert done.storage_key == f"certificates/{done.code}.pdf"
    assert done.rendered_at is not None
    stored = storage.path(done.storage_key)
    first_bytes, first_mtime = stored.read_bytes(), stored.stat().st_mtime_ns
    assert first_bytes.startswith(b"%PDF")

    # Again through the worker, and directly: nothing re-rendered, nothing re-sent.
    from app.jobs.queues import QueueName, get_queue

    get_queue(QueueName.DEFAULT).enqueue("app.learning.jobs.render_certificate", done.id)
    run_jobs()
    assert render_certificate(done.id) == done.storage_key
    again = _fresh(db_session, certificate.id)
    assert again.rendered_at == done.rendered_at
    assert stored.stat().st_mtime_ns == first_mtime and stored.read_bytes() == first_bytes
    notes = db_session.scalars(
        select(Notification).where(Notification.user_id == done.user_id)
    ).all()
    assert [n.dedupe_key for n in notes] == [f"certificate:{done.id}"]
    assert notes[0].link is not None and notes[0].link.endswith(f"/certificates/{done.code}")
    mails = _certificate_mails(mailbox)
    assert len(mails) == 1
    body = _text(mails[0])
    assert f"/certificates/{done.code}.pdf" in body and f"/certificates/{done.code}\n" in body


def test_a_lost_file_is_rendered_again(db_session: Session, storage: LocalStorage) -> None:
    certificate = _issued(db_session)
    run_jobs()
    done = _fresh(db_session, certificate.id)
    assert done.storage_key is not None
    storage.delete(done.storage_key)
    assert render_certificate(done.id) == done.storage_key
    assert storage.size(done.storage_key)


def test_a_revoked_certificate_is_not_rendered(db_session: Session, storage: LocalStorage) -> None:
    certificate = _issued(db_session)
    revoke_certificate(certificate.enrollment_id, "refunded")
    db_session.commit()
    run_jobs()
    assert _fresh(db_session, certificate.id).rendered_at is None
    assert list(storage.keys("certificates/")) == []


def test_pdf_text_holds_name_course_teacher_date_and_code(
    app: Flask, db_session: Session, storage: LocalStorage
) -> None:
    certificate = _issued(db_session)
    run_jobs()
    done = _fresh(db_session, certificate.id)
    assert done.storage_key is not None
    reader = PdfReader(io.BytesIO(storage.path(done.storage_key).read_bytes()))
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert float(box.width) > float(box.height)  # landscape
    text = reader.pages[0].extract_text()
    for expected in (
        STUDENT,
        "Søren's Rust & Ünïcode",
        "taught by Ana Teacher",
        done.code,
        "Certificate of completion",
        certificates.long_date(done.issued_at.date()),
        f"/certificates/{done.code}",
    ):
        assert expected in text, (expected, text)
    assert app.config["SITE_NAME"].upper() in text


def test_long_names_and_titles_stay_on_one_page() -> None:
    from app.learning.certificate_pdf import render_certificate_pdf

    long = Certificate(
        code="CF-2345-6789-ABCD",
        student_name="Maximiliana Wolfeschlegelsteinhausenbergerdorff-Łódź " * 3,
        course_title="A very long course title about everything " * 5,
        teacher_name="T" * 150,
        issued_at=utcnow(),
    )
    data = render_certificate_pdf(long, "https://example.com/certificates/CF-2345-6789-ABCD", "X")
    reader = PdfReader(io.BytesIO(data))
    assert len(reader.pages) == 1 and "CF-2345-6789-ABCD" in reader.pages[0].extract_text()


# -- the public page and the PDF URL ------------------------------------------------------------


def test_valid_then_revoked_after_a_real_full_refund(
    app: Flask,
    client: FlaskClient,
    visitor: FlaskClient,
    db_session: Session,
    buyer: User,
    storage: LocalStorage,
) -> None:
    order, course_id = paid_course_order(client, db_session, buyer, title="Paid & Finished")
    enrollment = db_session.scalars(
        select(Enrollment).where(Enrollment.user_id == buyer.id, Enrollment.course_id == course_id)
    ).one()
    certificate = _issued(db_session, _complete(enrollment))
    run_jobs()
    course = db_session.get(Course, course_id)
    assert course is not None

    page = visitor.get(f"/certificates/{certificate.code}")
    assert page.status_code == 200
    assert "Valid certificate" in page.text and "Bea Buyer" in page.text
    assert f'href="/courses/{course.slug}"' in page.text and "Paid &amp; Finished" in page.text
    pdf = visitor.get(f"/certificates/{certificate.code}.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert pdf.data.startswith(b"%PDF")
    assert pdf.headers["Content-Disposition"] == (
        f'attachment; filename="Certificate - Paid & Finished - {certificate.code}.pdf"'
    )

    done = app.test_cli_runner().invoke(
        args=["orders", "refund", order.token, "--reason", "changed my mind", "--yes"]
    )
    assert done.exit_code == 0, done.output
    run_jobs()
    revoked = _fresh(db_session, certificate.id)
    assert revoked.revoked_reason == "refunded" and revoked.revoked_at is not None
    assert db_session.get(Enrollment, enrollment.id).status is EnrollmentStatus.DROPPED  # type: ignore[union-attr]

    page = visitor.get(f"/certificates/{certificate.code}")
    assert page.status_code == 200 and "Valid certificate" not in page.text
    when = certificates.long_date(revoked.revoked_at.date())
    assert f"This certificate was revoked on {when}" in page.text
    assert "Download PDF" not in page.text
    gone = visitor.get(f"/certificates/{certificate.code}.pdf")
    assert gone.status_code == 410 and "was revoked" in gone.text
    assert gone.mimetype == "text/html"


def test_unknown_code_is_a_404_page(visitor: FlaskClient) -> None:
    for path in ("/certificates/CF-2222-3333-4444", "/certificates/CF-2222-3333-4444.pdf"):
        page = visitor.get(path)
        assert page.status_code == 404 and "No such certificate" in page.text
        assert "no certificate with the code CF-2222-3333-4444." in page.text
    answer = visitor.get("/certificates/nope", headers={"Accept": "application/json"})
    assert answer.status_code == 404 and answer.json["error"]["code"] == "not_found"  # type: ignore[index]


def test_a_code_typed_in_lower_case_redirects_to_the_printed_one(
    db_session: Session, visitor: FlaskClient
) -> None:
    certificate = _issued(db_session)
    page = visitor.get(f"/certificates/{certificate.code.lower()}")
    assert page.status_code == 301
    assert page.headers["Location"].endswith(f"/certificates/{certificate.code}")
    pdf = visitor.get(f"/certificates/{certificate.code.lower()}.pdf")
    assert pdf.headers["Location"].endswith(f"/certificates/{certificate.code}.pdf")


def test_pdf_is_202_until_rendered_then_200(
    db_session: Session, visitor: FlaskClient, storage: LocalStorage
) -> None:
    certificate = _issued(db_session)
    waiting = visitor.get(f"/certificates/{certificate.code}.pdf")
    assert waiting.status_code == 202 and "being prepared" in waiting.text
    assert waiting.headers["Retry-After"] == "5"
    assert '<meta http-equiv="refresh" content="5">' in waiting.text  # no JavaScript needed
    page = visitor.get(f"/certificates/{certificate.code}")
    assert page.status_code == 200 and "Valid certificate" in page.text  # valid before its PDF
    run_jobs()
    ready = visitor.get(f"/certificates/{certificate.code}.pdf")
    assert ready.status_code == 200 and ready.data.startswith(b"%PDF")
    assert ready.headers["Cache-Control"] == "private, no-store"


def test_pdf_from_s3_is_a_short_signed_redirect(
    db_session: Session, visitor: FlaskClient, s3: S3Storage
) -> None:
    certificate = _issued(db_session)
    run_jobs()
    answer = visitor.get(f"/certificates/{certificate.code}.pdf")
    assert answer.status_code == 302
    location = answer.headers["Location"]
    assert location.startswith(s3.client.meta.endpoint_url) and "Expires=" in location
    with urlopen(location) as stored:
        assert stored.headers["Content-Type"] == "application/pdf"
        assert stored.read().startswith(b"%PDF")


def test_page_plain_and_as_htmx_fragment(
    db_session: Session, visitor: FlaskClient, storage: LocalStorage
) -> None:
    certificate = _issued(db_session)
    plain = visitor.get(f"/certificates/{certificate.code}")
    fragment = visitor.get(f"/certificates/{certificate.code}", headers={"HX-Request": "true"})
    assert plain.status_code == fragment.status_code == 200
    assert "<html" in plain.text and "<html" not in fragment.text
    assert fragment.text.lstrip().startswith('<article id="certificate"')
    assert fragment.text.strip() in plain.text  # the page includes the fragment
    assert "HX-Request" in plain.headers["Vary"]
    for text in (plain.text, fragment.text):
        assert STUDENT in text and certificate.code in text and "Ana Teacher" in text


def test_open_graph_tags(app: Flask, db_session: Session, visitor: FlaskClient) -> None:
    certificate = _issued(db_session)
    page = visitor.get(f"/certificates/{certificate.code}").text
    url = f"http://localhost/certificates/{certificate.code}"
    if app.config.get("PUBLIC_URL"):
        url = f"{app.config['PUBLIC_URL']}/certificates/{certificate.code}"
    title = f"{STUDENT} completed Søren&#39;s Rust &amp; Ünïcode"
    assert f'<meta property="og:title" content="{title}">' in page
    assert f'<meta property="og:url" content="{url}">' in page
    assert '<meta property="og:type" content="website">' in page
    assert re.search(r'<meta property="og:description" content="[^"]*Ana Teacher', page)
    assert '<meta name="twitter:card" content="summary">' in page
    assert f'<meta name="twitter:title" content="{title}">' in page
    assert f"<title>{title}" in page
    assert '<meta name="robots" content="noindex">' in page


def test_the_course_link_only_while_the_course_is_published(
    db_session: Session, visitor: FlaskClient
) -> None:
    enrollment = _completed()
    certificate = _issued(db_session, enrollment)
    course = db_session.get(Course, enrollment.course_id)
    assert course is not None
    assert f'href="/courses/{course.slug}"' in visitor.get(f"/certificates/{certificate.code}").text
    course.status = CourseStatus.ARCHIVED
    db_session.commit()
    page = visitor.get(f"/certificates/{certificate.code}").text
    assert f'href="/courses/{course.slug}"' not in page and "Søren&#39;s Rust" in page


def test_concurrent_awards_issue_one_certificate(live_app: Flask, committed: Session) -> None:
    enrollment_id = _completed().id
    committed.commit()
    attempts = 8
    barrier = threading.Barrier(attempts)
    results: list[Any] = []

    def award() -> None:
        with live_app.app_context():
            barrier.wait()
            try:
                issued = award_certificate(enrollment_id)
                db.session.commit()
                results.append(issued.code if issued is not None else None)
            except Exception as exc:  # recorded, not lost in the thread
                results.append(exc)

    threads = [threading.Thread(target=award) for _ in range(attempts)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    codes = [r for r in results if r is not None]
    assert len(results) == attempts and len(codes) == 1 and isinstance(codes[0], str), results
    assert committed.scalar(select(func.count()).select_from(Certificate)) == 1
    assert queued("default") == 1
