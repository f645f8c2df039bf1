"""Identity changes: WhatsApp's notices of a changed number (both spellings) or identity, through the real
webhook path, hold every message to the customer until someone who may edit the contact acknowledges it
(audited); replays change nothing."""

import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import respx
from django.utils import timezone

from accounts.models import AuditEntry, Presence, Role
from inbox.models import (
    Contact,
    Conversation,
    Direction,
    LiveEvent,
    Message,
    MessageType,
    Notification,
    NotificationKind,
    OutboxEntry,
)
from inbox.services import identity, outbound
from inbox.services.identity import IdentityRefused
from tests.factories import ChannelFactory, ContactFactory, ConversationFactory, TeamFactory, UserFactory
from tests.inbox import whatsapp_payloads as wa

pytestmark = pytest.mark.django_db

NEW_NUMBER = "393331234567"
MESSAGES_URL = f"https://graph.facebook.com/v23.0/{wa.PHONE_NUMBER_ID}/messages"


def at(unix_seconds: int) -> datetime:
    return datetime.fromtimestamp(unix_seconds, tz=UTC)


@pytest.fixture
def channel():
    return ChannelFactory(phone_number_id=wa.PHONE_NUMBER_ID, waba_id=wa.WABA_ID)


@pytest.fixture
def agent(channel):
    return UserFactory(role=Role.AGENT, name="Alex Agent", presence=Presence.ONLINE)


@pytest.fixture
def teammate(channel):
    return UserFactory(role=Role.AGENT, name="Bea Agent")


@pytest.fixture
def team(channel, agent, teammate):
    return TeamFactory(name="Support", channels=[channel], members=[agent, teammate])


@pytest.fixture
def conversation(channel, agent, team):
    """Sheena's open conversation, assigned to Alex, her window open for another 23 hours."""
    now = timezone.now()
    return ConversationFactory(
        channel=channel,
        contact=ContactFactory(wa_id=wa.CUSTOMER_WA_ID, profile_name=wa.CUSTOMER_NAME, bsuid="US.1111"),
        assignee=agent,
        team=team,
        last_inbound_at=now - timedelta(hours=1),
        service_window_closes_at=now + timedelta(hours=23),
    )


@pytest.fixture
def deliver(client, channel, django_capture_on_commit_callbacks):
    """POST a signed delivery and run everything that follows it (processing, the follow-up task)."""

    def deliver(document):
        with django_capture_on_commit_callbacks(execute=True):
            response = wa.post(client, document)
        assert response.status_code == 200, response.content

    return deliver


def hold_lines(conversation: Conversation) -> list[Message]:
    return list(
        Message.objects.filter(
            conversation=conversation, type=MessageType.ACTIVITY, content__action=identity.HELD_ACTION
        )
    )


def send_text(conversation: Conversation, author, body: str = "Are you still there?") -> Message:
    conversation.refresh_from_db()
    return outbound.message_send(conversation=conversation, author=author, kind="text", payload={"body": body})


# --- the notices hold the contact ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "notice",
    [
        wa.system_changed_number(NEW_NUMBER, id="wamid.SYS", timestamp=wa.T0),
        wa.system_customer_changed_number(NEW_NUMBER, id="wamid.SYS", timestamp=wa.T0),
    ],
    ids=["user_changed_number", "customer_changed_number (legacy)"],
)
def test_a_changed_number_holds_the_contact_now_on_the_new_number(deliver, conversation, agent, notice):
    # given Sheena's open conversation, when WhatsApp says she changed her number (no `contacts[]`)
    deliver(wa.inbound(notice, contacts=[]))

    # then the same contact carries the new number (its old BSUID dropped: a new number mints a new one)
    contact = Contact.objects.get(pk=conversation.contact_id)
    assert contact.wa_id == NEW_NUMBER
    assert contact.bsuid is None
    assert contact.identity_held_since == at(wa.T0)
    assert contact.identity_hold_reason.startswith(f"Changed their WhatsApp number to +{NEW_NUMBER} on ")
    assert not Contact.objects.filter(wa_id=wa.CUSTOMER_WA_ID).exists()
    # the conversation continues: the notice and the hold's line are in it
    assert Conversation.objects.get() == conversation
    [line] = hold_lines(conversation)
    assert line.direction == Direction.INTERNAL
    assert line.timestamp == at(wa.T0)
    assert "Sending is held" in line.text and f"+{NEW_NUMBER}" in line.text
    # the assignee is told
    notification = Notification.objects.get(user=agent, kind=NotificationKind.IDENTITY)
    assert notification.conversation == conversation
    assert notification.text == (
        f"{wa.CUSTOMER_NAME} changed their WhatsApp number: sending is held until someone acknowledges it."
    )
    # open panels and composers redraw
    changed = LiveEvent.objects.filter(type="identity.changed").get()
    assert changed.data == {"contact_id": contact.pk, "conversation_id": conversation.pk, "held": True}


def test_the_next_message_from_the_new_number_continues_the_same_conversation(deliver, conversation):
    deliver(wa.inbound(wa.system_changed_number(NEW_NUMBER, id="wamid.SYS", timestamp=wa.T0), contacts=[]))
    deliver(
        wa.inbound(
            wa.text("It's me, new phone", id="wamid.NEW", timestamp=wa.T0 + 60, sender=NEW_NUMBER),
            contacts=[wa.contact(wa_id=NEW_NUMBER, user_id="US.2222")],
        )
    )
    assert Conversation.objects.count() == 1
    contact = Contact.objects.get()
    assert (contact.wa_id, contact.bsuid) == (NEW_NUMBER, "US.2222")
    assert contact.identity_held_since is not None  # a new message does not release the hold


def test_when_the_new_number_wrote_first_the_history_joins_its_contact(deliver, conversation):
    # The new number's first message arrived before the notice: it opened its own contact and conversation.
    deliver(
        wa.inbound(
            wa.text("hi, new phone", id="wamid.NEW", timestamp=wa.T0 - 30, sender=NEW_NUMBER),
            contacts=[wa.contact(wa_id=NEW_NUMBER, name="Sheena N.")],
        )
    )
    assert Contact.objects.count() == 2

    deliver(wa.inbound(wa.system_changed_number(NEW_NUMBER, id="wamid.SYS", timestamp=wa.T0), contacts=[]))

    contact = Contact.objects.get()  # the old number's contact joined the new one
    assert contact.wa_id == NEW_NUMBER
    assert contact.identity_held_since == at(wa.T0)
    conversation = Conversation.objects.get()  # one open conversation per contact and channel
    assert conversation.contact == contact
    assert Message.objects.filter(conversation=conversation, provider_message_id="wamid.NEW").exists()
    assert len(hold_lines(conversation)) == 1


def test_an_identity_change_holds_and_keeps_the_new_key_hash(deliver, conversation, agent):
    deliver(wa.inbound(wa.system_identity_changed("Sjvjlx8G6Z0=", id="wamid.ID", timestamp=wa.T0)))

    contact = Contact.objects.get()
    assert contact.wa_id == wa.CUSTOMER_WA_ID  # the number did not change
    assert contact.identity_key_hash == "Sjvjlx8G6Z0="
    assert contact.identity_hold_reason.startswith("Their WhatsApp identity changed (a new phone or a reinstall) on ")
    assert len(hold_lines(conversation)) == 1
    assert Notification.objects.get(user=agent, kind=NotificationKind.IDENTITY).text == (
        f"{wa.CUSTOMER_NAME}'s WhatsApp identity changed: sending is held until someone acknowledges it."
    )


def test_an_unassigned_conversation_tells_the_people_who_could_take_it(deliver, conversation, agent, teammate):
    Conversation.objects.filter(pk=conversation.pk).update(assignee=None)
    outsider = UserFactory(role=Role.AGENT)  # works no team on this number
    admin = UserFactory(role=Role.ADMIN)
    manager = UserFactory(role=Role.MANAGER)  # reads, cannot acknowledge

    deliver(wa.inbound(wa.system_identity_changed("hash-2", id="wamid.ID", timestamp=wa.T0)))

    told = set(Notification.objects.filter(kind=NotificationKind.IDENTITY).values_list("user_id", flat=True))
    assert told == {agent.pk, teammate.pk, admin.pk}
    assert outsider.pk not in told and manager.pk not in told


def test_a_replayed_follow_up_changes_nothing(deliver, conversation, django_capture_on_commit_callbacks):
    payload = wa.inbound(wa.system_identity_changed("hash-1", id="wamid.ID", timestamp=wa.T0))
    deliver(payload)
    deliver(payload)  # Meta's retry: the stored message is found, nothing follows it again
    message = Message.objects.get(provider_message_id="wamid.ID")
    with django_capture_on_commit_callbacks(execute=True):
        identity.inbound_message_apply(message=message)  # the follow-up task run twice
    assert len(hold_lines(conversation)) == 1
    assert Notification.objects.filter(kind=NotificationKind.IDENTITY).count() == 1
    assert LiveEvent.objects.filter(type="identity.changed").count() == 1


def test_other_system_messages_hold_nothing(deliver, conversation):
    deliver(
        wa.inbound(
            wa.message(
                "system",
                {
                    "type": "user_changed_user_id",
                    "body": "User changed",
                    "user_id": "US.3",
                    "previous_user_id": "US.1111",
                },
                id="wamid.BSUID",
                sender=None,
            ),
            contacts=[],
        )
    )
    assert Contact.objects.get().identity_held_since is None
    assert not Notification.objects.filter(kind=NotificationKind.IDENTITY).exists()


@pytest.mark.parametrize(
    ("message_type", "content", "expected"),
    [
        ("system", {"type": "user_changed_number", "wa_id": "+39 333"}, identity.IdentityChange("number", "")),
        ("system", {"type": "user_changed_number", "wa_id": "39333"}, identity.IdentityChange("number", "39333")),
        ("system", {"type": "customer_changed_number", "new_wa_id": "1"}, identity.IdentityChange("number", "1")),
        ("system", {"type": "customer_changed_number"}, identity.IdentityChange("number", "")),
        (
            "system",
            {"type": "customer_identity_changed", "identity": {"hash": "abc"}},
            identity.IdentityChange("identity", key_hash="abc"),
        ),
        ("system", {"type": "customer_identity_changed", "identity": "junk"}, identity.IdentityChange("identity")),
        ("system", {"type": "user_changed_user_id"}, None),
        ("text", {"type": "user_changed_number", "wa_id": "1"}, None),
    ],
)
def test_what_a_message_says_changed(message_type, content, expected):
    assert identity.identity_change_of(message_type, content) == expected


# --- held: nothing goes; acknowledged: it goes again --------------------------------------------------------


def test_nothing_goes_while_held_and_it_goes_after_the_acknowledgement(deliver, conversation, agent):
    deliver(wa.inbound(wa.system_identity_changed("Sjvjlx8G6Z0=", id="wamid.ID", timestamp=wa.T0)))
    written = Message.objects.count()

    # a text inside the window is refused, and nothing is written
    with pytest.raises(outbound.SendRefused) as refused:
        send_text(conversation, agent)
    assert refused.value.code == "identity_unconfirmed"
    assert Message.objects.count() == written
    assert not OutboxEntry.objects.exists()

    # Alex checked it is her and acknowledges
    contact = Contact.objects.get()
    identity.identity_acknowledge(contact=contact, actor=agent, note="She told me her order number")
    contact.refresh_from_db()
    assert contact.identity_held_since is None and contact.identity_hold_reason == ""
    assert contact.identity_key_hash == "Sjvjlx8G6Z0="  # kept: sent with every message

    message = send_text(conversation, agent)
    assert message.direction == Direction.OUTBOUND


def test_a_message_after_the_acknowledgement_carries_the_identity_key_hash(
    deliver, conversation, agent, django_capture_on_commit_callbacks
):
    deliver(wa.inbound(wa.system_identity_changed("Sjvjlx8G6Z0=", id="wamid.ID", timestamp=wa.T0)))
    identity.identity_acknowledge(contact=Contact.objects.get(), actor=agent)
    with respx.mock(assert_all_called=True) as graph:
        route = graph.post(MESSAGES_URL).mock(
            return_value=httpx.Response(200, json={"messaging_product": "whatsapp", "messages": [{"id": "wamid.OUT"}]})
        )
        with django_capture_on_commit_callbacks(execute=True):
            send_text(conversation, agent)
    body = json.loads(route.calls.last.request.content)
    assert body["to"] == wa.CUSTOMER_WA_ID
    assert body["recipient_identity_key_hash"] == "Sjvjlx8G6Z0="


def test_the_acknowledgement_is_audited_and_written_in_the_thread(
    deliver, conversation, agent, django_capture_on_commit_callbacks
):
    deliver(wa.inbound(wa.system_changed_number(NEW_NUMBER, id="wamid.SYS", timestamp=wa.T0), contacts=[]))
    contact = Contact.objects.get()
    reason = contact.identity_hold_reason

    with django_capture_on_commit_callbacks(execute=True):
        identity.identity_acknowledge(contact=contact, actor=agent, note="  Asked   her birthday ")

    entry = AuditEntry.objects.get(action=identity.ACKNOWLEDGED)
    assert entry.actor == agent
    assert (entry.target_type, entry.target_id) == ("contact", str(contact.pk))
    assert entry.details["reason"] == reason
    assert entry.details["held_since"] == at(wa.T0).isoformat()
    assert entry.details["wa_id"] == NEW_NUMBER
    assert entry.details["note"] == "Asked her birthday"
    line = Message.objects.get(conversation=conversation, content__action=identity.ACKNOWLEDGED_ACTION)
    assert line.author == agent
    assert line.text.startswith("Alex Agent acknowledged the change (Changed their WhatsApp number to +")
    assert line.text.endswith("Note: Asked her birthday")
    assert identity.last_acknowledgement(contact) == entry
    assert LiveEvent.objects.filter(type="identity.changed", data__held=False).exists()


def test_a_manager_cannot_acknowledge(deliver, conversation):
    deliver(wa.inbound(wa.system_identity_changed("h", id="wamid.ID", timestamp=wa.T0)))
    manager = UserFactory(role=Role.MANAGER)
    with pytest.raises(IdentityRefused) as refused:
        identity.identity_acknowledge(contact=Contact.objects.get(), actor=manager)
    assert refused.value.code == "permission_denied"
    assert Contact.objects.get().identity_held_since is not None
    assert not AuditEntry.objects.filter(action=identity.ACKNOWLEDGED).exists()


def test_an_agent_who_does_not_see_the_contact_cannot_acknowledge(deliver, conversation):
    deliver(wa.inbound(wa.system_identity_changed("h", id="wamid.ID", timestamp=wa.T0)))
    with pytest.raises(IdentityRefused) as refused:
        identity.identity_acknowledge(contact=Contact.objects.get(), actor=UserFactory(role=Role.AGENT))
    assert refused.value.code == "permission_denied"


def test_nothing_to_acknowledge_is_refused_clearly(conversation, agent):
    with pytest.raises(IdentityRefused) as refused:
        identity.identity_acknowledge(contact=conversation.contact, actor=agent)
    assert refused.value.code == "nothing_to_acknowledge"
    assert "not held" in refused.value.detail
    assert not AuditEntry.objects.filter(action=identity.ACKNOWLEDGED).exists()


def test_a_note_too_long_is_refused(deliver, conversation, agent):
    deliver(wa.inbound(wa.system_identity_changed("h", id="wamid.ID", timestamp=wa.T0)))
    with pytest.raises(IdentityRefused) as refused:
        identity.identity_acknowledge(contact=Contact.objects.get(), actor=agent, note="x" * (identity.NOTE_MAX + 1))
    assert refused.value.code == "note_too_long"
    assert Contact.objects.get().identity_held_since is not None


def test_a_new_change_after_an_acknowledgement_holds_again(deliver, conversation, agent):
    deliver(wa.inbound(wa.system_identity_changed("h1", id="wamid.ID1", timestamp=wa.T0)))
    identity.identity_acknowledge(contact=Contact.objects.get(), actor=agent)
    deliver(wa.inbound(wa.system_identity_changed("h2", id="wamid.ID2", timestamp=wa.T0 + 3600)))
    contact = Contact.objects.get()
    assert contact.identity_held_since == at(wa.T0 + 3600)
    assert contact.identity_key_hash == "h2"
