"""Fixtures for the inbox pages: people of each role signed in, a conversation whose window is open, and a
mocked Graph API (sends and read receipts run eagerly in tests and must never reach the network)."""

import itertools
from datetime import timedelta

import httpx
import pytest
import respx
from django.test import Client
from django.utils import timezone

from accounts.models import Role
from tests.factories import ChannelFactory, ContactFactory, ConversationFactory, UserFactory, worked_by

GRAPH = "https://graph.facebook.com/v23.0"


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def graph():
    """Meta's Graph API: messages accepted with fresh wamids, read receipts acknowledged, uploads given ids."""
    wamids = (f"wamid.SENT{n}" for n in itertools.count(1))
    with respx.mock(assert_all_called=False) as router:

        def messages(request: httpx.Request) -> httpx.Response:
            if b'"status":"read"' in request.content.replace(b" ", b""):
                return httpx.Response(200, json={"success": True})
            return httpx.Response(200, json={"messaging_product": "whatsapp", "messages": [{"id": next(wamids)}]})

        router.post(url__regex=rf"{GRAPH}/\d+/messages").mock(side_effect=messages)
        router.post(url__regex=rf"{GRAPH}/\d+/media").mock(return_value=httpx.Response(200, json={"id": "9001"}))
        yield router


@pytest.fixture
def channel(db):
    return ChannelFactory()


@pytest.fixture
def conversation(channel):
    """The customer wrote an hour ago: the service window is open for 23 more hours."""
    wrote_at = timezone.now() - timedelta(hours=1)
    return ConversationFactory(
        channel=channel,
        contact=ContactFactory(profile_name="Ana Sousa", wa_id="351912345678"),
        last_inbound_at=wrote_at,
        service_window_closes_at=wrote_at + timedelta(hours=24),
        activity_at=wrote_at,
        last_message_at=wrote_at,
        last_message_preview="Is my order on its way?",
        unread_count=2,
    )


def _client_for(role: Role) -> Client:
    client = Client()
    client.force_login(UserFactory(role=role))
    return client


@pytest.fixture
def as_agent(db, graph, channel) -> Client:
    """An agent in a team that works `channel` (agents see only their teams' channels)."""
    client = Client()
    agent = UserFactory(role=Role.AGENT)
    worked_by(agent, channel)
    client.force_login(agent)
    return client


@pytest.fixture
def as_admin(db, graph) -> Client:
    return _client_for(Role.ADMIN)


@pytest.fixture
def as_manager(db, graph) -> Client:
    return _client_for(Role.MANAGER)
