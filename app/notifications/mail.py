"""Email: built with the standard library, sent over SMTP, or written to instance/mail/ in dev."""

from __future__ import annotations

import logging
import os
import ssl
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from flask import current_app

from app.core.models import utcnow

log = logging.getLogger(__name__)

DEFAULT_FROM = "Coursefront <no-reply@coursefront.local>"
SMTP_TIMEOUT = 15  # seconds; a hung server must fail the job (which retries), not block a worker


class MailConfigError(ValueError):
    """SMTP_URL is not smtp://user:pass@host:port or smtps://... ."""


@dataclass(frozen=True)
class Attachment:
    """A file attached to an email: `content_type` is "maintype/subtype"; `params` are added
    to it (an invitation's {"method": "PUBLISH"}). Sent base64, so its bytes (an .ics file's
    CRLF line endings) arrive exactly as given."""

    filename: str
    content: bytes
    content_type: str = "application/octet-stream"
    params: Mapping[str, str] = field(default_factory=dict)


def sender_domain() -> str:
    """The domain of MAIL_FROM, for Message-IDs (make_msgid's default does a DNS lookup)."""
    address = parseaddr(current_app.config.get("MAIL_FROM") or DEFAULT_FROM)[1]
    return address.rpartition("@")[2] or "coursefront.local"


def build_email(  # noqa: PLR0913 - the optional ones are keyword-only, named by callers
    to: str,
    subject: str,
    text: str,
    html: str | None = None,
    *,
    message_id: str | None = None,
    attachments: Sequence[Attachment] = (),
) -> EmailMessage:
    """A text email (plus an HTML alternative when given) from MAIL_FROM, dated now, with the
    attachments (the message becomes multipart/mixed when there are any)."""
    message = EmailMessage()
    message["From"] = current_app.config.get("MAIL_FROM") or DEFAULT_FROM
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(utcnow())
    message["Message-ID"] = message_id or make_msgid(domain=sender_domain())
    message.set_content(text)
    if html is not None:
        message.add_alternative(html, subtype="html")
    for attachment in attachments:
        _attach(message, attachment)
    return message


def _attach(message: EmailMessage, attachment: Attachment) -> None:
    maintype, _, subtype = attachment.content_type.partition("/")
    params = dict(attachment.params)
    if maintype == "text":
        params.setdefault("charset", "utf-8")
    message.add_attachment(
        attachment.content,
        maintype=maintype,
        subtype=subtype or "octet-stream",
        filename=attachment.filename,
        params=params,
    )


def send_email(message: EmailMessage) -> None:
    """Hand the message to the SMTP server of SMTP_URL, or write it as an .eml file when unset.

    Raises on any failure, so the calling job fails and RQ retries it.
    """
    url = current_app.config.get("SMTP_URL") or ""
    if url:
        _send_smtp(url, message)
        log.info("event=email_sent via=smtp message_id=%s", message["Message-ID"])
    else:
        path = _write_eml(Path(current_app.config["INSTANCE_PATH"]) / "mail", message)
        log.info("event=email_sent via=file message_id=%s file=%s", message["Message-ID"], path)


def _send_smtp(url: str, message: EmailMessage) -> None:
    parts = urlsplit(url)
    if parts.scheme not in {"smtp", "smtps"}:
        raise MailConfigError("SMTP_URL must start with smtp:// or smtps://")
    try:
        port = parts.port or (465 if parts.scheme == "smtps" else 25)
    except ValueError as exc:
        raise MailConfigError("SMTP_URL has an invalid port") from exc
    host = parts.hostname or "localhost"
    starttls = parse_qs(parts.query).get("starttls", [""])[0].lower() in {"1", "true", "yes"}
    import smtplib  # here: web workers render mail but never send it (about 1 MB a worker)

    context = ssl.create_default_context()
    smtp = (
        smtplib.SMTP_SSL(host, port, timeout=SMTP_TIMEOUT, context=context)
        if parts.scheme == "smtps"
        else smtplib.SMTP(host, port, timeout=SMTP_TIMEOUT)
    )
    with smtp:
        if starttls:
            smtp.starttls(context=context)
        if parts.username:
            smtp.login(unquote(parts.username), unquote(parts.password or ""))
        smtp.send_message(message)


def _write_eml(folder: Path, message: EmailMessage) -> Path:
    """Write <UTC timestamp>-<uuid4>.eml atomically, so a folder watcher never reads half a file."""
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{utcnow().strftime('%Y%m%dT%H%M%S.%fZ')}-{uuid.uuid4()}.eml"
    path = folder / name
    partial = folder / f".{name}.tmp"
    partial.write_bytes(message.as_bytes())
    os.replace(partial, path)
    return path
