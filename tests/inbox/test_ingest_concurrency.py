"""Workers racing on the same message: Meta retries, re-batches and sends to every subscribed app, so several
workers may process deliveries holding the same message (and the same new contact) at the same moment.

On SQLite the IMMEDIATE transactions serialise the workers; on PostgreSQL (CI's second run) it is a real
race, settled by the unique constraints and the savepoints in `inbox.services.ingest`.
"""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from inbox.models import (
    Contact,
    Conversation,
    ConversationStatus,
    Message,
    MessageStatus,
    StatusUpdate,
    WebhookEvent,
    WebhookEventState,
)
from inbox.providers.whatsapp_cloud.signature import sign
from inbox.services import webhooks
from tests.factories import TEST_APP_SECRET, ChannelFactory, ContactFactory, ConversationFactory, MessageFactory
from tests.inbox import whatsapp_payloads as wa

pytestmark = pytest.mark.django_db(transaction=True)

WORKERS = 8


def stored_event(document) -> WebhookEvent:
    body = wa.encode(document)
    return WebhookEvent.objects.create(raw_body=body, signature=sign(TEST_APP_SECRET, body))


def process_all_at_once(event_ids: list[int]) -> list[BaseException]:
    """Run `webhook_event_process` for every event, each in its own thread and database connection,
    released together. Returns the exceptions raised."""
    start = threading.Barrier(len(event_ids))

    def work(event_id: int) -> None:
        try:
            start.wait()
            webhooks.webhook_event_process(event_id=event_id)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=len(event_ids)) as pool:
        futures = [pool.submit(work, event_id) for event_id in event_ids]
    return [future.exception() for future in futures if future.exception() is not None]


def test_the_same_message_in_many_deliveries_processed_at_once_is_stored_once():
    channel = ChannelFactory(phone_number_id=wa.PHONE_NUMBER_ID, waba_id=wa.WABA_ID)
    # Distinct deliveries (each re-batched with a different status), all holding the same message from
    # the same new contact.
    events = [
        stored_event(
            wa.delivery(
                wa.messages_change(
                    messages=[wa.text("Is the shop open today?", id="wamid.RACE")],
                    statuses=[wa.status(f"wamid.OTHER{n}", "sent")],
                )
            )
        )
        for n in range(WORKERS)
    ]

    errors = process_all_at_once([event.pk for event in events])

    assert errors == []
    assert Message.objects.count() == 1
    assert Contact.objects.count() == 1
    conversation = Conversation.objects.get()
    assert conversation.channel == channel
    assert conversation.unread_count == 1
    assert conversation.last_message_preview == "Is the shop open today?"
    assert set(WebhookEvent.objects.values_list("state", flat=True)) == {WebhookEventState.PROCESSED}
    assert StatusUpdate.objects.count() == WORKERS


def test_different_messages_of_one_new_contact_at_once_share_one_conversation():
    ChannelFactory(phone_number_id=wa.PHONE_NUMBER_ID, waba_id=wa.WABA_ID)
    events = [
        stored_event(wa.inbound(wa.text(f"message {n}", id=f"wamid.M{n}", timestamp=wa.T0 + n))) for n in range(WORKERS)
    ]

    errors = process_all_at_once([event.pk for event in events])

    assert errors == []
    assert Message.objects.count() == WORKERS
    assert Contact.objects.count() == 1
    conversation = Conversation.objects.get()
    assert conversation.unread_count == WORKERS
    assert conversation.last_message_preview == f"message {WORKERS - 1}"
    assert conversation.last_message_at == Message.objects.order_by("-timestamp").first().timestamp


def test_the_same_event_processed_by_several_workers_is_applied_once():
    ChannelFactory(phone_number_id=wa.PHONE_NUMBER_ID, waba_id=wa.WABA_ID)
    event = stored_event(wa.inbound(wa.text("only once", id="wamid.ONCE")))

    errors = process_all_at_once([event.pk] * 4)

    assert errors == []
    event.refresh_from_db()
    assert event.state == WebhookEventState.PROCESSED
    assert event.attempts == 1
    assert Conversation.objects.get().unread_count == 1


def test_statuses_of_one_message_at_once_end_at_the_furthest():
    channel = ChannelFactory(phone_number_id=wa.PHONE_NUMBER_ID, waba_id=wa.WABA_ID)
    message = MessageFactory(
        conversation=ConversationFactory(channel=channel),
        direction="outbound",
        provider_message_id="wamid.OUT",
        status=MessageStatus.QUEUED,
    )
    arrivals = ["read", "sent", "delivered", "read", "sent", "delivered"]
    events = [
        stored_event(wa.statuses(wa.status("wamid.OUT", status, timestamp=wa.T0 + n)))
        for n, status in enumerate(arrivals)
    ]

    errors = process_all_at_once([event.pk for event in events])

    assert errors == []
    message.refresh_from_db()
    assert message.status == MessageStatus.READ
    assert StatusUpdate.objects.count() == 3
    assert set(StatusUpdate.objects.values_list("applied", flat=True)) == {True}


def test_a_known_contact_writing_in_many_deliveries_at_once_gets_one_conversation():
    channel = ChannelFactory(phone_number_id=wa.PHONE_NUMBER_ID, waba_id=wa.WABA_ID)
    contact = ContactFactory(wa_id=wa.CUSTOMER_WA_ID)
    events = [
        stored_event(wa.inbound(wa.text(f"message {n}", id=f"wamid.M{n}", timestamp=wa.T0 + n))) for n in range(WORKERS)
    ]

    errors = process_all_at_once([event.pk for event in events])

    assert errors == []
    conversation = Conversation.objects.get()
    assert (conversation.channel, conversation.contact) == (channel, contact)
    assert conversation.unread_count == WORKERS


def test_a_resolved_conversation_reopened_by_many_deliveries_at_once_is_reopened_once():
    channel = ChannelFactory(phone_number_id=wa.PHONE_NUMBER_ID, waba_id=wa.WABA_ID)
    resolved = ConversationFactory(
        channel=channel, contact=ContactFactory(wa_id=wa.CUSTOMER_WA_ID), status=ConversationStatus.RESOLVED
    )
    events = [
        stored_event(wa.inbound(wa.text(f"back {n}", id=f"wamid.B{n}", timestamp=wa.T0 + n))) for n in range(WORKERS)
    ]

    errors = process_all_at_once([event.pk for event in events])

    assert errors == []
    conversation = Conversation.objects.get()
    assert conversation.pk == resolved.pk
    assert conversation.status == ConversationStatus.OPEN
    assert conversation.unread_count == WORKERS


def test_batches_naming_the_same_new_contacts_in_opposite_orders_do_not_deadlock():
    ChannelFactory(phone_number_id=wa.PHONE_NUMBER_ID, waba_id=wa.WABA_ID)
    people = [f"49151000000{n:02d}" for n in range(6)]

    def batch_from(order: list[str], tag: str) -> dict:
        return wa.delivery(
            wa.messages_change(
                messages=[
                    wa.text(f"{tag} from {person}", id=f"wamid.{tag}.{person}", sender=person) for person in order
                ],
                contacts=[wa.contact(wa_id=person, name=person) for person in order],
            )
        )

    events = [stored_event(batch_from(people if n % 2 == 0 else people[::-1], tag=f"E{n}")) for n in range(WORKERS)]

    errors = process_all_at_once([event.pk for event in events])

    assert errors == []
    assert Contact.objects.count() == len(people)
    assert Conversation.objects.count() == len(people)
    assert Message.objects.count() == len(people) * WORKERS
    assert set(Conversation.objects.values_list("unread_count", flat=True)) == {WORKERS}
