"""B2 latency: a customer's message, from the simulated phone to every open agent screen.

Starts a real server on a fresh database (see bench/harness.py), logs the demo agent in with a browser's
session, opens N WebSocket connections to `/ws/` (the agent's open tabs), then has simulated customers
write M text messages through `POST /simulator/api/inbound`: the simulator signs a webhook and POSTs it to
`/webhooks/whatsapp` over HTTP, the inbox stores and processes it, and `message.created` is pushed to every
socket. Messages go one at a time from one thread, at least `--interval-ms` apart; the next one leaves when
every socket has seen the previous one's event (or after `--timeout` seconds). Each send is stamped before
the simulator call, and each event when a socket reads it; afterwards every event is matched exactly to its
message through the database (the simulator's wamid is the stored message's provider id).
Since each send follows the previous event, sends can fall into step with a periodic timer of the server;
`--jitter-ms 1000` spreads them over random phases instead.

Reported: latency percentiles (ms) until the first socket and until every socket had the event (fan-out),
and the events lost (a socket that never got a message's event; a message no socket got).

    .venv/bin/python bench/latency.py --mode embedded           # SQLite, in-process tasks
    .venv/bin/python bench/latency.py --mode services           # PostgreSQL + Redis + a Celery worker
"""

import argparse
import asyncio
import json
import math
import random
import statistics
import sys
import threading
import time
from pathlib import Path

import httpx
from websockets.asyncio.client import connect
from websockets.typing import Origin

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.harness import BenchServer  # noqa: E402
from inbox.demo import SANDBOX_PHONE_NUMBER_ID  # noqa: E402

AGENT_EMAIL = "agent@example.com"
DEMO_PASSWORD = "switchboard-demo"


def percentile(values: list[float], pct: float) -> float | None:
    """Nearest-rank percentile of `values` (None when empty)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(pct / 100 * len(ordered)) - 1)]


def summary_ms(values: list[float]) -> dict:
    def ms(value: float | None) -> float | None:
        return None if value is None else round(value * 1000, 1)

    return {
        "p50": ms(percentile(values, 50)),
        "p95": ms(percentile(values, 95)),
        "p99": ms(percentile(values, 99)),
        "max": ms(max(values) if values else None),
        "mean": ms(statistics.fmean(values) if values else None),
    }


def log_in(base: str) -> httpx.Cookies:
    """The agent's browser session: the login form's CSRF cookie, then the form itself."""
    with httpx.Client(base_url=base, timeout=10, trust_env=False) as client:
        client.get("/login/").raise_for_status()
        csrf = client.cookies.get("csrftoken")
        if not csrf:
            raise RuntimeError("GET /login/ set no csrftoken cookie")
        response = client.post(
            "/login/",
            data={"username": AGENT_EMAIL, "password": DEMO_PASSWORD, "csrfmiddlewaretoken": csrf},
        )
        if response.status_code != 302 or "sessionid" not in client.cookies:
            raise RuntimeError(f"Login failed: HTTP {response.status_code}\n{response.text[:500]}")
        return client.cookies


class Sockets:
    """N agent sockets read by one asyncio loop in a background thread. Records every inbound
    `message.created` event as (socket, message id, perf_counter at read)."""

    def __init__(self, url: str, origin: str, cookie: str, count: int):
        self.url, self.origin, self.cookie, self.count = url, origin, cookie, count
        self.condition = threading.Condition()
        self.created_counts = [0] * count
        self.events: list[tuple[int, int, float]] = []
        self.other_types: dict[str, int] = {}
        self.closed: dict[int, str] = {}
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="sockets", daemon=True)
        self.connections: list = []
        self.readers: list[asyncio.Task] = []

    def open(self, timeout: float = 30) -> None:
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self._open_all(), self.loop).result(timeout)

    async def _open_all(self) -> None:
        for index in range(self.count):
            connection = await connect(
                self.url,
                origin=Origin(self.origin),
                additional_headers={"Cookie": self.cookie},
                proxy=None,
                open_timeout=10,
                ping_interval=None,
            )
            self.connections.append(connection)
            self.readers.append(asyncio.ensure_future(self._read(index, connection)))
        # A socket refused for a missing session is accepted, then closed with 4401: catch that now.
        await asyncio.sleep(0.5)
        if self.closed:
            raise RuntimeError(f"Sockets closed right after opening: {self.closed}")

    async def _read(self, index: int, connection) -> None:
        try:
            async for raw in connection:
                received = time.perf_counter()
                try:
                    event = json.loads(raw)
                except ValueError:
                    continue
                kind = event.get("type")
                data = event.get("data") or {}
                if kind == "message.created" and data.get("direction") == "inbound":
                    with self.condition:
                        self.events.append((index, data["message_id"], received))
                        self.created_counts[index] += 1
                        self.condition.notify_all()
                else:
                    with self.condition:
                        self.other_types[kind] = self.other_types.get(kind, 0) + 1
        except Exception as exc:  # recorded and reported as a closed socket
            self.closed[index] = repr(exc)
        else:
            code = connection.close_code
            if code is not None and code != 1000:
                self.closed[index] = f"closed {code} {connection.close_reason}"

    def counts(self) -> list[int]:
        with self.condition:
            return list(self.created_counts)

    def wait_for(self, targets: list[int], timeout: float) -> bool:
        """Until every socket has read at least `targets[i]` inbound message.created events."""
        with self.condition:
            return self.condition.wait_for(
                lambda: all(have >= want for have, want in zip(self.created_counts, targets, strict=True)),
                timeout=timeout,
            )

    def close(self) -> None:
        async def close_all():
            await asyncio.gather(*(connection.close() for connection in self.connections), return_exceptions=True)
            await asyncio.gather(*self.readers, return_exceptions=True)

        if self.thread.is_alive():
            try:
                asyncio.run_coroutine_threadsafe(close_all(), self.loop).result(20)
            finally:
                self.loop.call_soon_threadsafe(self.loop.stop)
                self.thread.join(10)


def stored(server: BenchServer, wamids: list[str]) -> tuple[dict[str, int], dict[int, float]]:
    """wamid -> inbox Message id for the customer messages that were stored, and message id -> when its
    `message.created` live event was stored (epoch seconds: the server's side of the latency)."""
    out = server.django(
        "import json\nfrom inbox.models import LiveEvent, Message\n"
        f"wamids = json.loads({json.dumps(json.dumps(wamids))})\n"
        "rows = Message.objects.filter(provider_message_id__in=wamids, direction='inbound')"
        ".values_list('provider_message_id', 'pk')\n"
        "events = {e.data.get('message_id'): e.created_at.timestamp() "
        "for e in LiveEvent.objects.filter(type='message.created')}\n"
        "print(json.dumps([dict(rows), events]))"
    )
    ids, events = json.loads(out)
    return ids, {int(key): value for key, value in events.items() if key is not None}


def run(
    mode: str,
    sockets: int,
    messages: int,
    warmup: int,
    customers: int,
    interval_ms: float,
    timeout: float,
    max_seconds: float,
    jitter_ms: float = 0,
) -> dict:
    with BenchServer(mode, name="latency", agent_sees_sandbox=True) as server:
        cookies = log_in(server.base)
        cookie = "; ".join(f"{name}={value}" for name, value in cookies.items())
        screens = Sockets(server.ws_url, server.base, cookie, sockets)
        # (wamid, perf_counter and epoch seconds just before the simulator call) of the measured messages
        sends: list[tuple[str, float, float]] = []
        ack_seconds: list[float] = []
        refused: list[str] = []
        timeouts = 0
        started = time.perf_counter()
        try:
            screens.open()
            client = httpx.Client(base_url=server.base, timeout=30, trust_env=False)
            deadline = started + max_seconds
            for index in range(warmup + messages):
                if time.perf_counter() > deadline:
                    break
                wa_id = f"1650777{index % customers:04d}"
                targets = [have + 1 for have in screens.counts()]
                sent_wall, sent_at = time.time(), time.perf_counter()
                response = client.post(
                    "/simulator/api/inbound",
                    json={
                        "phone_number_id": SANDBOX_PHONE_NUMBER_ID,
                        "from": wa_id,
                        "name": f"Latency customer {index % customers}",
                        "type": "text",
                        "text": f"Latency probe {index}",
                    },
                )
                acked_at = time.perf_counter()
                if response.status_code != 200:
                    refused.append(f"HTTP {response.status_code}: {response.text[:200]}")
                    continue
                if index >= warmup:
                    sends.append((response.json()["message_id"], sent_at, sent_wall))
                    ack_seconds.append(acked_at - sent_at)
                if not screens.wait_for(targets, timeout):
                    timeouts += 1
                pause = sent_at + interval_ms / 1000 - time.perf_counter()
                if pause > 0:
                    time.sleep(pause)
                if jitter_ms > 0:
                    time.sleep(random.uniform(0, jitter_ms) / 1000)
            sending_seconds = time.perf_counter() - started
            # Stragglers: give every socket up to `timeout` more seconds to catch up on every message.
            expected = warmup + len(sends)
            screens.wait_for([expected] * sockets, timeout)
        finally:
            screens.close()
        ids, event_stored = stored(server, [wamid for wamid, _, _ in sends])
        machine = server.machine()
        trouble = server.log_trouble()
        received: dict[int, dict[int, float]] = {}
        for index, message_id, at in screens.events:
            received.setdefault(message_id, {}).setdefault(index, at)
        first: list[float] = []
        every: list[float] = []
        to_event_stored: list[float] = []  # send -> the live event stored, about to be pushed
        stored_to_first: list[float] = []  # the live event stored -> the first socket read it
        lost_pairs = 0
        lost_messages = 0
        not_stored = 0
        for wamid, sent_at, sent_wall in sends:
            message_id = ids.get(wamid)
            if message_id is None:
                not_stored += 1
                lost_messages += 1
                lost_pairs += sockets
                continue
            seen = received.get(message_id, {})
            if not seen:
                lost_messages += 1
                lost_pairs += sockets
                continue
            first.append(min(seen.values()) - sent_at)
            if message_id in event_stored:
                server_side = event_stored[message_id] - sent_wall
                to_event_stored.append(server_side)
                stored_to_first.append(first[-1] - server_side)
            if len(seen) == sockets:
                every.append(max(seen.values()) - sent_at)
            else:
                lost_pairs += sockets - len(seen)
        return {
            "mode": mode,
            "sockets": sockets,
            "messages_measured": len(sends),
            "warmup_messages": warmup,
            "customers": customers,
            "first_socket_ms": summary_ms(first),
            "all_sockets_ms": summary_ms(every),
            "send_to_event_stored_ms": summary_ms(to_event_stored),
            "event_stored_to_first_socket_ms": summary_ms(stored_to_first),
            "simulator_inbound_ack_ms": summary_ms(ack_seconds),
            "messages_fully_fanned_out": len(every),
            "lost_events": lost_pairs,
            "lost_messages": lost_messages,
            "not_stored": not_stored,
            "inbound_refused": len(refused),
            "inbound_refused_sample": refused[:3],
            "wait_timeouts": timeouts,
            "sockets_closed": screens.closed,
            "other_event_types": screens.other_types,
            "send_rate_per_s": round(len(sends) / sending_seconds, 1) if sending_seconds else None,
            "interval_ms": interval_ms,
            "jitter_ms": jitter_ms,
            "server_log_trouble_lines": trouble,
            "agent_team_added": server.agent_team_added,
            "machine": machine,
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mode", choices=["embedded", "services"], default="embedded")
    parser.add_argument("--sockets", type=int, default=20, help="agent sockets open at once")
    parser.add_argument("--messages", type=int, default=300, help="customer messages measured")
    parser.add_argument("--warmup", type=int, default=5, help="messages sent first and not measured")
    parser.add_argument("--customers", type=int, default=10, help="customers writing in turn")
    parser.add_argument("--interval-ms", type=float, default=20, help="least time between two sends")
    parser.add_argument("--timeout", type=float, default=5, help="seconds to wait for one message's fan-out")
    parser.add_argument(
        "--jitter-ms",
        type=float,
        default=0,
        help="add a random pause of up to this long before each send (sends at random phases of server timers)",
    )
    parser.add_argument("--max-seconds", type=float, default=300, help="stop sending after this long")
    args = parser.parse_args()
    result = run(
        args.mode,
        args.sockets,
        args.messages,
        args.warmup,
        args.customers,
        args.interval_ms,
        args.timeout,
        args.max_seconds,
        args.jitter_ms,
    )
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
