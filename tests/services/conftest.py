"""Real processes for the `services` tests: a Celery worker and Daphne, both on the committed test
database and the real Redis. Only `.ci/run` (DATABASE_URL=postgres..., REDIS_URL=...) runs these."""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def _require_real_services() -> None:
    if connection.vendor != "postgresql" or not settings.REDIS_URL:
        pytest.skip("needs PostgreSQL and Redis (DATABASE_URL and REDIS_URL): .ci/run provides them")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


@pytest.fixture
def real_services_env(transactional_db, tmp_path) -> dict[str, str]:
    """Environment for child processes: the test database pytest-django created, the real Redis."""
    _require_real_services()
    db = connection.settings_dict
    user, host, port = db["USER"] or "postgres", db["HOST"] or "127.0.0.1", db["PORT"] or 5432
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{user}@{host}:{port}/{db['NAME']}",
        "REDIS_URL": settings.REDIS_URL,
        "TASK_RUNNER": "worker",
        "SWITCHBOARD_VAR_DIR": str(tmp_path / "var"),
        "SECRET_KEY": settings.SECRET_KEY,
        "FIELD_ENCRYPTION_KEY": settings.FIELD_ENCRYPTION_KEY,
        "SIMULATOR_ENABLED": "true",
    }
    return env


@pytest.fixture
def celery_worker(real_services_env):
    from config.celery import app

    app.control.purge()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "-Q",
            "inbound,outbound,default,bulk",
            "--concurrency",
            "2",
            "--pool",
            "prefork",
            "-l",
            "warning",
        ],
        cwd=ROOT,
        env=real_services_env,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        replies = app.control.ping(timeout=1)
        if replies:
            break
        if process.poll() is not None:
            raise RuntimeError("The Celery worker exited at start")
    else:
        _stop(process)
        raise RuntimeError("The Celery worker did not answer a ping within 30 s")
    yield process
    _stop(process)


@pytest.fixture
def daphne_server(real_services_env):
    port = _free_port()
    env = {
        **real_services_env,
        "PORT": str(port),
        "SIMULATOR_WEBHOOK_URL": f"http://127.0.0.1:{port}/webhooks/whatsapp",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "config.asgi:application"],
        cwd=ROOT,
        env=env,
    )
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base_url}/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.2)
    else:
        _stop(process)
        raise RuntimeError("Daphne did not answer /healthz within 30 s")
    yield base_url
    _stop(process)
