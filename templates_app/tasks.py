"""Celery tasks for templates: thin shells that take ids and call one service."""

from celery import shared_task

from templates_app import services


@shared_task(name="templates_app.tasks.submit_template_revision")
def submit_template_revision(revision_id: int, attempt: int = 1) -> None:
    services.template_revision_submit(revision_id=revision_id, attempt=attempt)


@shared_task(name="templates_app.tasks.sync_templates")
def sync_templates(waba_id: str) -> None:
    services.templates_sync(waba_id=waba_id)


@shared_task(name="templates_app.tasks.sync_all_templates")
def sync_all_templates() -> int:
    return services.templates_sync_all()
