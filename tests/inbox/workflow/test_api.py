"""The workflow over the REST API, per role: assign, take, transfer, status, PATCH, bulk, labels, saved views,
presence, and the list's new filters (keyset pages at a constant query count)."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import Presence
from inbox.models import Conversation, ConversationStatus, Message, MessageType, SavedView
from tests.factories import ConversationFactory, LabelFactory
from tests.inbox.workflow.conftest import agent

pytestmark = pytest.mark.django_db


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def url(conversation, action: str = "") -> str:
    return f"/api/v1/conversations/{conversation.pk}/{action + '/' if action else ''}"


def test_an_agent_takes_a_conversation(conversation, agents):
    response = api(agents[0]).post(url(conversation, "take"))
    assert response.status_code == 200
    assert response.json()["assignee"] == agents[0].pk


def test_per_role(conversation, agents, admin, manager):
    outsider = agent("Olga")
    assert api(manager).post(url(conversation, "take")).status_code == 403
    assert api(manager).post(url(conversation, "status"), {"status": "resolved"}, format="json").status_code == 403
    # Out of sight answers as if it did not exist.
    assert api(outsider).post(url(conversation, "take")).status_code == 404
    assert (
        api(admin).post(url(conversation, "assign"), {"assignee_id": agents[1].pk}, format="json").json()["assignee"]
        == agents[1].pk
    )
    assert APIClient().post(url(conversation, "take")).status_code == 401


def test_assign_and_unassign(conversation, agents, team):
    client = api(agents[0])
    body = client.post(url(conversation, "assign"), {"assignee_id": agents[2].pk, "team_id": team.pk}, format="json")
    assert (body.json()["assignee"], body.json()["team"]) == (agents[2].pk, team.pk)
    body = client.post(url(conversation, "assign"), {"assignee_id": None}, format="json")
    assert body.status_code == 200 and body.json()["assignee"] is None
    assert client.post(url(conversation, "assign"), {}, format="json").status_code == 400
    refused = client.post(url(conversation, "assign"), {"assignee_id": agent("Olga").pk}, format="json")
    assert (refused.status_code, refused.json()["code"]) == (409, "not_assignable")
    assert client.post(url(conversation, "assign"), {"assignee_id": 999999}, format="json").status_code == 400


def test_transfer_with_a_note(conversation, agents):
    response = api(agents[0]).post(
        url(conversation, "transfer"), {"assignee_id": agents[1].pk, "note": "Over to you"}, format="json"
    )
    assert response.status_code == 200
    assert Message.objects.get(conversation=conversation, type=MessageType.NOTE).text == "Over to you"


def test_status_and_snooze(conversation, agents):
    client = api(agents[0])
    refused = client.post(url(conversation, "status"), {"status": "snoozed"}, format="json")
    assert (refused.status_code, refused.json()["code"]) == (409, "invalid_snooze")
    until = (timezone.now() + timedelta(hours=3)).isoformat()
    body = client.post(url(conversation, "status"), {"status": "snoozed", "snoozed_until": until}, format="json")
    assert body.json()["status"] == "snoozed" and body.json()["snoozed_until"]
    assert client.post(url(conversation, "status"), {"status": "bogus"}, format="json").status_code == 400


def test_patch_priority_and_labels(conversation, agents, manager):
    billing, vip = LabelFactory(name="billing"), LabelFactory(name="vip")
    body = api(agents[0]).patch(url(conversation), {"priority": "high", "labels": [billing.pk, vip.pk]}, format="json")
    assert body.status_code == 200
    assert body.json()["priority"] == "high"
    assert [label["name"] for label in body.json()["labels"]] == ["billing", "vip"]
    assert api(agents[0]).patch(url(conversation), {"labels": [999999]}, format="json").status_code == 400
    assert api(manager).patch(url(conversation), {"priority": "low"}, format="json").status_code == 403


def test_bulk_resolve_reports_what_it_could_not_touch(channel, team, agents):
    mine = [ConversationFactory(channel=channel) for _ in range(3)]
    hidden = ConversationFactory()  # a channel no team of Alex's works
    response = api(agents[0]).post(
        "/api/v1/conversations/bulk/", {"ids": [c.pk for c in mine] + [hidden.pk], "action": "resolve"}, format="json"
    )
    assert response.status_code == 200
    assert sorted(response.json()["changed"]) == sorted(c.pk for c in mine)
    assert response.json()["refused"] == {str(hidden.pk): "not_found"}
    assert Conversation.objects.filter(status=ConversationStatus.RESOLVED).count() == 3
    assert Conversation.objects.get(pk=hidden.pk).status == ConversationStatus.OPEN


def test_bulk_assign_and_label(channel, team, agents):
    rows = [ConversationFactory(channel=channel) for _ in range(2)]
    vip = LabelFactory(name="vip")
    client = api(agents[0])
    ids = [c.pk for c in rows]
    assert (
        client.post(
            "/api/v1/conversations/bulk/", {"ids": ids, "action": "assign", "assignee_id": agents[1].pk}, format="json"
        ).json()["changed"]
        == ids
    )
    assert (
        client.post(
            "/api/v1/conversations/bulk/", {"ids": ids, "action": "label", "labels": [vip.pk]}, format="json"
        ).json()["changed"]
        == ids
    )
    assert all(c.assignee_id == agents[1].pk for c in Conversation.objects.filter(pk__in=ids))
    assert vip.conversations.count() == 2
    assert client.post("/api/v1/conversations/bulk/", {"ids": ids, "action": "label"}, format="json").status_code == 400


def test_labels_admins_keep_the_list(agents, admin):
    assert api(agents[0]).post("/api/v1/labels/", {"name": "vip"}, format="json").status_code == 403
    created = api(admin).post("/api/v1/labels/", {"name": "vip", "color": "#aa0000"}, format="json")
    assert created.status_code == 201
    assert api(agents[0]).get("/api/v1/labels/").json()["results"] == [created.json()]


def test_saved_views_are_personal(agents):
    alex, bea, _cy = agents
    created = api(alex).post(
        "/api/v1/saved-views/",
        {"name": "Urgent mine", "filters": {"view": "mine", "priority": "urgent"}},
        format="json",
    )
    assert created.status_code == 201
    assert [v["name"] for v in api(alex).get("/api/v1/saved-views/").json()["results"]] == ["Urgent mine"]
    assert api(bea).get("/api/v1/saved-views/").json()["results"] == []
    view_id = created.json()["id"]
    assert api(bea).delete(f"/api/v1/saved-views/{view_id}/").status_code == 404
    assert api(alex).delete(f"/api/v1/saved-views/{view_id}/").status_code == 204
    assert not SavedView.objects.exists()


def test_presence(agents):
    response = api(agents[0]).post("/api/v1/me/presence/", {"presence": "away"}, format="json")
    assert response.json() == {"presence": "away"}
    agents[0].refresh_from_db()
    assert agents[0].presence == Presence.AWAY
    assert api(agents[0]).post("/api/v1/me/presence/", {"presence": "asleep"}, format="json").status_code == 400


def ids(response) -> list[int]:
    return [row["id"] for row in response.json()["results"]]


def test_list_filters(channel, team, agents):
    alex, bea, _cy = agents
    now = timezone.now()
    mine = ConversationFactory(channel=channel, assignee=alex, priority="high")
    beas = ConversationFactory(channel=channel, assignee=bea)
    free = ConversationFactory(channel=channel, service_window_closes_at=now + timedelta(minutes=90))
    later = ConversationFactory(channel=channel, service_window_closes_at=now + timedelta(hours=5))
    vip = LabelFactory(name="vip")
    free.labels.add(vip)
    client = api(alex)
    get = lambda query: ids(client.get(f"/api/v1/conversations/?{query}"))  # noqa: E731

    assert get("assignee=me") == [mine.pk]
    assert set(get("assignee=none")) == {free.pk, later.pk}
    assert get(f"assignee={bea.pk}") == [beas.pk]
    assert get(f"label={vip.pk}") == [free.pk]
    assert get("priority=high") == [mine.pk]
    assert get("window=closing_soon") == [free.pk]
    assert get(f"team={team.pk}") == []
    assert client.get("/api/v1/conversations/?assignee=someone").status_code == 400
    assert client.get("/api/v1/conversations/?window=open").status_code == 400


def test_the_filtered_list_costs_the_same_for_5_and_50_rows(channel, team, agents):
    vip = LabelFactory()
    client = api(agents[0])

    def run() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/api/v1/conversations/?assignee=none&limit=100").status_code == 200
        return len(queries)

    for _ in range(5):
        ConversationFactory(channel=channel).labels.add(vip)
    small = run()
    for _ in range(45):
        ConversationFactory(channel=channel).labels.add(vip)
    assert run() == small
