"""The notifications page (plain and HTMX) and marking one read."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app.notifications import queries, services
from app.notifications.models import Notification, NotificationKind
from tests.conftest import login_as
from tests.factories import make_user

HX = {"HX-Request": "true"}


def _notify(user_id: int, key: str, title: str, link: str = "/learning") -> Notification:
    notification = services.notify(
        user_id, NotificationKind.ENROLLMENT, key, title, "You can start watching now.", link=link
    )
    assert notification is not None
    return notification


def test_page_needs_login(client: FlaskClient) -> None:
    response = client.get("/notifications")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_page_and_fragment(client: FlaskClient) -> None:
    user = make_user()
    _notify(user.id, "enrollment:1", "Welcome to Kotlin")
    _notify(make_user().id, "enrollment:1", "Someone else's")
    login_as(client, user)
    page = client.get("/notifications")
    assert page.status_code == 200
    assert "<html" in page.text and 'id="notification-list"' in page.text
    assert "Welcome to Kotlin" in page.text and "1 unread" in page.text
    assert "Someone else" not in page.text
    assert 'name="csrf_token"' in page.text and 'href="/learning"' in page.text
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


def test_mark_read_without_javascript_redirects_back(client: FlaskClient) -> None:
    user = make_user()
    notification = _notify(user.id, "enrollment:2", "Welcome to Scala")
    login_as(client, user)
    response = client.post(f"/notifications/{notification.id}/read")
    assert response.status_code == 303
    assert response.headers["Location"] == "/notifications"
    assert queries.count_unread(user.id) == 0
    assert "All caught up" in client.get("/notifications").text


def test_mark_read_by_htmx_swaps_the_list(client: FlaskClient) -> None:
    user = make_user()
    first = _notify(user.id, "enrollment:3", "First")
    _notify(user.id, "enrollment:4", "Second")
    login_as(client, user)
    response = client.post(f"/notifications/{first.id}/read", headers=HX)
    assert response.status_code == 200
    assert "<html" not in response.text and 'id="notification-list"' in response.text
    assert "1 unread" in response.text
    assert response.text.count("Mark as read") == 1
    assert queries.count_unread(user.id) == 1


def test_cannot_mark_someone_elses(client: FlaskClient) -> None:
    owner = make_user()
    notification = _notify(owner.id, "enrollment:5", "Private")
    login_as(client, make_user())
    response = client.post(f"/notifications/{notification.id}/read")
    assert response.status_code == 404
    assert queries.count_unread(owner.id) == 1


def test_mark_read_needs_the_csrf_token(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    user = make_user()
    notification = _notify(user.id, "enrollment:6", "Guarded")
    login_as(client, user)
    url = f"/notifications/{notification.id}/read"
    assert client.post(url).status_code == 400
    page = client.get("/notifications").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token is not None
    assert client.post(url, data={"csrf_token": token.group(1)}).status_code == 303
    assert queries.count_unread(user.id) == 0
