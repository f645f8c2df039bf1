import json
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from inbox.models import Conversation, Message, WebhookEvent
from inbox.providers.whatsapp_cloud.signature import sign
from tests.api.conftest import assert_error
from tests.api.test_conversations import follow_all
from tests.factories import TEST_APP_SECRET, ChannelFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/webhook-events/"
T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
UNCONNECTED_NUMBER = "106540352249999"


def delivery(phone_number_id: str, message_id: str = "wamid.A") -> bytes:
    return json.dumps(
        {
            "object": "whatsapp_business_account",
            "entry": [
                {
                    "id": "419561257915477",
                    "changes": [
                        {
                            "field": "messages",
                            "value": {
                                "messaging_product": "whatsapp",
                                "metadata": {"display_phone_number": "15550783881", "phone_number_id": phone_number_id},
                                "contacts": [{"profile": {"name": "Sheena Nelson"}, "wa_id": "16505551234"}],
                                "messages": [
                                    {
                                        "from": "16505551234",
                                        "id": message_id,
                                        "timestamp": "1749416383",
                                        "type": "text",
                                        "text": {"body": "Hi"},
                                    }
                                ],
                            },
                        }
                    ],
                }
            ],
        }
    ).encode()


def event(**fields) -> WebhookEvent:
    fields.setdefault("raw_body", b'{"object":"whatsapp_business_account","entry":[]}')
    return WebhookEvent.objects.create(**fields)


def test_an_admin_lists_stored_deliveries_without_their_bodies(admin_client_api):
    stored = event(
        state="unroutable",
        received_at=T0,
        attempts=1,
        error="No connected channel has these phone number or WABA ids.",
        routing_ids=["106540352249999", "419561257915477"],
    )
    response = admin_client_api.get(URL)
    assert response.status_code == 200
    assert response.json() == {
        "results": [
            {
                "id": stored.pk,
                "provider": "whatsapp_cloud",
                "state": "unroutable",
                "received_at": "2026-05-01T12:00:00Z",
                "processed_at": None,
                "attempts": 1,
                "error": "No connected channel has these phone number or WABA ids.",
                "routing_ids": ["106540352249999", "419561257915477"],
                "size_bytes": len(stored.raw_body),
            }
        ],
        "next": None,
    }


@pytest.mark.parametrize("role", ["agent", "manager"])
def test_only_admins_see_webhook_events(make_client, role):
    stored = event()
    client = make_client(role)
    assert_error(client.get(URL), 403, "permission_denied")
    assert_error(client.get(f"{URL}{stored.pk}/"), 403, "permission_denied")
    assert_error(client.post(f"{URL}{stored.pk}/reprocess/"), 403, "permission_denied")


@pytest.mark.parametrize("who", ["anonymous", "inactive"])
def test_webhook_events_need_an_active_person(make_client, who):
    stored = event(state="unroutable")
    client = make_client(who)
    assert client.get(URL).status_code == 401
    assert client.get(f"{URL}{stored.pk}/").status_code == 401
    assert client.post(f"{URL}{stored.pk}/reprocess/").status_code == 401
    stored.refresh_from_db()
    assert stored.state == "unroutable"


def test_filter_by_state(admin_client_api):
    event(state="processed")
    failed = event(state="failed")
    ids = [row["id"] for row in admin_client_api.get(f"{URL}?state=failed").json()["results"]]
    assert ids == [failed.pk]


def test_an_unknown_state_is_a_clear_400(admin_client_api):
    response = admin_client_api.get(f"{URL}?state=lost")
    assert_error(response, 400, "invalid")
    assert "state" in response.json()["detail"]


def test_keyset_pages_newest_first_with_equal_receive_times(admin_client_api):
    events = [event(received_at=T0 + timedelta(seconds=i // 3)) for i in range(11)]
    expected = [e.pk for e in sorted(events, key=lambda e: (e.received_at, e.pk), reverse=True)]
    ids, pages = follow_all(admin_client_api, f"{URL}?limit=4")
    assert ids == expected
    assert pages == 3


def test_query_count_is_the_same_for_5_and_50_events(admin_client_api, django_assert_max_num_queries):
    for _ in range(5):
        event()
    with CaptureQueriesContext(connection) as small:
        assert len(admin_client_api.get(f"{URL}?limit=100").json()["results"]) == 5
    for _ in range(45):
        event()
    with django_assert_max_num_queries(len(small)), CaptureQueriesContext(connection) as large:
        assert len(admin_client_api.get(f"{URL}?limit=100").json()["results"]) == 50
    assert len(large) == len(small)
    # the page reads each body's size, never the body (up to 3 MB each)
    (page_query,) = [q["sql"] for q in large.captured_queries if 'FROM "inbox_webhookevent"' in q["sql"]]
    assert page_query.count("raw_body") == 1
    assert 'LENGTH("inbox_webhookevent"."raw_body")' in page_query


def test_one_event_shows_its_raw_body_decoded_for_reading(admin_client_api):
    raw = b'{"text":"caf\xc3\xa9 \xff"}'
    stored = event(raw_body=raw)
    response = admin_client_api.get(f"{URL}{stored.pk}/")
    assert response.status_code == 200
    body = response.json()
    assert body["raw_body"] == '{"text":"café \ufffd"}'
    assert body["size_bytes"] == len(raw) == 18
    assert body["id"] == stored.pk


def test_an_unknown_event_is_not_found(admin_client_api):
    assert_error(admin_client_api.get(f"{URL}424242/"), 404, "not_found")
    assert_error(admin_client_api.post(f"{URL}424242/reprocess/"), 404, "not_found")


def test_an_unroutable_delivery_is_processed_after_its_number_is_connected(
    client, admin_client_api, django_capture_on_commit_callbacks
):
    # given: the Meta app (whose secret we hold) serves a number nobody connected yet
    ChannelFactory()
    body = delivery(UNCONNECTED_NUMBER)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            "/webhooks/whatsapp",
            body,
            content_type="application/json",
            headers={"X-Hub-Signature-256": sign(TEST_APP_SECRET, body)},
        )
    stored = WebhookEvent.objects.get()
    assert stored.state == "unroutable"
    listed = admin_client_api.get(f"{URL}?state=unroutable").json()["results"]
    assert [row["id"] for row in listed] == [stored.pk]
    assert UNCONNECTED_NUMBER in listed[0]["routing_ids"]

    # when: an admin connects the number, then reprocesses the delivery
    ChannelFactory(phone_number_id=UNCONNECTED_NUMBER)
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client_api.post(f"{URL}{stored.pk}/reprocess/")

    # then
    assert response.status_code == 202
    assert response.json()["state"] == "pending"
    stored.refresh_from_db()
    assert stored.state == "processed"
    assert Message.objects.get().text == "Hi"
    assert Conversation.objects.get().channel.phone_number_id == UNCONNECTED_NUMBER


def test_a_failed_event_can_be_reprocessed(admin_client_api, django_capture_on_commit_callbacks):
    channel = ChannelFactory()
    body = delivery(channel.phone_number_id)
    stored = event(
        state="failed",
        attempts=5,
        error="OperationalError: database is locked",
        raw_body=body,
        signature=sign(TEST_APP_SECRET, body),
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client_api.post(f"{URL}{stored.pk}/reprocess/")
    assert response.status_code == 202
    stored.refresh_from_db()
    assert stored.state == "processed"
    assert Message.objects.filter(channel=channel).count() == 1


@pytest.mark.parametrize("state", ["pending", "processed", "malformed"])
def test_only_unroutable_or_failed_events_are_reprocessed(admin_client_api, state, django_capture_on_commit_callbacks):
    stored = event(state=state)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = admin_client_api.post(f"{URL}{stored.pk}/reprocess/")
    assert_error(response, 409, "not_reprocessable")
    assert callbacks == []
    stored.refresh_from_db()
    assert stored.state == state


def test_reprocess_is_post_only(admin_client_api):
    stored = event(state="unroutable")
    assert_error(admin_client_api.get(f"{URL}{stored.pk}/reprocess/"), 405, "method_not_allowed")
