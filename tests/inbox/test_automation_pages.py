"""The automation settings page (admins) and the thread header's automation line with "Take over"."""

from datetime import timedelta

import httpx
import pytest
import respx
from django.test import Client
from django.utils import timezone

from accounts.models import AuditEntry, Role
from inbox.models import AutoReply, ChannelAutomation, Conversation
from tests.factories import ConversationFactory, TeamFactory, UserFactory, escalation_route


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def admin(db):
    return UserFactory(role=Role.ADMIN, name="Ada Admin")


@pytest.fixture
def conversation(db):
    now = timezone.now()
    return ConversationFactory(last_inbound_at=now, service_window_closes_at=now + timedelta(hours=24))


@pytest.fixture
def channel(conversation):
    return conversation.channel


@pytest.fixture
def agent(channel):
    person = UserFactory(role=Role.AGENT, name="Alex Agent")
    TeamFactory(name="Support", channels=[channel], members=[person])
    return person


def url(channel, suffix=""):
    return f"/settings/channels/{channel.pk}/automation{suffix}"


def test_the_page_says_automations_stay_off_without_a_route(admin, channel):
    page = client_for(admin).get(url(channel))
    assert page.status_code == 200
    assert "Not configured: automations stay off" in page.content.decode()


def test_the_channels_page_links_to_it(admin, channel):
    page = client_for(admin).get("/settings/channels/")
    assert url(channel) in page.content.decode()


def test_switching_a_reply_on_without_a_route_is_refused_in_the_form(admin, channel, agent):
    page = client_for(admin).post(
        url(channel, "/replies"),
        {
            "new-kind": "welcome",
            "new-name": "Hi",
            "new-text": "Hi there!",
            "new-human_route": "button",
            "new-enabled": "on",
        },
    )
    assert page.status_code == 200
    assert "An automation can only be on while the channel has an escalation route" in page.content.decode()
    assert not AutoReply.objects.exists()


def test_saving_the_route_then_switching_on(admin, channel, agent):
    client = client_for(admin)
    saved = client.post(
        url(channel),
        {
            "section": "route",
            "route-escalation_team": "",
            "route-answer_within_minutes": "5",
            "route-fallback_after_minutes": "20",
            "route-fallback_kind": "email",
            "route-fallback_text": "Write to help@example.com",
        },
    )
    assert saved.status_code == 302
    automation = ChannelAutomation.objects.get(channel=channel)
    assert (automation.answer_within_minutes, automation.fallback_kind) == (5, "email")
    assert AuditEntry.objects.filter(action="automation.updated").exists()

    draft = AutoReply.objects.create(channel=channel, kind="welcome", name="Hi", text="Hi!")
    toggled = client.post(url(channel, f"/replies/{draft.pk}/enabled"), {"enabled": "1"})
    assert toggled.status_code == 302
    assert AutoReply.objects.get(pk=draft.pk).enabled


def test_a_refused_toggle_says_why_next_to_the_reply(admin, channel):
    draft = AutoReply.objects.create(channel=channel, kind="welcome", name="Hi", text="Hi!")
    page = client_for(admin).post(url(channel, f"/replies/{draft.pk}/enabled"), {"enabled": "1"})
    assert page.status_code == 200
    assert 'role="alert">An automation can only be on' in page.content.decode()
    assert not AutoReply.objects.get(pk=draft.pk).enabled


def test_business_hours_are_parsed_and_checked(admin, channel):
    client = client_for(admin)
    form = {"section": "hours", "hours-time_zone": "Europe/Rome", **{f"hours-{d}": "" for d in ("sat", "sun")}}
    form.update({f"hours-{day}": "09:00-13:00, 14:00-18:00" for day in ("mon", "tue", "wed", "thu", "fri")})
    assert client.post(url(channel), form).status_code == 302
    automation = ChannelAutomation.objects.get(channel=channel)
    assert automation.business_hours["mon"] == [["09:00", "13:00"], ["14:00", "18:00"]]
    assert automation.business_hours["sun"] == []

    page = client.post(url(channel), {**form, "hours-fri": "9-5"})
    assert "Write opening times like 09:00-17:00" in page.content.decode()
    page = client.post(url(channel), {**form, "hours-time_zone": "Mars/Olympus"})
    assert "Choose a time zone" in page.content.decode()


def test_keywords_are_saved_as_lists(admin, channel):
    client_for(admin).post(
        url(channel),
        {"section": "keywords", "keywords-human_keywords": "zebra, talk to us\nperson", "keywords-stop_keywords": ""},
    )
    automation = ChannelAutomation.objects.get(channel=channel)
    assert automation.human_keywords == ["zebra", "talk to us", "person"]
    assert automation.stop_keywords == []


def test_the_bot_cannot_be_switched_on_without_its_secret(admin, channel, agent):
    escalation_route(channel)
    page = client_for(admin).post(
        url(channel),
        {
            "section": "bot",
            "bot-bot_url": "https://bot.example.com/",
            "bot-bot_timeout_seconds": "5",
            "bot-bot_enabled": "on",
        },
    )
    assert "needs its address and a shared secret" in page.content.decode()
    assert not ChannelAutomation.objects.get(channel=channel).bot_enabled


@respx.mock
def test_the_test_message_shows_the_answer_in_place(admin, channel):
    escalation_route(channel, bot_url="https://bot.example.com/", bot_secret="s")
    respx.post("https://bot.example.com/").mock(return_value=httpx.Response(200, json={"reply": {"text": "Open 9-5"}}))
    page = client_for(admin).post(url(channel, "/bot-test"), {"text": "hours?"}, headers={"HX-Request": "true"})
    assert "Open 9-5" in page.content.decode()
    respx.post("https://bot.example.com/").mock(return_value=httpx.Response(503))
    page = client_for(admin).post(url(channel, "/bot-test"), {"text": "hours?"}, headers={"HX-Request": "true"})
    assert "The bot answered HTTP 503." in page.content.decode()


def test_deleting_asks_first(admin, channel):
    reply = AutoReply.objects.create(channel=channel, kind="welcome", name="Hi", text="Hi!")
    client = client_for(admin)
    confirm = client.post(url(channel, f"/replies/{reply.pk}/delete"))
    assert "Delete the auto-reply “Hi”?" in confirm.content.decode()
    assert AutoReply.objects.filter(pk=reply.pk).exists()
    client.post(url(channel, f"/replies/{reply.pk}/delete"), {"confirmed": "1"})
    assert not AutoReply.objects.filter(pk=reply.pk).exists()


def test_agents_may_not_see_the_page(agent, channel):
    assert client_for(agent).get(url(channel)).status_code == 403


# --- The thread header --------------------------------------------------------------------------------------


def state_url(conversation):
    return f"/inbox/conversations/{conversation.pk}/automation"


def test_the_header_loads_the_line_only_for_bot_or_handed_over_conversations(agent, conversation):
    client = client_for(agent)
    header = client.get(f"/inbox/conversations/{conversation.pk}/workflow").content.decode()
    assert state_url(conversation) not in header
    Conversation.objects.filter(pk=conversation.pk).update(handled_by="bot")
    header = client.get(f"/inbox/conversations/{conversation.pk}/workflow").content.decode()
    assert state_url(conversation) in header


def test_a_bot_conversation_offers_take_over(agent, conversation):
    Conversation.objects.filter(pk=conversation.pk).update(handled_by="bot")
    line = client_for(agent).get(state_url(conversation)).content.decode()
    assert "Bot is answering" in line
    assert "Take over" in line

    header = client_for(agent).post(state_url(conversation))
    assert header.status_code == 200
    assert 'id="workflow-header"' in header.content.decode()
    conversation.refresh_from_db()
    assert (conversation.handled_by, conversation.assignee) == ("human", agent)


def test_managers_watch_and_cannot_take_over(agent, conversation):
    manager = UserFactory(role=Role.MANAGER)
    Conversation.objects.filter(pk=conversation.pk).update(handled_by="bot")
    assert "Take over" not in client_for(manager).get(state_url(conversation)).content.decode()
    assert client_for(manager).post(state_url(conversation)).status_code == 403
    assert Conversation.objects.get(pk=conversation.pk).handled_by == "bot"


def test_a_handover_shows_when_it_escalates(agent, conversation):
    escalation_route(conversation.channel, answer_within_minutes=15)
    handed = timezone.now() - timedelta(minutes=5)
    Conversation.objects.filter(pk=conversation.pk).update(handover_at=handed, handover_reason="asked")
    line = client_for(agent).get(state_url(conversation)).content.decode()
    assert "Handed to people 5\xa0minutes ago" in line
    due = timezone.localtime(handed + timedelta(minutes=15)).strftime("%H:%M")
    assert "escalates at <time" in line and due in line
