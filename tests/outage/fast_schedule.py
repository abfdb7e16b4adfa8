"""A schedule for the scheduler-outage test: the heartbeat every second instead of every minute."""

from rq import cron

from app.jobs.maintenance import record_heartbeat
from app.jobs.queues import QueueName

cron.register(record_heartbeat, QueueName.LOW.value, interval=1)
