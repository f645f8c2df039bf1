"""Fixtures for the outbound half: an agent, a conversation whose window is open, and a mocked Graph API."""

from datetime import timedelta

import httpx
import pytest
import respx
from django.utils import timezone

from accounts.models import Role
from tests.factories import ChannelFactory, ContactFactory, ConversationFactory, UserFactory, worked_by

GRAPH = "https://graph.facebook.com/v23.0"
PHONE_NUMBER_ID = "106540352242922"
MESSAGES_URL = f"{GRAPH}/{PHONE_NUMBER_ID}/messages"
MEDIA_URL = f"{GRAPH}/{PHONE_NUMBER_ID}/media"
CUSTOMER = "16505551234"


def accepted(wamid: str = "wamid.OUT1") -> httpx.Response:
    """Meta's real success answer (RB:messages/send_text_message_with_success_response)."""
    return httpx.Response(
        200,
        json={
            "messaging_product": "whatsapp",
            "contacts": [{"input": CUSTOMER, "wa_id": CUSTOMER}],
            "messages": [{"id": wamid}],
        },
    )


def graph_error(code: int, *, status: int = 400, title: str = "Invalid parameter", details: str = "") -> httpx.Response:
    """The Graph error envelope (§1)."""
    error = {"message": f"(#{code}) {title}", "type": "OAuthException", "code": code, "fbtrace_id": "A37kyQyzvth4"}
    if details:
        error["error_data"] = {"messaging_product": "whatsapp", "details": details}
    return httpx.Response(status, json={"error": error})


@pytest.fixture
def graph():
    """Every request to the Graph API is mocked; an unmocked one fails the test (no network)."""
    with respx.mock(assert_all_called=False) as router:
        yield router


@pytest.fixture
def agent(channel):
    """An agent in a team that works `channel` (agents see only their teams' channels)."""
    agent = UserFactory(role=Role.AGENT)
    worked_by(agent, channel)
    return agent


@pytest.fixture
def channel(db):
    return ChannelFactory(phone_number_id=PHONE_NUMBER_ID, access_token="secret-token-abc")


@pytest.fixture
def conversation(channel):
    """The customer wrote an hour ago: the service window is open."""
    wrote_at = timezone.now() - timedelta(hours=1)
    return ConversationFactory(
        channel=channel,
        contact=ContactFactory(wa_id=CUSTOMER),
        last_inbound_at=wrote_at,
        service_window_closes_at=wrote_at + timedelta(hours=24),
    )
