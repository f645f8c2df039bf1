"""Who sees which conversation, on every transport: pages, the API and media (the socket is in
test_access_socket.py). Out of scope answers exactly like "does not exist": 404."""

import httpx
import pytest
import respx
from django.urls import reverse

from accounts.models import Role
from inbox import access
from tests.accounts.conftest import PEOPLE, signed_in, token_client
from tests.factories import ChannelFactory, ConversationFactory, MessageFactory, TeamFactory, UserFactory, worked_by

pytestmark = pytest.mark.django_db

SEES = {"agent_in": True, "agent_out": False, "manager": True, "admin": True}


# The rules


@pytest.mark.parametrize("who", PEOPLE)
def test_agents_see_their_teams_channels_managers_and_admins_see_everything(world, who):
    person = world.person(who)
    assert access.can_view_conversation(person, world.conversation) is SEES[who]
    assert access.conversations_visible_to(person).filter(pk=world.conversation.pk).exists() is SEES[who]
    assert access.can_view_message(person, world.message) is SEES[who]
    assert access.can_view_channel(person, world.channel.pk) is SEES[who]


def test_a_new_channel_is_worked_by_no_team(world):
    new = ChannelFactory()
    ConversationFactory(channel=new)
    assert not access.can_view_channel(world.agent_in, new.pk)
    assert not access.conversations_visible_to(world.agent_in).filter(channel=new).exists()
    assert access.can_view_channel(world.manager, new.pk)


def test_a_conversation_handed_to_a_team_is_seen_only_by_that_team(world):
    # Both teams work the channel; the conversation is handed to Sales.
    world.sales.channels.add(world.channel)
    assert access.can_view_conversation(world.agent_out, world.conversation)
    world.conversation.team = world.sales
    world.conversation.save()
    assert access.can_view_conversation(world.agent_out, world.conversation)
    assert not access.can_view_conversation(world.agent_in, world.conversation)
    assert not access.conversations_visible_to(world.agent_in).filter(pk=world.conversation.pk).exists()
    assert access.can_view_conversation(world.manager, world.conversation)


def test_deactivated_people_see_nothing(world):
    world.agent_in.is_active = False
    assert not access.can_view_conversation(world.agent_in, world.conversation)
    assert not access.channels_visible_to(world.agent_in).exists()


def test_managers_read_but_never_write(world):
    assert not access.can_reply(world.manager, world.conversation)
    assert access.can_reply(world.agent_in, world.conversation)
    assert not access.can_reply(world.agent_out, world.conversation)


def test_who_may_be_assigned(world):
    teammate = UserFactory(role=Role.AGENT)
    world.support.members.add(teammate)
    assert access.can_assign(world.agent_in, world.conversation, teammate)
    assert access.can_assign(world.agent_in, world.conversation, None)
    assert access.can_assign(world.admin, world.conversation, world.admin)
    # Nobody is given a conversation they could not open; managers never hold conversations.
    assert not access.can_assign(world.admin, world.conversation, world.agent_out)
    assert not access.can_assign(world.admin, world.conversation, world.manager)
    assert not access.can_assign(world.agent_out, world.conversation, world.agent_out)
    assert not access.can_assign(world.manager, world.conversation, world.agent_in)


def test_a_conversation_moves_only_to_a_team_working_its_channel(world):
    assert not access.can_transfer(world.admin, world.conversation, world.sales)
    world.sales.channels.add(world.channel)
    assert access.can_transfer(world.agent_in, world.conversation, world.sales)
    assert access.can_transfer(world.agent_in, world.conversation, None)
    assert not access.can_transfer(world.manager, world.conversation, world.sales)


def test_teams_visible_to(world):
    assert list(access.teams_visible_to(world.agent_in)) == [world.support]
    assert set(access.teams_visible_to(world.manager)) == {world.support, world.sales}


def test_worked_by_helper_reuses_the_team_working_the_channel(world):
    newcomer = UserFactory(role=Role.AGENT)
    assert worked_by(newcomer, world.channel) == world.support
    assert access.can_view_conversation(newcomer, world.conversation)


# Pages


@pytest.mark.parametrize("who", PEOPLE)
def test_pages(world, who):
    client = signed_in(world.person(who))
    expected = 200 if SEES[who] else 404
    conversation_id, message_id = world.conversation.pk, world.message.pk
    for url in (
        reverse("inbox:conversation", args=[conversation_id]),
        reverse("inbox:conversation-row", args=[conversation_id]),
        reverse("inbox:conversation-messages", args=[conversation_id]),
        reverse("inbox:composer", args=[conversation_id]),
        reverse("inbox:message-bubble", args=[message_id]),
    ):
        assert client.get(url).status_code == expected, url


@pytest.mark.parametrize("who", PEOPLE)
def test_the_conversation_list_holds_only_what_the_person_sees(world, who):
    world.conversation.contact.profile_name = "Zoë Scoped"
    world.conversation.contact.save()
    html = signed_in(world.person(who)).get(reverse("inbox:conversation-rows") + "?view=all").content.decode()
    assert ("Zoë Scoped" in html) is SEES[who]


def test_an_agent_cannot_send_into_a_conversation_out_of_sight(world):
    response = signed_in(world.agent_out).post(
        reverse("inbox:message-send", args=[world.conversation.pk]), {"body": "hi"}
    )
    assert response.status_code == 404
    assert world.conversation.messages.count() == 1


# API


@pytest.mark.parametrize("who", PEOPLE)
def test_api(world, who):
    client = token_client(world.person(who))
    expected = 200 if SEES[who] else 404
    assert client.get(f"/api/v1/conversations/{world.conversation.pk}/").status_code == expected
    assert client.get(f"/api/v1/conversations/{world.conversation.pk}/messages/").status_code == expected
    assert client.get(f"/api/v1/channels/{world.channel.pk}/").status_code == expected
    listed = [row["id"] for row in client.get("/api/v1/conversations/").json()["results"]]
    assert (world.conversation.pk in listed) is SEES[who]
    channels = [row["id"] for row in client.get("/api/v1/channels/").json()["results"]]
    assert (world.channel.pk in channels) is SEES[who]


def test_api_out_of_scope_answers_as_missing(world):
    client = token_client(world.agent_out)
    hidden = client.get(f"/api/v1/conversations/{world.conversation.pk}/")
    missing = client.get("/api/v1/conversations/999999/")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json() == missing.json()


# Media


@pytest.mark.parametrize("who", PEOPLE)
def test_media(world, who):
    message = MessageFactory(
        conversation=world.conversation, type="image", text="", content={"id": "42", "mime_type": "image/jpeg"}
    )
    with respx.mock(assert_all_called=False) as graph:
        lookup = graph.get(url__regex=r"https://graph\.facebook\.com/.*/42(\?.*)?$").mock(
            return_value=httpx.Response(200, json={"url": "https://lookaside.fbsbx.com/x?mid=42"})
        )
        graph.get(url__regex=r"https://lookaside\.fbsbx\.com/.*").mock(
            return_value=httpx.Response(200, content=b"\xff\xd8\xff", headers={"content-type": "image/jpeg"})
        )
        response = signed_in(world.person(who)).get(reverse("inbox:media", args=[message.pk]))
    assert response.status_code == (200 if SEES[who] else 404)
    # Nothing is fetched from the provider for someone who may not see it.
    assert lookup.called is SEES[who]


def test_a_team_of_its_own_channel_does_not_leak_other_teams_conversations(world):
    shared = TeamFactory(channels=[world.channel])
    ConversationFactory(channel=world.channel, team=shared)
    visible = access.conversations_visible_to(world.agent_in)
    assert list(visible) == [world.conversation]
