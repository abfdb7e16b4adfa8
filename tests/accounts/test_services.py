import pytest
from argon2 import PasswordHasher
from sqlalchemy.orm import Session

from app.accounts import services
from app.accounts.models import Role
from app.accounts.passwords import password_problems
from app.accounts.queries import get_session_user, get_user_by_email
from tests.factories import PASSWORD, make_user


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


def test_password_change_ends_other_sessions(db_session: Session) -> None:
    user = make_user()
    old_session_id = user.get_id()
    with pytest.raises(services.InvalidCredentials):
        services.change_password(user, "not-it-123", "brand-new-pass-7")
    services.change_password(user, PASSWORD, "brand-new-pass-7")
    db_session.flush()
    assert get_session_user(old_session_id) is None
    assert get_session_user(user.get_id()) is user
    assert services.authenticate(user.email, "brand-new-pass-7") is user


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
