"""`message_send`: the policy asks first, and an accepted message is stored `queued` with its outbox entry,
the conversation's list columns and its events in one transaction; the task and events follow the commit."""

import json
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from accounts.models import Role
from inbox.models import Conversation, LiveEvent, Message, OutboxEntry
from inbox.services import outbound
from inbox.services.outbound import SendRefused
from tests.factories import ContactFactory, ConversationFactory, MessageFactory, UserFactory
from tests.inbox.outbound.conftest import CUSTOMER, MESSAGES_URL, accepted

pytestmark = pytest.mark.django_db


def nothing_written() -> bool:
    return not (Message.objects.exists() or OutboxEntry.objects.exists() or LiveEvent.objects.exists())


def test_an_accepted_message_is_queued_with_its_outbox_entry(conversation, agent, django_capture_on_commit_callbacks):
    now = timezone.now()
    with django_capture_on_commit_callbacks() as callbacks:
        message = outbound.message_send(
            conversation=conversation, author=agent, kind="text", payload={"body": "Yes, in blue too."}, now=now
        )
        # Nothing is pushed before the commit.
        assert not LiveEvent.objects.exists()
    message.refresh_from_db()
    assert (message.direction, message.type, message.status) == ("outbound", "text", "queued")
    assert (message.text, message.content, message.author, message.timestamp) == (
        "Yes, in blue too.",
        {"body": "Yes, in blue too."},
        agent,
        now,
    )
    assert message.provider_message_id is None
    entry = message.outbox_entry
    assert (entry.state, entry.attempts, entry.next_attempt_at) == ("pending", 0, now)
    conversation.refresh_from_db()
    assert (conversation.last_message_preview, conversation.last_message_direction) == ("Yes, in blue too.", "outbound")
    assert conversation.last_message_at == now and conversation.activity_at == now
    # The business's own message never extends the window.
    assert conversation.service_window_closes_at < now + timedelta(hours=24)
    # After commit: the delivery task and two events.
    assert len(callbacks) == 3


def test_events_follow_the_commit_with_a_small_snapshot(conversation, agent, graph, django_capture_on_commit_callbacks):
    graph.post(MESSAGES_URL).mock(return_value=accepted())
    with django_capture_on_commit_callbacks(execute=True):
        message = outbound.message_send(conversation=conversation, author=agent, kind="text", payload={"body": "Hi"})
    events = {event.type: event for event in LiveEvent.objects.order_by("id")}
    assert events["message.created"].data == {
        "message_id": message.pk,
        "conversation_id": conversation.pk,
        "direction": "outbound",
        "type": "text",
        "status": "queued",
    }
    assert events["message.created"].channel_id == conversation.channel_id
    assert events["conversation.updated"].data["last_message_preview"] == "Hi"
    assert events["conversation.updated"].data["last_message_direction"] == "outbound"
    assert "message.updated" in events  # the worker recorded the provider id


def test_nothing_is_pushed_or_queued_when_the_surrounding_transaction_rolls_back(
    conversation, agent, django_capture_on_commit_callbacks
):
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        outbound.message_send(conversation=conversation, author=agent, kind="text", payload={"body": "Hi"})
        raise RuntimeError("the caller failed")
    assert callbacks == []
    assert nothing_written()


def test_message_and_outbox_entry_are_one_transaction(
    conversation, agent, monkeypatch, django_capture_on_commit_callbacks
):
    def broken(**kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(OutboxEntry.objects, "create", broken)
    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(RuntimeError):
        outbound.message_send(conversation=conversation, author=agent, kind="text", payload={"body": "Hi"})
    assert callbacks == []
    assert nothing_written()
    conversation.refresh_from_db()
    assert conversation.last_message_preview == ""


@pytest.mark.parametrize(
    "customer_wrote", [timedelta(hours=24), timedelta(hours=30), None], ids=["exactly 24h", "30h", "never"]
)
def test_window_closed_refuses_and_writes_nothing(channel, agent, customer_wrote, django_capture_on_commit_callbacks):
    now = timezone.now()
    wrote_at = None if customer_wrote is None else now - customer_wrote
    conversation = ConversationFactory(channel=channel, last_inbound_at=wrote_at)
    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(SendRefused) as refused:
        outbound.message_send(conversation=conversation, author=agent, kind="text", payload={"body": "Hi"}, now=now)
    assert refused.value.code == "window_closed"
    assert refused.value.requires_template is True
    assert refused.value.detail.startswith("The customer last wrote more than 24 hours ago")
    assert callbacks == []
    assert nothing_written()
    conversation.refresh_from_db()
    assert conversation.last_message_at is None


def test_one_second_before_the_window_closes_is_still_allowed(channel, agent, django_capture_on_commit_callbacks):
    now = timezone.now()
    conversation = ConversationFactory(
        channel=channel, last_inbound_at=now - timedelta(hours=23, minutes=59, seconds=59)
    )
    with django_capture_on_commit_callbacks():
        message = outbound.message_send(
            conversation=conversation, author=agent, kind="text", payload={"body": "Hi"}, now=now
        )
    assert message.status == "queued"


def test_the_window_counts_the_customers_latest_message_on_the_number(
    channel, agent, django_capture_on_commit_callbacks
):
    """A reopened thread may be a new conversation row; the customer's last message in an older one counts."""
    contact = ContactFactory()
    ConversationFactory(
        channel=channel, contact=contact, status="resolved", last_inbound_at=timezone.now() - timedelta(hours=2)
    )
    fresh = ConversationFactory(channel=channel, contact=contact, last_inbound_at=None)
    with django_capture_on_commit_callbacks():
        assert outbound.message_send(conversation=fresh, author=agent, kind="text", payload={"body": "Hi"}).pk


def test_managers_only_watch(conversation, django_capture_on_commit_callbacks):
    manager = UserFactory(role=Role.MANAGER)
    with pytest.raises(SendRefused) as refused:
        outbound.message_send(conversation=conversation, author=manager, kind="text", payload={"body": "Hi"})
    assert refused.value.code == "permission_denied"
    assert nothing_written()


@pytest.mark.parametrize(
    ("kind", "payload", "code"),
    [
        ("text", {"body": "x" * 4097}, "text_too_long"),
        ("text", {"body": ""}, "invalid_message"),
        ("text", "not a dict", "invalid_message"),
        ("template", {"name": "hello"}, "invalid_message"),
        ("interactive", {"type": "button", "body": {"text": "?"}, "action": {"buttons": []}}, "invalid_message"),
        ("media", {"media_file_id": 999}, "invalid_message"),
        ("reaction", {"message_id": "wamid.ELSEWHERE", "emoji": "👍"}, "invalid_message"),
    ],
)
def test_invalid_messages_are_refused_before_anything_is_written(conversation, agent, kind, payload, code):
    with pytest.raises(SendRefused) as refused:
        outbound.message_send(conversation=conversation, author=agent, kind=kind, payload=payload)
    assert refused.value.code == code
    assert refused.value.detail
    assert nothing_written()


def sent_body(route) -> dict:
    return json.loads(route.calls.last.request.content)


def test_a_reply_quotes_the_customers_message(conversation, agent, graph, django_capture_on_commit_callbacks):
    route = graph.post(MESSAGES_URL).mock(return_value=accepted())
    inbound = MessageFactory(conversation=conversation, provider_message_id="wamid.IN1")
    with django_capture_on_commit_callbacks(execute=True):
        message = outbound.message_send(
            conversation=conversation, author=agent, kind="text", payload={"body": "Sure"}, reply_to=inbound
        )
    assert message.reply_to_provider_id == "wamid.IN1"
    assert sent_body(route)["context"] == {"message_id": "wamid.IN1"}


def test_only_messages_of_this_conversation_can_be_quoted(conversation, agent):
    elsewhere = MessageFactory(provider_message_id="wamid.OTHER")
    with pytest.raises(SendRefused) as refused:
        outbound.message_send(
            conversation=conversation, author=agent, kind="text", payload={"body": "x"}, reply_to=elsewhere
        )
    assert refused.value.code == "invalid_message"


def test_a_reaction_names_its_message_and_has_no_context(
    conversation, agent, graph, django_capture_on_commit_callbacks
):
    route = graph.post(MESSAGES_URL).mock(return_value=accepted())
    inbound = MessageFactory(conversation=conversation, provider_message_id="wamid.IN1")
    with django_capture_on_commit_callbacks(execute=True):
        message = outbound.message_send(
            conversation=conversation, author=agent, kind="reaction", payload={"emoji": "👍"}, reply_to=inbound
        )
    assert (message.type, message.text, message.reply_to_provider_id) == ("reaction", "👍", "wamid.IN1")
    body = sent_body(route)
    assert body["reaction"] == {"message_id": "wamid.IN1", "emoji": "👍"}
    assert "context" not in body
    conversation.refresh_from_db()
    assert conversation.last_message_preview == "Reacted: 👍"


@pytest.mark.parametrize(
    ("kind", "payload", "wire"),
    [
        (
            "location",
            {"latitude": 41.15, "longitude": -8.61, "name": "Shop"},
            {"latitude": 41.15, "longitude": -8.61, "name": "Shop"},
        ),
        (
            "contacts",
            {"contacts": [{"name": {"formatted_name": "Ana Lima"}, "phones": [{"phone": "+351 912 345 678"}]}]},
            [{"name": {"formatted_name": "Ana Lima"}, "phones": [{"phone": "+351 912 345 678"}]}],
        ),
        (
            "interactive",
            {
                "type": "list",
                "body": {"text": "Pick a slot"},
                "action": {"button": "Slots", "sections": [{"rows": [{"id": "m9", "title": "9:00"}]}]},
            },
            {
                "type": "list",
                "body": {"text": "Pick a slot"},
                "action": {"button": "Slots", "sections": [{"rows": [{"id": "m9", "title": "9:00"}]}]},
            },
        ),
        (
            "interactive",
            {"type": "product", "action": {"catalog_id": "c1", "product_retailer_id": "sku-1"}},
            {"type": "product", "action": {"catalog_id": "c1", "product_retailer_id": "sku-1"}},
        ),
    ],
)
def test_every_kind_goes_out_as_stored(
    conversation, agent, graph, kind, payload, wire, django_capture_on_commit_callbacks
):
    route = graph.post(MESSAGES_URL).mock(return_value=accepted())
    with django_capture_on_commit_callbacks(execute=True):
        message = outbound.message_send(conversation=conversation, author=agent, kind=kind, payload=payload)
    body = sent_body(route)
    assert (body["to"], body["type"], body[kind]) == (CUSTOMER, kind, wire)
    assert body["biz_opaque_callback_data"] == f"sb:{message.outbox_entry.pk}:1"


def test_a_customer_known_only_by_bsuid_is_written_to_by_bsuid(
    channel, agent, graph, django_capture_on_commit_callbacks
):
    route = graph.post(MESSAGES_URL).mock(return_value=accepted())
    contact = ContactFactory(wa_id=None, bsuid="US.13491208655302741918")
    conversation = ConversationFactory(channel=channel, contact=contact, last_inbound_at=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        outbound.message_send(conversation=conversation, author=agent, kind="text", payload={"body": "Hi"})
    body = sent_body(route)
    assert body["recipient"] == "US.13491208655302741918" and "to" not in body


def test_the_list_shows_the_newest_message_only(conversation, agent, django_capture_on_commit_callbacks):
    """An outbound message stamped before the list's newest message does not overwrite its preview."""
    later = timezone.now() + timedelta(minutes=5)
    Conversation.objects.filter(pk=conversation.pk).update(
        last_message_at=later, last_message_preview="newer", activity_at=later
    )
    with django_capture_on_commit_callbacks():
        outbound.message_send(conversation=conversation, author=agent, kind="text", payload={"body": "older"})
    conversation.refresh_from_db()
    assert (conversation.last_message_preview, conversation.activity_at) == ("newer", later)
