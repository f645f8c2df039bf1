"""People of every kind around one conversation: an agent whose team works its channel, an agent whose team
works another channel, a manager and an admin."""

from dataclasses import dataclass

import pytest
from django.core.cache import cache
from django.test import Client
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts.models import Role, Team, User
from inbox.models import Channel, Conversation, Message
from tests.factories import ChannelFactory, ConversationFactory, MessageFactory, TeamFactory, UserFactory


@dataclass
class World:
    channel: Channel
    other_channel: Channel
    support: Team
    sales: Team
    agent_in: User
    agent_out: User
    manager: User
    admin: User
    conversation: Conversation
    message: Message

    def person(self, who: str) -> User:
        return getattr(self, who)


PEOPLE = ("agent_in", "agent_out", "manager", "admin")


@pytest.fixture(autouse=True)
def _fast(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def world(db) -> World:
    channel, other_channel = ChannelFactory(name="Main line"), ChannelFactory(name="Other line")
    agent_in = UserFactory(role=Role.AGENT, email="in@example.com")
    agent_out = UserFactory(role=Role.AGENT, email="out@example.com")
    support = TeamFactory(name="Support", members=[agent_in], channels=[channel])
    sales = TeamFactory(name="Sales", members=[agent_out], channels=[other_channel])
    conversation = ConversationFactory(channel=channel)
    message = MessageFactory(conversation=conversation)
    return World(
        channel=channel,
        other_channel=other_channel,
        support=support,
        sales=sales,
        agent_in=agent_in,
        agent_out=agent_out,
        manager=UserFactory(role=Role.MANAGER, email="manager@example.com"),
        admin=UserFactory(role=Role.ADMIN, email="admin@example.com"),
        conversation=conversation,
        message=message,
    )


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def token_client(user: User) -> APIClient:
    """An API client authenticated by the person's token (one token per person, reused)."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")
    return client
