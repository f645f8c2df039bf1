"""B1 ingest: signed webhook deliveries per second, acknowledged and fully processed.

Starts a real server (and, in `services` mode, a Celery worker) on a fresh database, posts N signed
deliveries (one text message each, plus 10% replays) from a pool of client threads, and reports the ack
rate, ack latency percentiles, and the processing rate until every delivery is processed, with zero lost
and zero duplicated messages.

    .venv/bin/python bench/ingest.py --mode embedded           # SQLite, in-process tasks
    .venv/bin/python bench/ingest.py --mode services           # PostgreSQL + Redis + a Celery worker
"""

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from inbox.demo import SANDBOX_APP_SECRET, SANDBOX_PHONE_NUMBER_ID  # noqa: E402
from inbox.providers.whatsapp_cloud.signature import sign  # noqa: E402

PG_URL = "postgres://postgres@127.0.0.1:5432/switchboard_bench"


def delivery(index: int) -> bytes:
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550100001", "phone_number_id": SANDBOX_PHONE_NUMBER_ID},
        "contacts": [{"profile": {"name": f"Customer {index % 500}"}, "wa_id": f"1650555{index % 500:04d}"}],
        "messages": [
            {
                "from": f"1650555{index % 500:04d}",
                "id": f"wamid.BENCH{index:08d}",
                "timestamp": str(1_760_000_000 + index),
                "type": "text",
                "text": {"body": f"Message number {index} — café"},
            }
        ],
    }
    envelope = {
        "object": "whatsapp_business_account",
        "entry": [{"id": "200000000000001", "changes": [{"field": "messages", "value": value}]}],
    }
    return json.dumps(envelope).encode()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def prepare_env(mode: str, var_dir: Path) -> dict[str, str]:
    env = {**os.environ, "SWITCHBOARD_VAR_DIR": str(var_dir), "SECRET_KEY": "bench-secret-key", "LOG_LEVEL": "WARNING"}
    env.pop("TASK_RUNNER", None)
    if mode == "services":
        subprocess.run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", "switchboard_bench"], check=True)
        subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", "switchboard_bench"], check=True)
        subprocess.run(["redis-cli", "-n", "13", "flushdb"], check=True, capture_output=True)
        env.update(DATABASE_URL=PG_URL, REDIS_URL="redis://127.0.0.1:6379/13")
    else:
        env.pop("DATABASE_URL", None)
        env.pop("REDIS_URL", None)
    return env


def count_processed(env: dict[str, str]) -> tuple[int, int]:
    """(processed deliveries, stored messages), read straight from the database."""
    script = (
        "import django,os;os.environ.setdefault('DJANGO_SETTINGS_MODULE','config.settings');django.setup();"
        "from inbox.models import WebhookEvent,Message;"
        "print(WebhookEvent.objects.filter(state='processed').count(), Message.objects.count())"
    )
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"Could not count processed deliveries:\n{out.stderr[-2000:]}")
    processed, messages = out.stdout.split()
    return int(processed), int(messages)


def run(mode: str, deliveries: int, concurrency: int) -> dict:
    var_dir = Path(tempfile.mkdtemp(prefix=f"bench-{mode}-"))
    env = prepare_env(mode, var_dir)
    port = free_port()
    env["PORT"] = str(port)
    python = sys.executable
    subprocess.run([python, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
    subprocess.run([python, "manage.py", "seed_demo"], cwd=ROOT, env=env, check=True, capture_output=True)
    processes = [
        subprocess.Popen(
            [python, "-m", "daphne", "-v", "0", "-b", "127.0.0.1", "-p", str(port), "config.asgi:application"],
            cwd=ROOT,
            env=env,
            stderr=subprocess.DEVNULL,
        )
    ]
    if mode == "services":
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
            )
        )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        bodies = [delivery(i) for i in range(deliveries)]
        replays = bodies[: deliveries // 10]
        signed = [(body, sign(SANDBOX_APP_SECRET, body)) for body in [*bodies, *replays]]
        latencies: list[float] = []
        statuses: list[int] = []

        def post(item):
            body, signature = item
            with_client = post.client
            started = time.perf_counter()
            response = with_client.post(
                "/webhooks/whatsapp",
                content=body,
                headers={"Content-Type": "application/json", "X-Hub-Signature-256": signature},
            )
            latencies.append(time.perf_counter() - started)
            statuses.append(response.status_code)

        post.client = httpx.Client(base_url=base, timeout=30, limits=httpx.Limits(max_connections=concurrency))
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            list(pool.map(post, signed))
        ack_seconds = time.perf_counter() - started
        total = len(signed)
        while True:
            processed, messages = count_processed(env)
            if processed >= total or time.perf_counter() - started > 600:
                break
            time.sleep(0.5)
        processed_seconds = time.perf_counter() - started
        latencies.sort()
        return {
            "mode": mode,
            "deliveries_posted": total,
            "acked_200": statuses.count(200),
            "ack_rate_per_s": round(total / ack_seconds, 1),
            "ack_p50_ms": round(statistics.median(latencies) * 1000, 1),
            "ack_p99_ms": round(latencies[int(len(latencies) * 0.99) - 1] * 1000, 1),
            "processed": processed,
            "processed_rate_per_s": round(processed / processed_seconds, 1),
            "messages_stored": messages,
            "lost": deliveries - messages if messages < deliveries else 0,
            "duplicated": messages - deliveries if messages > deliveries else 0,
            "concurrency": concurrency,
        }
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
        shutil.rmtree(var_dir, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mode", choices=["embedded", "services"], default="embedded")
    parser.add_argument("--deliveries", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    print(json.dumps(run(args.mode, args.deliveries, args.concurrency), indent=2))


if __name__ == "__main__":
    main()
