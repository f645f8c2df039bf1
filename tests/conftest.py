import pytest
from django.conf import settings


@pytest.fixture(autouse=True)
def _isolated_settings(settings, tmp_path):
    # Tasks run in the caller unless a test (or the real-service run) says otherwise.
    if settings.TASK_RUNNER == "thread":
        settings.TASK_RUNNER = "eager"
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.WEBHOOK_REQUEUE_AFTER = settings.WEBHOOK_REQUEUE_AFTER


@pytest.fixture
def api_client():
    from rest_framework.test import APIClient

    return APIClient()


def pytest_report_header(config):
    return f"database: {settings.DATABASES['default']['ENGINE']}; task runner: {settings.TASK_RUNNER}"
