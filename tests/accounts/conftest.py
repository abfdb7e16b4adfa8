"""The live server the browser tests use, for the real-HTTP session tests here; the mail outbox
(.eml files) and a real RQ worker for the account emails."""

from __future__ import annotations

import re
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from flask import Flask
from rq import SimpleWorker

from app.extensions import get_redis
from app.jobs.context import AppJob
from app.jobs.queues import WORKER_QUEUES, get_queue
from tests.e2e.conftest import live_server  # noqa: F401 - shared fixture


class Outbox:
    """The .eml files the app wrote, read back as parsed messages."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def messages(self) -> list[EmailMessage]:
        files = sorted(self.folder.glob("*.eml")) if self.folder.exists() else []
        return [
            message_from_bytes(f.read_bytes(), policy=policy.default)  # type: ignore[misc]
            for f in files
        ]

    def links(self, path: str) -> list[str]:
        """Every link to `path`... found in the text part of the messages, oldest first."""
        found: list[str] = []
        for message in self.messages():
            body = message.get_body(preferencelist=("plain",))
            assert body is not None
            found += re.findall(rf"https?://[^/\s]+({re.escape(path)}[^\s]+)", body.get_content())
        return found


@pytest.fixture
def outbox(app: Flask, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Outbox:
    """Mail goes to <tmp>/mail/*.eml (the app's no-SMTP transport) instead of instance/."""
    monkeypatch.setitem(app.config, "INSTANCE_PATH", str(tmp_path))
    monkeypatch.setitem(app.config, "SMTP_URL", "")
    return Outbox(tmp_path / "mail")


def queued() -> int:
    redis = get_redis()
    return sum(get_queue(q, redis).count for q in WORKER_QUEUES)


def run_jobs() -> None:
    """Run every queued job with a real RQ worker (burst mode, in this process)."""
    redis = get_redis()
    queues = [get_queue(q, redis) for q in WORKER_QUEUES]
    for _ in range(5):
        if not any(q.count for q in queues):
            return
        SimpleWorker(queues, connection=redis, job_class=AppJob).work(burst=True)
