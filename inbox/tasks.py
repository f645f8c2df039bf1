"""Celery tasks: thin shells that take ids and call one service."""

from celery import shared_task

from inbox.services import webhooks


@shared_task(name="inbox.tasks.process_webhook_event")
def process_webhook_event(event_id: int) -> None:
    webhooks.webhook_event_process(event_id=event_id)


@shared_task(name="inbox.tasks.requeue_stale_webhook_events")
def requeue_stale_webhook_events() -> int:
    return webhooks.webhook_events_requeue_stale()
