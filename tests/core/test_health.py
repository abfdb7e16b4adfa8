from flask import Flask
from flask.testing import FlaskClient
from redis import Redis


def test_healthz(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok"}


def test_readyz_ok(client: FlaskClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json["checks"] == {"database": "ok", "redis": "ok"}


def test_readyz_names_what_failed(app: Flask, client: FlaskClient) -> None:
    real = app.extensions["redis"]
    app.extensions["redis"] = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)
    try:
        response = client.get("/readyz")
    finally:
        app.extensions["redis"] = real
    assert response.status_code == 503
    assert response.json["failed"] == ["redis"]
    assert response.json["checks"]["database"] == "ok"


def test_security_headers(client: FlaskClient) -> None:
    headers = client.get("/healthz").headers
    assert "default-src 'self'" in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Request-ID"]
