import pytest
from django.conf import settings


@pytest.fixture(autouse=True)
def _isolated_settings(settings, tmp_path):
    # Tasks run in the caller unless a test (or the real-service run) says otherwise.
    if settings.TASK_RUNNER == "thread":
        settings.TASK_RUNNER = "eager"
    settings.MEDIA_ROOT = tmp_path / "media"
    # Password hashing at full strength makes every user factory call slow; tests don't need it.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Rate limits and presence live in the cache. Tests clear it; with Redis that would flush the database
    # the channel layer and the broker share, so tests keep their cache in memory.
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix, tmp_path_factory):
    """On SQLite, test in a file, as the app runs, not in Django's default shared-cache memory database:
    there, threads of `transaction=True` tests get "database table is locked" at once instead of waiting
    for the write lock (the busy timeout does not apply to shared-cache locks)."""
    database = settings.DATABASES["default"]
    if database["ENGINE"] == "django.db.backends.sqlite3" and not database["TEST"].get("NAME"):
        database["TEST"]["NAME"] = str(tmp_path_factory.mktemp("sqlite") / "test.sqlite3")


@pytest.fixture
def api_client():
    from rest_framework.test import APIClient

    return APIClient()


def pytest_report_header(config):
    return f"database: {settings.DATABASES['default']['ENGINE']}; task runner: {settings.TASK_RUNNER}"
