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
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.harness import BenchServer  # noqa: E402
from inbox.demo import SANDBOX_APP_SECRET, SANDBOX_PHONE_NUMBER_ID  # noqa: E402
from inbox.providers.whatsapp_cloud.signature import sign  # noqa: E402


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


def count_processed(server: BenchServer) -> tuple[int, int]:
    """(processed deliveries, stored messages), read straight from the database."""
    out = server.django(
        "from inbox.models import WebhookEvent,Message\n"
        "print(WebhookEvent.objects.filter(state='processed').count(), Message.objects.count())"
    )
    processed, messages = out.split()
    return int(processed), int(messages)


def run(mode: str, deliveries: int, concurrency: int) -> dict:
    with BenchServer(mode, name="ingest") as server:
        base = server.base
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
            processed, messages = count_processed(server)
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mode", choices=["embedded", "services"], default="embedded")
    parser.add_argument("--deliveries", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    print(json.dumps(run(args.mode, args.deliveries, args.concurrency), indent=2))


if __name__ == "__main__":
    main()
