"""The teamwork features the REST API lacked, under the same rules as the pages: private notes, the soft
claim on a send (409 `someone_else_replying` unless forced), and renaming and deleting labels (the API and
the admins' Labels settings page)."""

from datetime import timedelta

import pytest
import respx
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from accounts.models import AuditEntry, Role
from inbox.models import Direction, Label, Message, MessageType, OutboxEntry
from inbox.viewers import typing_record
from tests.api.conftest import assert_error, token_client, works_every_channel
from tests.factories import ConversationFactory, LabelFactory, MessageFactory, UserFactory

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 200


@pytest.fixture(autouse=True)
def graph():
    """Nothing here reaches the Graph API; an unmocked request would fail the test."""
    with respx.mock(assert_all_called=False) as router:
        yield router


@pytest.fixture
def conversation():
    """The customer wrote an hour ago: the 24-hour window is open."""
    wrote_at = timezone.now() - timedelta(hours=1)
    return ConversationFactory(last_inbound_at=wrote_at, service_window_closes_at=wrote_at + timedelta(hours=24))


def person(role: Role, *, in_team: bool = True):
    user = UserFactory(role=role, name=f"{role.label} Person")
    if in_team:
        works_every_channel(user)
    return user


# Notes


def notes_url(conversation) -> str:
    return f"/api/v1/conversations/{conversation.pk}/notes/"


@pytest.mark.parametrize("role", [Role.AGENT, Role.ADMIN])
def test_agents_and_admins_add_a_note_that_is_never_sent(conversation, role):
    author = person(role)
    response = token_client(author).post(notes_url(conversation), {"body": "  Refund approved  "}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["direction"], body["type"], body["text"]) == (Direction.INTERNAL, MessageType.NOTE, "Refund approved")
    note = Message.objects.get(pk=body["id"])
    assert note.author == author
    assert not OutboxEntry.objects.exists()


def test_a_note_mentioning_a_colleague_notifies_them(conversation):
    colleague = UserFactory(role=Role.AGENT, email="sky@example.com")
    works_every_channel(colleague)
    response = token_client(person(Role.AGENT)).post(notes_url(conversation), {"body": "@sky look"}, format="json")
    assert response.status_code == 201
    assert response.json()["content"]["mentions"] == [colleague.pk]


def test_managers_may_not_add_notes(conversation):
    response = token_client(person(Role.MANAGER)).post(notes_url(conversation), {"body": "Hi"}, format="json")
    assert_error(response, 403, "permission_denied")
    assert not Message.objects.filter(type=MessageType.NOTE).exists()


def test_a_conversation_out_of_sight_answers_404(conversation):
    client = token_client(person(Role.AGENT, in_team=False))
    assert_error(client.post(notes_url(conversation), {"body": "Hi"}, format="json"), 404, "not_found")
    assert client.post("/api/v1/conversations/999999/notes/", {"body": "Hi"}, format="json").status_code == 404
    assert not Message.objects.filter(type=MessageType.NOTE).exists()


def test_an_empty_or_missing_or_too_long_note_is_refused(conversation):
    client = token_client(person(Role.AGENT))
    assert_error(client.post(notes_url(conversation), {"body": "   "}, format="json"), 400, "empty")
    assert_error(client.post(notes_url(conversation), {}, format="json"), 400, "invalid")
    assert_error(client.post(notes_url(conversation), {"body": "x" * 4097}, format="json"), 400, "text_too_long")
    assert not Message.objects.filter(type=MessageType.NOTE).exists()


# The soft claim on the API's send


def messages_url(conversation) -> str:
    return f"/api/v1/conversations/{conversation.pk}/messages/"


def test_a_colleague_typing_refuses_the_send_until_forced(conversation):
    sam, sky = person(Role.AGENT), person(Role.AGENT)
    typing_record(conversation_id=conversation.pk, user_id=sky.pk)
    client = token_client(sam)
    refused = client.post(messages_url(conversation), {"type": "text", "text": "On it!"}, format="json")
    assert_error(refused, 409, "someone_else_replying")
    assert "Agent Person" in refused.json()["detail"]
    assert not OutboxEntry.objects.exists()
    forced = client.post(messages_url(conversation), {"type": "text", "text": "On it!", "force": True}, format="json")
    assert forced.status_code == 201, forced.content
    assert OutboxEntry.objects.count() == 1


def test_a_colleague_who_just_replied_refuses_the_send(conversation):
    MessageFactory(
        conversation=conversation,
        channel=conversation.channel,
        direction=Direction.OUTBOUND,
        author=person(Role.AGENT),
        timestamp=timezone.now() - timedelta(seconds=5),
    )
    response = token_client(person(Role.ADMIN)).post(
        messages_url(conversation), {"type": "text", "text": "Hello"}, format="json"
    )
    assert_error(response, 409, "someone_else_replying")


def test_the_claim_applies_to_uploads_and_force_1_sends(conversation):
    sky = person(Role.AGENT)
    typing_record(conversation_id=conversation.pk, user_id=sky.pk)
    client = token_client(person(Role.AGENT))

    def upload(**extra):
        photo = SimpleUploadedFile("photo.png", PNG, content_type="image/png")
        return client.post(messages_url(conversation), {"type": "image", "file": photo, **extra}, format="multipart")

    assert_error(upload(), 409, "someone_else_replying")
    assert upload(force="1").status_code == 201


def test_your_own_typing_does_not_claim(conversation):
    sam = person(Role.AGENT)
    typing_record(conversation_id=conversation.pk, user_id=sam.pk)
    response = token_client(sam).post(messages_url(conversation), {"type": "text", "text": "Hi"}, format="json")
    assert response.status_code == 201


def test_force_must_be_a_boolean(conversation):
    response = token_client(person(Role.AGENT)).post(
        messages_url(conversation), {"type": "text", "text": "Hi", "force": "maybe"}, format="json"
    )
    assert_error(response, 400, "invalid")


# Labels over the API


def label_url(label) -> str:
    return f"/api/v1/labels/{label.pk}/"


def test_an_admin_renames_and_recolours_a_label(conversation):
    label = LabelFactory(name="billing")
    conversation.labels.add(label)
    admin = person(Role.ADMIN)
    response = token_client(admin).patch(label_url(label), {"name": " Invoices ", "color": "#1a7f5a"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json() == {"id": label.pk, "name": "Invoices", "color": "#1a7f5a"}
    assert list(conversation.labels.values_list("name", flat=True)) == ["Invoices"]
    entry = AuditEntry.objects.get(action="label.updated")
    assert (entry.actor, entry.details["name"]) == (admin, ["billing", "Invoices"])


def test_a_rename_is_refused_when_the_name_is_taken_or_the_colour_is_not_hex():
    label, _other = LabelFactory(name="billing"), LabelFactory(name="VIP")
    client = token_client(person(Role.ADMIN))
    assert_error(client.patch(label_url(label), {"name": "vip"}, format="json"), 409, "duplicate_name")
    assert_error(client.patch(label_url(label), {"color": "red"}, format="json"), 409, "invalid_color")
    # Changing only the case of its own name is fine.
    assert client.patch(label_url(label), {"name": "Billing"}, format="json").json()["name"] == "Billing"


def test_an_admin_deletes_a_label(conversation):
    label = LabelFactory(name="billing")
    conversation.labels.add(label)
    response = token_client(person(Role.ADMIN)).delete(label_url(label))
    assert response.status_code == 204
    assert not Label.objects.filter(pk=label.pk).exists()
    assert not conversation.labels.exists()
    assert AuditEntry.objects.get(action="label.deleted").details == {"name": "billing", "conversations": 1}


@pytest.mark.parametrize("role", [Role.AGENT, Role.MANAGER])
def test_only_admins_change_labels(role):
    label = LabelFactory(name="billing")
    client = token_client(person(role))
    assert_error(client.patch(label_url(label), {"name": "Invoices"}, format="json"), 403, "permission_denied")
    assert_error(client.delete(label_url(label)), 403, "permission_denied")
    assert Label.objects.get(pk=label.pk).name == "billing"


def test_an_unknown_label_answers_404():
    client = token_client(person(Role.ADMIN))
    assert_error(client.patch("/api/v1/labels/999999/", {"name": "x"}, format="json"), 404, "not_found")
    assert_error(client.delete("/api/v1/labels/999999/"), 404, "not_found")


# The admins' Labels settings page


def signed_in(role: Role) -> Client:
    client = Client()
    client.force_login(UserFactory(role=role))
    return client


def test_the_labels_page_lists_labels_with_their_conversations():
    label = LabelFactory(name="billing")
    ConversationFactory().labels.add(label)
    page = signed_in(Role.ADMIN).get("/settings/labels/")
    assert page.status_code == 200
    assert b'value="billing"' in page.content
    assert b'href="/settings/labels/"' in signed_in(Role.ADMIN).get("/settings/teams/").content
    assert signed_in(Role.AGENT).get("/settings/labels/").status_code == 403
    assert signed_in(Role.MANAGER).post("/settings/labels/create", {"name": "x"}).status_code == 403


def test_an_admin_creates_and_renames_a_label_on_the_page():
    client = signed_in(Role.ADMIN)
    assert client.post("/settings/labels/create", {"name": "VIP", "color": "#aa0000"}).status_code == 302
    label = Label.objects.get(name="VIP")
    response = client.post(f"/settings/labels/{label.pk}/rename", {"name": "Gold", "color": "#aa0000"}, follow=True)
    assert b"Label saved." in response.content
    assert Label.objects.get(pk=label.pk).name == "Gold"
    LabelFactory(name="Silver")
    response = client.post(f"/settings/labels/{label.pk}/rename", {"name": "silver", "color": "#aa0000"}, follow=True)
    assert b"A label with this name exists already." in response.content


def test_deleting_a_label_on_the_page_asks_first_saying_how_many_conversations_carry_it():
    label = LabelFactory(name="billing")
    for conversation in ConversationFactory.create_batch(2):
        conversation.labels.add(label)
    client = signed_in(Role.ADMIN)
    asked = client.post(f"/settings/labels/{label.pk}/delete")
    assert asked.status_code == 200
    assert b"2 conversations" in asked.content
    assert Label.objects.filter(pk=label.pk).exists()
    done = client.post(f"/settings/labels/{label.pk}/delete", {"confirmed": "1"})
    assert done.status_code == 302
    assert not Label.objects.filter(pk=label.pk).exists()
    assert client.post("/settings/labels/999999/delete").status_code == 404
