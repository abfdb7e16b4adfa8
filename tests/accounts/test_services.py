from datetime import timedelta

import pytest
from argon2 import PasswordHasher
from flask import Flask
from sqlalchemy.orm import Session

from app.accounts import services, sessions
from app.accounts.models import Role, User
from app.accounts.passwords import password_problems
from app.accounts.queries import get_session_user, get_user_by_email, list_login_sessions
from app.core.models import utcnow
from tests.conftest import QueryCounter
from tests.factories import PASSWORD, make_user

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"


def test_register_normalises_email_and_hashes_with_argon2id(db_session: Session) -> None:
    user = services.register_user("  Ada@Example.COM ", "lovelace-1815", "Ada Lovelace")
    assert user.email == "ada@example.com"
    assert user.role is Role.STUDENT
    assert user.password_hash.startswith("$argon2id$")
    assert get_user_by_email("ADA@example.com") is user


def test_email_is_unique_case_insensitively(db_session: Session) -> None:
    services.register_user("grace@example.com", "cobol-1959x", "Grace Hopper")
    with pytest.raises(services.EmailTaken):
        services.register_user("GRACE@EXAMPLE.COM", "another-pass-9", "Grace H")


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("short1", "at least 8"),
        ("onlyletterslong", "Mix letters"),
        ("1234567890", "Mix letters"),
        ("password1", "too common"),
        ("alan.turing99", "email address"),
    ],
)
def test_weak_passwords_are_refused_with_reasons(
    db_session: Session, password: str, reason: str
) -> None:
    with pytest.raises(services.WeakPassword, match=reason):
        services.register_user("alan.turing@example.com", password, "Alan Turing")
    assert get_user_by_email("alan.turing@example.com") is None


def test_demo_password_passes_the_rule() -> None:
    assert password_problems("demo12345", "student1@example.com", "Sam Student") == []


def test_bad_email_is_refused(db_session: Session) -> None:
    with pytest.raises(services.InvalidEmail):
        services.register_user("not-an-email", "lovelace-1815", "Ada")


def test_unknown_email_and_wrong_password_give_the_same_error(db_session: Session) -> None:
    user = make_user()
    with pytest.raises(services.InvalidCredentials) as unknown:
        services.authenticate("nobody@example.com", PASSWORD)
    with pytest.raises(services.InvalidCredentials) as wrong:
        services.authenticate(user.email, "wrong-password-1")
    assert unknown.value.message == wrong.value.message
    assert services.authenticate(user.email.upper(), PASSWORD) is user


def test_inactive_user_cannot_log_in(db_session: Session) -> None:
    user = make_user()
    user.active = False
    with pytest.raises(services.InvalidCredentials):
        services.authenticate(user.email, PASSWORD)


def test_outdated_hash_is_upgraded_on_login(db_session: Session) -> None:
    user = make_user()
    user.password_hash = PasswordHasher(time_cost=1, memory_cost=8192).hash(PASSWORD)
    old = user.password_hash
    services.authenticate(user.email, PASSWORD)
    assert user.password_hash != old
    assert "m=65536" in user.password_hash


def _sign_in(user: User, remember: bool = False) -> str:
    """A fresh login for the user; returns its cookie id ("user id:token")."""
    sessions.start_login_session(user, remember=remember, user_agent=FIREFOX)
    return user.get_id()


def test_password_change_ends_other_sessions(db_session: Session) -> None:
    user = make_user()
    other = _sign_in(user)
    this = _sign_in(user)
    assert user.login is not None
    keep = user.login.id
    with pytest.raises(services.InvalidCredentials):
        services.change_password(user, "not-it-123", "brand-new-pass-7", keep_login=keep)
    assert get_session_user(other) is user
    services.change_password(user, PASSWORD, "brand-new-pass-7", keep_login=keep)
    assert get_session_user(other) is None
    assert get_session_user(this) is user
    assert services.authenticate(user.email, "brand-new-pass-7") is user


def test_a_login_cookie_works_only_while_its_session_is_live(db_session: Session) -> None:
    user = make_user()
    cookie_id = _sign_in(user)
    login = user.login
    assert login is not None and cookie_id.startswith(f"{user.id}:")
    assert get_session_user(cookie_id) is user
    assert login.token_hash not in cookie_id  # the table keeps only a hash of the token
    for forged in (
        f"{user.id}:",
        f"{user.id}:x",
        f"{user.id + 1}:{cookie_id.split(':')[1]}",
        "x:y",
        "٣:y",
        f"{'9' * 30}:y",
        f"{user.id}:\x00",
    ):
        assert get_session_user(forged) is None, forged
    login.expires_at = utcnow() - timedelta(seconds=1)
    assert get_session_user(cookie_id) is None
    login.expires_at = utcnow() + timedelta(days=1)
    user.active = False
    assert get_session_user(cookie_id) is None
    user.active = True
    sessions.revoke_login_session(login.id)
    db_session.expire_all()
    assert get_session_user(cookie_id) is None


def test_the_user_loader_is_one_query(db_session: Session, count_queries: QueryCounter) -> None:
    cookie_id = _sign_in(make_user())
    db_session.expire_all()
    before = count_queries.count
    assert get_session_user(cookie_id) is not None
    assert count_queries.count - before == 1


def test_remember_logins_last_the_cookie_lifetime_others_the_idle_time(
    app: Flask, db_session: Session
) -> None:
    user = make_user()
    _sign_in(user, remember=True)
    remembered = user.login
    _sign_in(user)
    browser = user.login
    assert remembered is not None and browser is not None
    assert remembered.expires_at - remembered.created_at == app.config["REMEMBER_COOKIE_DURATION"]
    assert app.config["REMEMBER_COOKIE_DURATION"] == timedelta(days=30)
    assert browser.expires_at - browser.created_at == app.config["SESSION_IDLE"]
    assert (remembered.remember, browser.remember) == (True, False)
    assert browser.user_agent == "Firefox on Linux"


def test_revoke_user_sessions_keeps_only_the_one_asked(db_session: Session) -> None:
    user, bystander = make_user(), make_user()
    ids = [_sign_in(user) for _ in range(3)]
    keep = user.login
    theirs = _sign_in(bystander)
    assert keep is not None
    assert sessions.revoke_user_sessions(user.id, keep=keep.id) == 2
    db_session.expire_all()
    assert [get_session_user(i) is not None for i in ids] == [False, False, True]
    assert get_session_user(theirs) is not None
    assert [s.id for s in list_login_sessions(user.id)] == [keep.id]


@pytest.mark.parametrize(
    ("header", "summary"),
    [
        (FIREFOX, "Firefox on Linux"),
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
            "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1",
            "Safari on iPhone",
        ),
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/120.0 Safari/537.36 Edg/120.0",
            "Edge on Windows",
        ),
        ("curl/8.5.0", "curl/8.5.0"),
        ("", "Unknown device"),
        ("x" * 500, "x" * 120),
    ],
)
def test_user_agent_summary(header: str, summary: str) -> None:
    assert sessions.summarise_user_agent(header) == summary


def test_profile_email_must_stay_unique(db_session: Session) -> None:
    a, b = make_user(), make_user()
    with pytest.raises(services.EmailTaken):
        services.update_profile(a, "A", b.email.upper(), None)
    services.update_profile(a, "  Ada   L  ", "new@example.com", "in")
    assert (a.name, a.email, a.country) == ("Ada L", "new@example.com", "IN")


def test_set_role(db_session: Session) -> None:
    user = make_user()
    services.set_role(user.email, Role.TEACHER)
    assert user.role is Role.TEACHER
    with pytest.raises(services.NotFound):
        services.set_role("ghost@example.com", Role.ADMIN)
