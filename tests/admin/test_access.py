"""Every /admin route, from the URL map, for each role and for a visitor: only admins pass.
A new console route is covered the moment it exists; nothing here lists routes by hand."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.routing import Rule

from app.accounts.models import Role
from tests.admin.conftest import client_as
from tests.conftest import IsolatedClient

DUMMY = {"int": "1", "uuid": "00000000-0000-4000-8000-000000000000", "string": "x", "path": "x"}
PARAM = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")


def _url(rule: Rule) -> str:
    return PARAM.sub(lambda m: DUMMY.get(m.group(1) or "string", "x"), rule.rule)


def admin_requests(app: Flask) -> Iterator[tuple[str, str]]:
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/admin"):
            for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
                yield method, _url(rule)


def test_the_console_has_routes(app: Flask) -> None:
    requests = list(admin_requests(app))
    assert len(requests) >= 10  # the walk below must not pass by walking nothing
    assert ("GET", "/admin/") in requests


@pytest.mark.parametrize("role", [Role.STUDENT, Role.TEACHER, Role.TRAINER])
def test_other_roles_get_403_everywhere(app: Flask, db_session: object, role: Role) -> None:
    client, _user = client_as(app, role)
    for method, url in admin_requests(app):
        response = client.open(url, method=method, data={"confirmed": "yes"})
        assert response.status_code == 403, (role, method, url, response.status_code)


def test_visitors_are_sent_to_log_in_everywhere(app: Flask, db_session: object) -> None:
    app.test_client_class = IsolatedClient
    client = app.test_client()
    for method, url in admin_requests(app):
        response = client.open(url, method=method, data={"confirmed": "yes"})
        assert response.status_code in (302, 303), (method, url, response.status_code)
        assert "/login" in response.headers["Location"], (method, url)


def test_admins_pass_the_check_everywhere(app: Flask, admin_client: FlaskClient) -> None:
    """An admin is never refused by role: a page answers, or a made-up id is not found."""
    for method, url in admin_requests(app):
        response = admin_client.open(url, method=method)
        assert response.status_code not in (401, 403), (method, url, response.status_code)
        assert response.status_code < 500, (method, url, response.status_code)


def test_console_pages_are_never_cached(admin_client: FlaskClient) -> None:
    response = admin_client.get("/admin/")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"


def test_a_deactivated_admin_is_refused(app: Flask, db_session: object) -> None:
    from app.extensions import db

    client, user = client_as(app, Role.ADMIN)
    assert client.get("/admin/").status_code == 200
    user.active = False
    db.session.commit()
    response = client.get("/admin/")
    assert response.status_code in (302, 303)
