"""Auto-replies and the way to a person: nothing automated can be switched on without an escalation route,
welcome and away replies go when they should (and only then), and asking for a person, in any of the seven
languages or with the "Talk to a person" button, hands the conversation to people at once."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import AuditEntry, Presence, Role
from inbox import policy
from inbox.models import AutoReply, ChannelAutomation, Conversation, Direction, Initiator, Message, MessageType
from inbox.services import automations
from inbox.services.automations import AutomationRefused
from tests.factories import (
    ChannelFactory,
    ContactFactory,
    ConversationFactory,
    MessageFactory,
    TeamFactory,
    UserFactory,
    escalation_route,
)

ALL_DAY = {day: [["00:00", "24:00"]] for day in policy.WEEKDAYS}
NEVER = {day: [] for day in policy.WEEKDAYS}


@pytest.fixture
def admin(db):
    return UserFactory(role=Role.ADMIN, name="Ada Admin")


@pytest.fixture
def channel(db):
    return ChannelFactory()


@pytest.fixture
def agents(channel):
    return [
        UserFactory(name=name, role=Role.AGENT, presence=Presence.ONLINE, max_open_conversations=10)
        for name in ("Alex", "Bea")
    ]


@pytest.fixture
def team(channel, agents):
    return TeamFactory(name="Support", channels=[channel], members=agents)


@pytest.fixture
def route(channel, team):
    return escalation_route(channel)


@pytest.fixture
def conversation(channel):
    now = timezone.now()
    return ConversationFactory(
        channel=channel,
        contact=ContactFactory(profile_name="Ana"),
        last_inbound_at=now,
        service_window_closes_at=now + timedelta(hours=24),
    )


def reply(channel, kind="welcome", text="Hi! How can we help?", **fields) -> AutoReply:
    return AutoReply.objects.create(
        channel=channel, kind=kind, name=fields.pop("name", kind), text=text, enabled=True, **fields
    )


def inbound(conversation, text="Hello", type_="text", content=None) -> Message:
    message = MessageFactory(
        conversation=conversation,
        type=type_,
        text=text,
        content=content if content is not None else {"body": text},
    )
    automations.inbound_message_apply(message=message)
    return message


def automated(conversation) -> list[Message]:
    return list(
        Message.objects.filter(
            conversation=conversation, direction=Direction.OUTBOUND, initiator=Initiator.AUTOMATION
        ).order_by("pk")
    )


def buttons_of(message: Message) -> list[tuple[str, str]]:
    return [(b["reply"]["id"], b["reply"]["title"]) for b in message.content["action"]["buttons"]]


# --- Switching on needs a route ------------------------------------------------------------------------------


def test_an_auto_reply_cannot_be_switched_on_without_an_escalation_route(admin, channel, team):
    with pytest.raises(AutomationRefused) as refused:
        automations.auto_reply_create(actor=admin, channel=channel, kind="welcome", name="Hi", text="Hi!", enabled=True)
    assert refused.value.code == "no_escalation_route"
    assert not AutoReply.objects.exists()
    # Switched off it may be prepared.
    draft = automations.auto_reply_create(actor=admin, channel=channel, kind="welcome", name="Hi", text="Hi!")
    assert draft.enabled is False
    with pytest.raises(AutomationRefused):
        automations.auto_reply_update(actor=admin, auto_reply=draft, enabled=True)

    escalation_route(channel)
    switched_on = automations.auto_reply_update(actor=admin, auto_reply=draft, enabled=True)
    assert switched_on.enabled is True
    assert AuditEntry.objects.filter(action="auto_reply.updated", target_id=str(draft.pk)).exists()


def test_a_route_needs_a_team(admin, channel):
    escalation_route(channel)  # complete, but no team works the channel and none is chosen
    with pytest.raises(AutomationRefused) as refused:
        automations.auto_reply_create(actor=admin, channel=channel, kind="welcome", name="Hi", text="Hi!", enabled=True)
    assert refused.value.code == "no_escalation_route"
    assert "team" in refused.value.detail


def test_a_keyword_route_must_name_a_keyword(admin, channel, route):
    with pytest.raises(AutomationRefused) as refused:
        automations.auto_reply_create(
            actor=admin,
            channel=channel,
            kind="welcome",
            name="Hi",
            text="Hi there!",
            human_route="keywords",
            enabled=True,
        )
    assert refused.value.code == "no_human_route"
    named = automations.auto_reply_create(
        actor=admin,
        channel=channel,
        kind="welcome",
        name="Hi",
        text="Hi there! Reply AGENT to talk to a person.",
        human_route="keywords",
        enabled=True,
    )
    assert named.enabled
    # The channel's own words replace the built-in ones: "agent" would no longer hand over.
    with pytest.raises(AutomationRefused) as refused:
        automations.automation_update(actor=admin, channel=channel, human_keywords=["zebra"])
    assert refused.value.code == "no_human_route"


def test_the_route_cannot_be_broken_while_an_automation_is_on(admin, channel, route):
    reply(channel)
    with pytest.raises(AutomationRefused) as refused:
        automations.automation_update(actor=admin, channel=channel, fallback_text="")
    assert refused.value.code == "no_escalation_route"
    assert ChannelAutomation.objects.get(channel=channel).fallback_text  # unchanged


def test_the_bot_needs_a_route_and_its_address(admin, channel, team):
    with pytest.raises(AutomationRefused) as refused:
        automations.automation_update(actor=admin, channel=channel, bot_enabled=True)
    assert refused.value.code == "bot_not_configured"
    with pytest.raises(AutomationRefused) as refused:
        automations.automation_update(
            actor=admin, channel=channel, bot_enabled=True, bot_url="https://bot.example.com/", bot_secret="s"
        )
    assert refused.value.code == "no_escalation_route"
    with pytest.raises(AutomationRefused) as refused:
        automations.automation_update(actor=admin, channel=channel, bot_url="ftp://bot.example.com/")
    assert refused.value.code == "invalid"
    escalation_route(channel)
    automation = automations.automation_update(
        actor=admin, channel=channel, bot_enabled=True, bot_url="https://bot.example.com/", bot_secret="s"
    )
    assert automation.bot_enabled
    entry = AuditEntry.objects.get(action="automation.updated")
    assert entry.details["bot_secret"] == ["", "(set)"]  # never the secret itself


def test_only_admins_change_automations(channel, route, agents):
    with pytest.raises(AutomationRefused) as refused:
        automations.automation_update(actor=agents[0], channel=channel, time_zone="Europe/Rome")
    assert refused.value.code == "permission_denied"


# --- Welcome, away, keyword replies ------------------------------------------------------------------------------


def test_the_welcome_goes_once_with_the_button(route, channel, conversation):
    reply(channel, "welcome", "Hi! How can we help?")
    inbound(conversation, "Hello")
    inbound(conversation, "Are you there?")

    sent = automated(conversation)
    assert [m.text for m in sent] == ["Hi! How can we help?"]
    assert sent[0].type == "interactive"
    assert buttons_of(sent[0]) == [("switchboard_human", "Talk to a person")]
    conversation.refresh_from_db()
    assert conversation.human_route_offered_at == sent[0].created_at


def test_the_welcome_answers_a_chat_opened(route, channel, conversation):
    reply(channel, "welcome", "Hi! How can we help?")
    reply(channel, "away", "We are closed.", name="Away")
    ChannelAutomation.objects.filter(channel=channel).update(business_hours=NEVER)
    inbound(conversation, "", type_="request_welcome", content={})
    assert [m.text for m in automated(conversation)] == ["Hi! How can we help?"]


def test_away_only_outside_business_hours(route, channel, conversation):
    reply(channel, "away", "We are closed now.")
    ChannelAutomation.objects.filter(channel=channel).update(business_hours=ALL_DAY)
    inbound(conversation, "Hello")
    assert automated(conversation) == []

    ChannelAutomation.objects.filter(channel=channel).update(business_hours=NEVER)
    inbound(conversation, "Hello?")
    inbound(conversation, "Anyone?")  # at most once per conversation in 12 hours
    assert [m.text for m in automated(conversation)] == ["We are closed now."]

    Conversation.objects.filter(pk=conversation.pk).update(away_sent_at=timezone.now() - policy.AWAY_REPLY_INTERVAL)
    inbound(conversation, "Good morning?")
    assert [m.text for m in automated(conversation)] == ["We are closed now.", "We are closed now."]


def test_a_keyword_reply_answers_the_whole_message_alone(route, channel, conversation):
    reply(channel, "welcome", "Hi!")
    reply(
        channel,
        "keyword",
        "We are open 9 to 5. Reply AGENT to talk to a person.",
        keywords=["hours"],
        human_route="keywords",
    )
    inbound(conversation, "Hours?")
    sent = automated(conversation)
    assert [(m.type, m.text) for m in sent] == [("text", "We are open 9 to 5. Reply AGENT to talk to a person.")]
    inbound(conversation, "what are your hours today")  # not the whole message: conversation, not a command
    assert len(automated(conversation)) == 1


def test_switched_off_replies_do_nothing(route, channel, conversation):
    AutoReply.objects.create(channel=channel, kind="welcome", name="Hi", text="Hi!", enabled=False)
    inbound(conversation, "Hello")
    assert automated(conversation) == []


@pytest.mark.parametrize("type_", ["system", "reaction", "edit", "revoke"])
def test_notices_edits_and_reactions_get_no_reply(route, channel, conversation, type_):
    reply(channel, "welcome", "Hi!")
    inbound(conversation, "", type_=type_, content={})
    assert automated(conversation) == []


def test_a_refused_send_is_skipped(route, channel, conversation):
    reply(channel, "welcome", "Hi!")
    Conversation.objects.filter(pk=conversation.pk).update(last_inbound_at=timezone.now() - timedelta(days=2))
    inbound(conversation, "Hello")  # the window is closed (as the policy sees it): nothing goes, nothing raises
    assert automated(conversation) == []


# --- Asking for a person ------------------------------------------------------------------------------------------

SEVEN_LANGUAGES = [
    ("en", "Talk to a person", "Thanks — a person will answer here shortly."),
    ("it", "Operatore!", "Grazie — una persona ti risponderà qui a breve."),
    ("fr", "Parler à quelqu'un", "Merci — une personne va vous répondre ici très bientôt."),
    ("es", "Hablar con una persona", "Gracias — una persona te responderá aquí en breve."),
    ("pt", "Atendente", "Obrigado — uma pessoa vai responder aqui em breve."),
    ("de", "Mit einem Menschen sprechen", "Danke — ein Mensch antwortet Ihnen hier in Kürze."),
    ("ru", "Позовите человека", "Спасибо — скоро здесь ответит человек."),
]


@pytest.mark.parametrize(("language", "words", "answer"), SEVEN_LANGUAGES)
def test_asking_for_a_person_hands_over_at_once(route, channel, conversation, agents, language, words, answer):
    reply(channel, "welcome", "Hi!")
    message = inbound(conversation, words)

    conversation.refresh_from_db()
    assert conversation.handled_by == "human"
    assert conversation.handover_reason == "asked"
    assert conversation.handover_at == message.created_at
    assert conversation.escalation_level == 0
    assert conversation.assignee in agents
    assert [m.text for m in automated(conversation)] == [answer]  # no welcome: the request comes first
    lines = Message.objects.filter(conversation=conversation, type=MessageType.ACTIVITY).values_list("text", flat=True)
    assert "Handed to the team: the customer asked for a person" in lines


def test_tapping_talk_to_a_person_hands_over(route, channel, conversation):
    reply(channel, "welcome", "Hi!")
    content = {"type": "button_reply", "button_reply": {"id": "switchboard_human", "title": "Parla con operatore"}}
    inbound(conversation, "Parla con operatore", type_="interactive", content=content)
    conversation.refresh_from_db()
    assert (conversation.handled_by, conversation.handover_reason) == ("human", "asked")
    assert conversation.handover_at is not None


def test_the_channels_own_words_replace_the_built_in_ones(route, channel, conversation):
    reply(channel, "welcome", "Hi!")
    ChannelAutomation.objects.filter(channel=channel).update(human_keywords=["zebra"])
    inbound(conversation, "agent")
    conversation.refresh_from_db()
    assert conversation.handover_at is None
    inbound(conversation, "ZEBRA")
    conversation.refresh_from_db()
    assert conversation.handover_at is not None


def test_without_automations_asking_for_a_person_changes_nothing(route, conversation):
    inbound(conversation, "agent")
    conversation.refresh_from_db()
    assert conversation.handover_at is None
    assert automated(conversation) == []


def test_asking_twice_does_not_restart_the_clock(route, channel, conversation):
    reply(channel, "welcome", "Hi!")
    first = inbound(conversation, "agent")
    inbound(conversation, "AGENT!!")
    conversation.refresh_from_db()
    assert conversation.handover_at == first.created_at
    assert len(automated(conversation)) == 1


def test_the_escalation_team_takes_the_handover(route, channel, conversation, agents):
    specialist = UserFactory(name="Sam", role=Role.AGENT, presence=Presence.ONLINE, max_open_conversations=5)
    experts = TeamFactory(name="Experts", channels=[channel], members=[specialist])
    ChannelAutomation.objects.filter(channel=channel).update(escalation_team=experts)
    reply(channel, "welcome", "Hi!")
    inbound(conversation, "agent")
    conversation.refresh_from_db()
    assert (conversation.team, conversation.assignee) == (experts, specialist)


def test_the_contacts_language_is_used_for_a_button_tap(route, channel, conversation):
    reply(channel, "welcome", "Hi!")
    conversation.contact.language = "pt_BR"
    conversation.contact.save()
    content = {"type": "button_reply", "button_reply": {"id": "switchboard_human", "title": "Falar com pessoa"}}
    inbound(conversation, "Falar com pessoa", type_="interactive", content=content)
    assert [m.text for m in automated(conversation)] == ["Obrigado — uma pessoa vai responder aqui em breve."]
