"""Notification templates made for the tests, next to the real ones (a Jinja DictLoader)."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from jinja2 import BaseLoader, ChoiceLoader, DictLoader

from tests.payments.conftest import buyer  # noqa: F401 - shared fixture

# "tests/hello": all four parts; "tests/plain": subject and text only; "tests/note": in-app.
TEMPLATES = {
    "tests/email/note.subject.txt": "{{ title }}",
    "tests/email/note.txt": "{{ title }}",
    "tests/email/note.inapp.txt": "You can start watching now.",
    "tests/email/hello.subject.txt": "Your receipt\nfor {{ order_name }}\n",
    "tests/email/hello.txt": "Thanks for your order {{ order_name }}, {{ user.first_name }}.\n"
    "{{ link }}\n",
    "tests/email/hello.html": '<p>Thanks, {{ order_name }}!</p><a href="{{ link }}">Order</a>',
    "tests/email/hello.inapp.txt": "You bought\n{{ count }} course.\n",
    "tests/email/plain.subject.txt": "Plain {{ order_name }}",
    "tests/email/plain.txt": "Only text for {{ order_name }}.",
}


@pytest.fixture
def test_templates(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    loaders: list[BaseLoader] = [DictLoader(TEMPLATES)]
    if app.jinja_env.loader is not None:
        loaders.append(app.jinja_env.loader)
    monkeypatch.setattr(app.jinja_env, "loader", ChoiceLoader(loaders))


@pytest.fixture
def mail_dir(app: Flask, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Mail goes to <tmp>/mail/*.eml instead of the repository's instance/ folder."""
    monkeypatch.setitem(app.config, "INSTANCE_PATH", str(tmp_path))
    monkeypatch.setitem(app.config, "SMTP_URL", "")
    return tmp_path / "mail"
