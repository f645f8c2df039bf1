"""Two teams on two numbers: Sales (Sam, Sky) works the sales line, Support (Olga) the support line; Ada is an
admin and Max a manager. A customer wrote to the sales line an hour ago, so its window is open."""

import itertools
from dataclasses import dataclass
from datetime import timedelta

import httpx
import pytest
import respx
from django.test import Client
from django.utils import timezone

from accounts.models import Role, Team, User
from inbox.models import Channel, Conversation
from tests.factories import ChannelFactory, ContactFactory, ConversationFactory, UserFactory

GRAPH = "https://graph.facebook.com/v23.0"


@dataclass
class World:
    sales_line: Channel
    support_line: Channel
    sales: Team
    support: Team
    sam: User
    sky: User
    olga: User
    ada: User
    max: User
    conversation: Conversation
    support_conversation: Conversation


def make_world() -> World:
    sales_line = ChannelFactory(name="Sales line")
    support_line = ChannelFactory(name="Support line")
    sam = UserFactory(name="Sam Lee", email="sam@example.com")
    sky = UserFactory(name="Sky Park", email="sky@example.com")
    olga = UserFactory(name="Olga Berg", email="olga@example.com")
    ada = UserFactory(name="Ada Admin", email="ada@example.com", role=Role.ADMIN)
    manager = UserFactory(name="Max Manager", email="max@example.com", role=Role.MANAGER)
    sales = Team.objects.create(name="Sales")
    sales.members.add(sam, sky)
    sales.channels.add(sales_line)
    support = Team.objects.create(name="Support")
    support.members.add(olga)
    support.channels.add(support_line)
    wrote_at = timezone.now() - timedelta(hours=1)
    conversation = ConversationFactory(
        channel=sales_line,
        contact=ContactFactory(profile_name="Ana Sousa", wa_id="351912345678"),
        last_inbound_at=wrote_at,
        service_window_closes_at=wrote_at + timedelta(hours=24),
        activity_at=wrote_at,
        last_message_at=wrote_at,
        last_message_preview="Is my order on its way?",
        last_message_direction="inbound",
        unread_count=2,
    )
    support_conversation = ConversationFactory(
        channel=support_line,
        contact=ContactFactory(profile_name="Bruno Dias"),
        last_inbound_at=wrote_at,
        service_window_closes_at=wrote_at + timedelta(hours=24),
        activity_at=wrote_at,
        unread_count=1,
    )
    return World(
        sales_line, support_line, sales, support, sam, sky, olga, ada, manager, conversation, support_conversation
    )


@pytest.fixture
def world(db) -> World:
    return make_world()


@pytest.fixture
def graph():
    """Meta's Graph API, mocked: any call is recorded, none reaches the network."""
    wamids = (f"wamid.SENT{n}" for n in itertools.count(1))
    with respx.mock(assert_all_called=False) as router:
        router.post(url__regex=rf"{GRAPH}/\d+/messages").mock(
            side_effect=lambda request: httpx.Response(
                200, json={"messaging_product": "whatsapp", "messages": [{"id": next(wamids)}]}
            )
        )
        yield router


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client
