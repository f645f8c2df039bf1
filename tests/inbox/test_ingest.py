"""Processing stored deliveries: contacts, conversations, messages, statuses and management events.

Deliveries travel the real path (signed POST → stored event → task after commit → services) unless a test
is about the processing step itself.
"""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from inbox.models import (
    Contact,
    Conversation,
    ConversationStatus,
    Direction,
    ManagementEvent,
    Message,
    MessageStatus,
    StatusUpdate,
    WebhookEvent,
    WebhookEventState,
)
from inbox.providers.whatsapp_cloud.signature import sign
from inbox.services import ingest, webhooks
from tests.factories import TEST_APP_SECRET, ChannelFactory, ContactFactory, ConversationFactory, MessageFactory
from tests.inbox import whatsapp_payloads as wa

pytestmark = pytest.mark.django_db


def at(unix_seconds: int) -> datetime:
    return datetime.fromtimestamp(unix_seconds, tz=UTC)


@pytest.fixture
def channel():
    return ChannelFactory(phone_number_id=wa.PHONE_NUMBER_ID, waba_id=wa.WABA_ID)


@pytest.fixture
def deliver(client, channel, django_capture_on_commit_callbacks):
    """POST a delivery (a dict, or bytes) signed with the test secret and run its processing task."""

    def deliver(document, *, meta_escaped: bool = True) -> WebhookEvent:
        body = document if isinstance(document, bytes) else wa.encode(document, meta_escaped=meta_escaped)
        with django_capture_on_commit_callbacks(execute=True):
            response = wa.post(client, body)
        assert response.status_code == 200, response.content
        return WebhookEvent.objects.order_by("-id").first()

    return deliver


def store_event(document, *, received_at: datetime | None = None) -> WebhookEvent:
    """A stored, pending delivery (as the view leaves it), without queueing its task."""
    body = wa.encode(document)
    return WebhookEvent.objects.create(
        raw_body=body,
        signature=sign(TEST_APP_SECRET, body),
        received_at=received_at or timezone.now(),
    )


def outbound_message(channel, *, provider_message_id: str | None, status: str = MessageStatus.SENT) -> Message:
    conversation = ConversationFactory(channel=channel, contact=ContactFactory(wa_id=wa.CUSTOMER_WA_ID))
    return MessageFactory(
        conversation=conversation,
        direction=Direction.OUTBOUND,
        provider_message_id=provider_message_id,
        status=status,
    )


# --- every inbound type, stored faithfully ---------------------------------------------------------------

INBOUND_CASES = [
    # (builder output, type, text, a key/value the content must hold)
    (wa.text("Does it come in another color?", id="wamid.T"), "text", "Does it come in another color?", ("body",)),
    (wa.media("image", caption="The blue one", id="wamid.I"), "image", "The blue one", ("mime_type", "image/jpeg")),
    (wa.media("video", id="wamid.V"), "video", "", ("mime_type", "video/mp4")),
    (wa.media("audio", id="wamid.A"), "audio", "", ("voice", True)),
    (
        wa.media("document", filename="invoice.pdf", id="wamid.D"),
        "document",
        "invoice.pdf",
        ("filename", "invoice.pdf"),
    ),
    (wa.media("sticker", id="wamid.S"), "sticker", "", ("animated", False)),
    (
        wa.location(latitude=52.52, longitude=13.405, name="Brandenburger Tor", id="wamid.L"),
        "location",
        "Brandenburger Tor",
        ("latitude", 52.52),
    ),
    (wa.shared_contacts("Ada Lovelace", "+44 20 7946 0000", id="wamid.C"), "contacts", "Ada Lovelace", ("contacts",)),
    (
        wa.button_reply("Yes, book it", reply_id="book-yes", replying_to="wamid.OUT1", id="wamid.BR"),
        "interactive",
        "Yes, book it",
        ("type", "button_reply"),
    ),
    (
        wa.list_reply("Size M", reply_id="size-m", id="wamid.LR"),
        "interactive",
        "Size M",
        ("type", "list_reply"),
    ),
    (
        wa.message(
            "interactive",
            {
                "type": "nfm_reply",
                "nfm_reply": {"name": "flow", "body": "Sent", "response_json": '{"flow_token": "t-1", "size": "M"}'},
            },
            id="wamid.NFM",
        ),
        "interactive",
        "Sent",
        ("type", "nfm_reply"),
    ),
    (
        wa.template_button("Stop promotions", payload="STOP", id="wamid.B"),
        "button",
        "Stop promotions",
        ("payload", "STOP"),
    ),
    (wa.order("Two please", id="wamid.O"), "order", "Two please", ("catalog_id", "cat-1")),
    (wa.request_welcome(id="wamid.W"), "request_welcome", "", None),
    (wa.unsupported(id="wamid.U"), "unsupported", "Message type unknown", ("errors",)),
    (
        wa.system_changed_number("16505559999", id="wamid.SYS"),
        "system",
        "User 16505551234 changed to 16505559999",
        ("wa_id", "16505559999"),
    ),
]


@pytest.mark.parametrize(
    ("payload", "message_type", "text", "content_holds"),
    INBOUND_CASES,
    ids=[case[1] + "-" + case[0]["id"] for case in INBOUND_CASES],
)
def test_every_inbound_type_is_stored_faithfully(deliver, channel, payload, message_type, text, content_holds):
    event = deliver(wa.inbound(payload))

    assert event.state == WebhookEventState.PROCESSED
    # (A changed number also writes an activity line: the identity hold, tested in test_identity.py.)
    message = Message.objects.get(direction=Direction.INBOUND)
    assert message.channel == channel
    assert message.direction == Direction.INBOUND
    assert message.status == MessageStatus.RECEIVED
    assert message.type == message_type
    assert message.text == text
    assert message.provider_message_id == payload["id"]
    assert message.timestamp == at(wa.T0)
    if content_holds:
        key, *value = content_holds
        assert key in message.content
        if value:
            assert message.content[key] == value[0]


def test_reply_context_and_referral_are_kept(deliver):
    referral = {"source_url": "https://fb.me/ad", "source_type": "ad", "ctwa_clid": "clid-1", "headline": "Sale"}
    deliver(
        wa.inbound(
            wa.text(
                "I saw your ad",
                id="wamid.R",
                context={"from": wa.DISPLAY_PHONE_NUMBER, "id": "wamid.OUT"},
                referral=referral,
            )
        )
    )
    message = Message.objects.get()
    assert message.reply_to_provider_id == "wamid.OUT"
    assert message.content["referral"] == referral
    assert message.content["context"]["id"] == "wamid.OUT"


def test_unsupported_message_keeps_the_error(deliver):
    deliver(wa.inbound(wa.unsupported(id="wamid.U")))
    message = Message.objects.get()
    assert message.error_code == 131051
    assert message.error_title == "Message type unknown"
    assert message.error_details == "Message type is currently not supported."


def test_a_batch_stores_every_entry_change_and_message(deliver, channel):
    second_number = ChannelFactory(phone_number_id="222000222", waba_id="waba-2")
    document = wa.batch(
        wa.entry(
            wa.messages_change(
                messages=[wa.text("one", id="wamid.1"), wa.text("two", id="wamid.2", timestamp=wa.T0 + 1)]
            ),
            wa.messages_change(
                messages=[wa.text("three", id="wamid.3", sender="4915112345678", timestamp=wa.T0 + 2)],
                contacts=[wa.contact(wa_id="4915112345678", name="Jonas")],
            ),
        ),
        wa.entry(
            wa.messages_change(messages=[wa.text("four", id="wamid.4")], phone_number_id="222000222"),
            waba_id="waba-2",
        ),
    )
    event = deliver(document)
    assert event.state == WebhookEventState.PROCESSED
    assert sorted(Message.objects.values_list("text", flat=True)) == ["four", "one", "three", "two"]
    assert Conversation.objects.filter(channel=channel).count() == 2
    # Sheena wrote to both of our numbers: one contact, a conversation on each number.
    assert Conversation.objects.get(channel=second_number).contact == Contact.objects.get(wa_id=wa.CUSTOMER_WA_ID)
    assert Contact.objects.count() == 2


# --- contacts -------------------------------------------------------------------------------------------


def test_contact_is_identified_by_wa_id_and_its_profile_name_updated(deliver):
    deliver(wa.inbound(wa.text("hi", id="wamid.1"), contacts=[wa.contact(name="Sheena")]))
    deliver(wa.inbound(wa.text("again", id="wamid.2", timestamp=wa.T0 + 60), contacts=[wa.contact(name="Sheena N.")]))
    contact = Contact.objects.get()
    assert contact.wa_id == wa.CUSTOMER_WA_ID
    assert contact.profile_name == "Sheena N."
    assert Conversation.objects.get().contact == contact


def test_username_user_known_only_by_bsuid(deliver):
    bsuid = "US.13491208655302741918"
    deliver(
        wa.inbound(
            wa.text("hello from a username", id="wamid.U1", sender=None, sender_user_id=bsuid),
            contacts=[wa.contact(wa_id=None, user_id=bsuid, name="Ana", username="@ana.b")],
        )
    )
    contact = Contact.objects.get()
    assert contact.wa_id is None
    assert contact.bsuid == bsuid
    assert contact.username == "@ana.b"
    assert Conversation.objects.get().contact == contact


def test_bsuid_contact_gains_the_phone_when_both_arrive(deliver):
    bsuid = "US.13491208655302741918"
    deliver(
        wa.inbound(
            wa.text("first", id="wamid.U1", sender=None, sender_user_id=bsuid),
            contacts=[wa.contact(wa_id=None, user_id=bsuid, name="Ana")],
        )
    )
    deliver(
        wa.inbound(
            wa.text("second", id="wamid.U2", sender_user_id=bsuid, timestamp=wa.T0 + 5),
            contacts=[wa.contact(user_id=bsuid, name="Ana")],
        )
    )
    contact = Contact.objects.get()
    assert (contact.wa_id, contact.bsuid) == (wa.CUSTOMER_WA_ID, bsuid)
    assert Conversation.objects.get().unread_count == 2


def test_phone_contact_and_bsuid_contact_are_merged_when_one_message_names_both(deliver, channel):
    bsuid = "US.13491208655302741918"
    # Known by phone from before BSUIDs, with a conversation...
    deliver(wa.inbound(wa.text("by phone", id="wamid.P1"), contacts=[wa.contact(name="Ana")]))
    # ...then writing as a username user, with no phone: a second contact and conversation.
    deliver(
        wa.inbound(
            wa.text("by username", id="wamid.U1", sender=None, sender_user_id=bsuid, timestamp=wa.T0 + 10),
            contacts=[wa.contact(wa_id=None, user_id=bsuid, name="Ana", username="@ana")],
        )
    )
    assert Contact.objects.count() == 2
    assert Conversation.objects.count() == 2

    deliver(
        wa.inbound(
            wa.text("both", id="wamid.B1", sender_user_id=bsuid, timestamp=wa.T0 + 20),
            contacts=[wa.contact(user_id=bsuid, name="Ana")],
        )
    )

    contact = Contact.objects.get()
    assert (contact.wa_id, contact.bsuid, contact.username) == (wa.CUSTOMER_WA_ID, bsuid, "@ana")
    conversation = Conversation.objects.get()
    assert conversation.contact == contact
    assert list(conversation.messages.order_by("timestamp").values_list("text", flat=True)) == [
        "by phone",
        "by username",
        "both",
    ]
    assert conversation.unread_count == 3
    assert conversation.last_message_preview == "both"
    assert conversation.last_inbound_at == at(wa.T0 + 20)


def test_contact_upsert_needs_an_identity():
    with pytest.raises(ValueError, match="wa_id or a BSUID"):
        ingest.contact_upsert(wa_id=None, bsuid=None)


# --- conversations --------------------------------------------------------------------------------------


def test_one_unresolved_conversation_per_contact_and_channel(deliver, channel):
    for n in range(3):
        deliver(wa.inbound(wa.text(f"message {n}", id=f"wamid.{n}", timestamp=wa.T0 + n)))
    conversation = Conversation.objects.get()
    assert conversation.status == ConversationStatus.OPEN
    assert conversation.messages.count() == 3
    assert conversation.unread_count == 3


def test_resolved_conversation_reopens_on_a_new_inbound(deliver):
    deliver(wa.inbound(wa.text("first", id="wamid.1")))
    conversation = Conversation.objects.get()
    Conversation.objects.filter(pk=conversation.pk).update(status=ConversationStatus.RESOLVED, unread_count=0)

    deliver(wa.inbound(wa.text("back again", id="wamid.2", timestamp=wa.T0 + 3600)))

    reopened = Conversation.objects.get()
    assert reopened.pk == conversation.pk
    assert reopened.status == ConversationStatus.OPEN
    assert reopened.unread_count == 1
    assert reopened.last_message_preview == "back again"


def test_conversation_columns_follow_the_newest_message(deliver):
    deliver(wa.inbound(wa.text("first", id="wamid.1", timestamp=wa.T0)))
    deliver(wa.inbound(wa.media("image", caption="look", id="wamid.2", timestamp=wa.T0 + 30)))

    conversation = Conversation.objects.get()
    assert conversation.last_message_preview == "📷 Photo: look"
    assert conversation.last_message_at == at(wa.T0 + 30)
    assert conversation.last_message_direction == Direction.INBOUND
    assert conversation.unread_count == 2
    assert conversation.last_inbound_at == at(wa.T0 + 30)
    # Meta's timestamp + 24 h, not processing time.
    assert conversation.service_window_closes_at == at(wa.T0 + 30) + timedelta(hours=24)
    assert conversation.activity_at == at(wa.T0 + 30)


def test_an_older_message_arriving_late_does_not_overwrite_preview_or_window(deliver):
    deliver(wa.inbound(wa.text("newer", id="wamid.NEW", timestamp=wa.T0 + 600)))
    deliver(wa.inbound(wa.text("older", id="wamid.OLD", timestamp=wa.T0)))

    conversation = Conversation.objects.get()
    assert conversation.last_message_preview == "newer"
    assert conversation.last_message_at == at(wa.T0 + 600)
    assert conversation.last_inbound_at == at(wa.T0 + 600)
    assert conversation.service_window_closes_at == at(wa.T0 + 600) + timedelta(hours=24)
    assert conversation.activity_at == at(wa.T0 + 600)
    assert conversation.unread_count == 2


def test_out_of_order_within_one_batch(deliver):
    deliver(
        wa.inbound(
            wa.text("third", id="wamid.3", timestamp=wa.T0 + 2),
            wa.text("first", id="wamid.1", timestamp=wa.T0),
            wa.text("second", id="wamid.2", timestamp=wa.T0 + 1),
        )
    )
    conversation = Conversation.objects.get()
    assert conversation.last_message_preview == "third"
    assert conversation.service_window_closes_at == at(wa.T0 + 2) + timedelta(hours=24)


def test_system_messages_do_not_open_the_service_window(deliver):
    # (A changed identity, not a changed number: the contact keeps its number for the later messages.)
    deliver(wa.inbound(wa.system_identity_changed("hash-1", id="wamid.SYS", timestamp=wa.T0)))
    conversation = Conversation.objects.get()
    assert conversation.last_inbound_at is None
    assert conversation.service_window_closes_at is None

    deliver(wa.inbound(wa.text("hi", id="wamid.T", timestamp=wa.T0 + 5)))
    deliver(wa.inbound(wa.system_identity_changed("hash-2", id="wamid.SYS2", timestamp=wa.T0 + 500)))
    conversation.refresh_from_db()
    assert conversation.last_inbound_at == at(wa.T0 + 5)
    assert conversation.service_window_closes_at == at(wa.T0 + 5) + timedelta(hours=24)


# --- edits, deletions and reactions ---------------------------------------------------------------------


def test_edit_updates_the_target_keeping_previous_texts(deliver):
    deliver(wa.inbound(wa.text("See you at 5", id="wamid.ORIG", timestamp=wa.T0)))
    deliver(wa.inbound(wa.edit("wamid.ORIG", "See you at 6", id="wamid.E1", timestamp=wa.T0 + 60)))
    deliver(wa.inbound(wa.edit("wamid.ORIG", "See you at 7", id="wamid.E2", timestamp=wa.T0 + 120)))

    original = Message.objects.get(provider_message_id="wamid.ORIG")
    assert original.text == "See you at 7"
    assert original.content["previous_texts"] == ["See you at 5", "See you at 6"]
    assert original.content["body"] == "See you at 5"
    assert original.edited_at == at(wa.T0 + 120)
    # The edits are kept as their own rows, but they are not something new to read.
    assert Message.objects.filter(type="edit").count() == 2
    conversation = Conversation.objects.get()
    assert conversation.unread_count == 1
    assert conversation.last_message_preview == "See you at 7"
    assert conversation.service_window_closes_at == at(wa.T0) + timedelta(hours=24)


def test_an_older_edit_arriving_late_does_not_win(deliver):
    deliver(wa.inbound(wa.text("v1", id="wamid.ORIG", timestamp=wa.T0)))
    deliver(wa.inbound(wa.edit("wamid.ORIG", "v3", id="wamid.E2", timestamp=wa.T0 + 120)))
    deliver(wa.inbound(wa.edit("wamid.ORIG", "v2", id="wamid.E1", timestamp=wa.T0 + 60)))

    original = Message.objects.get(provider_message_id="wamid.ORIG")
    assert original.text == "v3"
    assert original.content["previous_texts"] == ["v1", "v2"]
    assert original.edited_at == at(wa.T0 + 120)


def test_an_edit_arriving_before_its_message_is_applied_when_the_message_comes(deliver):
    deliver(wa.inbound(wa.edit("wamid.ORIG", "fixed typo", id="wamid.E1", timestamp=wa.T0 + 60)))
    deliver(wa.inbound(wa.text("fixd typo", id="wamid.ORIG", timestamp=wa.T0)))

    original = Message.objects.get(provider_message_id="wamid.ORIG")
    assert original.text == "fixed typo"
    assert original.content["previous_texts"] == ["fixd typo"]
    assert original.edited_at == at(wa.T0 + 60)
    assert Conversation.objects.get().last_message_preview == "fixed typo"


def test_revoke_marks_the_target_deleted(deliver):
    deliver(wa.inbound(wa.text("oops", id="wamid.ORIG", timestamp=wa.T0)))
    deliver(wa.inbound(wa.revoke("wamid.ORIG", id="wamid.R", timestamp=wa.T0 + 30)))

    original = Message.objects.get(provider_message_id="wamid.ORIG")
    assert original.revoked_at == at(wa.T0 + 30)
    assert Message.objects.get(provider_message_id="wamid.R").type == "revoke"
    conversation = Conversation.objects.get()
    assert conversation.unread_count == 1
    assert conversation.last_message_preview == "🚫 This message was deleted"


def test_a_revoke_arriving_before_its_message(deliver):
    deliver(wa.inbound(wa.revoke("wamid.ORIG", id="wamid.R", timestamp=wa.T0 + 30)))
    deliver(wa.inbound(wa.text("oops", id="wamid.ORIG", timestamp=wa.T0)))
    assert Message.objects.get(provider_message_id="wamid.ORIG").revoked_at == at(wa.T0 + 30)


def test_an_edit_of_an_older_message_leaves_the_preview_alone(deliver):
    deliver(wa.inbound(wa.text("old", id="wamid.OLD", timestamp=wa.T0)))
    deliver(wa.inbound(wa.text("latest", id="wamid.NEW", timestamp=wa.T0 + 10)))
    deliver(wa.inbound(wa.edit("wamid.OLD", "old, edited", id="wamid.E", timestamp=wa.T0 + 20)))
    assert Conversation.objects.get().last_message_preview == "latest"


def test_reactions_point_at_their_target(deliver, channel):
    outbound = outbound_message(channel, provider_message_id="wamid.OURS")
    deliver(wa.inbound(wa.reaction("wamid.OURS", "👍", id="wamid.REACT", timestamp=wa.T0 + 5)))
    deliver(wa.inbound(wa.reaction("wamid.OURS", "", id="wamid.UNREACT", timestamp=wa.T0 + 9)))

    reaction = Message.objects.get(provider_message_id="wamid.REACT")
    assert reaction.type == "reaction"
    assert reaction.text == "👍"
    assert reaction.reply_to_provider_id == outbound.provider_message_id
    assert reaction.content["message_id"] == "wamid.OURS"
    removal = Message.objects.get(provider_message_id="wamid.UNREACT")
    assert removal.text == ""
    assert removal.reply_to_provider_id == "wamid.OURS"
    assert Message.objects.filter(type="reaction", reply_to_provider_id="wamid.OURS").count() == 2


# --- idempotency ----------------------------------------------------------------------------------------


def test_the_same_delivery_twice_stores_everything_once(deliver):
    document = wa.inbound(wa.text("hello", id="wamid.1"), wa.media("image", id="wamid.2", timestamp=wa.T0 + 1))
    first = deliver(document)
    second = deliver(document)

    assert first.pk != second.pk
    assert {first.state, second.state} == {WebhookEventState.PROCESSED}
    assert Message.objects.count() == 2
    assert Contact.objects.count() == 1
    conversation = Conversation.objects.get()
    assert conversation.unread_count == 2


def test_a_rebatched_delivery_stores_only_what_is_new(deliver):
    deliver(wa.inbound(wa.text("seen", id="wamid.SEEN", timestamp=wa.T0)))
    deliver(
        wa.inbound(
            wa.text("seen", id="wamid.SEEN", timestamp=wa.T0), wa.text("new", id="wamid.NEW", timestamp=wa.T0 + 1)
        )
    )
    assert sorted(Message.objects.values_list("provider_message_id", flat=True)) == ["wamid.NEW", "wamid.SEEN"]
    conversation = Conversation.objects.get()
    assert conversation.unread_count == 2
    assert conversation.last_message_preview == "new"


def test_escaped_and_raw_utf8_forms_of_one_message_are_one_message(deliver):
    document = wa.inbound(wa.text("Grüße @ café", id="wamid.SAME"))
    deliver(document, meta_escaped=True)
    deliver(document, meta_escaped=False)
    assert Message.objects.get().text == "Grüße @ café"
    assert Conversation.objects.get().unread_count == 1


def test_processing_an_already_processed_event_changes_nothing(deliver):
    event = deliver(wa.inbound(wa.text("once", id="wamid.1")))
    processed_at = event.processed_at

    again = webhooks.webhook_event_process(event_id=event.pk)

    assert again.state == WebhookEventState.PROCESSED
    assert again.attempts == 1
    assert again.processed_at == processed_at
    assert Message.objects.count() == 1
    assert Conversation.objects.get().unread_count == 1


# --- statuses -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("arrivals", "final"),
    [
        (["sent", "delivered", "read"], "read"),
        (["read", "delivered"], "read"),
        (["read", "sent", "delivered"], "read"),
        (["sent", "read"], "read"),
        (["delivered", "read", "played"], "played"),
        (["played", "read"], "played"),
    ],
)
def test_statuses_move_forward_only(deliver, channel, arrivals, final):
    message = outbound_message(channel, provider_message_id="wamid.OUT", status=MessageStatus.QUEUED)
    for n, status in enumerate(arrivals):
        deliver(wa.statuses(wa.status("wamid.OUT", status, timestamp=wa.T0 + n)))
    message.refresh_from_db()
    assert message.status == final
    assert StatusUpdate.objects.filter(provider_message_id="wamid.OUT").count() == len(arrivals)
    assert not StatusUpdate.objects.filter(applied=False).exists()


def test_status_time_is_metas_time_of_the_status_that_applied(deliver, channel):
    message = outbound_message(channel, provider_message_id="wamid.OUT")
    deliver(wa.statuses(wa.status("wamid.OUT", "read", timestamp=wa.T0 + 50)))
    deliver(wa.statuses(wa.status("wamid.OUT", "delivered", timestamp=wa.T0 + 40)))
    message.refresh_from_db()
    assert (message.status, message.status_at) == ("read", at(wa.T0 + 50))


def test_failed_keeps_code_title_and_details(deliver, channel):
    message = outbound_message(channel, provider_message_id="wamid.OUT")
    deliver(wa.statuses(wa.status("wamid.OUT", "failed", errors=[wa.ERROR_HEALTHY_ECOSYSTEM])))
    message.refresh_from_db()
    assert message.status == MessageStatus.FAILED
    assert message.error_code == 131049
    assert message.error_title == wa.ERROR_HEALTHY_ECOSYSTEM["title"]
    assert message.error_details == wa.ERROR_HEALTHY_ECOSYSTEM["error_data"]["details"]

    # A late "sent" neither hides the failure nor clears its error.
    deliver(wa.statuses(wa.status("wamid.OUT", "sent", timestamp=wa.T0 - 5)))
    message.refresh_from_db()
    assert message.status == MessageStatus.FAILED
    assert message.error_code == 131049


def test_an_over_long_error_title_does_not_fail_the_delivery(deliver, channel):
    message = outbound_message(channel, provider_message_id="wamid.OUT")
    error = {**wa.ERROR_HEALTHY_ECOSYSTEM, "title": "t" * 2000}
    event = deliver(wa.statuses(wa.status("wamid.OUT", "failed", errors=[error])))
    assert event.state == WebhookEventState.PROCESSED
    message.refresh_from_db()
    assert message.error_title == "t" * 500


def test_the_same_status_twice_is_recorded_once(deliver, channel):
    message = outbound_message(channel, provider_message_id="wamid.OUT")
    deliver(wa.statuses(wa.status("wamid.OUT", "delivered", timestamp=wa.T0)))
    deliver(wa.statuses(wa.status("wamid.OUT", "delivered", timestamp=wa.T0)))
    deliver(wa.statuses(wa.status("wamid.OUT", "delivered", timestamp=wa.T0), wa.status("wamid.OUT", "read")))
    assert StatusUpdate.objects.filter(status="delivered").count() == 1
    assert StatusUpdate.objects.count() == 2
    message.refresh_from_db()
    assert message.status == MessageStatus.READ


def test_pricing_is_recorded(deliver, channel):
    message = outbound_message(channel, provider_message_id="wamid.OUT")
    deliver(wa.statuses(wa.status("wamid.OUT", "sent", pricing=wa.PRICING_MARKETING)))
    # "delivered" carries no pricing (Meta sends it on sent and one of delivered/read): it is kept.
    deliver(wa.statuses(wa.status("wamid.OUT", "delivered", timestamp=wa.T0 + 1)))
    message.refresh_from_db()
    assert (message.pricing_category, message.pricing_type) == ("marketing", "regular")
    assert StatusUpdate.objects.get(status="sent").pricing == wa.PRICING_MARKETING


def test_unknown_statuses_are_kept_but_never_applied(deliver, channel):
    message = outbound_message(channel, provider_message_id="wamid.OUT", status=MessageStatus.DELIVERED)
    deliver(wa.statuses(wa.status("wamid.OUT", "deleted")))
    message.refresh_from_db()
    assert message.status == MessageStatus.DELIVERED
    assert StatusUpdate.objects.get().status == "deleted"


def test_a_status_for_an_unknown_message_waits_then_applies_when_the_id_is_recorded(deliver, channel):
    deliver(
        wa.statuses(
            wa.status("wamid.LATER", "sent", timestamp=wa.T0, pricing=wa.PRICING_MARKETING),
            wa.status("wamid.LATER", "delivered", timestamp=wa.T0 + 1),
        )
    )
    assert StatusUpdate.objects.filter(applied=False).count() == 2
    message = outbound_message(channel, provider_message_id=None, status=MessageStatus.QUEUED)

    ingest.message_provider_id_record(message=message, provider_message_id="wamid.LATER")

    assert message.status == MessageStatus.DELIVERED
    message.refresh_from_db()
    assert message.provider_message_id == "wamid.LATER"
    assert message.status == MessageStatus.DELIVERED
    assert message.status_at == at(wa.T0 + 1)
    assert message.pricing_category == "marketing"
    assert not StatusUpdate.objects.filter(applied=False).exists()


def test_the_sweeper_applies_statuses_whose_message_appeared_meanwhile(deliver, channel):
    deliver(wa.statuses(wa.status("wamid.RACE", "read")))
    # The message got its id without applying what waited (the race of two workers committing at once).
    message = outbound_message(channel, provider_message_id="wamid.RACE")
    deliver(wa.statuses(wa.status("wamid.NEVER-OURS", "sent")))

    webhooks.webhook_events_requeue_stale()

    message.refresh_from_db()
    assert message.status == MessageStatus.READ
    assert StatusUpdate.objects.get(provider_message_id="wamid.RACE").applied
    assert not StatusUpdate.objects.get(provider_message_id="wamid.NEVER-OURS").applied


# --- management changes ---------------------------------------------------------------------------------


def test_management_changes_are_stored_once_and_routed_by_waba(deliver, channel):
    document = wa.delivery(wa.template_status_update("APPROVED"), wa.phone_number_quality_update(), time=1751247548)
    first = deliver(document)
    second = deliver(document)

    assert first.state == second.state == WebhookEventState.PROCESSED
    assert ManagementEvent.objects.count() == 2
    approved = ManagementEvent.objects.get(field="message_template_status_update")
    assert approved.waba_id == wa.WABA_ID
    assert approved.value["event"] == "APPROVED"
    assert approved.occurred_at == at(1751247548)
    assert approved.webhook_event == first

    # A different change of the same template is new.
    deliver(wa.delivery(wa.template_status_update("PAUSED"), time=1751247600))
    assert ManagementEvent.objects.filter(field="message_template_status_update").count() == 2


def test_management_change_for_an_unknown_waba_is_unroutable(deliver, channel, client):
    body = wa.encode(wa.delivery(wa.template_status_update(), waba_id="777000777"))
    response = wa.post(client, body)
    assert response.status_code == 200
    assert WebhookEvent.objects.get().state == WebhookEventState.UNROUTABLE
    assert not ManagementEvent.objects.exists()


def test_value_errors_on_the_messages_field_are_kept(deliver):
    errors = [{"code": 131000, "title": "Something went wrong", "message": "Something went wrong"}]
    deliver(wa.delivery(wa.messages_change(errors=errors)))
    kept = ManagementEvent.objects.get()
    assert kept.field == "messages.errors"
    assert kept.value["errors"] == errors


# --- partly routable deliveries -------------------------------------------------------------------------


def test_a_delivery_mixing_known_and_unknown_numbers_processes_the_known_part(deliver, channel):
    document = wa.delivery(
        wa.messages_change(messages=[wa.text("for us", id="wamid.OURS")]),
        wa.messages_change(messages=[wa.text("not for us", id="wamid.THEIRS")], phone_number_id="999000999"),
        wa.messages_change(statuses=[wa.status("wamid.X", "sent")], phone_number_id="555000555"),
    )
    event = deliver(document)

    assert event.state == WebhookEventState.PROCESSED
    assert "999000999" in event.error
    assert "555000555" in event.error
    assert wa.PHONE_NUMBER_ID not in event.error
    assert list(Message.objects.values_list("provider_message_id", flat=True)) == ["wamid.OURS"]
    assert Conversation.objects.get().channel == channel
    assert not StatusUpdate.objects.exists()


# --- failures and the sweeper ---------------------------------------------------------------------------


def test_a_processing_exception_marks_the_event_failed(channel, monkeypatch):
    event = store_event(wa.inbound(wa.text("boom", id="wamid.BOOM")))

    def explode(**kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(ingest, "message_receive", explode)
    with pytest.raises(RuntimeError):
        webhooks.webhook_event_process(event_id=event.pk)

    event.refresh_from_db()
    assert event.state == WebhookEventState.FAILED
    assert event.error == "RuntimeError: disk on fire"
    assert event.attempts == 1
    assert not Message.objects.exists()
    assert not Contact.objects.exists()


def test_a_failure_midway_rolls_back_the_whole_delivery(channel, monkeypatch):
    event = store_event(wa.inbound(wa.text("first", id="wamid.1"), wa.text("second", id="wamid.2")))
    real_receive = ingest.message_receive
    calls = []

    def second_one_fails(**kwargs):
        calls.append(kwargs["inbound"].provider_message_id)
        if len(calls) == 2:
            raise RuntimeError("lost the database")
        return real_receive(**kwargs)

    monkeypatch.setattr(ingest, "message_receive", second_one_fails)
    with pytest.raises(RuntimeError):
        webhooks.webhook_event_process(event_id=event.pk)
    assert not Message.objects.exists()
    assert not Conversation.objects.exists()

    monkeypatch.setattr(ingest, "message_receive", real_receive)
    assert webhooks.webhook_event_process(event_id=event.pk).state == WebhookEventState.PROCESSED
    assert Message.objects.count() == 2
    assert Conversation.objects.get().unread_count == 2


def test_the_sweeper_requeues_stale_pending_and_failed_events(channel, settings, django_capture_on_commit_callbacks):
    settings.WEBHOOK_REQUEUE_AFTER = timedelta(seconds=30)
    long_ago = timezone.now() - timedelta(minutes=5)
    lost = store_event(wa.inbound(wa.text("lost task", id="wamid.LOST")), received_at=long_ago)
    failed = store_event(
        wa.inbound(wa.text("failed once", id="wamid.FAILED", timestamp=wa.T0 + 1)), received_at=long_ago
    )
    WebhookEvent.objects.filter(pk=failed.pk).update(state=WebhookEventState.FAILED, attempts=1, error="boom")
    given_up = store_event(wa.inbound(wa.text("hopeless", id="wamid.HOPELESS")), received_at=long_ago)
    WebhookEvent.objects.filter(pk=given_up.pk).update(
        state=WebhookEventState.FAILED, attempts=webhooks.MAX_PROCESSING_ATTEMPTS
    )
    fresh = store_event(wa.inbound(wa.text("just arrived", id="wamid.FRESH")))

    with django_capture_on_commit_callbacks(execute=True):
        requeued = webhooks.webhook_events_requeue_stale()

    assert requeued == 2
    states = dict(WebhookEvent.objects.values_list("pk", "state"))
    assert states[lost.pk] == WebhookEventState.PROCESSED
    assert states[failed.pk] == WebhookEventState.PROCESSED
    assert states[given_up.pk] == WebhookEventState.FAILED
    assert states[fresh.pk] == WebhookEventState.PENDING
    assert WebhookEvent.objects.get(pk=failed.pk).error == ""
    assert sorted(Message.objects.values_list("provider_message_id", flat=True)) == ["wamid.FAILED", "wamid.LOST"]


def test_the_sweeper_leaves_unroutable_malformed_and_processed_events_alone(deliver, settings):
    settings.WEBHOOK_REQUEUE_AFTER = timedelta(seconds=0)
    deliver(wa.inbound(wa.text("done", id="wamid.DONE")))
    WebhookEvent.objects.create(raw_body=b"{", state=WebhookEventState.MALFORMED)
    WebhookEvent.objects.create(raw_body=b"{}", state=WebhookEventState.UNROUTABLE)
    WebhookEvent.objects.update(received_at=timezone.now() - timedelta(hours=1))
    assert webhooks.webhook_events_requeue_stale() == 0


def test_a_stored_event_whose_body_does_not_parse_becomes_malformed(channel):
    body = wa.encode(wa.delivery(wa.messages_change(messages=[{"type": "text", "timestamp": "1"}])))
    event = WebhookEvent.objects.create(raw_body=body, signature=sign(TEST_APP_SECRET, body))
    processed = webhooks.webhook_event_process(event_id=event.pk)
    assert processed.state == WebhookEventState.MALFORMED
    assert processed.error
    assert not Message.objects.exists()
