"""The header bell, the notifications page (plain and HTMX), marking one or all read by token."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from app.accounts.models import LoginSession, User
from app.core.models import utcnow
from app.extensions import db
from app.notifications import queries, services
from app.notifications.models import Notification
from tests.conftest import IsolatedClient, login_as
from tests.factories import make_user

HX = {"HX-Request": "true"}
UPDATED = "notifications-updated"


pytestmark = pytest.mark.usefixtures("test_templates")


def _notify(user_id: int, key: str, title: str, link: str = "/learning") -> Notification:
    user = db.session.get(User, user_id)
    assert user is not None
    notification = services.notify(user, key, "tests/note", link=link, email=False, title=title)
    assert notification is not None
    return notification


def _bell(html: str) -> str:
    found = re.search(r'<span id="bell-badge"[^>]*>.*?</span>\s*(?:</span>)?', html, re.S)
    assert found is not None, "no bell badge"
    return found.group(0)


def test_page_needs_login(client: FlaskClient) -> None:
    response = client.get("/notifications")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_header_bell_shows_the_unread_count(client: FlaskClient) -> None:
    assert 'id="bell-badge"' not in client.get("/").text  # visitors get no bell
    user = make_user()
    login_as(client, user)
    home = client.get("/").text
    assert 'class="bell-link" href="/notifications"' in home
    assert "is-empty" in _bell(home)  # nothing unread: an empty badge
    for n in range(3):
        _notify(user.id, f"enrollment:{n}", f"Course {n}")
    _notify(make_user().id, "enrollment:0", "Someone else's")
    bell = _bell(client.get("/courses").text)
    assert ">3<" in bell and "is-empty" not in bell
    assert 'hx-get="/notifications/badge"' in bell
    assert f"{UPDATED} from:body" in bell and "every 30s" in bell


def test_badge_fragment(client: FlaskClient) -> None:
    anonymous = client.get("/notifications/badge", headers=HX)
    assert anonymous.status_code == 200
    assert anonymous.text.strip().startswith('<span id="bell-badge"')
    assert "hx-get" not in anonymous.text  # a login that ended stops polling, no redirect
    user = make_user()
    _notify(user.id, "enrollment:1", "One")
    login_as(client, user)
    fragment = client.get("/notifications/badge", headers=HX)
    assert fragment.status_code == 200 and "<html" not in fragment.text
    assert fragment.text.strip().startswith('<span id="bell-badge"') and ">1<" in fragment.text


def test_page_and_fragment(client: FlaskClient) -> None:
    user = make_user()
    mine = _notify(user.id, "enrollment:1", "Welcome to Kotlin")
    _notify(make_user().id, "enrollment:1", "Someone else's")
    login_as(client, user)
    page = client.get("/notifications")
    assert page.status_code == 200
    assert "<html" in page.text and 'id="notification-list"' in page.text
    assert "Welcome to Kotlin" in page.text and "1 unread" in page.text
    assert "Someone else" not in page.text
    assert 'name="csrf_token"' in page.text and 'href="/learning"' in page.text
    assert f'action="/notifications/{mine.token}/read"' in page.text
    assert f"/notifications/{mine.id}/read" not in page.text  # never the integer id
    assert 'hx-target="#notification-list"' in page.text
    assert "HX-Request" in page.headers["Vary"]
    fragment = client.get("/notifications", headers=HX)
    assert fragment.status_code == 200
    assert "<html" not in fragment.text
    assert fragment.text.lstrip().startswith('<div id="notification-list"')
    assert "Welcome to Kotlin" in fragment.text


def test_only_web_links_are_rendered(client: FlaskClient) -> None:
    user = make_user()
    _notify(user.id, "receipt:1", "Receipt", link="https://shop.example/orders/abc")
    _notify(user.id, "receipt:2", "Odd", link="javascript:alert(1)")
    login_as(client, user)
    page = client.get("/notifications").text
    assert 'href="https://shop.example/orders/abc"' in page
    assert "javascript:" not in page


def test_empty_state(client: FlaskClient) -> None:
    login_as(client, make_user())
    response = client.get("/notifications")
    assert "No notifications yet" in response.text


def test_pagination(client: FlaskClient) -> None:
    user = make_user()
    for n in range(25):
        _notify(user.id, f"enrollment:{n}", f"Note {n:02d}")
    login_as(client, user)
    first = client.get("/notifications").text
    assert first.count('class="panel notification') == 20
    assert "Note 24" in first and "Note 04" not in first
    assert "1\u201320 of 25" in first and 'href="/notifications?page=2"' in first
    second = client.get("/notifications?page=2").text
    assert second.count('class="panel notification') == 5
    assert (
        "Note 04" in second and "21\u201325 of 25" in second and 'href="/notifications"' in second
    )
    beyond = client.get("/notifications?page=999")
    assert beyond.status_code == 200 and "21\u201325 of 25" in beyond.text  # clamped, no lie


def test_mark_read_without_javascript_redirects_back(client: FlaskClient) -> None:
    user = make_user()
    notification = _notify(user.id, "enrollment:2", "Welcome to Scala")
    login_as(client, user)
    response = client.post(f"/notifications/{notification.token}/read")
    assert response.status_code == 303
    assert response.headers["Location"] == "/notifications"
    assert queries.count_unread(user.id) == 0
    assert "All caught up" in client.get("/notifications").text


def test_mark_read_by_htmx_swaps_the_list_and_refreshes_the_bell(client: FlaskClient) -> None:
    user = make_user()
    first = _notify(user.id, "enrollment:3", "First")
    _notify(user.id, "enrollment:4", "Second")
    login_as(client, user)
    response = client.post(f"/notifications/{first.token}/read", headers=HX)
    assert response.status_code == 200
    assert response.headers["HX-Trigger"] == UPDATED
    assert response.text.lstrip().startswith('<div id="notification-list"')
    assert "<html" not in response.text and "1 unread" in response.text
    assert response.text.count("Mark as read<") == 1
    assert queries.count_unread(user.id) == 1
    assert ">1<" in client.get("/notifications/badge", headers=HX).text


def test_mark_all_read_plain_and_htmx(client: FlaskClient) -> None:
    user = make_user()
    for n in range(3):
        _notify(user.id, f"enrollment:{n}", f"N{n}")
    other = make_user()
    _notify(other.id, "enrollment:0", "Not yours")
    login_as(client, user)
    page = client.get("/notifications").text
    assert 'action="/notifications/read-all"' in page and "Mark all as read" in page
    plain = client.post("/notifications/read-all", data={"page": "2"})
    assert plain.status_code == 303 and plain.headers["Location"] == "/notifications?page=2"
    assert queries.count_unread(user.id) == 0 and queries.count_unread(other.id) == 1
    _notify(user.id, "enrollment:9", "Later")
    swapped = client.post("/notifications/read-all", headers=HX)
    assert swapped.status_code == 200 and swapped.headers["HX-Trigger"] == UPDATED
    assert swapped.text.lstrip().startswith('<div id="notification-list"')
    assert "All caught up" in swapped.text and "Mark all as read" not in swapped.text
    assert queries.count_unread(user.id) == 0


def test_integer_ids_and_other_users_tokens_are_404(client: FlaskClient) -> None:
    owner = make_user()
    notification = _notify(owner.id, "enrollment:5", "Private")
    login_as(client, owner)
    assert client.post(f"/notifications/{notification.id}/read").status_code == 404
    assert client.post("/notifications/not-a-token/read").status_code == 404
    login_as(client, make_user())
    response = client.post(f"/notifications/{notification.token}/read")
    assert response.status_code == 404
    assert client.post(f"/notifications/{notification.token}/read", headers=HX).status_code == 404
    assert queries.count_unread(owner.id) == 1


def test_mark_read_needs_the_csrf_token(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    user = make_user()
    notification = _notify(user.id, "enrollment:6", "Guarded")
    login_as(client, user)
    url = f"/notifications/{notification.token}/read"
    assert client.post(url).status_code == 400
    assert client.post("/notifications/read-all").status_code == 400
    page = client.get("/notifications").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token is not None
    assert client.post(url, data={"csrf_token": token.group(1)}).status_code == 303
    assert queries.count_unread(user.id) == 0


def test_polling_the_bell_does_not_keep_an_idle_login_alive(
    committed: Any, live_app: Flask
) -> None:
    user = make_user()
    committed.commit()
    live_app.test_client_class = IsolatedClient
    client = live_app.test_client()
    login_as(client, user)
    idle_since = utcnow() - timedelta(minutes=10)
    committed.execute(update(LoginSession).values(last_seen_at=idle_since))
    committed.commit()

    def last_seen() -> datetime:
        committed.expire_all()
        return committed.scalars(select(LoginSession.last_seen_at)).one()

    assert client.get("/notifications/badge", headers=HX).status_code == 200
    assert last_seen() == idle_since  # polling is not the user doing something
    assert client.get("/notifications").status_code == 200
    assert last_seen() > idle_since
