"""The socket: what it subscribes to, which pushed events it forwards, and how a team change or a member's
removal cuts an open socket off at once (no stale access cache)."""

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.db import transaction
from django.test import Client

from accounts import services
from accounts.models import Role
from config.asgi import application
from inbox import events
from tests.factories import ChannelFactory, ConversationFactory, TeamFactory, UserFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _session_key(user) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


async def connect(user) -> WebsocketCommunicator:
    key = await database_sync_to_async(_session_key)(user)
    headers = [(b"origin", b"http://testserver"), (b"cookie", f"sessionid={key}".encode())]
    communicator = WebsocketCommunicator(application, "/ws/", headers=headers)
    connected, _ = await communicator.connect()
    assert connected
    return communicator


def _make_world() -> dict:
    channel, other = ChannelFactory(), ChannelFactory()
    people = {
        "agent_in": UserFactory(role=Role.AGENT),
        "agent_out": UserFactory(role=Role.AGENT),
        "manager": UserFactory(role=Role.MANAGER),
        "admin": UserFactory(role=Role.ADMIN),
    }
    support = TeamFactory(name="Support", members=[people["agent_in"]], channels=[channel])
    sales = TeamFactory(name="Sales", members=[people["agent_out"]], channels=[other])
    conversation = ConversationFactory(channel=channel)
    return {
        "channel": channel,
        "other": other,
        "support": support,
        "sales": sales,
        "conversation": conversation,
        **people,
    }


make_world = database_sync_to_async(_make_world)


def _publish_message_event(conversation) -> None:
    events.publish(
        channel_id=conversation.channel_id, conversation_id=conversation.pk, type="message.created", data={"n": 1}
    )


publish = database_sync_to_async(_publish_message_event)


@pytest.mark.parametrize(
    ("who", "receives"), [("agent_in", True), ("agent_out", False), ("manager", True), ("admin", True)]
)
async def test_pushed_events_reach_only_those_who_see_the_conversation(who, receives):
    world = await make_world()
    communicator = await connect(world[who])
    await publish(world["conversation"])
    if receives:
        event = await communicator.receive_json_from(timeout=2)
        assert event["conversation_id"] == world["conversation"].pk
    else:
        assert await communicator.receive_nothing(timeout=0.3)
    await communicator.disconnect()


async def test_the_socket_subscribes_only_to_worked_channels():
    world = await make_world()
    communicator = await connect(world["agent_out"])
    # A message straight to the channel's group (skipping the per-event check) still does not arrive:
    # the socket never joined that group.
    layer = get_channel_layer()
    await layer.group_send(
        events.channel_group(world["channel"].pk),
        {
            "type": "live.event",
            "event": {
                "seq": 10**9,
                "type": "x",
                "channel_id": world["channel"].pk,
                "conversation_id": None,
                "data": {},
            },
        },
    )
    assert await communicator.receive_nothing(timeout=0.3)
    await communicator.disconnect()


async def test_resume_replays_only_visible_conversations():
    world = await make_world()
    hidden = await database_sync_to_async(ConversationFactory)(channel=world["channel"], team=world["sales"])
    await publish(hidden)
    await publish(world["conversation"])
    communicator = await connect(world["agent_in"])
    await communicator.send_json_to({"type": "resume", "after": 0})
    replayed = await communicator.receive_json_from(timeout=2)
    assert replayed["conversation_id"] == world["conversation"].pk
    assert await communicator.receive_nothing(timeout=0.3)
    await communicator.disconnect()


async def test_moving_a_conversation_to_another_team_cuts_the_old_team_off_at_once():
    world = await make_world()
    # Both teams work the channel: moving the conversation decides who sees it.
    await database_sync_to_async(world["sales"].channels.add)(world["channel"])
    insider = await connect(world["agent_in"])
    await publish(world["conversation"])
    await insider.receive_json_from(timeout=2)  # seen, and now cached as visible for a second

    def move() -> None:
        with transaction.atomic():
            conversation = world["conversation"]
            previous = conversation.team_id
            conversation.team = world["sales"]
            conversation.save(update_fields=["team"])
            services.conversation_access_changed(conversation=conversation, previous_team_id=previous)

    await database_sync_to_async(move)()
    assert await insider.receive_json_from(timeout=2) == {"type": "access.changed"}
    # Within the access cache's second: the cache was dropped, so the next event is not forwarded.
    await publish(world["conversation"])
    assert await insider.receive_nothing(timeout=0.3)
    await insider.disconnect()


async def test_removing_an_agent_from_the_team_cuts_their_open_socket_at_once():
    world = await make_world()
    insider = await connect(world["agent_in"])
    await publish(world["conversation"])
    await insider.receive_json_from(timeout=2)
    await database_sync_to_async(services.team_set_members)(actor=world["admin"], team=world["support"], members=[])
    assert await insider.receive_json_from(timeout=2) == {"type": "access.changed"}
    await publish(world["conversation"])
    assert await insider.receive_nothing(timeout=0.3)
    await insider.disconnect()


async def test_adding_a_channel_to_a_team_opens_it_at_once():
    world = await make_world()
    outsider = await connect(world["agent_out"])
    await database_sync_to_async(services.team_set_channels)(
        actor=world["admin"], team=world["sales"], channels=[world["other"], world["channel"]]
    )
    assert await outsider.receive_json_from(timeout=2) == {"type": "access.changed"}
    await publish(world["conversation"])
    assert (await outsider.receive_json_from(timeout=2))["conversation_id"] == world["conversation"].pk
    await outsider.disconnect()


async def test_deactivation_closes_the_socket():
    world = await make_world()
    communicator = await connect(world["agent_in"])
    await database_sync_to_async(services.user_set_active)(
        actor=world["admin"], user=world["agent_in"], is_active=False
    )
    output = await communicator.receive_output(timeout=2)
    assert output == {"type": "websocket.close", "code": 4401}
