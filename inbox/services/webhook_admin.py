"""What admins do with stored webhook deliveries."""

from django.db import transaction

from config.task_queue import enqueue
from inbox.models import WebhookEvent, WebhookEventState

REPROCESSABLE_STATES = (WebhookEventState.UNROUTABLE, WebhookEventState.FAILED)


class WebhookEventNotReprocessable(Exception):
    """Only unroutable and failed deliveries are processed again; the others are done or waiting."""


def webhook_event_reprocess(*, event: WebhookEvent) -> WebhookEvent:
    """Hand an unroutable or failed delivery to a worker again, typically after an admin connected the number
    it names. Processing is idempotent: messages already stored from it are not duplicated."""
    from inbox.tasks import process_webhook_event

    with transaction.atomic():
        # A conditional update, so two admins (or the sweeper) racing here queue it once from this state.
        updated = WebhookEvent.objects.filter(pk=event.pk, state__in=REPROCESSABLE_STATES).update(
            state=WebhookEventState.PENDING
        )
        if not updated:
            event.refresh_from_db(fields=["state"])
            raise WebhookEventNotReprocessable(
                f"Only unroutable or failed deliveries can be processed again; this one is {event.state}."
            )
        enqueue(process_webhook_event, event.pk)
    event.state = WebhookEventState.PENDING
    return event
