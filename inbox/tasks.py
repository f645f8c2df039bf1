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


@shared_task(name="inbox.tasks.advance_escalations")
def advance_escalations() -> int:
    """The escalation clock: tell managers, then offer the fallback, when nobody answers a handover."""
    from inbox.services import automations

    return automations.escalations_advance()


@shared_task(name="inbox.tasks.alert_closing_windows")
def alert_closing_windows() -> int:
    """Tell assignees, once per window, that a conversation's 24-hour window closes soon."""
    from inbox.services import window_alerts

    return window_alerts.window_alerts_send()


@shared_task(name="inbox.tasks.sync_number_health")
def sync_number_health(channel_id: int) -> bool:
    """Read one number's quality, status, messaging limit and throughput from WhatsApp."""
    from inbox.services import number_health

    return number_health.number_health_sync(channel_id=channel_id).ok


@shared_task(name="inbox.tasks.sync_all_number_health")
def sync_all_number_health() -> int:
    """The hourly sync: one task per active number (a slow or failing one does not hold up the others)."""
    from config.task_queue import enqueue
    from inbox.services import number_health

    channel_ids = number_health.number_health_sync_all()
    for channel_id in channel_ids:
        enqueue(sync_number_health, channel_id)
    return len(channel_ids)


@shared_task(name="inbox.tasks.lift_expired_restrictions")
def lift_expired_restrictions() -> int:
    """End the WhatsApp restrictions whose expiration passed."""
    from inbox.services import number_health

    return number_health.restrictions_lift_expired()
