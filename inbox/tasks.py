"""Celery tasks: thin shells that take ids and call one service."""

from celery import shared_task

from inbox.services import inbound_followup, outbound, webhooks, workflow


@shared_task(name="inbox.tasks.process_webhook_event")
def process_webhook_event(event_id: int) -> None:
    webhooks.webhook_event_process(event_id=event_id)


@shared_task(name="inbox.tasks.requeue_stale_webhook_events")
def requeue_stale_webhook_events() -> int:
    return webhooks.webhook_events_requeue_stale()


@shared_task(name="inbox.tasks.deliver_message")
def deliver_message(message_id: int) -> None:
    outbound.message_deliver(message_id=message_id)


@shared_task(name="inbox.tasks.mark_conversation_read")
def mark_conversation_read(message_id: int, attempt: int = 1) -> None:
    """Send WhatsApp the read receipt for the conversation's latest customer message (`message_id`)."""
    outbound.message_read_receipt_send(message_id=message_id, attempt=attempt)


@shared_task(name="inbox.tasks.requeue_stale_outbox")
def requeue_stale_outbox() -> int:
    return outbound.outbox_requeue_stale()


@shared_task(name="inbox.tasks.auto_assign_conversation")
def auto_assign_conversation(conversation_id: int) -> None:
    workflow.conversation_auto_assign(conversation_id=conversation_id)


@shared_task(name="inbox.tasks.serve_team_queue")
def serve_team_queue(team_id: int) -> int:
    return workflow.team_queue_serve(team_id=team_id)


@shared_task(name="inbox.tasks.wake_snoozed_conversations")
def wake_snoozed_conversations() -> int:
    return workflow.conversations_wake_due()


@shared_task(name="inbox.tasks.expire_presence")
def expire_presence() -> int:
    return workflow.users_presence_expire()


@shared_task(name="inbox.tasks.follow_up_inbound_message")
def follow_up_inbound_message(message_id: int) -> None:
    inbound_followup.inbound_message_follow_up(message_id=message_id)
