"""The bot hook (httpx mocked with respx): a signed request per customer message, the reply relayed with the
way to a person added, two failures in a row or one timeout hand over; and the demo bot at /simulator/bot/."""

import hashlib
import hmac
import json
from datetime import timedelta

import httpx
import pytest
import respx
from django.test import Client
from django.utils import timezone

from accounts.models import Presence, Role
from inbox.models import Direction, Initiator, Message
from inbox.services import automations
from simulator import bot as demo_bot
from tests.factories import (
    ContactFactory,
    ConversationFactory,
    MessageFactory,
    TeamFactory,
    UserFactory,
    escalation_route,
)

BOT_URL = "https://bot.example.com/switchboard"
SECRET = "bot-shared-secret"


@pytest.fixture
def conversation(db):
    now = timezone.now()
    conversation = ConversationFactory(
        contact=ContactFactory(profile_name="Ana", language="en"),
        last_inbound_at=now,
        service_window_closes_at=now + timedelta(hours=24),
    )
    agent = UserFactory(role=Role.AGENT, presence=Presence.ONLINE, max_open_conversations=10)
    TeamFactory(channels=[conversation.channel], members=[agent])
    escalation_route(conversation.channel, bot_enabled=True, bot_url=BOT_URL, bot_secret=SECRET, bot_timeout_seconds=3)
    return conversation


def inbound(conversation, text="What are your hours?", **fields) -> Message:
    message = MessageFactory(conversation=conversation, text=text, content={"body": text}, **fields)
    automations.inbound_message_apply(message=message)
    conversation.refresh_from_db()
    return message


def automated(conversation) -> list[Message]:
    return list(
        Message.objects.filter(
            conversation=conversation, direction=Direction.OUTBOUND, initiator=Initiator.AUTOMATION
        ).order_by("pk")
    )


def answer(text="We open at 9.", buttons=None, **fields) -> httpx.Response:
    reply = {"text": text}
    if buttons is not None:
        reply["buttons"] = buttons
    return httpx.Response(200, json={"reply": reply, "handover": False, "understood": True, **fields})


@respx.mock
def test_the_bot_answers_a_new_conversation_with_a_signed_request(conversation):
    route = respx.post(BOT_URL).mock(return_value=answer())
    message = inbound(conversation)

    request = route.calls.last.request
    expected = "sha256=" + hmac.new(SECRET.encode(), request.content, hashlib.sha256).hexdigest()
    assert request.headers["X-Switchboard-Signature"] == expected
    assert json.loads(request.content) == {
        "event": "message",
        "conversation_id": conversation.pk,
        "contact": {"id": conversation.contact_id, "name": "Ana", "language": "en"},
        "message": {"id": message.pk, "type": "text", "text": "What are your hours?", "button_id": None},
    }
    assert conversation.handled_by == "bot"
    [sent] = automated(conversation)
    assert sent.type == "interactive"
    assert sent.text == "We open at 9."
    assert [b["reply"]["id"] for b in sent.content["action"]["buttons"]] == ["switchboard_human"]
    assert conversation.human_route_offered_at == sent.created_at


@respx.mock
def test_the_person_button_replaces_the_bots_third(conversation):
    buttons = [{"id": "a", "title": "Prices"}, {"id": "b", "title": "Orders"}, {"id": "c", "title": "Shops"}]
    respx.post(BOT_URL).mock(return_value=answer("Pick one", buttons=buttons))
    inbound(conversation)
    [sent] = automated(conversation)
    assert [(b["reply"]["id"], b["reply"]["title"]) for b in sent.content["action"]["buttons"]] == [
        ("a", "Prices"),
        ("b", "Orders"),
        ("switchboard_human", "Talk to a person"),
    ]


@respx.mock
def test_two_failures_in_a_row_hand_over(conversation):
    respx.post(BOT_URL).mock(
        side_effect=[httpx.Response(500), httpx.Response(200, json={"reply": {"text": "?"}, "understood": False})]
    )
    inbound(conversation, "asdf")
    assert (conversation.handled_by, conversation.bot_failures) == ("bot", 1)
    assert "Talk to a person" in automated(conversation)[0].text  # the first failure still offers a person

    inbound(conversation, "qwerty")
    assert conversation.handled_by == "human"
    assert conversation.handover_reason == "bot_failed"
    assert conversation.handover_at is not None
    assert automated(conversation)[-1].text == "Thanks — a person will answer here shortly."


@respx.mock
def test_a_success_resets_the_failures(conversation):
    respx.post(BOT_URL).mock(side_effect=[httpx.Response(502), answer(), httpx.Response(200, content=b"not json")])
    inbound(conversation, "one")
    inbound(conversation, "two")
    inbound(conversation, "three")
    assert (conversation.handled_by, conversation.bot_failures) == ("bot", 1)


@respx.mock
def test_a_timeout_hands_over_at_once(conversation):
    respx.post(BOT_URL).mock(side_effect=httpx.ReadTimeout("slow"))
    inbound(conversation)
    assert conversation.handled_by == "human"
    assert conversation.handover_reason == "bot_timeout"
    assert conversation.assignee is not None


@respx.mock
def test_the_bot_may_hand_over(conversation):
    respx.post(BOT_URL).mock(return_value=httpx.Response(200, json={"handover": True}))
    inbound(conversation, "I want to complain")
    assert (conversation.handled_by, conversation.handover_reason) == ("human", "asked")


@respx.mock
def test_asking_for_a_person_skips_the_bot(conversation):
    route = respx.post(BOT_URL).mock(return_value=answer())
    inbound(conversation)
    inbound(conversation, "human")
    assert route.call_count == 1
    assert (conversation.handled_by, conversation.handover_reason) == ("human", "asked")


@respx.mock
def test_once_people_have_it_the_bot_is_not_asked(conversation):
    route = respx.post(BOT_URL).mock(return_value=answer())
    inbound(conversation)
    automations.person_replied(conversation=conversation, at=timezone.now())
    inbound(conversation, "Thanks")
    assert route.call_count == 1
    assert conversation.handled_by == "human"


@respx.mock
def test_a_conversation_people_started_does_not_go_to_the_bot(conversation):
    route = respx.post(BOT_URL).mock(return_value=answer())
    MessageFactory(conversation=conversation, text="Earlier")
    inbound(conversation, "Later")
    assert route.call_count == 0
    assert conversation.handled_by == "human"


def test_a_bots_answer_is_read_within_whatsapps_limits():
    read = automations.bot_answer_read(
        {"reply": {"text": "Hi", "buttons": [{"id": "x", "title": "A title far longer than twenty"}, "junk"]}}
    )
    assert read.buttons == [("x", "A title far longer t")]
    assert automations.bot_answer_read([]).failed
    assert automations.bot_answer_read({"reply": {}}).failed
    assert automations.bot_answer_read({"reply": {"text": "?"}, "understood": False}).failed
    assert not automations.bot_answer_read({"handover": True}).failed


@respx.mock
def test_the_test_message_shows_the_bots_answer(conversation):
    admin = UserFactory(role=Role.ADMIN)
    respx.post(BOT_URL).mock(return_value=answer("Hello tester"))
    result = automations.bot_test(actor=admin, channel=conversation.channel, text="hi")
    assert (result.text, result.failed) == ("Hello tester", False)
    assert automated(conversation) == []


# --- The demo bot ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "button_id", "understood", "handover", "says"),
    [
        ("What are your opening hours?", None, True, False, "Monday to Friday"),
        ("How much does it cost", None, True, False, "9 €"),
        ("", "demo_order", True, False, "ship"),
        ("I want a human", None, True, True, None),
        ("Tell me a joke", None, False, False, "Sorry"),
    ],
)
def test_the_demo_bot_answers(text, button_id, understood, handover, says):
    said = demo_bot.answer({"event": "message", "message": {"text": text, "button_id": button_id}})
    assert said.get("understood") is understood
    assert said.get("handover") is handover
    if says:
        assert says in said["reply"]["text"]
        assert len(said["reply"]["buttons"]) <= 2  # room for Switchboard's "Talk to a person"


def _signed_post(client, body: bytes, secret: str = demo_bot.DEMO_BOT_SECRET):
    signature = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return client.post(
        "/simulator/bot/", data=body, content_type="application/json", headers={"X-Switchboard-Signature": signature}
    )


def test_the_demo_bot_checks_the_signature(db, settings):
    settings.SIMULATOR_ENABLED = True
    client = Client()
    body = json.dumps(automations.bot_event(message=None, text="hours")).encode()
    assert _signed_post(client, body).json()["understood"] is True
    assert _signed_post(client, body, secret="wrong").status_code == 401
    settings.SIMULATOR_ENABLED = False
    assert _signed_post(client, body).status_code == 404


def test_switchboard_talks_to_the_demo_bot(conversation, settings):
    """The real contract end to end: Switchboard's request, the demo bot's view, the reply relayed."""
    settings.SIMULATOR_ENABLED = True
    client = Client()

    def demo(request: httpx.Request) -> httpx.Response:
        answered = client.post(
            "/simulator/bot/",
            data=request.content,
            content_type="application/json",
            headers={"X-Switchboard-Signature": request.headers["X-Switchboard-Signature"]},
        )
        return httpx.Response(answered.status_code, content=answered.content)

    automation = automations.automation_settings(channel_id=conversation.channel_id)
    automation.bot_secret = demo_bot.DEMO_BOT_SECRET
    automation.save()
    with respx.mock:
        respx.post(BOT_URL).mock(side_effect=demo)
        inbound(conversation, "When are you open?")
    [sent] = automated(conversation)
    assert "Monday to Friday" in sent.text
    assert sent.content["action"]["buttons"][-1]["reply"]["id"] == "switchboard_human"
