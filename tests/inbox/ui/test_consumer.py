"""The agents' socket at `/ws/`, through the real ASGI stack (session auth, Origin check, routing)."""

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.test import Client

from accounts.models import Role
from config.asgi import application
from inbox import access, events
from inbox.consumers import InboxConsumer
from inbox.models import Channel, LiveEvent
from tests.factories import ChannelFactory, UserFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _session_key(user) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


async def connect(user=None) -> WebsocketCommunicator:
    headers = [(b"origin", b"http://testserver")]
    if user is not None:
        key = await database_sync_to_async(_session_key)(user)
        headers.append((b"cookie", f"sessionid={key}".encode()))
    communicator = WebsocketCommunicator(application, "/ws/", headers=headers)
    connected, _ = await communicator.connect()
    assert connected
    return communicator


def _publish(channel_id: int, event_type: str = "message.created", conversation_id: int = 1, data=None) -> None:
    # Outside any transaction: on_commit runs at once (store, then group_send).
    events.publish(channel_id=channel_id, conversation_id=conversation_id, type=event_type, data=data or {})


publish = database_sync_to_async(_publish)
create = database_sync_to_async(lambda factory, **kw: factory(**kw))


async def closed_with(communicator: WebsocketCommunicator, code: int) -> None:
    output = await communicator.receive_output(timeout=2)
    assert output == {"type": "websocket.close", "code": code}


@pytest.fixture
def only(monkeypatch):
    """Restrict what people may see to the given channels, whatever the conversation: these tests are about
    the socket's mechanics (teams and the real rules are tested in tests/accounts/)."""

    def restrict(*channels: Channel) -> None:
        ids = [c.pk for c in channels]

        def visible(user):
            if user.is_authenticated and user.is_active:
                return Channel.objects.filter(pk__in=ids)
            return Channel.objects.none()

        monkeypatch.setattr(access, "channels_visible_to", visible)
        monkeypatch.setattr(
            access,
            "can_view_event",
            lambda user, *, channel_id, conversation_id: visible(user).filter(pk=channel_id).exists(),
        )
        monkeypatch.setattr(
            access,
            "live_events_visible_to",
            lambda user: LiveEvent.objects.filter(channel_id__in=visible(user).values("pk")),
        )

    return restrict


async def test_anonymous_is_closed_with_4401():
    communicator = await connect()
    await closed_with(communicator, 4401)


async def test_a_foreign_origin_is_refused():
    communicator = WebsocketCommunicator(application, "/ws/", headers=[(b"origin", b"https://evil.example")])
    connected, _ = await communicator.connect()
    assert not connected


async def test_events_of_visible_channels_arrive_as_published():
    channel = await create(ChannelFactory)
    communicator = await connect(await create(UserFactory, role=Role.ADMIN))
    data = {"message_id": 3, "direction": "inbound", "type": "text", "status": "received"}
    await publish(channel.pk, conversation_id=7, data=data)
    event = await communicator.receive_json_from(timeout=2)
    stored = await database_sync_to_async(LiveEvent.objects.get)()
    assert event == {
        "seq": stored.pk,
        "type": "message.created",
        "channel_id": channel.pk,
        "conversation_id": 7,
        "data": data,
    }
    await communicator.disconnect()


async def test_only_visible_channels_are_followed(only):
    seen, hidden = await create(ChannelFactory), await create(ChannelFactory)
    only(seen)
    communicator = await connect(await create(UserFactory, role=Role.ADMIN))
    await publish(hidden.pk)
    await publish(seen.pk)
    event = await communicator.receive_json_from(timeout=2)
    assert event["channel_id"] == seen.pk
    assert await communicator.receive_nothing(timeout=0.2)
    await communicator.disconnect()


async def test_access_is_checked_again_for_every_event(only, monkeypatch):
    monkeypatch.setattr(InboxConsumer, "ACCESS_CACHE_SECONDS", 0)
    channel, other = await create(ChannelFactory), await create(ChannelFactory)
    only(channel, other)
    communicator = await connect(await create(UserFactory, role=Role.ADMIN))
    await publish(channel.pk)
    assert (await communicator.receive_json_from(timeout=2))["channel_id"] == channel.pk
    # Access to the channel is withdrawn while the socket is still in its group.
    only(other)
    await publish(channel.pk)
    assert await communicator.receive_nothing(timeout=0.3)
    await publish(other.pk)
    assert (await communicator.receive_json_from(timeout=2))["channel_id"] == other.pk
    await communicator.disconnect()


async def test_a_deactivated_person_stops_receiving_and_is_disconnected(monkeypatch):
    monkeypatch.setattr(InboxConsumer, "ACCESS_CACHE_SECONDS", 0)
    channel = await create(ChannelFactory)
    user = await create(UserFactory, role=Role.ADMIN)
    communicator = await connect(user)
    await publish(channel.pk)
    await communicator.receive_json_from(timeout=2)
    await database_sync_to_async(get_user_model().objects.filter(pk=user.pk).update)(is_active=False)
    await publish(channel.pk)
    await closed_with(communicator, 4401)


async def test_the_access_cache_is_brief(monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr("inbox.consumers.time.monotonic", lambda: clock[0])
    channel = await create(ChannelFactory)
    user = await create(UserFactory, role=Role.ADMIN)
    communicator = await connect(user)
    await publish(channel.pk)
    await communicator.receive_json_from(timeout=2)
    await database_sync_to_async(get_user_model().objects.filter(pk=user.pk).update)(is_active=False)
    # Within the cache window a burst shares the last check ...
    await publish(channel.pk)
    await communicator.receive_json_from(timeout=2)
    # ... and right after it, the socket closes.
    clock[0] += InboxConsumer.ACCESS_CACHE_SECONDS + 0.01
    await publish(channel.pk)
    await closed_with(communicator, 4401)


async def test_a_password_change_ends_the_socket(monkeypatch):
    monkeypatch.setattr(InboxConsumer, "ACCESS_CACHE_SECONDS", 0)
    channel = await create(ChannelFactory)
    user = await create(UserFactory, role=Role.ADMIN)
    communicator = await connect(user)

    def change_password() -> None:
        user.set_password("a new secret phrase")
        user.save()

    await database_sync_to_async(change_password)()
    await publish(channel.pk)
    await closed_with(communicator, 4401)


async def test_logging_out_ends_the_socket():
    user = await create(UserFactory, role=Role.ADMIN)
    communicator = await connect(user)
    await database_sync_to_async(lambda: Session.objects.all().delete())()
    await communicator.send_json_to({"type": "ping"})
    await closed_with(communicator, 4401)


async def test_ping_pong():
    communicator = await connect(await create(UserFactory, role=Role.ADMIN))
    await communicator.send_json_to({"type": "ping"})
    assert await communicator.receive_json_from(timeout=2) == {"type": "pong"}
    await communicator.disconnect()


async def test_resume_replays_what_was_missed_in_order(only):
    seen, hidden = await create(ChannelFactory), await create(ChannelFactory)
    only(seen)
    before = await database_sync_to_async(LiveEvent.objects.create)(channel_id=seen.pk, type="message.created")
    missed = []
    for n in range(4):
        missed.append(await database_sync_to_async(LiveEvent.objects.create)(channel_id=seen.pk, type=f"t{n}"))
        await database_sync_to_async(LiveEvent.objects.create)(channel_id=hidden.pk, type="hidden")
    communicator = await connect(await create(UserFactory, role=Role.ADMIN))
    await communicator.send_json_to({"type": "resume", "after": before.pk})
    replayed = [await communicator.receive_json_from(timeout=2) for _ in missed]
    assert [event["seq"] for event in replayed] == [event.pk for event in missed]
    assert [event["type"] for event in replayed] == ["t0", "t1", "t2", "t3"]
    assert await communicator.receive_nothing(timeout=0.2)
    await communicator.disconnect()


async def test_a_replayed_event_is_not_sent_twice_when_its_live_copy_arrives_late():
    channel = await create(ChannelFactory)
    stored = await database_sync_to_async(LiveEvent.objects.create)(channel_id=channel.pk, type="message.created")
    communicator = await connect(await create(UserFactory, role=Role.ADMIN))
    await communicator.send_json_to({"type": "resume", "after": stored.pk - 1})
    assert (await communicator.receive_json_from(timeout=2))["seq"] == stored.pk
    await get_channel_layer().group_send(
        events.channel_group(channel.pk), {"type": "live.event", "event": events.as_message(stored)}
    )
    assert await communicator.receive_nothing(timeout=0.2)
    await communicator.disconnect()


async def test_too_long_a_gap_asks_the_page_to_reload(monkeypatch):
    monkeypatch.setattr(InboxConsumer, "RESUME_LIMIT", 3)
    channel = await create(ChannelFactory)
    made = [await database_sync_to_async(LiveEvent.objects.create)(channel_id=channel.pk, type="x") for _ in range(5)]
    communicator = await connect(await create(UserFactory, role=Role.ADMIN))
    await communicator.send_json_to({"type": "resume", "after": 0})
    assert await communicator.receive_json_from(timeout=2) == {"type": "resync", "seq": made[-1].pk}
    # Events up to the resync point are the reloaded panes' business, not the socket's.
    await get_channel_layer().group_send(
        events.channel_group(channel.pk), {"type": "live.event", "event": events.as_message(made[2])}
    )
    assert await communicator.receive_nothing(timeout=0.2)
    await communicator.disconnect()


async def test_malformed_client_messages_are_ignored():
    communicator = await connect(await create(UserFactory, role=Role.ADMIN))
    for message in ([], {"type": "resume", "after": "1; DROP"}, {"type": "resume", "after": -5}, {"type": "nope"}):
        await communicator.send_json_to(message)
    await communicator.send_to(text_data="not json {")
    assert await communicator.receive_nothing(timeout=0.2)
    await communicator.send_json_to({"type": "ping"})
    assert await communicator.receive_json_from(timeout=2) == {"type": "pong"}
    await communicator.disconnect()
