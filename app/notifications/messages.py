"""Notification texts from templates: `templates/<domain>/email/<name>.<part>`.

A notification named "checkout/receipt" has these parts:
- `receipt.subject.txt` (required): the email's subject and the in-app title;
- `receipt.txt` (required): the email's text part;
- `receipt.html` (optional, autoescaped): the email's HTML alternative;
- `receipt.inapp.txt` (optional): the one line shown under the title in-app.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app, render_template
from jinja2 import Template, TemplateNotFound

TITLE_LENGTH = 200  # notifications.title


class UnknownTemplate(ValueError):
    """The name is not "<domain>/<name>", or its subject or text part is missing."""


@dataclass(frozen=True)
class Message:
    subject: str
    text: str
    html: str | None
    inapp: str


def template_base(template: str) -> str:
    """The prefix of the part files: "checkout/receipt" gives "checkout/email/receipt"."""
    domain, _, name = template.partition("/")
    if not domain or not name or "/" in name:
        raise UnknownTemplate(f"notification template {template!r} is not '<domain>/<name>'")
    return f"{domain}/email/{name}"


def render_message(template: str, context: dict[str, Any]) -> Message:
    """Every part of the notification, rendered with the context (parts left out are None/"")."""
    base = template_base(template)
    subject, text = _part(f"{base}.subject.txt"), _part(f"{base}.txt")
    if subject is None or text is None:
        raise UnknownTemplate(f"{base}.subject.txt and {base}.txt must both exist")
    html, inapp = _part(f"{base}.html"), _part(f"{base}.inapp.txt")
    return Message(
        # A header holds one line: a newline the template left in the subject would split it.
        subject=" ".join(render_template(subject, **context).split())[:TITLE_LENGTH],
        text=render_template(text, **context).strip() + "\n",
        html=render_template(html, **context) if html is not None else None,
        inapp=" ".join(render_template(inapp, **context).split()) if inapp is not None else "",
    )


def _part(name: str) -> Template | None:
    # Looked up, not rendered: only this file's absence is "left out"; a broken include in an
    # existing part still raises when it is rendered.
    try:
        return current_app.jinja_env.get_template(name)
    except TemplateNotFound:
        return None
