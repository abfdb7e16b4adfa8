"""Console routes live in one module per area, all on the admin blueprint; importing this
module registers them (create_app imports `app.<package>.views`)."""

from app.admin import (  # noqa: F401
    access,
    alert_views,
    audit_views,
    catalog_views,
    coupon_views,
    dashboard_views,
    job_views,
    metrics_views,
    order_views,
    report_views,
    tutoring_views,
    user_views,
    webhook_views,
)
