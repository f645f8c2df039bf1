"""B3 outbound: agents' messages per second out to WhatsApp (the simulator), against its 80 msg/s limit.

Starts a real server on a fresh database (see bench/harness.py) with the simulator at its defaults (80
messages per second per number, 130429 above that; a pair-rate bucket of 45 per customer refilled one per
6 s, 131056 above that). K customers write once through `POST /simulator/api/inbound`, so each has a
conversation with the 24-hour window open. Then the demo agent (API token) queues M text messages with
`POST /api/v1/conversations/{id}/messages/`, round-robin over the conversations, as fast as a thread pool
can. The clock starts before the first request and stops when every queued message has a WhatsApp id (the
simulator accepted it) or has failed; the time until every one is at least `sent` (the status webhook came
back) is reported too. Errors the simulator answered are counted from its request ledger
(`simulator.GraphRequest`).

    .venv/bin/python bench/outbound.py --mode embedded           # SQLite, in-process tasks
    .venv/bin/python bench/outbound.py --mode services           # PostgreSQL + Redis + a Celery worker
"""

import argparse
import json
import math
import statistics
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.harness import BenchServer  # noqa: E402
from inbox.demo import SANDBOX_PHONE_NUMBER_ID  # noqa: E402

AGENT_EMAIL = "agent@example.com"
DEMO_PASSWORD = "switchboard-demo"
LIMIT_PER_SECOND = 80  # the simulator's default throughput per number (simulator.rules)

# The probe's query: state of the outbound messages, polled while they go out.
PROGRESS = """
from django.db.models import Count, Q
from inbox.models import Conversation, Message, OutboxEntry
def query():
    inbound = Message.objects.filter(direction='inbound').count()
    out = Message.objects.filter(direction='outbound').aggregate(
        total=Count('pk'),
        with_provider_id=Count('pk', filter=Q(provider_message_id__isnull=False)),
        sent_or_later=Count('pk', filter=Q(status__in=['sent', 'delivered', 'read', 'played'])),
        failed=Count('pk', filter=Q(status='failed')),
    )
    return {'inbound': inbound, 'conversations': Conversation.objects.count(), **out}
"""

# After the run: the ledger of the simulator and the outbox, with server-side timestamps.
LEDGER = """
import json
from collections import Counter
from django.db.models import Count, Max, Min, Sum
from inbox.models import Message, OutboxEntry
from simulator.models import GraphRequest
sends = GraphRequest.objects.filter(method='POST', path__endswith='/messages')
codes = Counter(code for code in sends.values_list('error_code', flat=True))
accepted = sorted(t.timestamp() for t in sends.filter(response_status=200).values_list('created_at', flat=True))
per_second = Counter(int(t) for t in accepted)
entries = OutboxEntry.objects.all()
sent_entries = entries.filter(state='sent')
failed = Message.objects.filter(direction='outbound', status='failed')
print(json.dumps({
    'graph_send_requests': sends.count(),
    'graph_error_codes': {str(code): n for code, n in codes.items() if code is not None},
    'accepted_first': accepted[0] if accepted else None,
    'accepted_last': accepted[-1] if accepted else None,
    'accepted_peak_per_second': max(per_second.values()) if per_second else 0,
    'outbox_states': dict(entries.values_list('state').annotate(n=Count('pk')).order_by()),
    'outbox_attempts': entries.aggregate(n=Sum('attempts'))['n'] or 0,
    'outbox_sent_last': (lambda t: t and t.timestamp())(sent_entries.aggregate(t=Max('updated_at'))['t']),
    'first_outbound_created': (lambda t: t and t.timestamp())(
        Message.objects.filter(direction='outbound').aggregate(t=Min('created_at'))['t']),
    'failed_error_codes': {str(k): v for k, v in Counter(failed.values_list('error_code', flat=True)).items()},
    'failure_reasons': dict(entries.filter(state='failed').values_list('failure_reason').annotate(n=Count('pk'))
        .order_by()),
}))
"""


def percentile(values: list[float], pct: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(pct / 100 * len(ordered)) - 1)]


def run(
    mode: str, customers: int, messages: int, concurrency: int, max_wait: float, poll: float, limit: int | None
) -> dict:
    with BenchServer(mode, name="outbound", agent_sees_sandbox=True) as server, server.probe(PROGRESS) as probe:
        client = httpx.Client(base_url=server.base, timeout=30, trust_env=False)
        # 1. Every customer writes once: a conversation each, with the 24-hour window open.
        for index in range(customers):
            response = client.post(
                "/simulator/api/inbound",
                json={
                    "phone_number_id": SANDBOX_PHONE_NUMBER_ID,
                    "from": f"1650888{index:04d}",
                    "name": f"Outbound customer {index}",
                    "type": "text",
                    "text": "Hello, I have a question",
                },
            )
            response.raise_for_status()
        deadline = time.monotonic() + 120
        while True:
            state = probe.ask()
            if state["inbound"] >= customers and state["conversations"] >= customers:
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"The customers' messages did not all arrive within 120 s: {state}")
            time.sleep(0.2)
        conversation_ids = json.loads(
            server.django(
                "import json\nfrom inbox.models import Conversation\n"
                "print(json.dumps(list(Conversation.objects.order_by('pk').values_list('pk', flat=True))))"
            )
        )
        if limit is not None:
            # A lower throughput limit makes the simulator answer 130429 and exercises the outbox's retries.
            response = client.post(
                f"/simulator/api/numbers/{SANDBOX_PHONE_NUMBER_ID}/limits", json={"throughput_per_second": limit}
            )
            response.raise_for_status()
        limit_per_second = limit or LIMIT_PER_SECOND
        # 2. The agent's API token.
        response = client.post("/api/v1/auth/token/", json={"email": AGENT_EMAIL, "password": DEMO_PASSWORD})
        response.raise_for_status()
        token = response.json()["token"]

        # 3. Queue M messages as fast as the pool can.
        api = httpx.Client(
            base_url=server.base,
            timeout=60,
            trust_env=False,
            headers={"Authorization": f"Token {token}"},
            limits=httpx.Limits(max_connections=concurrency),
        )
        lock = threading.Lock()
        statuses: dict[int, int] = {}
        api_latencies: list[float] = []
        refusals: list[str] = []

        def queue(index: int) -> None:
            conversation_id = conversation_ids[index % len(conversation_ids)]
            started = time.perf_counter()
            try:
                reply = api.post(
                    f"/api/v1/conversations/{conversation_id}/messages/",
                    json={"type": "text", "text": f"Outbound benchmark message {index}"},
                )
                code = reply.status_code
                detail = reply.text[:200]
            except httpx.HTTPError as exc:
                code, detail = 0, repr(exc)
            with lock:
                api_latencies.append(time.perf_counter() - started)
                statuses[code] = statuses.get(code, 0) + 1
                if code != 201 and len(refusals) < 3:
                    refusals.append(f"HTTP {code}: {detail}")

        wall_start = time.time()
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            list(pool.map(queue, range(messages)))
        queued_seconds = time.perf_counter() - started
        created = statuses.get(201, 0)

        # 4. Until every queued message has a WhatsApp id (or failed), then until every one is `sent`.
        accepted_seconds = sent_seconds = None
        progress = probe.ask()
        while time.perf_counter() - started < max_wait:
            progress = probe.ask()
            elapsed = time.perf_counter() - started
            if accepted_seconds is None and progress["with_provider_id"] + progress["failed"] >= created:
                accepted_seconds = elapsed
            if progress["sent_or_later"] + progress["failed"] >= created:
                sent_seconds = elapsed
                break
            time.sleep(poll)
        ledger = json.loads(server.django(LEDGER))
        machine = server.machine()
        team_added = server.agent_team_added
        trouble = server.log_trouble()

    def since_start(timestamp: float | None) -> float | None:
        return None if timestamp is None else round(timestamp - wall_start, 2)

    # The precise finish: the server's own timestamp of the last outbox entry settled as sent.
    accepted_at = since_start(ledger["outbox_sent_last"])
    with_id = progress["with_provider_id"]
    rate = with_id / accepted_at if accepted_at else None
    window = (
        ledger["accepted_last"] - ledger["accepted_first"]
        if ledger["accepted_first"] and ledger["accepted_last"]
        else None
    )
    api_latencies.sort()
    return {
        "mode": mode,
        "customers": customers,
        "messages_queued": messages,
        "api_201": created,
        "api_statuses": {str(code): count for code, count in sorted(statuses.items())},
        "api_refusal_sample": refusals,
        "api_queue_rate_per_s": round(messages / queued_seconds, 1),
        "api_p50_ms": round(statistics.median(api_latencies) * 1000, 1) if api_latencies else None,
        "api_p99_ms": round(percentile(api_latencies, 99) * 1000, 1) if api_latencies else None,
        "with_provider_id": with_id,
        "sent_or_later": progress["sent_or_later"],
        "failed": progress["failed"],
        "failed_error_codes": ledger["failed_error_codes"],
        "failure_reasons": ledger["failure_reasons"],
        "seconds_to_all_accepted": accepted_at,
        "seconds_to_all_accepted_polled": round(accepted_seconds, 2) if accepted_seconds is not None else None,
        "seconds_to_all_sent_polled": round(sent_seconds, 2) if sent_seconds is not None else None,
        "finished_within_max_wait": sent_seconds is not None,
        "sends_per_s": round(rate, 1) if rate else None,
        "limit_per_s": limit_per_second,
        "ratio_to_limit": round(rate / limit_per_second, 3) if rate else None,
        "simulator_accept_rate_per_s": round((with_id - 1) / window, 1) if window else None,
        "simulator_peak_accepted_in_one_second": ledger["accepted_peak_per_second"],
        "graph_send_requests": ledger["graph_send_requests"],
        "errors_130429_throughput": ledger["graph_error_codes"].get("130429", 0),
        "errors_131056_pair_rate": ledger["graph_error_codes"].get("131056", 0),
        "graph_error_codes": ledger["graph_error_codes"],
        "outbox_states": ledger["outbox_states"],
        "outbox_attempts": ledger["outbox_attempts"],
        "concurrency": concurrency,
        "server_log_trouble_lines": trouble,
        "agent_team_added": team_added,
        "machine": machine,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mode", choices=["embedded", "services"], default="embedded")
    parser.add_argument("--customers", type=int, default=50)
    parser.add_argument("--messages", type=int, default=800)
    parser.add_argument("--concurrency", type=int, default=8, help="client threads queueing messages")
    parser.add_argument("--max-wait", type=float, default=300, help="seconds to wait for every message to go out")
    parser.add_argument("--poll", type=float, default=0.25, help="seconds between two progress polls")
    parser.add_argument(
        "--limit", type=int, default=None, help="set the simulated number's messages per second (default: 80)"
    )
    args = parser.parse_args()
    result = run(args.mode, args.customers, args.messages, args.concurrency, args.max_wait, args.poll, args.limit)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
