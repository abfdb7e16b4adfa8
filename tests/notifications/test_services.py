"""notify() renders a template, records once per dedupe key and emails at most once; SMTP and
.eml transports."""

from __future__ import annotations

import base64
import socketserver
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.core.errors import NotFound
from app.extensions import db
from app.notifications import mail, queries, services
from app.notifications.messages import UnknownTemplate, template_base
from app.notifications.models import Notification, NotificationKind
from tests.factories import make_user

pytestmark = pytest.mark.usefixtures("test_templates")


def _sent(folder: Path) -> list[EmailMessage]:
    files = sorted(folder.glob("*.eml")) if folder.exists() else []
    return [message_from_bytes(f.read_bytes(), policy=policy.default) for f in files]


def _rows(user_id: int) -> int:
    stmt = select(func.count()).select_from(Notification).where(Notification.user_id == user_id)
    return db.session.scalar(stmt) or 0


def _receipt(user: User, email: bool = True) -> Notification | None:
    return services.notify(
        user,
        "order:abc:receipt",
        "tests/hello",
        link="https://shop.example/orders/abc",
        email=email,
        order_name="abc",
        count=1,
    )


def _note(user: User, key: str, name: str = "abc") -> Notification | None:
    return services.notify(user, key, "tests/plain", email=False, order_name=name)


def test_notify_twice_records_one_notification_and_one_email(
    db_session: Session, mail_dir: Path
) -> None:
    user = make_user(email="ada@example.com", name="Ada Lovelace")
    first = _receipt(user)
    assert first is not None and first.id
    assert first.kind == "tests/hello" and first.emailed_at is not None
    assert first.read_at is None and first.created_at.tzinfo is not None
    # In-app: the subject on one line as the title, the .inapp.txt part as the body.
    assert (first.title, first.body) == ("Your receipt for abc", "You bought 1 course.")
    assert first.link == "https://shop.example/orders/abc"
    assert _receipt(user) is None
    assert _rows(user.id) == 1
    [message] = _sent(mail_dir)
    assert message["To"] == "ada@example.com"
    assert message["Subject"] == "Your receipt for abc"
    assert message["From"] == "Coursefront <no-reply@coursefront.local>"
    assert message["Date"] and message["Message-ID"].endswith("@coursefront.local>")
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert text == "Thanks for your order abc, Ada.\nhttps://shop.example/orders/abc\n"
    html = message.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert '<p>Thanks, abc!</p><a href="https://shop.example/orders/abc">Order</a>' in html
    assert [p.name for p in mail_dir.iterdir()] == [p.name for p in mail_dir.glob("*.eml")]


def test_same_key_for_another_user_is_another_notification(
    db_session: Session, mail_dir: Path
) -> None:
    ada, bob = make_user(), make_user()
    assert _receipt(ada, email=False) is not None
    assert _receipt(bob, email=False) is not None
    assert _rows(ada.id) == _rows(bob.id) == 1
    assert _sent(mail_dir) == []


def test_failed_email_raises_and_the_retried_job_sends_it_once(
    app: Flask, db_session: Session, mail_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = make_user()
    monkeypatch.setitem(app.config, "SMTP_URL", "smtp://127.0.0.1:1")  # nothing listens there
    with pytest.raises(OSError), db_session.begin_nested():  # the job's transaction rolls back
        _receipt(user)
    assert _rows(user.id) == 0
    monkeypatch.setitem(app.config, "SMTP_URL", "")
    assert _receipt(user) is not None  # RQ's retry
    assert _receipt(user) is None
    assert _rows(user.id) == 1
    assert len(_sent(mail_dir)) == 1


def test_email_pending_on_a_recorded_notification_is_sent_once(
    app: Flask, db_session: Session, mail_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = make_user()
    monkeypatch.setitem(app.config, "SMTP_URL", "smtp://127.0.0.1:1")
    with pytest.raises(OSError):
        _receipt(user)  # the row stays, as if a caller had committed it anyway
    [row] = queries.list_notifications(user.id)
    assert row.emailed_at is None
    monkeypatch.setitem(app.config, "SMTP_URL", "")
    assert _receipt(user) is None  # not a new notification, but its email goes out now
    assert row.emailed_at is not None
    assert _receipt(user) is None
    assert len(_sent(mail_dir)) == 1
    assert _rows(user.id) == 1


def test_message_id_is_stable_across_attempts(db_session: Session, mail_dir: Path) -> None:
    user = make_user()
    savepoint = db_session.begin_nested()
    _receipt(user)
    savepoint.rollback()  # the job failed after sending: its commit is lost
    _receipt(user)
    first, second = _sent(mail_dir)
    assert first["Message-ID"] == second["Message-ID"]


# A tiny SMTP server: enough of RFC 5321 for smtplib (smtpd is gone in 3.12, no aiosmtpd).


@dataclass
class Received:
    mail_from: str = ""
    rcpt_to: list[str] = field(default_factory=list)
    data: bytes = b""
    auth: str = ""


class SMTPHandler(socketserver.StreamRequestHandler):
    server: MailServer

    def reply(self, text: str) -> None:
        self.wfile.write(text.encode() + b"\r\n")

    def handle(self) -> None:
        envelope = Received()
        self.reply("220 test.local ESMTP")
        for raw in self.rfile:
            line = raw.decode().rstrip("\r\n")
            verb, _, arg = line.partition(" ")
            verb = verb.upper()
            if verb == "EHLO":
                self.reply("250-test.local\r\n250 AUTH PLAIN")
            elif verb == "HELO" or verb in {"NOOP", "RSET"}:
                self.reply("250 OK")
            elif verb == "AUTH":
                envelope.auth = base64.b64decode(arg.split()[1]).decode()
                self.reply("235 2.7.0 Authentication successful")
            elif verb == "MAIL":
                envelope.mail_from = arg.split(":", 1)[1].split()[0].strip("<>")
                self.reply("250 OK")
            elif verb == "RCPT":
                envelope.rcpt_to.append(arg.split(":", 1)[1].strip().strip("<>"))
                self.reply("250 OK")
            elif verb == "DATA":
                self.reply("354 End data with <CR><LF>.<CR><LF>")
                envelope.data = self.read_data()
                self.server.received.append(envelope)
                envelope = Received(auth=envelope.auth)
                self.reply("250 OK queued")
            elif verb == "QUIT":
                self.reply("221 Bye")
                return
            else:
                self.reply("502 Command not implemented")

    def read_data(self) -> bytes:
        lines = []
        for raw in self.rfile:
            if raw == b".\r\n":
                break
            lines.append(raw[1:] if raw.startswith(b"..") else raw)  # undo dot-stuffing
        return b"".join(lines)


class MailServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), SMTPHandler)
        self.received: list[Received] = []

    @property
    def port(self) -> int:
        return int(self.server_address[1])


@pytest.fixture
def smtp_server() -> Iterator[MailServer]:
    server = MailServer()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_email_goes_out_over_smtp(
    app: Flask,
    db_session: Session,
    mail_dir: Path,
    smtp_server: MailServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = f"smtp://mailer:s%40cret@127.0.0.1:{smtp_server.port}"
    monkeypatch.setitem(app.config, "SMTP_URL", url)
    monkeypatch.setitem(app.config, "MAIL_FROM", "Shop <shop@courses.test>")
    user = make_user(email="ada@example.com")
    assert _receipt(user) is not None
    assert _receipt(user) is None
    [received] = smtp_server.received
    assert received.auth == "\0mailer\0s@cret"
    assert received.mail_from == "shop@courses.test"
    assert received.rcpt_to == ["ada@example.com"]
    message = message_from_bytes(received.data, policy=policy.default)
    assert message["Subject"] == "Your receipt for abc"
    assert message["From"] == "Shop <shop@courses.test>"
    assert message["Message-ID"].endswith("@courses.test>")
    assert "Thanks for your order abc" in message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert not mail_dir.exists()


def test_build_email_without_html_is_plain_text(app: Flask) -> None:
    with app.app_context():
        message = mail.build_email("bob@example.com", "Hi", "Hello Bob", None)
    assert message.get_content_type() == "text/plain"
    assert message["Message-ID"].startswith("<") and message["Date"]


def test_unknown_smtp_scheme_is_refused(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(app.config, "SMTP_URL", "http://mail.example.com")
    with app.app_context(), pytest.raises(mail.MailConfigError):
        mail.send_email(mail.build_email("bob@example.com", "Hi", "Hello", None))


def test_mark_read_is_idempotent_and_only_for_the_owner(db_session: Session) -> None:
    ada, bob = make_user(), make_user()
    notification = _receipt(ada, email=False)
    assert notification is not None
    with pytest.raises(NotFound):
        services.mark_read(bob.id, notification.token)
    assert queries.count_unread(ada.id) == 1
    read_at = services.mark_read(ada.id, notification.token).read_at
    assert read_at is not None
    assert services.mark_read(ada.id, notification.token).read_at == read_at
    assert queries.count_unread(ada.id) == 0


def test_every_notification_gets_its_own_random_token(db_session: Session) -> None:
    user = make_user()
    first = _receipt(user, email=False)
    second = _note(user, "enrollment:9")
    assert first is not None and second is not None
    assert len({first.token, second.token}) == 2
    assert uuid.UUID(first.token).version == 4 and first.token != str(first.id)


def test_mark_all_read_only_touches_the_users_own(db_session: Session) -> None:
    ada, bob = make_user(), make_user()
    for n in range(3):
        _note(ada, f"enrollment:{n}")
    _note(bob, "enrollment:0")
    assert services.mark_all_read(ada.id) == 3
    assert services.mark_all_read(ada.id) == 0
    assert (queries.count_unread(ada.id), queries.count_unread(bob.id)) == (0, 1)


def test_list_is_newest_first_and_limited(db_session: Session) -> None:
    user = make_user()
    for n in range(3):
        _note(user, f"enrollment:{n}", f"title {n}")
    titles = [n.title for n in queries.list_notifications(user.id, limit=2)]
    assert titles == ["Plain title 2", "Plain title 1"]
    assert queries.count_unread(user.id) == 3


def test_deleting_the_user_deletes_their_notifications(db_session: Session) -> None:
    user = make_user()
    _receipt(user, email=False)
    db.session.delete(user)
    db.session.flush()
    assert _rows(user.id) == 0


def test_without_an_html_part_the_email_is_text_only(db_session: Session, mail_dir: Path) -> None:
    user = make_user()
    note = services.notify(user, "plain:1", "tests/plain", order_name="x")
    assert note is not None and note.emailed_at is not None
    assert (note.title, note.body, note.link) == ("Plain x", "", None)  # no .inapp.txt: no body
    [message] = _sent(mail_dir)
    assert message.get_content_type() == "text/plain"
    assert message.get_content().strip() == "Only text for x."
    assert services.notify(user, "plain:1", "tests/plain", order_name="x") is None
    assert len(_sent(mail_dir)) == 1


def test_html_part_is_autoescaped_and_text_parts_are_not(
    db_session: Session, mail_dir: Path
) -> None:
    user = make_user()
    name = '<b>"Tom" & Jerry</b>'
    note = services.notify(user, "escape:1", "tests/hello", order_name=name, count=2)
    assert note is not None and note.title == f"Your receipt for {name}"
    [message] = _sent(mail_dir)
    html = message.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert "<p>Thanks, &lt;b&gt;&#34;Tom&#34; &amp; Jerry&lt;/b&gt;!</p>" in html
    assert "<b>" not in html
    assert name in message.get_body(("plain",)).get_content()  # type: ignore[union-attr]


def test_an_unknown_template_raises_and_records_nothing(
    db_session: Session, mail_dir: Path
) -> None:
    user = make_user()
    for name in ("tests/nope", "nodomain", "a/b/c", "/hello"):
        with pytest.raises(UnknownTemplate):
            services.notify(user, f"bad:{name}", name)
    assert _rows(user.id) == 0 and _sent(mail_dir) == []


@pytest.mark.parametrize("kind", list(NotificationKind))
def test_every_kind_has_its_template_parts(app: Flask, kind: NotificationKind) -> None:
    base = Path(app.root_path).parent / "templates" / template_base(kind)
    for part in (".subject.txt", ".txt", ".html", ".inapp.txt"):
        assert base.with_name(base.name + part).is_file(), f"{kind}: {part} missing"
