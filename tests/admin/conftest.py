"""The console's fixtures: a signed-in admin client, and one per other role."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from app.accounts.models import Role, User
from tests.conftest import IsolatedClient, login_as
from tests.factories import make_user


@pytest.fixture
def admin(db_session: Session) -> User:
    return make_user(Role.ADMIN, name="Ada Admin")


@pytest.fixture
def admin_client(app: Flask, admin: User) -> FlaskClient:
    app.test_client_class = IsolatedClient
    client = app.test_client()
    login_as(client, admin)
    return client


def client_as(app: Flask, role: Role) -> tuple[FlaskClient, User]:
    """A new client signed in as a new user with `role`."""
    app.test_client_class = IsolatedClient
    client = app.test_client()
    user = make_user(role)
    login_as(client, user)
    return client, user
