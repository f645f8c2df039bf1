"""Browser tests: the real server (Daphne, embedded mode, the built-in simulator; or, when DATABASE_URL
names PostgreSQL and REDIS_URL is set, as in .ci/run, PostgreSQL + Redis + a Celery worker) in a
subprocess on a free port, driven by Playwright's sync API with Debian's Chromium. Run them in their own
pytest invocation (`pytest -m e2e tests/e2e`): Playwright's event loop must not share a session with
pytest-asyncio tests.
"""

import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
DEMO_PASSWORD = "e2e-" + secrets.token_hex(8)


def pytest_collection_modifyitems(config, items):
    """Browser tests only run when asked for with `-m e2e`; in a mixed run they are skipped with the reason."""
    if "e2e" in (config.getoption("-m") or ""):
        return
    skip = pytest.mark.skip(reason="browser test: run it on its own with `pytest -m e2e tests/e2e`")
    for item in items:
        if "e2e" in item.keywords:
            item.add_marker(skip)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    def __init__(self, base_url: str, port: int, log: Path):
        self.base_url = base_url
        self.port = port
        self.log = log


@pytest.fixture(scope="session")
def server(tmp_path_factory) -> Iterator[Server]:
    """`make run` in miniature: migrate, seed the demo people and the sandbox number, serve with Daphne."""
    if not CHROMIUM.exists():
        pytest.skip("Debian's Chromium is not installed (apt-get install -y chromium); browser tests need it")
    port = _free_port()
    var_dir = tmp_path_factory.mktemp("e2e-var")
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DATABASE_URL", "REDIS_URL", "TASK_RUNNER", "DJANGO_ALLOW_ASYNC_UNSAFE")
    }
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        SWITCHBOARD_VAR_DIR=str(var_dir),
        SIMULATOR_WEBHOOK_URL=f"http://127.0.0.1:{port}/webhooks/whatsapp",
        DEMO_PASSWORD=DEMO_PASSWORD,
        PORT=str(port),
        DEBUG="false",
    )
    if _real_services_requested():
        # CI (.ci/run): the same loop on PostgreSQL + Redis, with a real Celery worker doing the work.
        env.update(
            DATABASE_URL=_fresh_postgres_database(os.environ["DATABASE_URL"], "switchboard_e2e"),
            REDIS_URL=os.environ["REDIS_URL"],
            TASK_RUNNER="worker",
            SIMULATOR_ENABLED="true",
        )
        _flush_redis(os.environ["REDIS_URL"])
    python = sys.executable
    for command in (["migrate", "--no-input", "-v", "0"], ["seed_demo"]):
        subprocess.run([python, "manage.py", *command], cwd=ROOT, env=env, check=True, capture_output=True)
    log = var_dir / "server.log"
    processes = []
    with log.open("wb") as output:
        processes.append(
            subprocess.Popen(
                [python, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "config.asgi:application"],
                cwd=ROOT,
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        )
        if env.get("TASK_RUNNER") == "worker":
            processes.append(
                subprocess.Popen(
                    [
                        python,
                        "-m",
                        "celery",
                        "-A",
                        "config",
                        "worker",
                        "-Q",
                        "inbound,outbound,default,bulk",
                        "--concurrency",
                        "2",
                        "-l",
                        "warning",
                    ],
                    cwd=ROOT,
                    env=env,
                    stdout=output,
                    stderr=subprocess.STDOUT,
                )
            )
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base_url}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if any(process.poll() is not None for process in processes) or time.monotonic() > deadline:
                pytest.fail(f"The server did not start:\n{log.read_text()[-4000:]}")
            time.sleep(0.2)
        if env.get("TASK_RUNNER") == "worker":
            _wait_for_worker(env["REDIS_URL"], processes[-1], log)
        yield Server(base_url, port, log)
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)


def _real_services_requested() -> bool:
    return os.environ.get("DATABASE_URL", "").startswith("postgres") and bool(os.environ.get("REDIS_URL"))


def _fresh_postgres_database(url: str, name: str) -> str:
    """Drop and create `name` on the server of `url`; return the URL of the new database."""
    import psycopg

    parts = urlsplit(url)
    maintenance = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(maintenance, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')
    return urlunsplit(parts._replace(path=f"/{name}"))


def _flush_redis(url: str) -> None:
    import redis

    redis.Redis.from_url(url).flushdb()


def _wait_for_worker(broker_url: str, worker: subprocess.Popen, log: Path) -> None:
    from celery import Celery

    app = Celery(broker=broker_url)
    deadline = time.monotonic() + 30
    while not app.control.ping(timeout=1):
        if worker.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"The Celery worker did not start:\n{log.read_text()[-4000:]}")


@pytest.fixture(scope="module")
def chromium(server):
    """One Chromium per test module, stopped with the module so its event loop ends with it."""
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    try:
        yield browser
    finally:
        browser.close()
        playwright.stop()


@pytest.fixture
def shot():
    """Save a screenshot under test-artifacts/ (gitignored) and return its path."""
    ARTIFACTS.mkdir(exist_ok=True)

    def take(page, name: str) -> Path:
        path = ARTIFACTS / f"{name}.png"
        page.screenshot(path=str(path))
        return path

    return take


TIMEOUT = 15_000


def log_in(page, base_url: str, email: str) -> None:
    page.goto(f"{base_url}/login/")
    page.fill("#id_username", email)
    page.fill("#id_password", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base_url}/")


def customer_writes(base_url: str, *, wa_id: str, name: str = "", text: str = "", **fields) -> str:
    """The simulator's control API: a customer's message (text unless `type` says otherwise), delivered
    through the signed webhook. Returns its wamid."""
    from inbox.demo import SANDBOX_PHONE_NUMBER_ID

    body = {"phone_number_id": SANDBOX_PHONE_NUMBER_ID, "from": wa_id, "type": "text", **fields}
    if name:
        body["name"] = name
    if text:
        body["text"] = text
    answer = httpx.post(f"{base_url}/simulator/api/inbound", json=body, timeout=10)
    assert answer.status_code == 200, answer.text
    return answer.json()["message_id"]


def open_conversation(page, name: str) -> None:
    """Open the contact's conversation from the list (reloading while the webhook is still processed)."""
    from playwright.sync_api import expect

    row = page.locator(".conv-row", has_text=name)
    for _ in range(40):
        if row.count():
            break
        page.wait_for_timeout(250)
        page.reload()
    row.locator(".conv-link").click()
    expect(page.locator("#thread .thread-title")).to_contain_text(name, timeout=TIMEOUT)
    expect(page.locator("#live-status")).to_have_attribute("data-state", "live", timeout=TIMEOUT)
