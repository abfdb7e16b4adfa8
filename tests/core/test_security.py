import pytest

from app.core.security import is_safe_redirect, new_token


@pytest.mark.parametrize(
    "target",
    ["/", "/courses?q=python", "/courses/intro-to-python#curriculum", "/account"],
)
def test_own_paths_are_safe(target: str) -> None:
    assert is_safe_redirect(target)


@pytest.mark.parametrize(
    "target",
    [
        None,
        "",
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example",
        "\\\\evil.example",
        "http:/evil.example",
        "javascript:alert(1)",
        "courses",
        "/\tevil",
        "///evil.example",
    ],
)
def test_anything_else_is_refused(target: str | None) -> None:
    assert not is_safe_redirect(target)


def test_tokens_are_random_uuid4() -> None:
    a, b = new_token(), new_token()
    assert a != b
    assert len(a) == 36 and a[14] == "4"
