"""Coupons and sales in the console: create, edit, deactivate (audited) and usage numbers."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import sqlalchemy as sa
from flask.testing import FlaskClient

from app.accounts.models import AuditEntry
from app.cart.models import Coupon, CouponRedemption, RedemptionStatus, Sale
from app.cart.services.coupons import reserve_coupon
from app.checkout.models import Order
from app.core.models import utcnow
from app.core.money import Money
from app.extensions import db
from tests.cart.conftest import make_coupon
from tests.conftest import QueryCounter
from tests.factories import make_user


def _audit(action: str) -> list[AuditEntry]:
    return list(db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == action)))


def _coupon(code: str) -> Coupon | None:
    return db.session.scalars(sa.select(Coupon).where(Coupon.code == code)).first()


def test_create_percent_coupon(admin_client: FlaskClient) -> None:
    data = {"code": "spring20", "kind": "percent", "percent": "20", "max_uses": "5"}
    answer = admin_client.post("/admin/coupons/new", data=data)
    assert answer.status_code == 303
    coupon = _coupon("SPRING20")
    assert coupon is not None and coupon.percent_off_bp == 2000 and coupon.max_uses == 5
    (row,) = _audit("coupon.create")
    assert row.after["code"] == "SPRING20"


def test_create_refuses_bad_input(admin_client: FlaskClient) -> None:
    for data, message in (
        ({"code": "X1", "kind": "percent", "percent": "abc"}, "Enter a number"),
        ({"code": "X2", "kind": "percent", "percent": "150"}, "at most 100"),
        ({"code": "X3", "kind": "fixed", "amount": "5"}, "amount off and its currency"),
        ({"code": "bad code!", "kind": "percent", "percent": "5"}, "letters, digits"),
    ):
        answer = admin_client.post("/admin/coupons/new", data=data)
        assert answer.status_code == 422 and message in answer.get_data(as_text=True), data
    make_coupon("TAKEN")
    dup = admin_client.post(
        "/admin/coupons/new", data={"code": "taken", "kind": "percent", "percent": "5"}
    )
    assert "already exists" in dup.get_data(as_text=True)
    assert not _audit("coupon.create")


def test_fixed_coupon_in_a_currency(admin_client: FlaskClient) -> None:
    data = {"code": "TENOFF", "kind": "fixed", "amount": "10.50", "currency": "USD"}
    assert admin_client.post("/admin/coupons/new", data=data).status_code == 303
    coupon = _coupon("TENOFF")
    assert coupon is not None and (coupon.amount_off_minor, coupon.currency) == (1050, "USD")


def test_usage_numbers_and_edit_limits(admin_client: FlaskClient) -> None:
    coupon = make_coupon("USED", max_uses=5)
    db.session.flush()
    page = admin_client.get(f"/admin/coupons/{coupon.id}").get_data(as_text=True)
    assert 'id="coupon-remaining">5<' in page
    _reserve_twice(coupon)
    page = admin_client.get(f"/admin/coupons/{coupon.id}").get_data(as_text=True)
    assert 'id="coupon-reserved">1<' in page and 'id="coupon-redeemed">1<' in page
    assert 'id="coupon-remaining">3<' in page
    listing = admin_client.get("/admin/coupons?q=USED", headers={"HX-Request": "true"})
    assert listing.get_data(as_text=True).lstrip().startswith('<div id="coupon-rows">')
    low = admin_client.post(f"/admin/coupons/{coupon.id}", data={"max_uses": "1"})
    assert low.status_code == 422 and "cannot be lower" in low.get_data(as_text=True)
    assert (
        admin_client.post(f"/admin/coupons/{coupon.id}", data={"max_uses": "10"}).status_code == 303
    )
    db.session.refresh(coupon)
    assert coupon.max_uses == 10
    (row,) = _audit("coupon.edit")
    assert (row.before, row.after) == ({"max_uses": 5}, {"max_uses": 10})


def _reserve_twice(coupon: Coupon) -> None:
    """Two real orders take a use each; one of them is then paid (its use redeemed)."""
    for n in range(2):
        buyer = make_user(email=f"buyer{n}@example.com")
        order = Order(user_id=buyer.id, currency="USD", subtotal_minor=1000, total_minor=900)
        db.session.add(order)
        db.session.flush()
        reserve_coupon(coupon.id, buyer.id, order.id, Money(100, "USD"))
    first = db.session.scalars(
        sa.select(CouponRedemption).where(CouponRedemption.coupon_id == coupon.id)
    ).first()
    assert first is not None
    first.status = RedemptionStatus.REDEEMED
    db.session.flush()


def test_deactivate_coupon(admin_client: FlaskClient) -> None:
    coupon = make_coupon("STOPME")
    url = f"/admin/coupons/{coupon.id}/active"
    assert admin_client.post(url, data={"reason": "", "confirmed": "yes"}).status_code == 422
    assert "Confirm" in admin_client.post(url, data={"reason": "leaked"}).get_data(as_text=True)
    admin_client.post(url, data={"reason": "leaked", "confirmed": "yes"})
    db.session.refresh(coupon)
    assert coupon.active is False
    (row,) = _audit("coupon.deactivate")
    assert row.reason == "leaked"


def test_sale_create_edit_deactivate(admin_client: FlaskClient) -> None:
    start = utcnow().replace(second=0, microsecond=0)
    when = "%Y-%m-%dT%H:%M"
    data = {
        "name": "Winter sale",
        "slug": "winter",
        "percent": "15",
        "all_courses": "y",
        "starts_at": start.strftime(when),
        "ends_at": (start + timedelta(days=3)).strftime(when),
    }
    bad = admin_client.post("/admin/sales/new", data={**data, "ends_at": start.strftime(when)})
    assert bad.status_code == 422 and "end after it starts" in bad.get_data(as_text=True)
    assert admin_client.post("/admin/sales/new", data=data).status_code == 303
    sale = db.session.scalars(sa.select(Sale).where(Sale.slug == "winter")).one()
    assert sale.percent_off_bp == 1500 and len(_audit("sale.create")) == 1
    assert "Winter sale" in admin_client.get("/admin/sales?state=live").get_data(as_text=True)
    edit = {"name": "Winter sale II", "starts_at": data["starts_at"], "ends_at": data["ends_at"]}
    assert admin_client.post(f"/admin/sales/{sale.id}", data=edit).status_code == 303
    admin_client.post(
        f"/admin/sales/{sale.id}/active", data={"reason": "ended early", "confirmed": "yes"}
    )
    db.session.refresh(sale)
    assert sale.name == "Winter sale II" and sale.active is False
    assert len(_audit("sale.edit")) == 1 and len(_audit("sale.deactivate")) == 1


def test_sale_usage_counts_paid_lines_and_the_discount_given_per_currency(
    admin_client: FlaskClient,
) -> None:
    from app.checkout.models import OrderItem, OrderStatus
    from tests.factories import make_course

    start = utcnow() - timedelta(days=1)
    sale = Sale(
        slug="spring",
        name="Spring sale",
        percent_off_bp=2000,
        all_courses=True,
        starts_at=start,
        ends_at=start + timedelta(days=5),
    )
    db.session.add(sale)
    buyer, course = make_user(), make_course("Sold on sale")

    def line(currency: str, status: OrderStatus, base: int, price: int) -> None:
        order = Order(
            user_id=buyer.id,
            currency=currency,
            subtotal_minor=price,
            total_minor=price,
            status=status,
        )
        db.session.add(order)
        db.session.flush()
        db.session.add(
            OrderItem(
                order_id=order.id,
                course_id=course.id,
                title=course.title,
                base_minor=base,
                sale_minor=price,
                sale_slug="spring",
                total_minor=price,
            )
        )

    line("USD", OrderStatus.PAID, 5000, 4000)
    line("USD", OrderStatus.PARTIALLY_REFUNDED, 2500, 2000)
    line("EUR", OrderStatus.PAID, 1000, 800)
    line("USD", OrderStatus.FAILED, 5000, 4000)  # never paid: not a use of the sale
    db.session.flush()

    listing = admin_client.get("/admin/sales").get_data(as_text=True)
    assert "Spring sale" in listing and "€2.00" in listing and "$15.00" in listing
    page = admin_client.get(f"/admin/sales/{sale.id}").get_data(as_text=True)
    assert 'id="sale-sold">3<' in page


def _sale(slug: str, **values: object) -> Sale:
    start = utcnow() - timedelta(days=1)
    sale = Sale(
        slug=slug,
        name=values.pop("name", slug.title()),
        percent_off_bp=values.pop("percent_off_bp", 1000),
        starts_at=start,
        ends_at=start + timedelta(days=5),
        **values,
    )
    db.session.add(sale)
    db.session.flush()
    return sale


def _scope(sale: Sale, *titles: str) -> None:
    from app.cart.models import sale_courses
    from tests.factories import make_course

    for title in titles:
        db.session.execute(
            sale_courses.insert().values(sale_id=sale.id, course_id=make_course(title).id)
        )


def _sold_line(slug: str, currency: str, base: int, price: int) -> None:
    from app.checkout.models import OrderItem, OrderStatus
    from tests.factories import make_course

    course = make_course(f"Sold in {slug} {currency} {base}")
    order = Order(
        user_id=make_user().id,
        currency=currency,
        subtotal_minor=price,
        total_minor=price,
        status=OrderStatus.PAID,
    )
    db.session.add(order)
    db.session.flush()
    db.session.add(
        OrderItem(
            order_id=order.id,
            course_id=course.id,
            title=course.title,
            base_minor=base,
            sale_minor=price,
            sale_slug=slug,
            total_minor=price,
        )
    )
    db.session.flush()


def _sale_csv(client: FlaskClient, query: str) -> list[dict[str, str]]:
    response = client.get(f"/admin/sales?format=csv&{query}")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    text = response.get_data(as_text=True)
    assert text.startswith(
        "slug,name,percent,courses,categories,starts,ends,active,state,lines sold,discount given"
    )
    return list(csv.DictReader(io.StringIO(text)))


def test_sale_csv_exports_the_filtered_sales_with_their_usage(admin_client: FlaskClient) -> None:
    from app.cart.models import SalePrice
    from tests.factories import make_course

    everything = _sale("summer-all", name="Summer for all", percent_off_bp=2500, all_courses=True)
    _scope(_sale("summer-two", name="Summer picks"), "Picked one", "Picked two")
    _sale("autumn", name="Autumn", active=False)
    fixed = _sale("summer-fixed", percent_off_bp=0)
    course_id = make_course("Fixed price course").id
    for currency in ("USD", "EUR"):  # one course priced in two currencies: one course
        db.session.add(SalePrice(sale_id=fixed.id, course_id=course_id, currency=currency,
                                 amount_minor=500))  # fmt: skip
    _sold_line("summer-all", "USD", 4000, 3000)
    _sold_line("summer-all", "EUR", 1000, 750)
    _sold_line("summer-all", "USD", 2000, 1500)

    rows = {r["slug"]: r for r in _sale_csv(admin_client, "q=summer")}
    assert set(rows) == {"summer-all", "summer-two", "summer-fixed"}  # not autumn
    assert (rows["summer-fixed"]["percent"], rows["summer-fixed"]["courses"]) == ("", "1")
    row = rows["summer-all"]
    assert (row["name"], row["percent"], row["courses"]) == ("Summer for all", "25", "all")
    assert (row["active"], row["state"], row["lines sold"]) == ("yes", "live", "3")
    assert row["discount given"] == "EUR 2.50; USD 15.00"
    assert row["starts"] == everything.starts_at.isoformat()
    picks = rows["summer-two"]
    assert (picks["courses"], picks["lines sold"], picks["discount given"]) == ("2", "0", "")
    (off,) = _sale_csv(admin_client, "state=inactive")
    assert (off["slug"], off["active"], off["state"]) == ("autumn", "no", "inactive")
    page = admin_client.get("/admin/sales?q=summer").get_data(as_text=True)
    assert "/admin/sales?q=summer&amp;format=csv" in page


def test_sale_csv_query_count_does_not_grow_with_sales(
    admin_client: FlaskClient, count_queries: QueryCounter
) -> None:
    _sale("few-0", all_courses=True)
    _sold_line("few-0", "USD", 1000, 900)
    counts = []
    for more in (0, 8):
        for i in range(more):
            _scope(_sale(f"many-{i}"), f"Many {i}")
            _sold_line(f"many-{i}", "INR", 1000, 900)
        count_queries.statements.clear()
        assert len(_sale_csv(admin_client, "")) == 1 + more
        counts.append(count_queries.count)
    assert counts[0] == counts[1], count_queries.statements
    sales_reads = [s for s in count_queries.statements if "sales" in s or "sale_slug" in s]
    assert len(sales_reads) == 2, sales_reads  # the sales with their scope, then their usage
