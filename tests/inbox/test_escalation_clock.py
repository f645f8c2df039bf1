"""The escalation clock with a frozen clock (time moves by passing `now`): nobody answers a handover →
managers and admins are told (level 1) → the customer gets the fallback (level 2); a person's answer stops
it at any point; running it again changes nothing."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import Presence, Role
from inbox.models import Conversation, Direction, Initiator, Message, MessageType, Notification
from inbox.services import automations, outbound
from tests.factories import ContactFactory, ConversationFactory, TeamFactory, UserFactory, escalation_route

HANDOVER = timezone.now().replace(microsecond=0) - timedelta(hours=1)


@pytest.fixture
def people(db):
    return {
        "agent": UserFactory(name="Alex", role=Role.AGENT, presence=Presence.OFFLINE),
        "admin": UserFactory(name="Ada", role=Role.ADMIN),
        "manager": UserFactory(name="Max", role=Role.MANAGER),
        "gone": UserFactory(name="Gus", role=Role.MANAGER, is_active=False),
    }


@pytest.fixture
def conversation(people):
    conversation = ConversationFactory(
        contact=ContactFactory(profile_name="Ana"),
        last_inbound_at=HANDOVER,
        service_window_closes_at=HANDOVER + timedelta(hours=24),
    )
    TeamFactory(channels=[conversation.channel], members=[people["agent"]])
    escalation_route(conversation.channel, answer_within_minutes=10, fallback_after_minutes=30)
    automations.handover(conversation=conversation, reason="asked", at=HANDOVER)
    conversation.refresh_from_db()
    return conversation


def minutes(n: float):
    return HANDOVER + timedelta(minutes=n)


def level(conversation) -> int:
    return Conversation.objects.values_list("escalation_level", flat=True).get(pk=conversation.pk)


def escalation_notifications() -> list[str]:
    return sorted(Notification.objects.filter(kind="escalation").values_list("user__name", flat=True))


def fallbacks(conversation) -> list[str]:
    return list(
        Message.objects.filter(
            conversation=conversation,
            direction=Direction.OUTBOUND,
            initiator=Initiator.AUTOMATION,
            text="You can also call us at +1 555 010 0000.",
        ).values_list("text", flat=True)
    )


def test_the_handover_starts_the_clock(conversation):
    assert (conversation.handover_at, conversation.escalation_level, conversation.human_answered_at) == (
        HANDOVER,
        0,
        None,
    )
    assert conversation.queued_at is not None  # nobody online: waiting in the team's queue


def test_level_0_to_1_to_2(conversation):
    assert automations.escalations_advance(now=minutes(9)) == 0
    assert level(conversation) == 0

    assert automations.escalations_advance(now=minutes(10)) == 1
    assert level(conversation) == 1
    assert escalation_notifications() == ["Ada", "Max"]  # managers and admins who see it; not the inactive
    assert fallbacks(conversation) == []

    assert automations.escalations_advance(now=minutes(29)) == 0
    assert automations.escalations_advance(now=minutes(30)) == 1
    assert level(conversation) == 2
    assert fallbacks(conversation) == ["You can also call us at +1 555 010 0000."]
    lines = list(
        Message.objects.filter(conversation=conversation, type=MessageType.ACTIVITY).values_list("text", flat=True)
    )
    assert "Escalated: nobody answered within 10 min, managers and admins told" in lines
    assert "Escalated: nobody answered in time, the customer was offered the fallback (phone)" in lines


def test_it_is_idempotent(conversation):
    for _ in range(3):
        automations.escalations_advance(now=minutes(10))
    assert escalation_notifications() == ["Ada", "Max"]
    for _ in range(3):
        automations.escalations_advance(now=minutes(45))
    assert fallbacks(conversation) == ["You can also call us at +1 555 010 0000."]
    assert automations.escalations_advance(now=minutes(600)) == 0


def test_a_late_run_takes_both_steps(conversation):
    assert automations.escalations_advance(now=minutes(31)) == 2
    assert level(conversation) == 2


def test_a_persons_answer_stops_it_before_level_1(conversation, people):
    outbound.message_send(
        conversation=conversation,
        author=people["agent"],
        kind="text",
        payload={"body": "Hi, Alex here"},
        now=minutes(5),
    )
    conversation.refresh_from_db()
    assert conversation.human_answered_at == minutes(5)
    assert automations.escalations_advance(now=minutes(60)) == 0
    assert (level(conversation), escalation_notifications()) == (0, [])


def test_a_persons_answer_stops_it_after_level_1(conversation):
    automations.escalations_advance(now=minutes(10))
    automations.person_replied(conversation=conversation, at=minutes(12))
    assert automations.escalations_advance(now=minutes(60)) == 0
    assert level(conversation) == 1
    assert fallbacks(conversation) == []


def test_a_closed_window_is_recorded(conversation):
    Conversation.objects.filter(pk=conversation.pk).update(last_inbound_at=minutes(-24 * 60))
    automations.escalations_advance(now=minutes(31))
    assert level(conversation) == 2
    assert fallbacks(conversation) == []
    line = Message.objects.filter(conversation=conversation, type=MessageType.ACTIVITY).order_by("-pk").first()
    assert line.text.startswith("The fallback (phone) could not be sent:")


def test_resolved_conversations_do_not_escalate(conversation):
    Conversation.objects.filter(pk=conversation.pk).update(status="resolved")
    assert automations.escalations_advance(now=minutes(60)) == 0


def test_the_beat_task_runs_it(conversation, monkeypatch):
    from inbox import tasks

    monkeypatch.setattr(automations.timezone, "now", lambda: minutes(10))
    assert tasks.advance_escalations() == 1
