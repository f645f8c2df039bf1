"""Pacing against the simulator at its limits: the simulator enforces a number's throughput (a fixed one-second
window, 130429 above it) and the pair rate to one customer (a token bucket, 131056 when empty) exactly as
WhatsApp describes them. A burst of agents' replies goes through the real outbound path (message_send, the
worker, the limiter, the Graph client) to the simulator, in this process; every message must be accepted,
none of the simulator's answers may be 130429 or 131056, and the burst must take the time the limits
impose (not go out at once)."""

import time

import httpx
import pytest
import respx
from django.db.models import Min
from django.utils import timezone

from accounts.models import Role
from inbox import limiter
from inbox.models import Message, OutboxEntry, OutboxState
from inbox.services import outbound
from simulator import services as simulator
from simulator.models import GraphRequest
from tests.factories import ChannelFactory, UserFactory, worked_by

pytestmark = pytest.mark.django_db

GRAPH_BASE = "http://testserver/simulator/graph/v23.0"
THROUGHPUT = 5  # messages per second, on both sides
PAIR_BURST, PAIR_REFILL = 3, 1.0  # the simulator's bucket per customer
CUSTOMERS = [f"1650555{n:04d}" for n in range(1, 9)]
BUSY = CUSTOMERS[0]  # gets 6 of the 20 messages


@pytest.fixture
def simulated_graph(client, settings):
    """The inbox's Graph client reaches the simulator through Django's test client (no sockets)."""
    settings.SIMULATOR_ENABLED = True

    def forward(request: httpx.Request) -> httpx.Response:
        answer = client.generic(
            request.method,
            request.url.raw_path.decode(),
            request.content,
            content_type=request.headers.get("content-type", ""),
            headers={"Authorization": request.headers.get("authorization", "")},
        )
        return httpx.Response(
            answer.status_code,
            content=answer.content,
            headers={"content-type": answer.get("Content-Type", "application/json")},
        )

    with respx.mock(assert_all_called=False) as router:
        router.route(host="testserver").mock(side_effect=forward)
        yield router


@pytest.fixture(params=["in_process", "redis"])
def pacing(request, settings):
    """The pacing settings that match the simulator's limits, a little under them, with the limiter in this
    process or in Redis (skipped when no Redis answers at REDIS_URL; CI's real-service run has one)."""
    settings.PACING_ENABLED = True
    settings.PACING_MARGIN = 0.9
    settings.PACING_PAIR_INTERVAL_SECONDS = PAIR_REFILL
    settings.PACING_PAIR_BURST = PAIR_BURST - 1
    settings.PACING_MAX_SLEEP_SECONDS = 1.0
    if request.param == "in_process":
        settings.PACING_REDIS_URL = ""
        limiter.get().clear()
        return request.param
    import redis

    if not settings.REDIS_URL:
        pytest.skip("No Redis: REDIS_URL is unset (CI's real-service run sets it).")
    try:
        redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError:
        pytest.skip(f"No Redis answers at {settings.REDIS_URL}.")
    settings.PACING_REDIS_URL = settings.REDIS_URL
    return request.param


@pytest.fixture
def channel(db):
    channel = ChannelFactory(graph_api_base=GRAPH_BASE, throughput_per_second=THROUGHPUT)
    simulator.number_limits_set(
        channel=channel, throughput_per_second=THROUGHPUT, pair_burst=PAIR_BURST, pair_refill_seconds=PAIR_REFILL
    )
    return channel


def customers_write_in(client, channel, capture) -> dict:
    """Each customer writes through the simulator's phone (the signed-webhook path): their conversations
    open with the 24-hour window open."""
    import json

    from inbox.models import Conversation

    for wa_id in CUSTOMERS:
        with capture(execute=True):
            response = client.post(
                "/simulator/api/inbound",
                json.dumps(
                    {
                        "phone_number_id": channel.phone_number_id,
                        "from": wa_id,
                        "name": f"Customer {wa_id}",
                        "type": "text",
                        "text": "Hello?",
                    }
                ),
                content_type="application/json",
            )
        assert response.status_code == 200, response.content
    conversations = {c.contact.wa_id: c for c in Conversation.objects.filter(channel=channel).select_related("contact")}
    assert set(conversations) == set(CUSTOMERS)
    return conversations


def run_outbox_until_done(capture, *, timeout: float) -> None:
    """What the delayed tasks do in production: deliver each waiting entry when it is due."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pending = OutboxEntry.objects.filter(state=OutboxState.PENDING)
        due = pending.aggregate(at=Min("next_attempt_at"))["at"]
        if due is None:
            return
        time.sleep(max(0.0, (due - timezone.now()).total_seconds()))
        for message_id in pending.filter(next_attempt_at__lte=timezone.now()).values_list("message_id", flat=True):
            with capture(execute=True):
                outbound.message_deliver(message_id=message_id)
    raise AssertionError("The outbox did not empty in time.")


def test_a_burst_at_the_simulators_limits_is_paced_without_a_single_rate_limit_error(
    client, simulated_graph, pacing, channel, django_capture_on_commit_callbacks
):
    agent = UserFactory(role=Role.AGENT)
    worked_by(agent, channel)
    conversations = customers_write_in(client, channel, django_capture_on_commit_callbacks)
    # 20 replies: 6 to the busy customer, 2 to each of the other seven, interleaved as agents would send them.
    others = CUSTOMERS[1:] * 2
    order = [BUSY, *others[0:2], BUSY, *others[2:5], BUSY, *others[5:8], BUSY, *others[8:11], BUSY, *others[11:], BUSY]
    assert len(order) == 20 and order.count(BUSY) == 6

    started = time.monotonic()
    for n, wa_id in enumerate(order):
        with django_capture_on_commit_callbacks(execute=True):
            outbound.message_send(
                conversation=conversations[wa_id], author=agent, kind="text", payload={"body": f"Reply {n}"}
            )
    run_outbox_until_done(django_capture_on_commit_callbacks, timeout=15)
    elapsed = time.monotonic() - started

    sends = GraphRequest.objects.filter(method="POST", path__endswith="/messages")
    # Every message accepted at its first try: nothing refused, nothing retried.
    assert sends.count() == 20
    assert not sends.filter(error_code__in=[130429, 131056]).exists()
    assert set(sends.values_list("response_status", flat=True)) == {200}
    outbound_messages = Message.objects.filter(direction="outbound", channel=channel)
    assert outbound_messages.count() == 20
    assert not outbound_messages.filter(provider_message_id__isnull=True).exists()
    assert set(OutboxEntry.objects.values_list("state", "attempts")) == {("sent", 1)}
    # Paced, not instantaneous: 20 messages at 5 per second (paced at 4.5) take at least 19 / 4.5 s, and the
    # busy customer's 6 (a burst of 2, then one per 1 / 0.9 s) at least 4 / 0.9 s.
    assert elapsed >= 4.0, elapsed
    assert elapsed < 10, elapsed
    # And the simulator saw at most 5 in any one of its one-second windows.
    per_second: dict[int, int] = {}
    for at in sends.values_list("created_at", flat=True):
        per_second[int(at.timestamp())] = per_second.get(int(at.timestamp()), 0) + 1
    assert max(per_second.values()) <= THROUGHPUT


def test_without_pacing_the_same_burst_trips_the_simulators_limits(
    client, simulated_graph, settings, channel, django_capture_on_commit_callbacks
):
    """The control: the simulator does enforce these limits, so the test above proves the pacing."""
    settings.PACING_ENABLED = False
    agent = UserFactory(role=Role.AGENT)
    worked_by(agent, channel)
    conversations = customers_write_in(client, channel, django_capture_on_commit_callbacks)
    for n in range(6):
        with django_capture_on_commit_callbacks(execute=True):
            outbound.message_send(
                conversation=conversations[BUSY], author=agent, kind="text", payload={"body": f"Reply {n}"}
            )
    codes = set(
        GraphRequest.objects.filter(method="POST", path__endswith="/messages").values_list("error_code", flat=True)
    )
    assert codes & {130429, 131056}
