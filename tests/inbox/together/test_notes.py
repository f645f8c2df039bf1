"""Private notes never reach the customer and leave the customer-facing state alone; @mentions notify only
colleagues who may see the conversation."""

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from inbox import events
from inbox.models import (
    Conversation,
    Direction,
    Message,
    MessageStatus,
    Notification,
    OutboxEntry,
    OutboxState,
)
from inbox.services.notes import NoteRefused, mentionable_users, note_add
from inbox.services.outbound import message_deliver
from tests.inbox.together.conftest import client_for

pytestmark = pytest.mark.django_db


def test_a_note_is_internal_and_never_sent(world, graph, django_capture_on_commit_callbacks):
    conversation = world.conversation
    before = Conversation.objects.get(pk=conversation.pk)
    with django_capture_on_commit_callbacks(execute=True):
        note = note_add(conversation=conversation, author=world.sam, body="Customer is a VIP, be kind")
    assert note.direction == Direction.INTERNAL and note.type == "note" and note.author == world.sam
    assert not OutboxEntry.objects.exists()
    assert not graph.calls
    after = Conversation.objects.get(pk=conversation.pk)
    # Unread and the service window are the customer's; a note changes neither.
    assert after.unread_count == before.unread_count == 2
    assert after.service_window_closes_at == before.service_window_closes_at
    assert after.last_inbound_at == before.last_inbound_at
    assert after.last_message_preview == "Note: Customer is a VIP, be kind"
    assert after.last_message_direction == Direction.INTERNAL


def test_the_outbound_worker_never_sends_an_internal_message(world, graph):
    note = note_add(conversation=world.conversation, author=world.sam, body="internal")
    # Even if something queued it by mistake, the worker cancels instead of sending.
    entry = OutboxEntry.objects.create(message=note)
    message_deliver(message_id=note.pk)
    entry.refresh_from_db()
    assert entry.state == OutboxState.CANCELLED
    assert not graph.calls
    assert Message.objects.get(pk=note.pk).status == MessageStatus.SENT


def test_the_note_tab_posts_a_note_and_gets_its_bubble(world, graph):
    response = client_for(world.sam).post(
        f"/inbox/conversations/{world.conversation.pk}/note", {"body": "<b>hi</b> @sky please check"}
    )
    assert response.status_code == 201
    html = response.content.decode()
    assert "msg-note" in html
    assert "&lt;b&gt;hi&lt;/b&gt;" in html and "<b>hi</b>" not in html
    assert '<span class="mention">@sky</span>' in html
    assert not graph.calls


def test_the_thread_shows_notes_in_their_own_tint(world):
    note_add(conversation=world.conversation, author=world.sam, body="Looked into it")
    response = client_for(world.sky).get(f"/conversations/{world.conversation.pk}/")
    assert response.status_code == 200
    assert 'class="msg msg-note"' in response.content.decode()


def test_managers_and_outsiders_cannot_add_notes(world):
    with pytest.raises(NoteRefused):
        note_add(conversation=world.conversation, author=world.max, body="hello")
    assert (
        client_for(world.max).post(f"/inbox/conversations/{world.conversation.pk}/note", {"body": "x"}).status_code
        == 403
    )
    # Olga works another team's number: the conversation does not exist for her.
    assert (
        client_for(world.olga).post(f"/inbox/conversations/{world.conversation.pk}/note", {"body": "x"}).status_code
        == 404
    )


def test_an_empty_note_is_refused(world):
    response = client_for(world.sam).post(f"/inbox/conversations/{world.conversation.pk}/note", {"body": "  "})
    assert response.status_code == 400
    assert response.json()["code"] == "empty"


def test_mentions_notify_only_people_who_may_see_the_conversation(world, django_capture_on_commit_callbacks):
    layer = get_channel_layer()
    inbox = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(events.user_group(world.sky.pk), inbox)
    with django_capture_on_commit_callbacks(execute=True):
        note = note_add(
            conversation=world.conversation,
            author=world.sam,
            body="@sky @olga @ada @sam @nobody can one of you call her back?",
        )
    notified = set(Notification.objects.filter(kind="mention").values_list("user__email", flat=True))
    # Olga cannot see the sales line; Sam wrote it; nobody is not a person.
    assert notified == {"sky@example.com", "ada@example.com"}
    assert sorted(note.content["mentions"]) == sorted([world.sky.pk, world.ada.pk])
    pushed = async_to_sync(layer.receive)(inbox)
    assert pushed["event"]["type"] == "notification.created"
    assert pushed["event"]["data"]["kind"] == "mention"
    assert pushed["event"]["data"]["actor_name"] == "Sam Lee"
    assert pushed["event"]["data"]["conversation_id"] == world.conversation.pk


def test_mentions_by_full_email_and_first_name(world):
    note_add(conversation=world.conversation, author=world.sam, body="@sky@example.com and @Ada, look")
    assert set(Notification.objects.values_list("user__email", flat=True)) == {"sky@example.com", "ada@example.com"}


def test_mention_autocomplete_offers_only_people_who_may_see_it(world):
    people = {person.email for person in mentionable_users(conversation=world.conversation)}
    assert people == {"sam@example.com", "sky@example.com", "ada@example.com", "max@example.com"}
    response = client_for(world.sam).get(f"/inbox/conversations/{world.conversation.pk}/mentions?q=s")
    assert [row["email"] for row in response.json()["results"]] == ["sky@example.com"]
    assert response.json()["results"][0]["handle"] == "sky"
    assert client_for(world.sam).get(f"/inbox/conversations/{world.conversation.pk}/mentions?q=ol").json() == {
        "results": []
    }


def test_notes_need_no_open_window_and_the_closed_composer_offers_them(world):
    Conversation.objects.filter(pk=world.conversation.pk).update(service_window_closes_at=None, last_inbound_at=None)
    client = client_for(world.sam)
    html = client.get(f"/inbox/conversations/{world.conversation.pk}/composer").content.decode()
    assert "composer-closed" in html and 'data-mode="note"' in html and "data-note-pane hidden" in html
    assert client.post(f"/inbox/conversations/{world.conversation.pk}/note", {"body": "Call her"}).status_code == 201


def test_the_shortcuts_overlay_lists_the_note_key(world):
    html = client_for(world.sam).get("/").content.decode()
    assert "<dt><kbd>n</kbd></dt>" in html
    assert 'src="/static/js/together.js"' in html
