"""Reports: the daily report rows (written by the real report service) as a table and CSV,
tax per country from orders and credit notes, and earnings per course and teacher net of
refunds and tax. Real PostgreSQL."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from decimal import Decimal

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from app.accounts.models import Role
from app.catalog.models import CourseViewDay
from app.core.models import utcnow
from app.payments.services.reconcile import build_daily_report
from tests.admin.test_dashboard import noon, paid_orders, refund
from tests.factories import make_course, make_user


def _csv(client: FlaskClient, url: str) -> list[dict[str, str]]:
    response = client.get(url)
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def _seed(session: Session) -> dict[str, object]:
    """Two days of sales by two teachers in two currencies, with a refund and tax."""
    ada, bob = make_user(Role.TEACHER, name="Ada Teacher"), make_user(Role.TEACHER, name="Bob")
    python = make_course("Python", teacher=ada, prices={"USD": 11800, "INR": 118000})
    rust = make_course("Rust", teacher=ada)
    sql = make_course("SQL", teacher=bob)
    buyer = make_user()
    today = utcnow().date()
    d1, d2 = today - timedelta(days=2), today - timedelta(days=1)
    # INR orders carry 18% GST (IN); USD orders no tax.
    inr = paid_orders(buyer, python, [11800, 11800], noon(d1), currency="INR", tax=1800,
                      country="IN")  # fmt: skip
    paid_orders(buyer, python, [5000], noon(d1))
    paid_orders(buyer, rust, [3000, 3000], noon(d2), country="US")
    sold_sql = paid_orders(buyer, sql, [4000], noon(d2))
    refund(inr[0], 5900, noon(d2), tax=900)  # half of one INR order back, with its tax
    refund(sold_sql[0], 4000, noon(d2))
    session.add(CourseViewDay(day=d2, course_id=rust.id, views=50))
    build_daily_report(d1)
    build_daily_report(d2)
    session.flush()
    return {"d1": d1, "d2": d2, "ada": ada, "bob": bob}


def test_daily_csv_parses_and_sums_match(admin_client: FlaskClient, db_session: Session) -> None:
    seed = _seed(db_session)
    rows = _csv(admin_client, "/admin/reports?format=csv&view=daily")

    by_key = {(r["day"], r["currency"]): r for r in rows}
    d1, d2 = seed["d1"].isoformat(), seed["d2"].isoformat()  # type: ignore[attr-defined]
    assert by_key[(d1, "INR")]["revenue"] == "236.00"
    assert by_key[(d1, "USD")]["revenue"] == "50.00"
    assert by_key[(d2, "USD")]["revenue"] == "100.00"
    assert by_key[(d2, "USD")]["refunds"] == "40.00"
    assert by_key[(d2, "INR")]["refunds"] == "59.00"
    assert by_key[(d2, "INR")]["net"] == "-59.00"
    assert by_key[(d2, "USD")]["views"] == "50"
    assert by_key[(d2, "USD")]["orders_paid"] == "3"
    assert by_key[(d2, "USD")]["conversion_pct"] == "6.0"
    usd_net = sum(Decimal(r["net"]) for r in rows if r["currency"] == "USD")
    assert usd_net == Decimal("50.00") + Decimal("100.00") - Decimal("40.00")


def test_tax_per_country_from_orders_and_credit_notes(
    admin_client: FlaskClient, db_session: Session
) -> None:
    seed = _seed(db_session)
    rows = _csv(admin_client, "/admin/reports?format=csv&view=tax")

    india = [r for r in rows if r["country"] == "IN"]
    assert sum(Decimal(r["tax_collected"]) for r in india) == Decimal("36.00")
    assert sum(Decimal(r["tax_refunded"]) for r in india) == Decimal("9.00")
    assert sum(Decimal(r["tax_net"]) for r in india) == Decimal("27.00")
    d2 = seed["d2"].isoformat()  # type: ignore[attr-defined]
    assert {(r["day"], r["tax_refunded"]) for r in india} == {
        (seed["d1"].isoformat(), "0.00"),  # type: ignore[attr-defined]
        (d2, "9.00"),
    }
    page = admin_client.get("/admin/reports").get_data(as_text=True)
    assert "IN ₹27.00" not in page  # per day on the daily table, the total below
    assert '<td>IN</td><td class="num">₹36.00</td><td class="num">₹9.00</td>' in page


def test_teacher_earnings_are_net_of_refunds_and_tax(
    admin_client: FlaskClient, db_session: Session
) -> None:
    _seed(db_session)
    teachers = _csv(admin_client, "/admin/reports?format=csv&view=teachers")
    courses = _csv(admin_client, "/admin/reports?format=csv&view=courses")

    earned = {(r["name"], r["currency"]): Decimal(r["earnings"]) for r in teachers}
    # INR: 2 x (118 - 18) - (59 - 9) refunded net of tax = 150; USD: 50 + 60 = 110.
    assert earned[("Ada Teacher", "INR")] == Decimal("150.00")
    assert earned[("Ada Teacher", "USD")] == Decimal("110.00")
    assert earned[("Bob", "USD")] == Decimal("0.00")  # sold once, refunded in full
    for currency in ("USD", "INR"):
        per_course = sum(Decimal(r["earnings"]) for r in courses if r["currency"] == currency)
        per_teacher = sum(Decimal(r["earnings"]) for r in teachers if r["currency"] == currency)
        assert per_course == per_teacher
    python_inr = next(r for r in courses if r["name"] == "Python" and r["currency"] == "INR")
    assert (python_inr["gross"], python_inr["tax"], python_inr["refunded"]) == (
        "236.00", "36.00", "59.00",
    )  # fmt: skip
    assert python_inr["refunded_tax"] == "9.00"


def test_date_range_filters_every_report(admin_client: FlaskClient, db_session: Session) -> None:
    seed = _seed(db_session)
    d1 = seed["d1"].isoformat()  # type: ignore[attr-defined]
    url = f"/admin/reports?from={d1}&to={d1}&format=csv&view="
    assert {r["day"] for r in _csv(admin_client, url + "daily")} == {d1}
    courses = _csv(admin_client, url + "courses")
    assert {r["name"] for r in courses} == {"Python"}  # Rust and SQL sold the next day
    assert all(r["refunded"] == "0.00" for r in courses if r["currency"] == "USD")


def test_page_and_fragment(admin_client: FlaskClient, db_session: Session) -> None:
    _seed(db_session)
    page = admin_client.get("/admin/reports")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "<h1>Reports</h1>" in html and 'id="report-rows"' in html
    assert "Ada Teacher" in html and "₹150.00" in html

    fragment = admin_client.get("/admin/reports", headers={"HX-Request": "true"})
    body = fragment.get_data(as_text=True)
    assert body.lstrip().startswith('<div id="report-rows"')
    assert "<h1>" not in body


def test_empty_database_renders(admin_client: FlaskClient) -> None:
    html = admin_client.get("/admin/reports").get_data(as_text=True)
    assert "No daily reports in this range" in html
    assert "No course sold in this range." in html
    rows = _csv(admin_client, "/admin/reports?format=csv&view=teachers")
    assert rows == []
    junk = admin_client.get("/admin/reports?from=yesterday&to=2026-13-40")
    assert junk.status_code == 200
