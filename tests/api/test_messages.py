from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.api.conftest import assert_error
from tests.api.test_conversations import follow_all
from tests.factories import ConversationFactory, MessageFactory

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def url(conversation) -> str:
    return f"/api/v1/conversations/{conversation.pk}/messages/"


@pytest.mark.parametrize("role", ["agent", "admin", "manager"])
def test_every_role_reads_a_thread_in_the_documented_shape(make_client, role):
    # given
    conversation = ConversationFactory()
    message = MessageFactory(
        conversation=conversation,
        text="Hello",
        content={"body": "Hello"},
        provider_message_id="wamid.IN1",
        reply_to_provider_id="wamid.OUT0",
        timestamp=T0,
        created_at=T0 + timedelta(seconds=2),
    )

    # when
    response = make_client(role).get(url(conversation))

    # then
    assert response.status_code == 200
    assert response.json() == {
        "results": [
            {
                "id": message.pk,
                "direction": "inbound",
                "type": "text",
                "text": "Hello",
                "content": {"body": "Hello"},
                "provider_message_id": "wamid.IN1",
                "reply_to_provider_id": "wamid.OUT0",
                "status": "received",
                "status_at": None,
                "waiting": None,
                "error": None,
                "pricing_category": "",
                "edited_at": None,
                "revoked_at": None,
                "timestamp": "2026-05-01T12:00:00Z",
                "created_at": "2026-05-01T12:00:02Z",
                "template": None,
            }
        ],
        "next": None,
    }


def test_a_failed_message_explains_its_error_in_plain_words(agent_client):
    message = MessageFactory(
        direction="outbound",
        status="failed",
        status_at=T0,
        error_code=131047,
        error_title="Re-engagement message",
        error_details="Message failed to send because more than 24 hours have passed.",
        timestamp=T0,
    )
    row = agent_client.get(url(message.conversation)).json()["results"][0]
    assert row["status"] == "failed"
    assert row["status_at"] == "2026-05-01T12:00:00Z"
    assert row["error"] == {
        "code": 131047,
        "title": "Re-engagement message",
        "details": "Message failed to send because more than 24 hours have passed.",
        "reason": "More than 24 hours since the customer wrote: send a template.",
    }


def test_an_unknown_error_code_still_gets_a_sentence(agent_client):
    message = MessageFactory(direction="outbound", status="failed", error_code=999999, error_title="Mystery")
    error = agent_client.get(url(message.conversation)).json()["results"][0]["error"]
    assert error["code"] == 999999
    assert "999999" in error["reason"]


def test_a_refusal_without_a_code_shows_what_the_worker_recorded(agent_client):
    message = MessageFactory(direction="outbound", status="failed", error_title="The 24-hour window closed.")
    error = agent_client.get(url(message.conversation)).json()["results"][0]["error"]
    assert error == {
        "code": None,
        "title": "The 24-hour window closed.",
        "details": "",
        "reason": "The 24-hour window closed.",
    }


def test_messages_come_oldest_first_by_whatsapps_timestamp_not_arrival(agent_client):
    conversation = ConversationFactory()
    late_arrival = MessageFactory(conversation=conversation, timestamp=T0)
    early_arrival = MessageFactory(conversation=conversation, timestamp=T0 + timedelta(seconds=30))
    other_conversation = MessageFactory(timestamp=T0)
    ids = [row["id"] for row in agent_client.get(url(conversation)).json()["results"]]
    assert ids == [late_arrival.pk, early_arrival.pk]
    assert other_conversation.pk not in ids


def test_keyset_pages_cover_every_message_once_even_with_equal_timestamps(agent_client):
    # given: WhatsApp timestamps have one-second precision, so a burst shares them
    conversation = ConversationFactory()
    messages = [MessageFactory(conversation=conversation, timestamp=T0 + timedelta(seconds=i // 5)) for i in range(17)]
    expected = [m.pk for m in sorted(messages, key=lambda m: (m.timestamp, m.pk))]

    # when
    ids, pages = follow_all(agent_client, f"{url(conversation)}?limit=4")

    # then
    assert ids == expected
    assert pages == 5


def test_bad_page_parameters_are_a_clear_400(agent_client):
    conversation = ConversationFactory()
    assert_error(agent_client.get(f"{url(conversation)}?cursor=%%%"), 400, "invalid")
    assert_error(agent_client.get(f"{url(conversation)}?limit=x"), 400, "invalid")


def test_query_count_is_the_same_for_5_and_50_messages(agent_client, django_assert_max_num_queries):
    conversation = ConversationFactory()
    MessageFactory.create_batch(5, conversation=conversation)
    with CaptureQueriesContext(connection) as small:
        assert len(agent_client.get(f"{url(conversation)}?limit=100").json()["results"]) == 5
    MessageFactory.create_batch(45, conversation=conversation)
    with django_assert_max_num_queries(len(small)), CaptureQueriesContext(connection) as large:
        assert len(agent_client.get(f"{url(conversation)}?limit=100").json()["results"]) == 50
    assert len(large) == len(small) <= 3  # the token, the conversation, one page of messages


@pytest.mark.parametrize("who", ["anonymous", "inactive"])
def test_a_thread_needs_an_active_person(make_client, who):
    message = MessageFactory()
    assert make_client(who).get(url(message.conversation)).status_code == 401


def test_an_unknown_conversations_messages_are_not_found(agent_client):
    assert_error(agent_client.get("/api/v1/conversations/424242/messages/"), 404, "not_found")
