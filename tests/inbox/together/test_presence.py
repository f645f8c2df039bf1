"""Who is viewing or typing, over the real socket stack: told only to others who may see the conversation,
never stored, typing throttled; and the soft claim that asks before a double reply."""

import asyncio

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.core.cache import cache
from django.test import Client

from config.asgi import application
from inbox.models import LiveEvent
from inbox.services.outbound import message_send
from inbox.viewers import someone_else_replying, typing_record
from tests.inbox.together.conftest import client_for, make_world


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


async def presence(communicator: WebsocketCommunicator) -> dict:
    """The next presence message (pongs and anything else are skipped)."""
    while True:
        message = await communicator.receive_json_from(timeout=2)
        if message.get("type") == "presence":
            return message


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_viewing_and_typing_reach_only_people_with_access():
    world = await database_sync_to_async(make_world)()
    conversation_id = world.conversation.pk
    sam, sky, olga = await connect(world.sam), await connect(world.sky), await connect(world.olga)
    try:
        # Olga asks to follow a conversation she may not see: refused silently, she joins nothing.
        await olga.send_json_to({"type": "viewing", "conversation_id": conversation_id})
        await sky.send_json_to({"type": "viewing", "conversation_id": conversation_id})
        await asyncio.sleep(0.1)
        await sam.send_json_to({"type": "viewing", "conversation_id": conversation_id})
        # Sky hears Sam arrive, and answers the hello so Sam learns Sky is there too.
        assert await presence(sky) == {
            "type": "presence",
            "state": "viewing",
            "conversation_id": conversation_id,
            "user_id": world.sam.pk,
            "name": "Sam Lee",
        }
        assert (await presence(sam))["user_id"] == world.sky.pk
        await sam.send_json_to({"type": "typing", "conversation_id": conversation_id})
        typing = await presence(sky)
        assert (typing["state"], typing["user_id"]) == ("typing", world.sam.pk)
        # Throttled: a second "typing" right away is not forwarded.
        await sam.send_json_to({"type": "typing", "conversation_id": conversation_id})
        assert await sky.receive_nothing(timeout=0.3)
        await sam.send_json_to({"type": "left", "conversation_id": conversation_id})
        assert (await presence(sky))["state"] == "left"
        # Olga heard nothing at all, and nothing was stored for replay.
        assert await olga.receive_nothing(timeout=0.3)
        assert await database_sync_to_async(LiveEvent.objects.count)() == 0
    finally:
        for communicator in (sam, sky, olga):
            await communicator.disconnect()


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_typing_in_a_conversation_not_viewed_is_ignored():
    world = await database_sync_to_async(make_world)()
    sam, sky = await connect(world.sam), await connect(world.sky)
    try:
        await sky.send_json_to({"type": "viewing", "conversation_id": world.conversation.pk})
        await asyncio.sleep(0.1)
        await sam.send_json_to({"type": "typing", "conversation_id": world.conversation.pk})
        assert await sky.receive_nothing(timeout=0.3)
        assert (
            await database_sync_to_async(someone_else_replying)(conversation_id=world.conversation.pk, user=world.sky)
            is None
        )
    finally:
        await sam.disconnect()
        await sky.disconnect()


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_a_closed_socket_says_it_left():
    world = await database_sync_to_async(make_world)()
    sam, sky = await connect(world.sam), await connect(world.sky)
    await sky.send_json_to({"type": "viewing", "conversation_id": world.conversation.pk})
    await asyncio.sleep(0.1)
    await sam.send_json_to({"type": "viewing", "conversation_id": world.conversation.pk})
    assert (await presence(sky))["state"] == "viewing"
    await sam.disconnect()
    assert (await presence(sky))["state"] == "left"
    await sky.disconnect()


# The soft claim


@pytest.mark.django_db
def test_someone_typing_makes_the_first_send_ask(world, graph):
    typing_record(conversation_id=world.conversation.pk, user_id=world.sky.pk)
    client = client_for(world.sam)
    url = f"/inbox/conversations/{world.conversation.pk}/send"
    refused = client.post(url, {"body": "On it!", "claim_check": "1"})
    assert refused.status_code == 409
    assert refused.json()["code"] == "someone_else_replying"
    assert "Sky Park" in refused.json()["detail"]
    assert client.post(url, {"body": "On it!", "claim_check": "1", "force": "1"}).status_code == 201
    # Without the check (the API, a script) nothing is asked.
    assert client.post(url, {"body": "Again"}).status_code == 201


@pytest.mark.django_db
def test_a_colleagues_recent_reply_makes_the_send_ask(world, graph):
    message_send(conversation=world.conversation, author=world.sky, kind="text", payload={"body": "Hi Ana"})
    url = f"/inbox/conversations/{world.conversation.pk}/send"
    assert client_for(world.sam).post(url, {"body": "Hello!", "claim_check": "1"}).status_code == 409
    # Sky's own follow-up is not a double reply.
    assert client_for(world.sky).post(url, {"body": "More", "claim_check": "1"}).status_code == 201


@pytest.mark.django_db
def test_nobody_else_replying_sends_at_once(world, graph):
    typing_record(conversation_id=world.conversation.pk, user_id=world.sam.pk)
    url = f"/inbox/conversations/{world.conversation.pk}/send"
    assert client_for(world.sam).post(url, {"body": "Hello!", "claim_check": "1"}).status_code == 201
