"""The cron schedule, loaded by `rq cron app.jobs.schedule`. Every entry is an idempotent job."""

from __future__ import annotations

from rq import cron

from app.admin.jobs import evaluate_alerts
from app.cart.jobs import clean_up_carts
from app.catalog.jobs import flush_course_views
from app.core.metrics import warm_up_metrics
from app.jobs.maintenance import record_heartbeat
from app.jobs.queues import QueueName
from app.learning.jobs import expire_enrollments, send_access_notices
from app.media.jobs import clean_up_uploads, sweep_media
from app.payments.jobs import (
    expire_unpaid_orders,
    reconcile_payments,
    sweep_webhook_events,
    warm_up_providers,
    write_daily_report,
)
from app.tutoring.jobs import send_session_reminders

LOW, CRITICAL, DEFAULT = QueueName.LOW.value, QueueName.CRITICAL.value, QueueName.DEFAULT.value

cron.register(record_heartbeat, LOW, interval=60)
cron.register(sweep_webhook_events, CRITICAL, interval=60)
cron.register(clean_up_carts, LOW, cron="*/15 * * * *")
cron.register(reconcile_payments, DEFAULT, cron="*/30 * * * *")
cron.register(expire_unpaid_orders, DEFAULT, cron="5 * * * *")
cron.register(write_daily_report, LOW, cron="15 0 * * *")
cron.register(clean_up_uploads, LOW, cron="30 3 * * *")  # uploads never confirmed in 24 h
cron.register(sweep_media, LOW, cron="*/15 * * * *")
# Course page views counted in Redis → course_view_days; each run also takes what is left of
# the days before today, so yesterday is complete by 5 past midnight (before the daily report).
cron.register(flush_course_views, LOW, interval=300)
# Access periods: expire first (10 past 1), then warn those ending within ACCESS_NOTICE_DAYS.
cron.register(expire_enrollments, DEFAULT, cron="10 1 * * *")
cron.register(send_access_notices, DEFAULT, cron="20 1 * * *")
cron.register(evaluate_alerts, DEFAULT, interval=60)  # alert episodes and their emails
# Tutoring reminders 24 h and 1 h before each session; each goes out once, however often.
cron.register(send_session_reminders, DEFAULT, cron="*/5 * * * *")

# Run by every worker on start-up and each minute as well: webhooks are swept even when this
# schedule is not running (sweeping is idempotent, see sweep_webhook_events).
WORKER_SWEEPS = (sweep_webhook_events,)
# Run once by every worker before its first job: what the first job would otherwise wait for.
WORKER_WARMUPS = (warm_up_providers, warm_up_metrics)
