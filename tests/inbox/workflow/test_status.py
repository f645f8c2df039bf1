"""Statuses (resolve, pending, snooze with its wake-up, reopen when the customer writes), priority and labels,
each leaving an activity line and a live event."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import AuditEntry
from inbox.models import Conversation, ConversationStatus, LiveEvent, Message, MessageType
from inbox.services import workflow
from tests.factories import LabelFactory
from tests.inbox import whatsapp_payloads as wa
from tests.inbox.workflow.test_assignment import activity_lines

pytestmark = pytest.mark.django_db


@pytest.fixture
def frozen_now(monkeypatch):
    """A clock that stands still until the test moves it: `frozen_now.move(minutes=...)`."""

    class Clock:
        at = timezone.now().replace(microsecond=0)

        def __call__(self):
            return self.at

        def move(self, **delta):
            self.at += timedelta(**delta)

    clock = Clock()
    monkeypatch.setattr(timezone, "now", clock)
    return clock


def test_resolving_is_recorded_in_the_thread_and_the_audit_log(conversation, agents):
    workflow.conversation_status_set(conversation=conversation, actor=agents[0], status="resolved")

    conversation.refresh_from_db()
    assert conversation.status == ConversationStatus.RESOLVED
    assert activity_lines(conversation) == ["Alex resolved this"]
    assert AuditEntry.objects.filter(action="conversation.resolved", target_id=str(conversation.pk)).exists()


def test_pending_and_reopen(conversation, agents):
    workflow.conversation_status_set(conversation=conversation, actor=agents[0], status="pending")
    workflow.conversation_status_set(conversation=conversation, actor=agents[0], status="open")
    assert activity_lines(conversation) == ["Alex marked this pending", "Alex reopened this"]


def test_a_snooze_needs_a_future_time(conversation, agents):
    with pytest.raises(workflow.WorkflowRefused) as refused:
        workflow.conversation_status_set(
            conversation=conversation, actor=agents[0], status="snoozed", snoozed_until=timezone.now()
        )
    assert refused.value.code == "invalid_snooze"


def test_a_snoozed_conversation_wakes_when_its_time_comes(conversation, agents, frozen_now):
    until = frozen_now() + timedelta(hours=1)
    workflow.conversation_status_set(conversation=conversation, actor=agents[0], status="snoozed", snoozed_until=until)

    frozen_now.move(minutes=59)
    assert workflow.conversations_wake_due() == 0
    assert Conversation.objects.get(pk=conversation.pk).status == ConversationStatus.SNOOZED

    frozen_now.move(minutes=1)
    assert workflow.conversations_wake_due() == 1
    conversation.refresh_from_db()
    assert (conversation.status, conversation.snoozed_until) == (ConversationStatus.OPEN, None)
    assert activity_lines(conversation)[-1] == "Snooze ended"
    # The beat's next run finds nothing more to do.
    assert workflow.conversations_wake_due() == 0


def test_the_beat_schedule_wakes_snoozes_every_minute(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["wake-snoozed-conversations"]
    assert entry["task"] == "inbox.tasks.wake_snoozed_conversations"
    assert entry["schedule"] == timedelta(minutes=1)


@pytest.fixture
def webhook_conversation(conversation):
    channel = conversation.channel
    channel.phone_number_id = wa.PHONE_NUMBER_ID
    channel.save()
    contact = conversation.contact
    contact.wa_id = wa.CUSTOMER_WA_ID
    contact.save()
    return conversation


def test_a_resolved_conversation_reopens_when_the_customer_writes(
    client, webhook_conversation, agents, django_capture_on_commit_callbacks
):
    conversation = webhook_conversation
    workflow.conversation_take(conversation=conversation, actor=agents[1])
    workflow.conversation_status_set(conversation=conversation, actor=agents[1], status="resolved")

    with django_capture_on_commit_callbacks(execute=True):
        wa.post(client, wa.inbound(wa.text("One more thing", id="wamid.BACK1")))

    conversation.refresh_from_db()
    assert conversation.status == ConversationStatus.OPEN
    # The same person keeps it.
    assert conversation.assignee == agents[1]
    assert activity_lines(conversation)[-1] == "Reopened: the customer wrote again"
    inbound = Message.objects.get(provider_message_id="wamid.BACK1")
    line = Message.objects.filter(type=MessageType.ACTIVITY).last()
    assert (line.timestamp, line.pk) < (inbound.timestamp, inbound.pk)  # shown before the message


def test_a_snoozed_conversation_wakes_when_the_customer_writes(
    client, webhook_conversation, agents, django_capture_on_commit_callbacks
):
    conversation = webhook_conversation
    workflow.conversation_status_set(
        conversation=conversation,
        actor=agents[0],
        status="snoozed",
        snoozed_until=timezone.now() + timedelta(days=2),
    )
    with django_capture_on_commit_callbacks(execute=True):
        wa.post(client, wa.inbound(wa.text("Hello?", id="wamid.WAKE1")))

    conversation.refresh_from_db()
    assert (conversation.status, conversation.snoozed_until) == (ConversationStatus.OPEN, None)
    # Woken, then (nobody held it) handed to the next agent.
    assert activity_lines(conversation)[-2:] == ["Snooze ended: the customer wrote", "Assigned to Alex automatically"]
    assert Conversation.objects.filter(contact=conversation.contact).count() == 1


def test_reopening_an_unassigned_conversation_runs_the_round_robin(
    client, webhook_conversation, agents, django_capture_on_commit_callbacks
):
    conversation = webhook_conversation
    workflow.conversation_status_set(conversation=conversation, actor=agents[2], status="resolved")
    with django_capture_on_commit_callbacks(execute=True):
        wa.post(client, wa.inbound(wa.text("Hi again", id="wamid.RR1")))
    conversation.refresh_from_db()
    assert conversation.assignee == agents[0]


def test_priority_changes_are_recorded(conversation, agents, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        workflow.conversation_priority_set(conversation=conversation, actor=agents[0], priority="urgent")
    conversation.refresh_from_db()
    assert conversation.priority == "urgent"
    assert activity_lines(conversation) == ["Alex set the priority to Urgent"]
    assert LiveEvent.objects.filter(type="conversation.updated").last().data["priority"] == "urgent"
    # Setting the same priority again changes nothing and says nothing.
    workflow.conversation_priority_set(conversation=conversation, actor=agents[0], priority="urgent")
    assert len(activity_lines(conversation)) == 1


def test_labels_added_and_removed(conversation, agents):
    billing, vip = LabelFactory(name="billing"), LabelFactory(name="vip")
    workflow.conversation_labels_set(conversation=conversation, actor=agents[0], labels=[billing, vip])
    workflow.conversation_labels_set(conversation=conversation, actor=agents[0], labels=[billing])

    assert list(conversation.labels.values_list("name", flat=True)) == ["billing"]
    assert activity_lines(conversation) == ["Alex added billing, vip", "Alex removed vip"]
    line = Message.objects.filter(type=MessageType.ACTIVITY).last()
    assert line.content == {"action": "labels", "added": [], "removed": [vip.pk]}


def test_only_admins_add_labels(agents, admin):
    with pytest.raises(workflow.WorkflowRefused):
        workflow.label_create(actor=agents[0], name="vip")
    assert workflow.label_create(actor=admin, name="  vip  ").name == "vip"
    with pytest.raises(workflow.WorkflowRefused) as refused:
        workflow.label_create(actor=admin, name="VIP")
    assert refused.value.code == "duplicate_name"
    with pytest.raises(workflow.WorkflowRefused) as refused:
        workflow.label_create(actor=admin, name="red", color="red;x:y")
    assert refused.value.code == "invalid_color"


def test_activity_lines_escape_what_people_typed(conversation, agents, client):
    alex = agents[0]
    alex.name = "<script>alert(1)</script>"
    alex.save()
    workflow.conversation_take(conversation=conversation, actor=alex)
    client.force_login(alex)
    html = client.get(f"/conversations/{conversation.pk}/").content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; took this conversation" in html
