"""Bearer headers for API tests: a real API login and its signed access token."""

from __future__ import annotations

from typing import Any

from app.accounts.api_tokens import issue_access_token
from app.accounts.sessions import start_login_session


def bearer(user: Any) -> dict[str, str]:
    login = start_login_session(user, remember=True, user_agent="pytest")
    return {"Authorization": f"Bearer {issue_access_token(user, login).token}"}
