"""`conversation_mark_read`: the team's unread count goes to zero and WhatsApp gets the read receipt for
the latest customer message (blue ticks)."""

import json
from datetime import timedelta

import httpx
import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from accounts.models import Role
from inbox.models import Conversation, LiveEvent
from inbox.services import outbound
from tests.factories import MessageFactory, UserFactory
from tests.inbox.outbound.conftest import MESSAGES_URL, graph_error

pytestmark = pytest.mark.django_db


@pytest.fixture
def unread(conversation):
    now = timezone.now()
    MessageFactory(conversation=conversation, provider_message_id="wamid.OLD", timestamp=now - timedelta(minutes=5))
    MessageFactory(conversation=conversation, provider_message_id="wamid.NEW", timestamp=now - timedelta(minutes=1))
    MessageFactory(conversation=conversation, provider_message_id="wamid.EDIT", type="edit", timestamp=now)
    Conversation.objects.filter(pk=conversation.pk).update(unread_count=2)
    conversation.refresh_from_db()
    return conversation


def test_reading_clears_the_count_and_marks_the_latest_message_read(
    unread, agent, graph, django_capture_on_commit_callbacks
):
    route = graph.post(MESSAGES_URL).mock(return_value=httpx.Response(200, json={"success": True}))
    with django_capture_on_commit_callbacks(execute=True):
        outbound.conversation_mark_read(conversation=unread, user=agent)
    assert unread.unread_count == 0
    assert Conversation.objects.get(pk=unread.pk).unread_count == 0
    assert json.loads(route.calls.last.request.content) == {
        "messaging_product": "whatsapp",
        "status": "read",
        "message_id": "wamid.NEW",
    }
    event = LiveEvent.objects.get(type="conversation.updated")
    assert event.data["unread_count"] == 0 and event.conversation_id == unread.pk


def test_nothing_unread_sends_nothing(conversation, agent, graph, django_capture_on_commit_callbacks):
    route = graph.post(MESSAGES_URL)
    with django_capture_on_commit_callbacks(execute=True):
        outbound.conversation_mark_read(conversation=conversation, user=agent)
    assert route.call_count == 0 and not LiveEvent.objects.exists()


def test_managers_reading_changes_nothing(unread, graph):
    with pytest.raises(PermissionDenied):
        outbound.conversation_mark_read(conversation=unread, user=UserFactory(role=Role.MANAGER))
    assert Conversation.objects.get(pk=unread.pk).unread_count == 2


def test_a_read_receipt_is_retried_a_little_then_given_up(
    unread, agent, graph, django_capture_on_commit_callbacks, caplog
):
    route = graph.post(MESSAGES_URL).mock(return_value=httpx.Response(503))
    with django_capture_on_commit_callbacks(execute=True):
        outbound.conversation_mark_read(conversation=unread, user=agent)
    assert route.call_count == outbound.READ_RECEIPT_ATTEMPTS
    assert "refused the read receipt" in caplog.text


def test_a_refused_read_receipt_is_not_retried(unread, agent, graph, django_capture_on_commit_callbacks):
    route = graph.post(MESSAGES_URL).mock(return_value=graph_error(100, details="is outgoing"))
    with django_capture_on_commit_callbacks(execute=True):
        outbound.conversation_mark_read(conversation=unread, user=agent)
    assert route.call_count == 1
