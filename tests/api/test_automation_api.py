"""The automation API: channel settings, auto-replies (with the escalation-route refusal), the bot test, a
conversation's automation state and taking over from the bot."""

from datetime import timedelta

import httpx
import pytest
import respx
from django.utils import timezone

from accounts.models import Role
from inbox.models import AutoReply, ChannelAutomation, Conversation
from tests.factories import ConversationFactory, TeamFactory, UserFactory, escalation_route


@pytest.fixture
def conversation(db):
    now = timezone.now()
    return ConversationFactory(last_inbound_at=now, service_window_closes_at=now + timedelta(hours=24))


@pytest.fixture
def channel(conversation):
    return conversation.channel


@pytest.fixture
def team(channel):
    return TeamFactory(name="Support", channels=[channel])


@pytest.fixture
def admin_api(api_client, db):
    api_client.force_authenticate(UserFactory(role=Role.ADMIN))
    return api_client


def settings_url(channel):
    return f"/api/v1/channels/{channel.pk}/automation/"


def replies_url(channel, reply_id=None):
    return f"/api/v1/channels/{channel.pk}/auto-replies/" + (f"{reply_id}/" if reply_id else "")


def test_settings_read_and_write(admin_api, channel, team):
    answer = admin_api.get(settings_url(channel)).json()
    assert answer["escalation_route_ready"] is False
    assert answer["bot_secret_set"] is False

    answer = admin_api.put(
        settings_url(channel),
        {
            "escalation_team_id": team.pk,
            "answer_within_minutes": 5,
            "fallback_after_minutes": 20,
            "fallback_kind": "web_form",
            "fallback_text": "Fill in example.com/contact",
            "business_hours": {"mon": [["09:00", "17:00"]]},
            "time_zone": "Europe/Rome",
            "bot_url": "https://bot.example.com/",
            "bot_secret": "s3cret",
        },
        format="json",
    ).json()
    assert answer["escalation_route_ready"] is True
    assert answer["escalation_team_id"] == team.pk
    assert answer["bot_secret_set"] is True
    assert "bot_secret" not in answer
    assert ChannelAutomation.objects.get(channel=channel).bot_secret == "s3cret"


def test_invalid_settings_are_400_with_fields(admin_api, channel):
    answer = admin_api.put(settings_url(channel), {"business_hours": {"monday": []}}, format="json")
    assert answer.status_code == 400
    assert answer.json()["code"] == "invalid"
    assert "business_hours" in answer.json()["fields"]


def test_the_bot_cannot_be_switched_on_without_a_route(admin_api, channel):
    answer = admin_api.put(
        settings_url(channel),
        {"bot_enabled": True, "bot_url": "https://bot.example.com/", "bot_secret": "s"},
        format="json",
    )
    assert answer.status_code == 422
    assert answer.json()["code"] == "no_escalation_route"


def test_auto_replies_refuse_to_switch_on_without_a_route(admin_api, channel, team):
    body = {"kind": "welcome", "name": "Hi", "text": "Hi there!", "enabled": True}
    refused = admin_api.post(replies_url(channel), body, format="json")
    assert refused.status_code == 422
    assert refused.json()["code"] == "no_escalation_route"

    escalation_route(channel)
    created = admin_api.post(replies_url(channel), body, format="json")
    assert created.status_code == 201
    reply_id = created.json()["id"]
    no_route = admin_api.patch(replies_url(channel, reply_id), {"human_route": "keywords"}, format="json")
    assert (no_route.status_code, no_route.json()["code"]) == (422, "no_human_route")

    listed = admin_api.get(replies_url(channel)).json()["results"]
    assert [(r["name"], r["enabled"], r["human_route"]) for r in listed] == [("Hi", True, "button")]
    assert admin_api.delete(replies_url(channel, reply_id)).status_code == 204
    assert not AutoReply.objects.exists()


def test_only_admins(api_client, channel):
    api_client.force_authenticate(UserFactory(role=Role.MANAGER))
    assert api_client.get(settings_url(channel)).status_code == 403
    assert api_client.post(replies_url(channel), {}, format="json").status_code == 403


def test_an_unknown_channel_is_404(admin_api, db):
    assert admin_api.get("/api/v1/channels/999999/automation/").status_code == 404


@respx.mock
def test_the_bot_test(admin_api, channel):
    escalation_route(channel, bot_url="https://bot.example.com/", bot_secret="s")
    respx.post("https://bot.example.com/").mock(
        return_value=httpx.Response(200, json={"reply": {"text": "Hi!", "buttons": [{"id": "a", "title": "A"}]}})
    )
    answer = admin_api.post(f"/api/v1/channels/{channel.pk}/automation/bot-test/", {"text": "hello"}, format="json")
    assert answer.json() == {
        "ok": True,
        "error": "",
        "timed_out": False,
        "text": "Hi!",
        "buttons": [{"id": "a", "title": "A"}],
        "handover": False,
        "understood": True,
    }


def test_a_conversations_automation_state(api_client, conversation):
    agent = UserFactory(role=Role.AGENT)
    TeamFactory(channels=[conversation.channel], members=[agent])
    escalation_route(conversation.channel, answer_within_minutes=10)
    handed = timezone.now().replace(microsecond=0)
    Conversation.objects.filter(pk=conversation.pk).update(
        handover_at=handed, handover_reason="bot_failed", human_route_offered_at=handed - timedelta(minutes=1)
    )
    api_client.force_authenticate(agent)
    answer = api_client.get(f"/api/v1/conversations/{conversation.pk}/automation/").json()
    assert answer["handover_reason"] == "bot_failed"
    assert answer["escalation_level"] == 0
    assert answer["escalation_due_at"].startswith((handed + timedelta(minutes=10)).strftime("%Y-%m-%dT%H:%M"))


def test_take_over(api_client, conversation):
    agent = UserFactory(role=Role.AGENT)
    TeamFactory(channels=[conversation.channel], members=[agent])
    Conversation.objects.filter(pk=conversation.pk).update(handled_by="bot")
    api_client.force_authenticate(agent)
    answer = api_client.post(f"/api/v1/conversations/{conversation.pk}/take-over/")
    assert answer.status_code == 200
    assert answer.json()["handled_by"] == "human"
    assert Conversation.objects.get(pk=conversation.pk).assignee == agent

    manager = UserFactory(role=Role.MANAGER)
    api_client.force_authenticate(manager)
    assert api_client.post(f"/api/v1/conversations/{conversation.pk}/take-over/").status_code == 403
