"""The inbound spine on the real services: signed deliveries over HTTP to Daphne, processed by a real
Celery worker from Redis into PostgreSQL, read back through the REST API."""

import json
import time

import httpx
import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher

from accounts.models import Role
from inbox.models import Message, WebhookEvent
from inbox.providers.whatsapp_cloud.signature import sign
from tests.factories import TEST_APP_SECRET, ChannelFactory, UserFactory, worked_by

pytestmark = pytest.mark.services


def _delivery(phone_number_id: str, index: int) -> bytes:
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550783881", "phone_number_id": phone_number_id},
        "contacts": [{"profile": {"name": f"Zoë Müller {index}"}, "wa_id": f"4915100000{index:03d}"}],
        "messages": [
            {
                "from": f"4915100000{index:03d}",
                "id": f"wamid.E2E{index:06d}",
                "timestamp": str(1_760_000_000 + index),
                "type": "text",
                "text": {"body": f"Grüße @ Switchboard #{index}"},
            }
        ],
    }
    document = {
        "object": "whatsapp_business_account",
        "entry": [{"id": "419561257915477", "changes": [{"field": "messages", "value": value}]}],
    }
    # Meta's own escaped form: non-ASCII and "@" as \\uXXXX, "/" as "\\/".
    return json.dumps(document, ensure_ascii=True).replace("@", "\\u0040").encode()


def _wait_until(condition, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError("condition not met in time")


def test_signed_deliveries_reach_the_api_through_a_real_worker(celery_worker, daphne_server):
    # given a connected number, an agent of a team that works it, and 20 deliveries (the first one sent twice)
    channel = ChannelFactory(phone_number_id="106540352242922")
    agent = UserFactory(email="agent@example.com", role=Role.AGENT)
    # The server process only knows Django's default hashers, not the tests' fast one.
    agent.password = PBKDF2PasswordHasher().encode("correct horse battery", PBKDF2PasswordHasher().salt())
    agent.save(update_fields=["password"])
    worked_by(agent, channel)
    bodies = [_delivery(channel.phone_number_id, index) for index in range(20)]

    # when Meta posts them, with a replay of the first
    with httpx.Client(base_url=daphne_server, timeout=10) as http:
        for body in [*bodies, bodies[0]]:
            response = http.post(
                "/webhooks/whatsapp",
                content=body,
                headers={"Content-Type": "application/json", "X-Hub-Signature-256": sign(TEST_APP_SECRET, body)},
            )
            assert response.status_code == 200, response.text
        forged = http.post(
            "/webhooks/whatsapp", content=bodies[1], headers={"X-Hub-Signature-256": sign("not-the-secret", bodies[1])}
        )
        assert forged.status_code == 401

        # then the worker stores each message exactly once
        _wait_until(lambda: WebhookEvent.objects.filter(state="processed").count() == 21)
        assert Message.objects.count() == 20
        assert WebhookEvent.objects.count() == 21

        # and the API shows the conversations with Meta's times and the customer's text intact
        token = http.post(
            "/api/v1/auth/token/", json={"email": "agent@example.com", "password": "correct horse battery"}
        )
        assert token.status_code == 200, token.text
        auth = {"Authorization": f"Token {token.json()['token']}"}
        page = http.get(f"/api/v1/conversations/?channel={channel.pk}&limit=100", headers=auth).json()
        assert len(page["results"]) == 20
        newest = page["results"][0]
        assert newest["contact"]["name"] == "Zoë Müller 19"
        messages = http.get(f"/api/v1/conversations/{newest['id']}/messages/", headers=auth).json()["results"]
        assert [m["text"] for m in messages] == ["Grüße @ Switchboard #19"]
        assert messages[0]["timestamp"].startswith("2025-10-09T")
        assert messages[0]["direction"] == "inbound"
