"""The studio's access period per currency price: saved with the price, shown back, blank for
lifetime, and every wrong input refused next to its field (plain form: the page with 422;
HTMX: the form fragment with 422), changing nothing."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from app.catalog.models import CoursePrice
from app.core.periods import AccessPeriod
from app.extensions import db
from app.teaching import queries
from tests.teaching.conftest import HX, Studio, details_form


def _periods(course_id: int) -> dict[str, AccessPeriod | None]:
    db.session.expire_all()
    rows = db.session.scalars(select(CoursePrice).where(CoursePrice.course_id == course_id))
    return {row.currency: row.access_period for row in rows}


def test_a_period_is_saved_with_its_price_and_shown_back(
    teacher_client: FlaskClient, studio: Studio
) -> None:
    path = f"/studio/courses/{studio.course.id}"
    data = details_form(period_usd="6", price_inr="999", period_inr="1", period_unit_inr="year")
    saved = teacher_client.post(path, data=data)
    assert saved.status_code == 303
    assert _periods(studio.course.id) == {
        "USD": AccessPeriod(6, "month"),
        "INR": AccessPeriod(1, "year"),
    }
    page = teacher_client.get(path).text
    assert re.search(r'id="period_usd"[^>]*value="6"', page) or re.search(
        r'value="6"[^>]*id="period_usd"', page
    )
    assert re.search(
        r'<select[^>]*id="period_unit_inr".*?<option selected value="year"', page, re.S
    )
    assert "Leave blank: lifetime access." in page

    lifetime = teacher_client.post(path, data=details_form(price_inr="999"))
    assert lifetime.status_code == 303
    assert _periods(studio.course.id) == {"USD": None, "INR": None}
    assert queries.get_prices(studio.course.id) == {"USD": 2450, "INR": 99900}


def test_a_free_course_has_no_period(teacher_client: FlaskClient, studio: Studio) -> None:
    path = f"/studio/courses/{studio.course.id}"
    answer = teacher_client.post(path, data=details_form(free="y", period_usd="3"))
    assert answer.status_code == 303
    assert _periods(studio.course.id) == {"USD": None, "INR": None}


BAD = [
    ({"period_usd": "abc"}, "period_usd", "whole number of months from 1 to 120"),
    ({"period_usd": "0"}, "period_usd", "whole number of months from 1 to 120"),
    ({"period_usd": "-2"}, "period_usd", "whole number of months from 1 to 120"),
    ({"period_usd": "1.5"}, "period_usd", "whole number of months from 1 to 120"),
    ({"period_usd": "²"}, "period_usd", "whole number of months from 1 to 120"),
    ({"period_usd": "11", "period_unit_usd": "year"}, "period_usd", "years from 1 to 10"),
    ({"period_usd": "4000", "period_unit_usd": "day"}, "period_usd", "days from 1 to 3660"),
    ({"period_usd": "2", "period_unit_usd": "fortnight"}, "period_unit_usd", "Choose days"),
    ({"period_inr": "3"}, "period_inr", "Set a price in INR first"),
]


@pytest.mark.parametrize(("typed", "field", "message"), BAD)
def test_a_bad_period_is_refused_on_its_field(
    teacher_client: FlaskClient, studio: Studio, typed: dict[str, str], field: str, message: str
) -> None:
    path = f"/studio/courses/{studio.course.id}"
    before = _periods(studio.course.id), queries.get_prices(studio.course.id)
    page = teacher_client.post(path, data=details_form(**typed))
    assert page.status_code == 422 and "<html" in page.text
    assert re.search(rf'id="{field}-error"[^>]*>[^<]*{re.escape(message)}', page.text)
    assert 'aria-invalid="true"' in page.text

    fragment = teacher_client.post(path, data=details_form(**typed), headers=HX)
    assert fragment.status_code == 422 and "<html" not in fragment.text
    assert fragment.text.lstrip().startswith('<form id="course-details"')
    assert re.search(rf'id="{field}-error"[^>]*>[^<]*{re.escape(message)}', fragment.text)
    assert (_periods(studio.course.id), queries.get_prices(studio.course.id)) == before


def test_saving_with_htmx_answers_the_form(teacher_client: FlaskClient, studio: Studio) -> None:
    path = f"/studio/courses/{studio.course.id}"
    fragment = teacher_client.post(
        path, data=details_form(period_usd="2", period_unit_usd="week"), headers=HX
    )
    assert fragment.status_code == 200 and "<html" not in fragment.text
    assert (
        fragment.text.lstrip().startswith('<form id="course-details"') and "Saved." in fragment.text
    )
    assert _periods(studio.course.id) == {"USD": AccessPeriod(2, "week")}
