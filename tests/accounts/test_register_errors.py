"""Registration shows every field's problem on the first submit, not one at a time."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.accounts.models import User

BAD = {"name": "", "email": "not-an-email", "password": "short", "confirm": "other"}


def test_every_field_error_at_once(client: FlaskClient, db_session: Session) -> None:
    for headers in ({}, {"HX-Request": "true"}):
        response = client.post("/register", data=BAD, headers=headers)
        assert response.status_code == 422
        text = response.text
        assert 'id="name-error"' in text and 'id="email-error"' in text
        assert 'id="password-error"' in text and "Use at least 8 characters." in text
        assert 'id="confirm-error"' in text and "don&#39;t match" in text
        assert ("<html" in text) is not bool(headers)
    assert db_session.scalar(select(func.count(User.id))) == 0
