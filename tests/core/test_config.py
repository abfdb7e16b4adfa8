import pytest

from app.config import DEV_SECRET_KEY, ConfigError, load_config


def test_production_refuses_missing_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SECRET_KEY", "DATABASE_URL", "REDIS_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("APP_ENV", "production")
    with pytest.raises(ConfigError, match="SECRET_KEY, DATABASE_URL, REDIS_URL"):
        load_config()


def test_production_refuses_development_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.setenv("DATABASE_URL", "postgresql://db/x")
    monkeypatch.setenv("REDIS_URL", "redis://cache/0")
    monkeypatch.setenv("SECRET_KEY", DEV_SECRET_KEY)
    with pytest.raises(ConfigError, match="random SECRET_KEY"):
        load_config()
    monkeypatch.setenv("SECRET_KEY", "x" * 40)
    cfg = load_config()
    assert cfg["SESSION_COOKIE_SECURE"] is True


def test_production_never_starts_embedded_servers(monkeypatch: pytest.MonkeyPatch) -> None:
    from app import create_app, embedded

    started: list[str] = []
    monkeypatch.setattr(embedded, "start_postgres", lambda *a, **k: started.append("pg") or "")
    monkeypatch.setattr(embedded, "start_redis", lambda *a, **k: started.append("redis") or "")
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.delenv("DATABASE_URL", raising=False)
    with pytest.raises(ConfigError):
        create_app()
    assert started == []


def test_bad_numbers_are_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORT", "eighty")
    with pytest.raises(ConfigError, match="PORT must be a whole number"):
        load_config()


def test_the_csp_lets_browsers_reach_an_s3_media_bucket() -> None:
    from app.config import media_origin
    from app.core.web import CSP, content_security_policy

    assert media_origin({}) == "" and content_security_policy("") == CSP
    env = {"STORAGE_BACKEND": "s3", "S3_BUCKET": "cf", "S3_REGION": "eu-west-1"}
    assert media_origin(env) == "https://cf.s3.eu-west-1.amazonaws.com"
    minio = {**env, "S3_ENDPOINT_URL": "http://127.0.0.1:9000/ignored/path"}
    assert media_origin(minio) == "http://127.0.0.1:9000"
    policy = content_security_policy("http://127.0.0.1:9000")
    for directive in ("img-src", "media-src", "connect-src"):
        assert f"{directive} 'self' http://127.0.0.1:9000" in policy
    assert "script-src 'self';" in policy  # scripts still only from us
