"""A channel worked by one team of three agents (online, with room) and the people around them."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import Presence, Role
from tests.factories import ChannelFactory, ContactFactory, ConversationFactory, TeamFactory, UserFactory


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def channel(db):
    return ChannelFactory(name="Support")


def agent(name: str, *, presence: str = Presence.ONLINE, capacity: int = 10):
    return UserFactory(name=name, role=Role.AGENT, presence=presence, max_open_conversations=capacity)


@pytest.fixture
def agents(channel):
    """Alex, Bea and Cy, in id order, all online with room for 10."""
    return [agent("Alex"), agent("Bea"), agent("Cy")]


@pytest.fixture
def team(channel, agents):
    return TeamFactory(name="Support team", channels=[channel], members=agents)


@pytest.fixture
def admin(db):
    return UserFactory(name="Ada Admin", role=Role.ADMIN)


@pytest.fixture
def manager(db):
    return UserFactory(name="Max Manager", role=Role.MANAGER)


@pytest.fixture
def conversation(channel, team):
    wrote_at = timezone.now() - timedelta(hours=1)
    return ConversationFactory(
        channel=channel,
        contact=ContactFactory(profile_name="Ana Sousa"),
        last_inbound_at=wrote_at,
        service_window_closes_at=wrote_at + timedelta(hours=24),
        activity_at=wrote_at,
    )


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client
