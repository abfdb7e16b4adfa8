"""Cache-Control: nothing a logged-in user or a form page sees may be stored by a cache."""

from __future__ import annotations

from flask import Flask, Response
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.checkout.models import Order
from tests.conftest import login_as, make_test_app
from tests.factories import make_course, make_user

HX = {"HX-Request": "true"}


def _no_store(response: Response) -> bool:
    return "no-store" in response.headers.get("Cache-Control", "")


def test_every_page_of_a_logged_in_user_is_no_store(
    client: FlaskClient, db_session: Session
) -> None:
    user = make_user()
    course = make_course("Free intro", prices={"USD": 0, "INR": 0})
    login_as(client, user)
    assert client.post(f"/courses/{course.slug}/enroll").status_code == 303
    order = db_session.scalars(select(Order).where(Order.user_id == user.id)).one()
    pages = [
        "/orders",
        f"/orders/{order.token}",
        "/learning",
        "/account",
        "/account/password",
        "/checkout",
        "/notifications",
        "/",
        "/courses",
        f"/courses/{course.slug}",
    ]
    for path in pages:
        for headers in ({}, HX):
            response = client.get(path, headers=headers)
            assert response.status_code < 400, path
            assert _no_store(response), (path, headers, response.headers.get("Cache-Control"))
            assert response.headers["Pragma"] == "no-cache"


def test_form_pages_are_no_store_for_visitors_too(client: FlaskClient) -> None:
    for path in ("/login", "/register", "/logout"):
        assert _no_store(client.get(path)), path
        assert _no_store(client.get(path, headers=HX)), path
    failed = client.post("/login", data={"email": "x@example.com", "password": "nope"})
    assert failed.status_code == 422 and _no_store(failed)


def test_static_files_and_anonymous_catalog_pages_stay_cacheable(
    client: FlaskClient, db_session: Session
) -> None:
    course = make_course("Public course", prices={"USD": 1000})
    for path in ("/", "/courses", f"/courses/{course.slug}"):
        response = client.get(path)
        assert response.status_code == 200
        assert "Cache-Control" not in response.headers, path
    static = client.get("/static/css/app.css")
    assert static.status_code == 200
    assert static.headers["Cache-Control"] == "no-cache"  # Flask's own: revalidate by ETag
    login_as(client, make_user())
    assert client.get("/static/css/app.css").headers["Cache-Control"] == "no-cache"


def test_a_response_that_set_its_own_cache_control_is_left_alone(
    service_urls: dict[str, str],
) -> None:
    app: Flask = make_test_app(service_urls)

    @app.route("/_own", methods=["GET", "POST"])
    def _own() -> Response:
        response = Response("own")
        response.headers["Cache-Control"] = "private, max-age=60"
        return response

    @app.route("/_form", methods=["GET", "POST"])
    def _form() -> str:
        return "a form page"

    client = app.test_client()
    assert client.get("/_own").headers["Cache-Control"] == "private, max-age=60"
    assert client.get("/_form").headers.get("Cache-Control") == "no-store"
