"""Celery tasks of the simulator: thin shells that take ids and call one service."""

from celery import shared_task
from django.conf import settings

from simulator import services


@shared_task(name="simulator.tasks.report_status")
def report_status(message_id: int, status: str) -> None:
    """Move a business message to `status` and deliver the status webhook (Meta's sent/delivered/read/failed)."""
    webhook = services.status_report(message_id=message_id, status=status)
    if webhook is not None:
        services.webhook_deliver(webhook_id=webhook.pk)


@shared_task(name="simulator.tasks.deliver_webhook")
def deliver_webhook(webhook_id: int) -> None:
    services.webhook_deliver(webhook_id=webhook_id)


@shared_task(name="simulator.tasks.review_template")
def review_template(template_pk: int, revision: int) -> None:
    """Meta's review of a created or edited template: approve or reject it and send the webhooks."""
    services.template_review_run(template_pk=template_pk, revision=revision)


@shared_task(name="simulator.tasks.review_number_health")
def review_number_health() -> None:
    """Meta's periodic look at each simulated number: quality, flag reviews, upgrades, expired restrictions."""
    if settings.SIMULATOR_ENABLED:
        services.number_health_review_all()
