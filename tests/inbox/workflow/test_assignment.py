"""Assigning by hand (take, assign, unassign, transfer) and automatically (round robin, the team queue)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import AuditEntry, Presence
from inbox.models import Conversation, Direction, LiveEvent, Message, MessageType, Notification
from inbox.services import workflow
from tests.factories import ChannelFactory, ConversationFactory, TeamFactory, UserFactory
from tests.inbox import whatsapp_payloads as wa
from tests.inbox.workflow.conftest import agent

pytestmark = pytest.mark.django_db


def activity_lines(conversation) -> list[str]:
    return list(
        Message.objects.filter(conversation=conversation, type=MessageType.ACTIVITY)
        .order_by("id")
        .values_list("text", flat=True)
    )


# By hand


def test_taking_a_conversation_assigns_me_with_an_activity_line_an_audit_entry_and_an_event(
    conversation, agents, django_capture_on_commit_callbacks
):
    alex = agents[0]
    with django_capture_on_commit_callbacks(execute=True):
        workflow.conversation_take(conversation=conversation, actor=alex)

    conversation.refresh_from_db()
    assert conversation.assignee == alex
    assert conversation.assigned_at is not None
    assert activity_lines(conversation) == ["Alex took this conversation"]
    line = Message.objects.get(conversation=conversation, type=MessageType.ACTIVITY)
    assert line.direction == Direction.INTERNAL
    assert line.author == alex
    assert line.content["action"] == "assigned"
    assert line.content["to_assignee_id"] == alex.pk
    assert AuditEntry.objects.filter(action="conversation.assigned", target_id=str(conversation.pk)).exists()
    updated = LiveEvent.objects.filter(type="conversation.updated", conversation_id=conversation.pk).last()
    assert updated.data["assignee_id"] == alex.pk
    assert LiveEvent.objects.filter(type="message.created", data__type="activity").exists()


def test_assigning_a_teammate_tells_them(conversation, agents):
    alex, bea, _cy = agents
    workflow.conversation_assign(conversation=conversation, actor=alex, assignee=bea)

    conversation.refresh_from_db()
    assert conversation.assignee == bea
    assert activity_lines(conversation) == ["Alex assigned this to Bea"]
    assert Notification.objects.filter(user=bea, kind="assigned", conversation=conversation).exists()


def test_managers_change_nothing(conversation, manager, agents):
    with pytest.raises(workflow.WorkflowRefused) as refused:
        workflow.conversation_assign(conversation=conversation, actor=manager, assignee=agents[0])
    assert refused.value.code == "permission_denied"
    assert Conversation.objects.get(pk=conversation.pk).assignee is None


def test_nobody_is_given_a_conversation_they_could_not_open(conversation, agents):
    outsider = agent("Olga")  # in no team working this channel
    with pytest.raises(workflow.WorkflowRefused) as refused:
        workflow.conversation_assign(conversation=conversation, actor=agents[0], assignee=outsider)
    assert refused.value.code == "not_assignable"


def test_a_team_that_does_not_work_the_channel_is_refused(conversation, agents):
    elsewhere = TeamFactory(channels=[ChannelFactory()], members=[agents[0]])
    with pytest.raises(workflow.WorkflowRefused) as refused:
        workflow.conversation_assign(conversation=conversation, actor=agents[0], team=elsewhere)
    assert refused.value.code == "team_not_on_channel"


def test_unassigning_puts_it_in_the_team_queue(conversation, agents, team):
    workflow.conversation_take(conversation=conversation, actor=agents[0])
    workflow.conversation_unassign(conversation=conversation, actor=agents[0])

    conversation.refresh_from_db()
    assert conversation.assignee is None
    assert conversation.queued_at is not None
    assert activity_lines(conversation)[-1] == "Alex unassigned this"


def test_a_transfer_leaves_a_private_note_and_tells_the_new_holder(conversation, agents):
    alex, bea, _cy = agents
    workflow.conversation_take(conversation=conversation, actor=alex)
    workflow.conversation_transfer(conversation=conversation, actor=alex, assignee=bea, note="Billing question")

    conversation.refresh_from_db()
    assert conversation.assignee == bea
    note = Message.objects.get(conversation=conversation, type=MessageType.NOTE)
    assert (note.text, note.author, note.direction) == ("Billing question", alex, Direction.INTERNAL)
    assert activity_lines(conversation)[-1] == "Alex transferred this to Bea"
    assert Notification.objects.filter(user=bea, kind="transfer").exists()
    assert AuditEntry.objects.filter(action="conversation.transferred").exists()


def test_handing_to_a_team_lets_its_round_robin_choose(channel, team, agents, django_capture_on_commit_callbacks):
    billing_agent = agent("Bill")
    billing = TeamFactory(name="Billing", channels=[channel], members=[billing_agent])
    conversation = ConversationFactory(channel=channel)
    with django_capture_on_commit_callbacks(execute=True):
        workflow.conversation_assign(conversation=conversation, actor=agents[0], team=billing)

    conversation.refresh_from_db()
    assert (conversation.team, conversation.assignee) == (billing, billing_agent)
    assert activity_lines(conversation) == [
        "Alex moved this to the Billing team",
        "Assigned to Bill automatically",
    ]


# Automatically


def _customer_writes(client, capture, *, wa_id: str, message_id: str):
    with capture(execute=True):
        response = wa.post(
            client, wa.inbound(wa.text("Hello", id=message_id, sender=wa_id), contacts=[wa.contact(wa_id=wa_id)])
        )
    assert response.status_code == 200


@pytest.fixture
def webhook_channel(channel):
    channel.phone_number_id = wa.PHONE_NUMBER_ID
    channel.save()
    return channel


def test_new_conversations_from_customers_go_round_robin(
    client, webhook_channel, team, agents, django_capture_on_commit_callbacks
):
    for n in range(4):
        _customer_writes(client, django_capture_on_commit_callbacks, wa_id=f"1650555{n:04d}", message_id=f"wamid.RR{n}")

    holders = [c.assignee.name for c in Conversation.objects.order_by("id")]
    assert holders == ["Alex", "Bea", "Cy", "Alex"]
    team.refresh_from_db()
    assert team.last_assigned_user == agents[0]
    first = Conversation.objects.order_by("id").first()
    assert activity_lines(first) == ["Assigned to Alex automatically"]
    assert first.team == team


def test_away_offline_and_full_agents_are_skipped_then_the_queue_waits(conversation, team, agents, channel):
    alex, bea, cy = agents
    alex.presence, bea.presence = Presence.AWAY, Presence.OFFLINE
    alex.save(), bea.save()
    cy.max_open_conversations = 1
    cy.save()

    assert workflow.conversation_auto_assign(conversation_id=conversation.pk) == cy
    waiting = ConversationFactory(channel=channel)
    assert workflow.conversation_auto_assign(conversation_id=waiting.pk) is None

    waiting.refresh_from_db()
    assert waiting.assignee is None
    assert waiting.team == team
    assert waiting.queued_at is not None


def test_the_queue_is_served_oldest_first_when_someone_comes_online(
    channel, team, agents, django_capture_on_commit_callbacks
):
    for person in agents:
        person.presence = Presence.OFFLINE
        person.save()
    queued = [ConversationFactory(channel=channel) for _ in range(3)]
    for conversation in queued:
        workflow.conversation_auto_assign(conversation_id=conversation.pk)
    # The second one has waited longest.
    Conversation.objects.filter(pk=queued[1].pk).update(queued_at=timezone.now() - timedelta(hours=1))
    bea = agents[1]
    bea.max_open_conversations = 2
    bea.save()

    with django_capture_on_commit_callbacks(execute=True):
        workflow.user_presence_set(user=bea, presence=Presence.ONLINE)

    assigned = {c.pk: c.assignee_id for c in Conversation.objects.filter(pk__in=[c.pk for c in queued])}
    assert assigned[queued[1].pk] == bea.pk
    assert assigned[queued[0].pk] == bea.pk
    assert assigned[queued[2].pk] is None
    assert Conversation.objects.get(pk=queued[2].pk).queued_at is not None


def test_resolving_frees_capacity_for_the_queue(channel, team, agents, django_capture_on_commit_callbacks):
    alex, bea, cy = agents
    for person in (bea, cy):
        person.presence = Presence.OFFLINE
        person.save()
    alex.max_open_conversations = 1
    alex.save()
    first, second = ConversationFactory(channel=channel), ConversationFactory(channel=channel)
    workflow.conversation_auto_assign(conversation_id=first.pk)
    workflow.conversation_auto_assign(conversation_id=second.pk)
    assert Conversation.objects.get(pk=second.pk).assignee is None

    with django_capture_on_commit_callbacks(execute=True):
        workflow.conversation_status_set(conversation=first, actor=alex, status="resolved")

    second.refresh_from_db()
    assert second.assignee == alex
    assert second.queued_at is None


def test_escalation_to_humans_goes_to_the_team_at_once(conversation, team, agents):
    assert workflow.conversation_escalate_to_humans(conversation=conversation) == agents[0]
    assert activity_lines(conversation) == [
        "Handed to the team: the customer asked for a person",
        "Assigned to Alex automatically",
    ]


def test_without_a_team_on_the_channel_nothing_is_assigned(db):
    conversation = ConversationFactory()
    UserFactory(presence=Presence.ONLINE)
    assert workflow.conversation_auto_assign(conversation_id=conversation.pk) is None
    conversation.refresh_from_db()
    assert (conversation.assignee, conversation.queued_at) == (None, None)
