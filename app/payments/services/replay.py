"""Replaying a stored webhook event from the console: its processing is queued again, on the
same job and the same idempotent process_event as its first delivery. A processed (or ignored)
event replayed changes nothing; a failed or never-processed one is processed now."""

from __future__ import annotations

from app.core.errors import NotFound
from app.jobs.queues import CRITICAL_RETRY, QueueName, enqueue_after_commit
from app.payments.models import WebhookStatus
from app.payments.services.webhooks import lock_event

# By dotted path: the job module imports the services, never the other way round.
PROCESS_WEBHOOK = "app.payments.jobs.process_webhook_event"


def replay_event(event_id: int) -> WebhookStatus:
    """Queue the event's processing after commit; its status as it stands (NotFound else).

    The row lock makes a replay wait for a job working on the event, so the status returned
    is settled; process_event skips an event already processed, so replays are idempotent.
    """
    event = lock_event(event_id)
    if event is None:
        raise NotFound("No webhook event with that id.")
    enqueue_after_commit(PROCESS_WEBHOOK, event.id, queue=QueueName.CRITICAL, retry=CRITICAL_RETRY)
    return event.status
