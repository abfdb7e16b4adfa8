from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.checkout.models import Order, OrderStatus
from app.learning.models import Enrollment, EnrollmentSource
from tests.conftest import login_as
from tests.factories import make_course, make_user


def test_enroll_for_free_records_a_completed_zero_order(
    client: FlaskClient, db_session: Session
) -> None:
    user = make_user()
    course = make_course("Free intro", prices={"USD": 0, "INR": 0})
    page = client.get(f"/courses/{course.slug}")
    assert "Enroll for free" in page.text and "Add to cart" not in page.text
    anonymous = client.post(f"/courses/{course.slug}/enroll")
    assert anonymous.status_code == 303 and "/login?next=" in anonymous.headers["Location"]
    login_as(client, user)
    response = client.post(f"/courses/{course.slug}/enroll")
    assert response.status_code == 303 and response.headers["Location"] == "/learning"
    order = db_session.scalars(select(Order).where(Order.user_id == user.id)).one()
    assert (order.status, order.total_minor) == (OrderStatus.COMPLETED, 0)
    enrollment = db_session.scalars(select(Enrollment).where(Enrollment.user_id == user.id)).one()
    assert enrollment.source is EnrollmentSource.FREE and enrollment.order_id == order.id
    learning = client.get("/learning")
    assert "Free intro" in learning.text
    again = client.post(f"/courses/{course.slug}/enroll")
    assert again.status_code == 303
    assert len(db_session.scalars(select(Order).where(Order.user_id == user.id)).all()) == 1


def test_paid_course_cannot_be_enrolled_for_free(client: FlaskClient, db_session: Session) -> None:
    login_as(client, make_user())
    course = make_course(prices={"USD": 100})
    client.post(f"/courses/{course.slug}/enroll")
    assert db_session.scalars(select(Order)).first() is None
