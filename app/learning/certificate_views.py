"""Public certificate pages: anyone with the code can check a certificate and download its PDF
(the code is the secret its holder chooses to share), no login needed.

The PDF is rendered by a job, never by a web process (fpdf2 stays out of web workers): until
the job has stored it, its URL answers 202 with a page that refreshes itself.
"""

from __future__ import annotations

import re

from flask import current_app, redirect, render_template, send_file, url_for
from flask.typing import ResponseReturnValue
from werkzeug.wrappers import Response

from app.core.errors import NotFound
from app.core.htmx import render
from app.core.urls import absolute_url
from app.learning import bp
from app.learning.certificates import (
    CertificatePage,
    get_certificate_page,
    long_date,
    normalize_code,
)
from app.learning.models import Certificate
from app.media.storage import get_storage
from app.media.storage.local import LocalStorage

PDF_TYPE = "application/pdf"
REFRESH_S = 5  # how soon the "being prepared" page looks again
_UNSAFE_IN_FILE_NAME = re.compile(r"[^\w\s.,()&+-]+")


def _found(code: str) -> CertificatePage:
    found = get_certificate_page(code)
    if found is None:
        raise NotFound(
            f"No such certificate: there is no certificate with the code "
            f"{normalize_code(code)[:40]}. Check it against the one printed on the "
            "certificate (letters and digits, never O, I or L)."
        )
    return found


def _canonical(code: str, certificate: Certificate, endpoint: str) -> Response | None:
    """A redirect to the URL with the code as printed, for one typed in another case."""
    if code == certificate.code:
        return None
    return redirect(url_for(endpoint, code=certificate.code), 301)


@bp.get("/certificates/<code>")
def certificate_page(code: str) -> ResponseReturnValue:
    """Whether the certificate is valid, and what it certifies; a page to share."""
    found = _found(code)
    cert = found.certificate
    moved = _canonical(code, cert, "learning.certificate_page")
    if moved is not None:
        return moved
    return render(
        "learning/certificate.html",
        "learning/partials/certificate.html",
        certificate=cert,
        course_slug=found.course_slug,
        issued=long_date(cert.issued_at.date()),
        revoked=long_date(cert.revoked_at.date()) if cert.revoked_at else None,
        page_url=absolute_url("learning.certificate_page", code=cert.code),
    )


def _not_a_pdf(cert: Certificate, status: int) -> Response:
    revoked = long_date(cert.revoked_at.date()) if cert.revoked_at else None
    page = render_template(
        "learning/certificate_pdf.html",
        certificate=cert,
        status=status,
        revoked=revoked,
        refresh_s=REFRESH_S,
    )
    response = current_app.make_response((page, status))
    if status == 202:
        response.headers["Retry-After"] = str(REFRESH_S)
        response.headers["Cache-Control"] = "no-store"
    return response


def _file_name(cert: Certificate) -> str:
    title = _UNSAFE_IN_FILE_NAME.sub("", cert.course_title).strip()[:80] or "course"
    return f"Certificate - {title} - {cert.code}.pdf"


@bp.get("/certificates/<code>.pdf")
def certificate_pdf(code: str) -> ResponseReturnValue:
    """The PDF of a valid certificate; 202 while it is being rendered, 410 once revoked."""
    cert = _found(code).certificate
    moved = _canonical(code, cert, "learning.certificate_pdf")
    if moved is not None:
        return moved
    if not cert.is_valid:
        return _not_a_pdf(cert, 410)
    if cert.rendered_at is None or cert.storage_key is None:
        return _not_a_pdf(cert, 202)
    storage = get_storage()
    response: Response
    if isinstance(storage, LocalStorage):  # a small file: streamed, with its name
        response = send_file(
            storage.open(cert.storage_key),
            mimetype=PDF_TYPE,
            as_attachment=True,
            download_name=_file_name(cert),
        )
    else:  # S3: the browser fetches it from the bucket
        seconds = current_app.config["MEDIA_SIGNED_URL_SECONDS"]
        url = storage.signed_url(cert.storage_key, seconds, PDF_TYPE, _file_name(cert))
        response = redirect(url, 302)
    response.headers["Cache-Control"] = "private, no-store"  # a revocation takes effect at once
    return response
