"""Learning jobs: certificates (rendered once into storage) and access periods (expiry and
its notices). Ids in, idempotent: a job that runs twice leaves what one run leaves."""

from __future__ import annotations

import logging

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.accounts.queries import get_user
from app.core.models import utcnow
from app.core.unit import committing
from app.core.urls import absolute_url
from app.extensions import db
from app.learning import expiry
from app.learning.certificates import get_certificate, long_date
from app.learning.models import Certificate, Enrollment, EnrollmentStatus
from app.media.storage import Storage, get_storage
from app.notifications.models import NotificationKind
from app.notifications.services import notify

# -- certificates ----------------------------------------------------------------------------

PDF_TYPE = "application/pdf"


def render_certificate(certificate_id: int) -> str | None:
    """Store the certificate's PDF once (certificates/<code>.pdf) and tell the student once;
    a second run, or a run for a revoked certificate, stores and sends nothing. Returns the
    storage key."""
    certificate = get_certificate(certificate_id)
    if certificate is None or not certificate.is_valid:
        return None
    storage = get_storage()
    if not _is_stored(certificate, storage):
        _store_pdf(certificate, storage)
    _notify_ready(certificate)
    return certificate.storage_key


def _is_stored(certificate: Certificate, storage: Storage) -> bool:
    key = certificate.storage_key
    return certificate.rendered_at is not None and key is not None and storage.size(key) is not None


def _store_pdf(certificate: Certificate, storage: Storage) -> None:
    from app.learning.certificate_pdf import render_certificate_pdf  # fpdf2: workers only

    page = absolute_url("learning.certificate_page", code=certificate.code)
    data = render_certificate_pdf(certificate, page, current_app.config["SITE_NAME"])
    key = f"certificates/{certificate.code}.pdf"
    # Two concurrent runs store the same document under the same key: the last write wins.
    storage.put_bytes(key, data, PDF_TYPE)
    with committing():
        certificate.storage_key, certificate.rendered_at = key, utcnow()


def _notify_ready(certificate: Certificate) -> None:
    student = get_user(certificate.user_id)
    if student is None:
        return
    with committing():
        notify(
            student,
            f"certificate:{certificate.id}",
            NotificationKind.CERTIFICATE_READY,
            link=absolute_url("learning.certificate_page", code=certificate.code),
            certificate=certificate,
            issued=long_date(certificate.issued_at.date()),
            pdf_url=absolute_url("learning.certificate_pdf", code=certificate.code),
        )


# -- access periods ---------------------------------------------------------------------------

log = logging.getLogger(__name__)


def expire_enrollments() -> int:
    """Daily: enrollments past their end become expired (their pages say "Access ended"),
    each with one "access ended" notice queued; a second run expires and queues nothing."""
    with committing():
        count = expiry.expire_enrollments(utcnow())
    log.info("event=enrollments_expired count=%d", count)
    return count


def send_access_notices() -> int:
    """Daily: a notice job for every enrollment ending within ACCESS_NOTICE_DAYS; each notice
    goes out once per end, however often this runs."""
    with committing():
        count = expiry.queue_ending_notices(utcnow(), current_app.config["ACCESS_NOTICE_DAYS"])
    log.info("event=access_notices_queued count=%d", count)
    return count


def _enrollment(enrollment_id: int) -> Enrollment | None:
    stmt = (
        select(Enrollment)
        .where(Enrollment.id == enrollment_id)
        .options(joinedload(Enrollment.user), joinedload(Enrollment.course))
    )
    return db.session.scalars(stmt).first()


def send_access_ending(enrollment_id: int) -> bool:
    """ "Your access ends on ..." once per (enrollment, end), with a link to extend it; nothing
    when it was extended past the notice window or ended meanwhile. True when sent now."""
    enrollment = _enrollment(enrollment_id)
    days = current_app.config["ACCESS_NOTICE_DAYS"]
    if enrollment is None or not expiry.is_ending(enrollment, utcnow(), days):
        return False
    return _notify_access(enrollment, NotificationKind.ACCESS_ENDING, expiry.ending_key)


def send_access_ended(enrollment_id: int) -> bool:
    """ "Your access ended" once per (enrollment, end), with a link to buy it again; nothing
    when it was renewed meanwhile. True when sent now."""
    enrollment = _enrollment(enrollment_id)
    if enrollment is None or enrollment.status is not EnrollmentStatus.EXPIRED:
        return False
    return _notify_access(enrollment, NotificationKind.ACCESS_ENDED, expiry.ended_key)


def _notify_access(enrollment: Enrollment, kind: NotificationKind, key: expiry.NoticeKey) -> bool:
    end = enrollment.expires_at
    assert end is not None
    with committing():
        sent = notify(
            enrollment.user,
            key(enrollment.id, end),
            kind,
            link=absolute_url("catalog.course_detail", slug=enrollment.course.slug),
            course=enrollment.course,
            expires_at=end,
            completed=enrollment.completed_at is not None,
        )
    return sent is not None
