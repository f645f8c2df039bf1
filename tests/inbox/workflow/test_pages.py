"""The inbox's workflow controls: the thread header (htmx, in place), the tabs and filter chips, bulk
actions, presence and saved views."""

import re
from datetime import datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Presence
from inbox.models import Conversation, ConversationStatus, SavedView
from inbox.views.workflow import snooze_until
from tests.factories import ConversationFactory, LabelFactory
from tests.inbox.workflow.conftest import signed_in

pytestmark = pytest.mark.django_db


def workflow_url(conversation) -> str:
    return f"/inbox/conversations/{conversation.pk}/workflow"


def row_ids(html: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'id="conv-row-(\d+)"', html)]


def test_the_thread_header_offers_the_controls(conversation, agents):
    html = signed_in(agents[0]).get(f"/conversations/{conversation.pk}/").content.decode()
    assert 'id="workflow-header"' in html
    assert 'data-wf="resolve"' in html and 'data-wf="take"' in html and 'data-wf="snooze"' in html
    # The assignee picker lists the team with their presence.
    assert "● Bea (Online)" in html
    assert '<fieldset class="wf-controls" disabled>' not in html


def test_managers_see_the_controls_disabled_with_the_reason(conversation, manager):
    html = signed_in(manager).get(f"/conversations/{conversation.pk}/").content.decode()
    assert '<fieldset class="wf-controls" disabled>' in html
    assert "Managers watch conversations: only agents and admins change them." in html
    response = signed_in(manager).post(workflow_url(conversation), {"action": "take"})
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"


def test_take_resolve_and_reopen_answer_the_header_in_place(conversation, agents):
    client = signed_in(agents[0])
    html = client.post(workflow_url(conversation), {"action": "take"}).content.decode()
    assert html.lstrip().startswith('<div id="workflow-header"')
    assert f'data-assignee-id="{agents[0].pk}"' in html
    html = client.post(workflow_url(conversation), {"action": "status", "status": "resolved"}).content.decode()
    assert 'data-status="resolved"' in html and 'data-wf="reopen"' in html
    html = client.post(workflow_url(conversation), {"action": "status", "status": "open"}).content.decode()
    assert 'data-status="open"' in html


def test_snooze_presets_and_custom(conversation, agents):
    client = signed_in(agents[0])
    client.post(workflow_url(conversation), {"action": "status", "status": "snoozed", "preset": "tomorrow"})
    conversation.refresh_from_db()
    local = timezone.localtime(conversation.snoozed_until)
    assert (local.hour, local.minute) == (9, 0)
    assert local.date() == timezone.localdate() + timedelta(days=1)
    refused = client.post(workflow_url(conversation), {"action": "status", "status": "snoozed", "until": "nonsense"})
    assert refused.status_code == 409


def test_snooze_until():
    monday_noon = timezone.make_aware(datetime(2026, 11, 16, 12, 0))
    assert snooze_until("1h", now=monday_noon) == monday_noon + timedelta(hours=1)
    assert timezone.localtime(snooze_until("tomorrow", now=monday_noon)).isoformat().startswith("2026-11-17T09:00")
    assert timezone.localtime(snooze_until("next_week", now=monday_noon)).isoformat().startswith("2026-11-23T09:00")
    assert snooze_until("", "2026-12-01T08:30", now=monday_noon) == timezone.make_aware(datetime(2026, 12, 1, 8, 30))
    assert snooze_until("", "", now=monday_noon) is None


def test_assignee_team_priority_and_labels_pickers(conversation, agents, team):
    billing = LabelFactory(name="billing")
    client = signed_in(agents[0])
    client.post(workflow_url(conversation), {"action": "assign", "assignee_id": agents[1].pk})
    client.post(workflow_url(conversation), {"action": "priority", "priority": "high"})
    html = client.post(workflow_url(conversation), {"action": "labels", "labels": [billing.pk]}).content.decode()
    conversation.refresh_from_db()
    assert (conversation.assignee, conversation.priority) == (agents[1], "high")
    assert list(conversation.labels.all()) == [billing]
    assert 'class="label-chip"' in html
    client.post(workflow_url(conversation), {"action": "assign", "assignee_id": ""})
    assert Conversation.objects.get(pk=conversation.pk).assignee is None


def test_tabs_are_real_with_counts(channel, team, agents, conversation):
    alex, bea, _cy = agents
    mine = ConversationFactory(channel=channel, assignee=alex, team=team)
    ConversationFactory(channel=channel, assignee=bea, team=team)
    client = signed_in(alex)

    assert row_ids(client.get("/inbox/conversations/?view=mine").content.decode()) == [mine.pk]
    assert row_ids(client.get("/inbox/conversations/?view=unassigned").content.decode()) == [conversation.pk]
    assert len(row_ids(client.get("/inbox/conversations/?view=team").content.decode())) == 2
    html = client.get("/").content.decode()
    assert re.search(r'id="view-count-mine">1<', html)
    assert re.search(r'id="view-count-unassigned">1<', html)
    assert re.search(r'id="view-count-team">2<', html)
    assert re.search(r'id="view-count-all">3<', html)
    # A rows page brings the counts along, out of band, following the filters.
    rows = client.get("/inbox/conversations/?view=all&priority=urgent").content.decode()
    assert re.search(r'id="view-count-all" hx-swap-oob="true">0<', rows)


def test_filter_chips(channel, team, agents, conversation):
    client = signed_in(agents[0])
    vip = LabelFactory(name="vip")
    labelled = ConversationFactory(channel=channel, priority="urgent")
    labelled.labels.add(vip)
    resolved = ConversationFactory(channel=channel, status=ConversationStatus.RESOLVED)
    soon = ConversationFactory(channel=channel, service_window_closes_at=timezone.now() + timedelta(minutes=30))

    def rows(query: str) -> set[int]:
        return set(row_ids(client.get(f"/inbox/conversations/?{query}").content.decode()))

    assert resolved.pk not in rows("view=all")  # open and pending by default
    assert rows("view=all&status=resolved") == {resolved.pk}
    assert rows(f"view=all&label={vip.pk}") == {labelled.pk}
    assert rows("view=all&priority=urgent") == {labelled.pk}
    assert rows("view=all&window=closing_soon") == {soon.pk}
    assert rows(f"view=all&channel={channel.pk}&status=any") == {conversation.pk, labelled.pk, resolved.pk, soon.pk}


def test_a_row_that_no_longer_matches_the_list_answers_204(conversation, agents):
    client = signed_in(agents[0])
    row = f"/inbox/conversations/{conversation.pk}/row"
    assert client.get(f"{row}?view=unassigned").status_code == 200
    Conversation.objects.filter(pk=conversation.pk).update(assignee=agents[1])
    assert client.get(f"{row}?view=unassigned").status_code == 204
    assert client.get(row).status_code == 200  # asked without a list: always the row


def test_filtered_rows_cost_the_same_for_5_and_25_rows(channel, team, agents):
    client = signed_in(agents[0])
    vip = LabelFactory()

    def run() -> int:
        with CaptureQueriesContext(connection) as queries:
            client.get("/inbox/conversations/?view=unassigned&status=any")
        return len(queries)

    for _ in range(5):
        ConversationFactory(channel=channel).labels.add(vip)
    small = run()
    for _ in range(20):
        ConversationFactory(channel=channel, assignee=agents[1]).labels.add(vip)
        ConversationFactory(channel=channel).labels.add(vip)
    assert run() == small


def test_bulk_actions_from_the_list(channel, team, agents):
    rows = [ConversationFactory(channel=channel) for _ in range(3)]
    client = signed_in(agents[0])
    response = client.post(
        "/inbox/conversations/bulk", {"ids": [c.pk for c in rows], "action": "assign", "assignee_id": agents[0].pk}
    )
    assert sorted(response.json()["changed"]) == sorted(c.pk for c in rows)
    client.post("/inbox/conversations/bulk", {"ids": [rows[0].pk], "action": "resolve"})
    assert Conversation.objects.get(pk=rows[0].pk).status == ConversationStatus.RESOLVED
    assert client.post("/inbox/conversations/bulk", {"ids": [rows[0].pk], "action": "explode"}).status_code == 400


def test_presence_toggle(agents):
    client = signed_in(agents[0])
    html = client.get("/").content.decode()
    assert 'id="presence-menu"' in html
    html = client.post("/inbox/presence", {"presence": "away"}).content.decode()
    assert 'class="presence-dot presence-away"' in html
    agents[0].refresh_from_db()
    assert agents[0].presence == Presence.AWAY


def test_saved_views(agents):
    client = signed_in(agents[0])
    html = client.post("/inbox/saved-views", {"name": "Urgent", "view": "mine", "priority": "urgent"}).content.decode()
    view = SavedView.objects.get(owner=agents[0])
    assert view.filters == {"view": "mine", "status": "active", "priority": "urgent"}
    assert "Urgent" in html and "priority=urgent" in html
    assert client.post("/inbox/saved-views", {"name": " "}).status_code == 400
    signed_in(agents[1]).post(f"/inbox/saved-views/{view.pk}/delete")
    assert SavedView.objects.filter(pk=view.pk).exists()  # only its owner deletes it
    client.post(f"/inbox/saved-views/{view.pk}/delete")
    assert not SavedView.objects.exists()


def test_the_tab_counts_alone(channel, team, agents, conversation):
    ConversationFactory(channel=channel, assignee=agents[0])
    html = signed_in(agents[0]).get("/inbox/view-counts?view=all").content.decode()
    assert re.search(r'id="view-count-mine">1<', html)
    assert re.search(r'id="view-count-all">2<', html)
