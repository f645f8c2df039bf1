"""The consent ledger: a person's entries, the customer's STOP/START keywords in seven languages, an ad's
referral and a first message, WhatsApp's `user_preferences`, 131050 failures, and the pre-send guard that
reads the ledger. No network: sends stay queued (their delivery task runs on commit, which these tests do
not execute unless they say so) and the Graph API is mocked where a worker runs."""

from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from accounts.models import AuditEntry, Role
from inbox import policy
from inbox.models import (
    ChannelAutomation,
    ConsentAction,
    ConsentEvent,
    ConsentSource,
    Conversation,
    Direction,
    Initiator,
    LiveEvent,
    ManagementEvent,
    Message,
    MessageStatus,
)
from inbox.services import consent
from inbox.services.outbound import SendRefused, message_send
from tests.factories import (
    ChannelFactory,
    ContactFactory,
    ConversationFactory,
    MessageFactory,
    UserFactory,
    consenting,
    live_template,
    worked_by,
)
from tests.inbox import whatsapp_payloads as wa

pytestmark = pytest.mark.django_db


@pytest.fixture
def channel():
    return ChannelFactory(phone_number_id=wa.PHONE_NUMBER_ID)


@pytest.fixture
def conversation(channel):
    return ConversationFactory(channel=channel, contact=ContactFactory(wa_id=wa.CUSTOMER_WA_ID))


@pytest.fixture
def agent(channel):
    agent = UserFactory(role=Role.AGENT)
    worked_by(agent, channel)
    return agent


def customer_says(conversation: Conversation, text: str, *, at=None, type: str = "text", **content) -> Message:
    """A new inbound message; the window opens as ingest would open it."""
    at = at or timezone.now()
    Conversation.objects.filter(pk=conversation.pk).update(
        last_inbound_at=at, service_window_closes_at=at + policy.SERVICE_WINDOW
    )
    return MessageFactory(
        conversation=conversation, type=type, text=text, content={"body": text, **content}, timestamp=at
    )


def confirmations(conversation: Conversation) -> list[str]:
    return list(
        Message.objects.filter(conversation=conversation, direction=Direction.OUTBOUND, initiator=Initiator.AUTOMATION)
        .order_by("id")
        .values_list("text", flat=True)
    )


def ledger(contact) -> list[tuple[str, str, str]]:
    return list(ConsentEvent.objects.filter(contact=contact).order_by("id").values_list("purpose", "action", "source"))


# --- A person's entry --------------------------------------------------------------------------------------


def test_an_agents_entry_is_appended_and_audited(conversation, agent):
    contact = conversation.contact
    event = consent.consent_record(
        contact=contact,
        purpose="marketing",
        action="opt_in",
        source="ivr",
        actor=agent,
        evidence="Pressed 1 on the call",
        reason="She agreed on the phone",
    )
    assert (event.actor, event.reason, event.evidence) == (agent, "She agreed on the phone", "Pressed 1 on the call")
    assert consent.consent_state(contact_id=contact.pk).opted_in == {"marketing"}
    audit = AuditEntry.objects.get(action="consent.recorded")
    assert (audit.actor, audit.target_id, audit.details["purpose"]) == (agent, str(contact.pk), "marketing")


def test_an_agents_entry_needs_a_reason(conversation, agent):
    with pytest.raises(consent.ConsentRefused) as refused:
        consent.consent_record(
            contact=conversation.contact, purpose="marketing", action="opt_in", source="agent", actor=agent, reason=" "
        )
    assert (refused.value.code, refused.value.field) == ("reason_required", "reason")
    assert not ConsentEvent.objects.exists()


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"purpose": "promotions"}, "invalid_purpose"),
        ({"action": "maybe"}, "invalid_action"),
        ({"source": "rumour"}, "invalid_source"),
        # Only the customer's own words and WhatsApp produce these: a person cannot claim them.
        ({"source": "keyword"}, "invalid_source"),
        ({"source": "user_preferences"}, "invalid_source"),
        ({"reason": "x" * (consent.REASON_MAX + 1)}, "reason_too_long"),
        ({"evidence": "x" * (consent.EVIDENCE_MAX + 1)}, "evidence_too_long"),
        ({"occurred_at": timezone.now() + timedelta(days=1)}, "invalid_time"),
    ],
)
def test_bad_entries_are_refused_with_a_stable_code(conversation, agent, fields, code):
    entry = {"purpose": "utility", "action": "opt_in", "source": "agent", "reason": "Asked in the shop", **fields}
    with pytest.raises(consent.ConsentRefused) as refused:
        consent.consent_record(contact=conversation.contact, actor=agent, **entry)
    assert refused.value.code == code
    assert refused.value.detail
    assert not ConsentEvent.objects.exists()


def test_managers_only_read(conversation, channel):
    manager = UserFactory(role=Role.MANAGER)
    with pytest.raises(consent.ConsentRefused) as refused:
        consent.consent_record(
            contact=conversation.contact, purpose="utility", action="opt_in", source="agent", actor=manager, reason="x"
        )
    assert refused.value.code == "permission_denied"


def test_the_ledger_only_grows(conversation, agent):
    contact = conversation.contact
    first = consent.consent_record(
        contact=contact, purpose="marketing", action="opt_in", source="website_form", actor=agent, reason="Form"
    )
    consent.consent_record(
        contact=contact, purpose="marketing", action="opt_out", source="agent", actor=agent, reason="Asked to stop"
    )
    first.refresh_from_db()
    assert first.action == ConsentAction.OPT_IN  # untouched
    assert ledger(contact) == [("marketing", "opt_in", "website_form"), ("marketing", "opt_out", "agent")]
    assert consent.consent_state(contact_id=contact.pk).opted_out == {"marketing"}


def test_an_entry_tells_the_open_panels(conversation, agent, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        consent.consent_record(
            contact=conversation.contact, purpose="utility", action="opt_in", source="agent", actor=agent, reason="x"
        )
    event = LiveEvent.objects.get(type="consent.changed")
    assert (event.channel_id, event.conversation_id) == (conversation.channel_id, conversation.pk)
    assert event.data == {
        "contact_id": conversation.contact_id,
        "conversation_id": conversation.pk,
        "purpose": "utility",
        "action": "opt_in",
    }


# --- STOP and START ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("STOP", "en"),
        ("Stop!", "en"),
        ("  unsubscribe. ", "en"),
        ("basta", "it"),
        ("Cancellami", "it"),
        ("arrêt", "fr"),
        ("ARRÊTE", "fr"),
        ("Désabonner", "fr"),
        ("baja", "es"),
        ("Darme de baja", "es"),
        ("parar", "es"),  # Spanish and Portuguese share it; Spanish comes first
        ("Pare.", "pt"),
        ("descadastrar", "pt"),
        ("stopp", "de"),
        ("Abmelden", "de"),
        ("стоп", "ru"),
        ("СТОП!", "ru"),
        ("Отписаться", "ru"),
    ],
)
def test_stop_in_each_language_withdraws_marketing_and_utility(conversation, text, language):
    contact = consenting(conversation.contact, "marketing", "utility")
    message = customer_says(conversation, text)
    assert consent.inbound_message_apply(message=message) is True
    state = consent.consent_state(contact_id=contact.pk)
    assert state.opted_out == {"marketing", "utility"}
    stops = ConsentEvent.objects.filter(contact=contact, source=ConsentSource.KEYWORD)
    assert {(e.action, e.message_id, e.channel_id) for e in stops} == {
        (ConsentAction.OPT_OUT, message.pk, conversation.channel_id)
    }
    assert stops.first().evidence == f"“{' '.join(text.split())}”"
    [confirmation] = confirmations(conversation)
    assert confirmation == consent.STOP_CONFIRMATIONS[language] % {"start": policy.START_KEYWORDS[language][0].upper()}


@pytest.mark.parametrize(
    "text",
    [
        "Please don't stop the delivery",
        "stop sending me the wrong size please",
        "Can you stop by tomorrow?",
        "stopped",
        "",
    ],
)
def test_a_sentence_is_conversation_not_a_command(conversation, text):
    message = customer_says(conversation, text)
    assert consent.inbound_message_apply(message=message) is False
    assert not ConsentEvent.objects.filter(source=ConsentSource.KEYWORD).exists()
    assert confirmations(conversation) == []


def test_stop_is_confirmed_once(conversation):
    consenting(conversation.contact, "marketing", "utility")
    assert consent.inbound_message_apply(message=customer_says(conversation, "STOP"))
    assert consent.inbound_message_apply(message=customer_says(conversation, "stop"))
    assert len(confirmations(conversation)) == 1
    assert ConsentEvent.objects.filter(source=ConsentSource.KEYWORD).count() == 2  # one per purpose, once


def test_start_restores_what_stop_withdrew(conversation):
    contact = consenting(conversation.contact, "marketing", "utility", at=timezone.now() - timedelta(days=10))
    now = timezone.now()
    consent.inbound_message_apply(message=customer_says(conversation, "STOP", at=now - timedelta(minutes=5)))
    assert consent.inbound_message_apply(message=customer_says(conversation, "Start", at=now)) is True
    state = consent.consent_state(contact_id=contact.pk)
    assert state.opted_in == {"marketing", "utility"} and not state.opted_out
    assert confirmations(conversation)[-1] == consent.START_CONFIRMATIONS["en"] % {"stop": "STOP"}
    # Already opted in: a second START changes nothing and is not answered.
    consent.inbound_message_apply(message=customer_says(conversation, "start"))
    assert len(confirmations(conversation)) == 2


def test_the_contacts_language_wins_when_the_word_is_theirs_too(conversation):
    conversation.contact.language = "it_IT"
    conversation.contact.save()
    consent.inbound_message_apply(message=customer_says(conversation, "Stop"))
    assert confirmations(conversation) == [consent.STOP_CONFIRMATIONS["it"] % {"start": "ISCRIVIMI"}]


def test_a_stop_in_the_same_second_as_an_agents_entry_wins(conversation, agent):
    """Meta's timestamps are whole seconds: a STOP written in the second the agent recorded an opt-in (and
    reaching us after it) is the customer's latest word."""
    second = timezone.now().replace(microsecond=0)
    consent.consent_record(
        contact=conversation.contact,
        purpose="marketing",
        action="opt_in",
        source="agent",
        actor=agent,
        reason="On the phone",
        occurred_at=second.replace(microsecond=500_000),
    )
    consent.inbound_message_apply(message=customer_says(conversation, "STOP", at=second))
    assert consent.consent_state(contact_id=conversation.contact_id).opted_out == {"marketing", "utility"}


def test_a_late_stop_does_not_outrank_a_newer_entry(conversation, agent):
    """A STOP Meta delivers late (written before an agent's later opt-in) is older: the newer entry stands,
    and the customer is not told something that is not true."""
    consent.consent_record(
        contact=conversation.contact, purpose="marketing", action="opt_in", source="agent", actor=agent, reason="x"
    )
    late = customer_says(conversation, "STOP", at=timezone.now() - timedelta(minutes=10))
    assert consent.inbound_message_apply(message=late) is True
    state = consent.consent_state(contact_id=conversation.contact_id)
    assert state.opted_in == {"marketing"} and state.opted_out == {"utility"}
    assert len(confirmations(conversation)) == 1  # utility changed


def test_a_channels_own_keywords_replace_the_built_in_ones(conversation):
    ChannelAutomation.objects.create(
        channel=conversation.channel, stop_keywords=["Cancel offers"], start_keywords=["Offers please"]
    )
    assert consent.inbound_message_apply(message=customer_says(conversation, "stop")) is False
    assert consent.inbound_message_apply(message=customer_says(conversation, "cancel offers!")) is True
    assert consent.consent_state(contact_id=conversation.contact_id).opted_out == {"marketing", "utility"}
    assert confirmations(conversation) == [consent.STOP_CONFIRMATIONS["en"] % {"start": "OFFERS PLEASE"}]
    assert consent.inbound_message_apply(message=customer_says(conversation, "Offers, please")) is True
    assert consent.consent_state(contact_id=conversation.contact_id).opted_in == {"marketing", "utility"}


def test_an_empty_channel_list_keeps_the_built_in_ones(conversation):
    ChannelAutomation.objects.create(channel=conversation.channel, stop_keywords=[], start_keywords=[])
    assert consent.inbound_message_apply(message=customer_says(conversation, "basta")) is True


def test_help_words_are_left_to_the_automations(conversation):
    assert consent.inbound_message_apply(message=customer_says(conversation, "operator")) is False


def test_a_refused_confirmation_still_records_the_stop(conversation):
    contact = conversation.contact
    contact.identity_held_since = timezone.now()
    contact.save()
    assert consent.inbound_message_apply(message=customer_says(conversation, "STOP")) is True
    assert consent.consent_state(contact_id=contact.pk).opted_out == {"marketing", "utility"}
    assert confirmations(conversation) == []


def test_only_the_customer_writing_counts(conversation):
    for message_type in ("system", "edit", "revoke", "request_welcome"):
        message = customer_says(conversation, "STOP", type=message_type)
        assert consent.inbound_message_apply(message=message) is False
    assert not ConsentEvent.objects.exists()


# --- Referral and first contact -----------------------------------------------------------------------------

REFERRAL = {
    "source_url": "https://fb.me/2ZulEu42P",
    "source_id": "120226305854810726",
    "source_type": "ad",
    "headline": "Spring sale <b>50%</b>",
    "body": "Tap to chat",
    "media_type": "image",
    "ctwa_clid": "ARAkLkA8rmlFeiCktEJQ-QTwRiyYHAFDLMNDBH0CD3qpjd0HR4irJ6LEkR7JwFF4XvnO2E4Nx0-eM-GABDLOPaOdRMXP",
}


def test_an_ads_referral_records_a_utility_opt_in_with_the_ad(conversation):
    message = customer_says(conversation, "Is it still on sale?", referral=REFERRAL)
    assert consent.inbound_message_apply(message=message) is False
    [event] = ConsentEvent.objects.filter(contact=conversation.contact)
    assert (event.purpose, event.action, event.source, event.message) == (
        "utility",
        "opt_in",
        ConsentSource.CLICK_TO_WHATSAPP_AD,
        message,
    )
    for value in ("Spring sale <b>50%</b>", REFERRAL["source_url"], REFERRAL["source_id"], REFERRAL["ctwa_clid"]):
        assert value in event.evidence
    # Marketing is never inferred.
    assert "marketing" not in consent.consent_state(contact_id=conversation.contact_id).opted_in


def test_a_referral_does_not_undo_a_stop(conversation):
    consent.inbound_message_apply(message=customer_says(conversation, "STOP", at=timezone.now() - timedelta(hours=1)))
    consent.inbound_message_apply(message=customer_says(conversation, "Hi again", referral=REFERRAL))
    assert consent.consent_state(contact_id=conversation.contact_id).opted_out == {"marketing", "utility"}


def test_a_first_message_records_a_customer_initiated_utility_opt_in(conversation, channel):
    message = customer_says(conversation, "Hello, where is my order #77?")
    assert consent.inbound_message_apply(message=message) is False
    [event] = ConsentEvent.objects.filter(contact=conversation.contact)
    assert (event.purpose, event.action, event.source) == ("utility", "opt_in", ConsentSource.CUSTOMER_INITIATED)
    assert channel.name in event.evidence and "“Hello, where is my order #77?”" in event.evidence
    assert event.occurred_at == message.timestamp
    # Later messages add nothing.
    consent.inbound_message_apply(message=customer_says(conversation, "Any news?"))
    assert ConsentEvent.objects.count() == 1
    assert confirmations(conversation) == []


def test_the_whole_path_from_the_webhook(client, channel, django_capture_on_commit_callbacks):
    """A STOP posted to the webhook: ingest stores it, the follow-up task records the opt-out and queues
    the confirmation."""
    with django_capture_on_commit_callbacks(execute=True):
        response = wa.post(
            client, wa.inbound(wa.text("Hi", id="wamid.FIRST", timestamp=int(timezone.now().timestamp())))
        )
    assert response.status_code == 200
    contact = Conversation.objects.get().contact
    assert ledger(contact) == [("utility", "opt_in", "customer_initiated")]
    with django_capture_on_commit_callbacks(execute=True):
        wa.post(client, wa.inbound(wa.text("STOP", id="wamid.STOP", timestamp=int(timezone.now().timestamp()) + 1)))
    assert consent.consent_state(contact_id=contact.pk).opted_out == {"marketing", "utility"}
    assert Message.objects.filter(initiator=Initiator.AUTOMATION, text__startswith="You will no longer").exists()


# --- WhatsApp's marketing preference ------------------------------------------------------------------------


@pytest.fixture
def deliver(client, channel, django_capture_on_commit_callbacks):
    def deliver(*changes):
        with django_capture_on_commit_callbacks(execute=True):
            response = wa.post(client, wa.delivery(*changes, time=wa.T0))
        assert response.status_code == 200

    return deliver


def test_user_preferences_stop_and_resume(conversation, deliver):
    contact = consenting(conversation.contact, "marketing", at=timezone.now() - timedelta(days=30))
    customer_says(conversation, "hi", at=timezone.now() - timedelta(hours=1))  # the window is open
    stopped_at = int(timezone.now().timestamp()) - 60
    deliver(wa.user_preferences("stop", timestamp=stopped_at))
    event = ConsentEvent.objects.filter(contact=contact).latest("id")
    assert (event.purpose, event.action, event.source) == ("marketing", "opt_out", ConsentSource.USER_PREFERENCES)
    assert event.evidence == "User requested to stop marketing messages"
    assert int(event.occurred_at.timestamp()) == stopped_at
    assert event.channel == conversation.channel
    assert ManagementEvent.objects.get(field="user_preferences").handled
    assert confirmations(conversation) == [consent.MARKETING_STOP_CONFIRMATIONS["en"]]
    # Replayed by Meta: the same delivery is kept once. A second stop with another time changes nothing.
    deliver(wa.user_preferences("stop", timestamp=stopped_at))
    deliver(wa.user_preferences("stop", timestamp=stopped_at + 5))
    assert ConsentEvent.objects.filter(source=ConsentSource.USER_PREFERENCES).count() == 1
    assert len(confirmations(conversation)) == 1
    deliver(wa.user_preferences("resume", detail="User resumed marketing messages", timestamp=stopped_at + 30))
    assert consent.consent_state(contact_id=contact.pk).opted_in == {"marketing"}
    assert confirmations(conversation)[-1] == consent.MARKETING_RESUME_CONFIRMATIONS["en"]


def test_the_recorded_user_preferences_payload(client, conversation, django_capture_on_commit_callbacks):
    raw = (Path(__file__).parent / "providers/whatsapp_cloud/payloads/user_preferences_stop.json").read_bytes()
    with django_capture_on_commit_callbacks(execute=True):
        assert wa.post(client, raw).status_code == 200
    event = ConsentEvent.objects.get()
    assert (event.contact, event.purpose, event.action) == (conversation.contact, "marketing", "opt_out")
    assert int(event.occurred_at.timestamp()) == 1731705721


def test_user_preferences_outside_the_window_is_recorded_without_a_message(conversation, deliver):
    customer_says(conversation, "hi", at=timezone.now() - timedelta(days=3))
    deliver(wa.user_preferences("stop"))
    assert consent.consent_state(contact_id=conversation.contact_id).opted_out == {"marketing"}
    assert confirmations(conversation) == []


def test_user_preferences_of_an_unknown_customer_creates_nothing(channel, deliver):
    deliver(wa.user_preferences("stop", wa_id="393331234567"))
    assert not ConsentEvent.objects.exists()
    assert ManagementEvent.objects.get(field="user_preferences").handled


def test_other_preference_categories_are_ignored(conversation, deliver):
    deliver(wa.user_preferences("stop", category="offers_and_announcements"))
    assert not ConsentEvent.objects.exists()


def test_a_131050_failure_records_the_marketing_stop(conversation):
    failed = MessageFactory(
        conversation=conversation,
        direction=Direction.OUTBOUND,
        type="template",
        status=MessageStatus.FAILED,
        status_at=timezone.now(),
        error_code=consent.MARKETING_STOPPED_ERROR,
    )
    assert consent.marketing_stop_from_failure(message=failed)
    event = ConsentEvent.objects.get()
    assert (event.purpose, event.action, event.message) == ("marketing", "opt_out", failed)
    assert not consent.marketing_stop_from_failure(message=failed)  # once


def test_a_131050_status_webhook_records_the_marketing_stop(conversation, deliver):
    sent = MessageFactory(
        conversation=conversation,
        direction=Direction.OUTBOUND,
        type="template",
        status=MessageStatus.SENT,
        provider_message_id="wamid.MKT1",
    )
    error = {
        "code": 131050,
        "title": "Unable to deliver the message. This recipient has chosen to stop "
        "receiving marketing messages on WhatsApp from your business.",
        "message": "…",
    }
    deliver(wa.messages_change(statuses=[wa.status("wamid.MKT1", "failed", timestamp=wa.T0 + 60, errors=[error])]))
    event = ConsentEvent.objects.get(purpose="marketing")
    assert (event.action, event.source, event.message_id) == ("opt_out", "user_preferences", sent.pk)
    deliver(wa.messages_change(statuses=[wa.status("wamid.MKT1", "failed", timestamp=wa.T0 + 60, errors=[error])]))
    assert ConsentEvent.objects.filter(purpose="marketing").count() == 1  # a replay records nothing more


# --- The pre-send guard reads the ledger --------------------------------------------------------------------

VALUES = {"header.1": "#77", "body.1": "Ana", "body.2": "#77"}


def test_a_marketing_template_is_refused_after_stop(conversation, agent):
    contact = consenting(conversation.contact, "marketing", "utility", at=timezone.now() - timedelta(days=10))
    template = live_template(waba_id=conversation.channel.waba_id, name="spring_sale", category="MARKETING")
    two_days_ago = timezone.now() - timedelta(days=2)
    payload = {"template_id": template.pk, "values": VALUES}
    # Outside the window, with the opt-in: it may go.
    customer_says(conversation, "thanks", at=two_days_ago - timedelta(minutes=1))
    assert message_send(conversation=conversation, author=agent, kind="template", payload=payload).pk
    # The customer sent STOP two days ago (its confirmation could not go: that window is closed now).
    consent.inbound_message_apply(message=customer_says(conversation, "STOP", at=two_days_ago))
    assert consent.consent_state(contact_id=contact.pk).opted_out == {"marketing", "utility"}
    with pytest.raises(SendRefused) as refused:
        message_send(conversation=conversation, author=agent, kind="template", payload=payload)
    assert refused.value.code == "opted_out"


# --- The demo ------------------------------------------------------------------------------------------------


def test_the_demo_customers_opt_in_to_marketing_and_utility(settings):
    from django.core.management import call_command

    from inbox.demo import SANDBOX_PHONE_NUMBER_ID
    from inbox.models import Channel

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    call_command("seed_demo")
    sandbox = Channel.objects.get(phone_number_id=SANDBOX_PHONE_NUMBER_ID)
    wrote = ConversationFactory(channel=sandbox).contact
    stopped = ConversationFactory(channel=sandbox).contact
    consent.inbound_message_apply(message=customer_says(stopped.conversations.get(), "STOP"))
    call_command("seed_demo")
    call_command("seed_demo")
    assert ledger(wrote) == [("marketing", "opt_in", "website_form"), ("utility", "opt_in", "website_form")]
    assert consent.consent_state(contact_id=stopped.pk).opted_out == {"marketing", "utility"}  # a STOP stays
