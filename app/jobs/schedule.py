"""The cron schedule, loaded by `rq cron app.jobs.schedule`. Every entry is an idempotent job."""

from __future__ import annotations

from rq import cron

from app.cart.jobs import clean_up_carts
from app.jobs.maintenance import record_heartbeat
from app.jobs.queues import QueueName

cron.register(record_heartbeat, QueueName.LOW.value, interval=60)
cron.register(clean_up_carts, QueueName.LOW.value, cron="*/15 * * * *")
