"""An error answering an HTMX request goes to the page's error slot, not into the trigger's
target: a refused or rate-limited swap must not replace the cart (or any panel) with an error."""

from __future__ import annotations

from flask.testing import FlaskClient

HX = {"HX-Request": "true", "Accept": "*/*"}


def test_pages_carry_one_error_slot(client: FlaskClient) -> None:
    page = client.get("/courses").text
    assert page.count('id="error"') == 1 and '<div id="error" hidden></div>' in page


def test_htmx_errors_retarget_to_the_error_slot(client: FlaskClient) -> None:
    response = client.get("/courses/no-such-course", headers=HX)
    assert response.status_code == 404
    assert response.headers["HX-Retarget"] == "#error"
    assert response.headers["HX-Reswap"] == "outerHTML"
    assert response.text.lstrip().startswith('<div id="error"') and "<html" not in response.text


def test_a_full_error_page_has_no_second_error_id(client: FlaskClient) -> None:
    response = client.get("/courses/no-such-course")
    assert response.status_code == 404
    assert response.text.count('id="error"') == 1
    assert "HX-Retarget" not in response.headers
