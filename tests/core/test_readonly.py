"""Read-only views run their queries outside a transaction and cannot write (app/core/readonly.py).

These use a fresh app on the real engine: the shared test session is bound to a connection
that is already in a transaction, where read-only mode stays off."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask, jsonify
from flask.typing import ResponseReturnValue

from app.catalog.models import Category
from app.core.readonly import ReadOnlyViolation, read_only
from app.extensions import db
from tests.conftest import make_test_app, truncate_all


@pytest.fixture
def ro_app(service_urls: dict[str, str], app: Flask) -> Iterator[Flask]:
    application = make_test_app(service_urls)

    def _autocommit() -> bool:
        return bool(db.session.connection().connection.dbapi_connection.autocommit)  # type: ignore[union-attr]

    @application.get("/_t/read")
    @read_only
    def read() -> ResponseReturnValue:
        count = db.session.query(Category).count()
        return jsonify(autocommit=_autocommit(), categories=count)

    @application.get("/_t/plain")
    def plain() -> ResponseReturnValue:
        return jsonify(autocommit=_autocommit())

    @application.get("/_t/write")
    @read_only
    def write() -> ResponseReturnValue:
        db.session.add(Category(slug="sneaky", name="Sneaky"))
        db.session.flush()
        return jsonify(written=True)

    yield application
    with application.app_context():
        truncate_all()


def test_a_read_only_view_reads_without_a_transaction(ro_app: Flask) -> None:
    client = ro_app.test_client()
    read = client.get("/_t/read")
    assert read.status_code == 200
    assert read.json == {"autocommit": True, "categories": 0}
    # The connection went back to the pool in its usual mode: the next view has a transaction.
    assert client.get("/_t/plain").json == {"autocommit": False}
    assert client.get("/_t/read").json["autocommit"] is True


def test_a_read_only_view_cannot_write(ro_app: Flask) -> None:
    with pytest.raises(ReadOnlyViolation):  # TESTING propagates it; served, it is a 500
        ro_app.test_client().get("/_t/write")
    with ro_app.app_context():
        assert db.session.query(Category).filter_by(slug="sneaky").count() == 0


def test_catalog_pages_are_read_only(app: Flask) -> None:
    for endpoint in ("catalog.home", "catalog.course_list", "catalog.course_detail"):
        assert getattr(app.view_functions[endpoint], "coursefront_read_only", False), endpoint
