"""The seeds' alias paths spend the API's one per-token budget (issue 14): a client cannot get
a second budget by calling /api/user/... instead of /api/v1/...; the webhook aliases spend none
of it (a provider's webhook has its own limit)."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from tests.api.tokens import bearer
from tests.factories import make_user

# Anonymous callers are counted by address: one of their own, so no other test's
# anonymous calls (under the same "3 per minute") share the counter.
ADDRESS = {"REMOTE_ADDR": "198.51.100.73"}
WEBHOOK_ALIASES = ("/api/payments/webhooks/stripe", "/api/v1/webhooks/razorpay")


def _limited(answer: Any) -> bool:
    if answer.status_code != 429:
        return False
    assert answer.json["code"] == "RATE_LIMITED" and "retryAfter" in answer.json
    return True


@pytest.mark.parametrize(
    "paths",
    [
        ("/api/v1/auth/me", "/api/user/auth/me"),  # the 4th call is on the alias
        ("/api/user/auth/me", "/api/v1/auth/me"),  # the 4th call is on our path
    ],
)
def test_alias_and_api_paths_spend_one_token_budget(
    app: Flask,
    client: FlaskClient,
    db_session: Session,
    monkeypatch: pytest.MonkeyPatch,
    paths: tuple[str, str],
) -> None:
    monkeypatch.setitem(app.config, "API_RATE_LIMIT", "3 per minute")
    user = make_user()
    headers = bearer(user)
    answers = [client.get(paths[i % 2], headers=headers) for i in range(4)]
    assert [a.status_code for a in answers[:3]] == [200, 200, 200]
    assert all(a.json["data"]["user"]["id"] == user.id for a in answers[:3])
    assert _limited(answers[3])
    # Both paths are spent, not only the one the 4th call took.
    assert _limited(client.get(paths[0], headers=headers))
    assert _limited(client.get(paths[1], headers=headers))


def test_an_alias_only_client_is_limited_too(
    app: Flask, client: FlaskClient, db_session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "API_RATE_LIMIT", "3 per minute")
    headers = bearer(make_user())
    for _ in range(3):
        assert client.get("/api/user/auth/me", headers=headers).status_code == 200
    assert _limited(client.get("/api/user/auth/me", headers=headers))
    assert _limited(client.get("/api/v1/auth/me", headers=headers))


def test_webhook_aliases_spend_none_of_the_api_budget(
    app: Flask, client: FlaskClient, db_session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "API_RATE_LIMIT", "3 per minute")
    junk = {"data": b"{}", "content_type": "application/json", "environ_base": ADDRESS}

    def webhooks() -> list[int]:
        return [client.post(path, **junk).status_code for path in WEBHOOK_ALIASES * 2]

    before = webhooks()
    assert 429 not in before and all(s in (400, 404) for s in before)  # unsigned: refused
    # The webhooks spent nothing: this address still has its whole budget of three.
    anonymous = [
        client.get(path, environ_base=ADDRESS)
        for path in ("/api/v1/auth/me", "/api/user/auth/me", "/api/v1/auth/me")
    ]
    assert [a.status_code for a in anonymous] == [401, 401, 401]
    assert _limited(client.get("/api/user/auth/me", environ_base=ADDRESS))
    # With the API budget spent, the webhooks still answer as before.
    assert webhooks() == before
