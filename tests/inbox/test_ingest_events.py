"""Inbound changes reach agents' screens: live events are published by the ingest services, after commit
only, once per real change (replays publish nothing)."""

import pytest

from inbox.models import Direction, LiveEvent, MessageStatus, WebhookEvent
from tests.factories import ChannelFactory, MessageFactory
from tests.inbox import whatsapp_payloads as wa

pytestmark = pytest.mark.django_db


@pytest.fixture
def channel():
    return ChannelFactory(phone_number_id=wa.PHONE_NUMBER_ID)


def _post(client, document, capture):
    with capture(execute=True):
        response = wa.post(client, document)
    assert response.status_code == 200
    return response


def _events():
    return [
        (event.type, event.data.get("message_id"), event.data.get("status"))
        for event in LiveEvent.objects.order_by("id")
    ]


def test_an_inbound_message_publishes_the_message_and_its_conversation(
    client, channel, django_capture_on_commit_callbacks
):
    _post(client, wa.inbound(wa.text("Hello", id="wamid.EV1")), django_capture_on_commit_callbacks)

    # (A first message also records the customer's utility opt-in: `consent.changed`, tested with consent.)
    events = list(LiveEvent.objects.exclude(type="consent.changed").order_by("id"))
    assert [event.type for event in events] == ["message.created", "conversation.updated"]
    created, conversation = events
    assert created.channel_id == channel.pk
    assert created.data["direction"] == "inbound"
    assert conversation.data["unread_count"] == 1
    assert conversation.data["last_message_preview"] == "Hello"
    assert conversation.data["service_window_closes_at"].startswith("2025-06-09T20:59:43")


def test_a_replayed_delivery_publishes_nothing_new(client, channel, django_capture_on_commit_callbacks):
    document = wa.inbound(wa.text("Hello", id="wamid.EV2"))
    _post(client, document, django_capture_on_commit_callbacks)
    published = LiveEvent.objects.count()

    _post(client, document, django_capture_on_commit_callbacks)

    assert LiveEvent.objects.count() == published


def test_a_status_that_moves_a_message_forward_publishes_an_update(client, channel, django_capture_on_commit_callbacks):
    message = MessageFactory(
        conversation__channel=channel,
        direction=Direction.OUTBOUND,
        status=MessageStatus.QUEUED,
        provider_message_id="wamid.OUT1",
    )
    _post(client, wa.statuses(wa.status("wamid.OUT1", "read", timestamp=wa.T0 + 5)), django_capture_on_commit_callbacks)
    _post(
        client,
        wa.statuses(wa.status("wamid.OUT1", "delivered", timestamp=wa.T0 + 2)),
        django_capture_on_commit_callbacks,
    )

    # the late "delivered" changes nothing, so it is not pushed
    assert _events() == [("message.updated", message.pk, "read")]


def test_a_reaction_redraws_the_message_it_reacts_to(client, channel, django_capture_on_commit_callbacks):
    _post(client, wa.inbound(wa.text("Hello", id="wamid.EV3")), django_capture_on_commit_callbacks)
    LiveEvent.objects.all().delete()

    _post(
        client,
        wa.inbound(wa.reaction("wamid.EV3", "👍", id="wamid.EV4", timestamp=wa.T0 + 1)),
        django_capture_on_commit_callbacks,
    )

    types = [event.type for event in LiveEvent.objects.order_by("id")]
    assert types == ["message.created", "message.updated", "conversation.updated"]


def test_nothing_is_published_when_processing_fails(client, channel, django_capture_on_commit_callbacks, monkeypatch):
    from inbox.services import ingest

    def explode(**kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(ingest, "_conversation_record_inbound", explode)
    # the processing task runs when the request's transaction commits, and fails
    with pytest.raises(RuntimeError), django_capture_on_commit_callbacks(execute=True):
        wa.post(client, wa.inbound(wa.text("Hello", id="wamid.EV5")))

    assert LiveEvent.objects.count() == 0
    assert WebhookEvent.objects.get().state == "failed"
