"""Status webhooks back to Switchboard: signed, in Meta's shape, moving the inbox's messages forward."""

import json

import httpx
import pytest
import respx

from inbox.models import Contact, Conversation, Message, StatusUpdate, WebhookEvent
from inbox.providers.whatsapp_cloud.signature import verify
from simulator.models import SimulatedWebhook
from tests.factories import TEST_APP_SECRET, ContactFactory, ConversationFactory, MessageFactory
from tests.simulator.conftest import approved_template, oa_schema, oa_validate, text_body

pytestmark = pytest.mark.django_db
CUSTOMER = "16505551234"


def _send(graph, django_capture_on_commit_callbacks, body, *, channel, version="v23.0"):
    """Send like the inbox's worker: the simulator answers with the wamid, the worker stores it on its
    queued message, and the simulator's status webhooks arrive afterwards."""
    with django_capture_on_commit_callbacks() as pending:
        response = graph.send(body, version=version)
    assert response.status_code == 200, response.content
    wamid = response.json()["messages"][0]["id"]
    contact = Contact.objects.filter(wa_id=CUSTOMER).first() or ContactFactory(wa_id=CUSTOMER)
    conversation = Conversation.objects.filter(channel=channel, contact=contact).first() or ConversationFactory(
        channel=channel, contact=contact
    )
    message = MessageFactory(
        conversation=conversation,
        direction="outbound",
        status="queued",
        provider_message_id=wamid,
        type=body.get("type", "text"),
    )
    with django_capture_on_commit_callbacks(execute=True):
        for callback in pending:
            callback()
    message.refresh_from_db()
    return wamid, message


def _statuses(wamid):
    webhooks = SimulatedWebhook.objects.filter(kind="status", message__wamid=wamid).order_by("id")
    documents = []
    for webhook in webhooks:
        raw = bytes(webhook.raw_body)
        assert verify(webhook.signature, raw, [TEST_APP_SECRET]) == TEST_APP_SECRET
        assert webhook.delivered_at is not None and webhook.response_status == 200
        assert webhook.transport == "in_process"
        documents.append(json.loads(raw))
    return documents


@pytest.fixture
def window_open(control, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        assert control.inbound(type="text", text="Hello?").status_code == 200


def test_sent_then_delivered_then_read(graph, control, channel, window_open, django_capture_on_commit_callbacks):
    wamid, message = _send(graph, django_capture_on_commit_callbacks, text_body(), channel=channel)
    assert message.status == "delivered"
    assert message.pricing_type == "free_customer_service"
    assert message.pricing_category == "service"

    documents = _statuses(wamid)
    assert [d["entry"][0]["changes"][0]["value"]["statuses"][0]["status"] for d in documents] == ["sent", "delivered"]
    for document in documents:
        oa_validate(document, oa_schema("WebhookPayload"))
        entry = document["entry"][0]
        assert entry["id"] == channel.waba_id
        value = entry["changes"][0]["value"]
        assert entry["changes"][0]["field"] == "messages"
        oa_validate(value, oa_schema("StatusMessageValue"))
        assert value["metadata"] == {"display_phone_number": "15550783881", "phone_number_id": channel.phone_number_id}
        status = value["statuses"][0]
        assert status["id"] == wamid
        assert status["recipient_id"] == CUSTOMER
        assert isinstance(status["timestamp"], str) and status["timestamp"].isdigit()
    sent = documents[0]["entry"][0]["changes"][0]["value"]["statuses"][0]
    assert sent["pricing"] == {
        "billable": False,
        "pricing_model": "PMP",
        "type": "free_customer_service",
        "category": "service",
    }
    # v23 still carries the per-message conversation object (§9).
    assert set(sent["conversation"]) == {"id", "expiration_timestamp", "origin"}

    with django_capture_on_commit_callbacks(execute=True):
        assert control.post("read", {"phone_number_id": channel.phone_number_id, "wa_id": CUSTOMER}).json() == {
            "read": 1
        }
    message.refresh_from_db()
    assert message.status == "read"
    read = _statuses(wamid)[-1]["entry"][0]["changes"][0]["value"]["statuses"][0]
    assert read["status"] == "read" and "pricing" not in read
    assert StatusUpdate.objects.filter(provider_message_id=wamid).count() == 3
    assert WebhookEvent.objects.filter(state="processed").count() == 4  # the customer's hello + 3 statuses


def test_outside_the_window_a_free_form_message_fails_with_131047(graph, channel, django_capture_on_commit_callbacks):
    wamid, message = _send(graph, django_capture_on_commit_callbacks, text_body(), channel=channel)
    assert message.status == "failed"
    assert message.error_code == 131047
    assert message.error_title == "Re-engagement message"
    [document] = _statuses(wamid)
    failed = document["entry"][0]["changes"][0]["value"]["statuses"][0]
    oa_validate(failed, oa_schema("Statuses"))
    assert failed["status"] == "failed"
    assert "pricing" not in failed
    assert failed["errors"][0]["code"] == 131047
    assert failed["errors"][0]["error_data"]["details"].startswith("Message failed to send because more than 24 hours")


def test_templates_go_out_outside_the_window_and_are_billed(graph, channel, django_capture_on_commit_callbacks):
    approved_template(channel, category="UTILITY")
    body = {
        "messaging_product": "whatsapp",
        "to": CUSTOMER,
        "type": "template",
        "template": {"name": "hello_world", "language": {"code": "en_US"}},
        "biz_opaque_callback_data": "campaign-7",
    }
    wamid, message = _send(graph, django_capture_on_commit_callbacks, body, channel=channel, version="v24.0")
    assert message.status == "delivered"
    sent = _statuses(wamid)[0]["entry"][0]["changes"][0]["value"]["statuses"][0]
    assert sent["pricing"] == {"billable": True, "pricing_model": "PMP", "type": "regular", "category": "utility"}
    assert sent["biz_opaque_callback_data"] == "campaign-7"
    # From v24.0 the conversation object is gone (§9).
    assert "conversation" not in sent


def test_unreachable_customers_fail_with_131026(
    graph, control, channel, window_open, django_capture_on_commit_callbacks
):
    control.post("customers", {"phone_number_id": channel.phone_number_id, "wa_id": CUSTOMER, "unreachable": True})
    _, message = _send(graph, django_capture_on_commit_callbacks, text_body(), channel=channel)
    assert message.status == "failed"
    assert message.error_code == 131026
    assert message.error_title == "Message undeliverable"


def test_a_media_link_that_is_not_a_web_url_fails_with_131053(
    graph, channel, window_open, django_capture_on_commit_callbacks
):
    body = {"messaging_product": "whatsapp", "to": CUSTOMER, "type": "image", "image": {"link": "ftp://x/a.jpg"}}
    _, message = _send(graph, django_capture_on_commit_callbacks, body, channel=channel)
    assert (message.status, message.error_code) == ("failed", 131053)


def test_webhooks_go_over_http_when_a_url_is_configured(
    graph, channel, settings, window_open, django_capture_on_commit_callbacks
):
    settings.SIMULATOR_WEBHOOK_URL = "http://127.0.0.1:8000/webhooks/whatsapp"
    with respx.mock(assert_all_called=True) as router:
        route = router.post(settings.SIMULATOR_WEBHOOK_URL).mock(
            return_value=httpx.Response(200, json={"code": "stored"})
        )
        with django_capture_on_commit_callbacks(execute=True):
            assert graph.send(text_body(text={"body": "Olá, café @ 5/6"})).status_code == 200
    assert route.call_count == 2
    request = route.calls[0].request
    assert request.headers["Content-Type"] == "application/json"
    assert verify(request.headers["X-Hub-Signature-256"], request.content, [TEST_APP_SECRET])
    assert json.loads(request.content)["entry"][0]["changes"][0]["value"]["statuses"][0]["status"] == "sent"
    assert SimulatedWebhook.objects.filter(kind="status", transport="http", delivered_at__isnull=False).count() == 2


def test_failed_http_deliveries_are_retried(graph, channel, settings, window_open, django_capture_on_commit_callbacks):
    settings.SIMULATOR_WEBHOOK_URL = "http://127.0.0.1:8000/webhooks/whatsapp"
    with respx.mock() as router:
        route = router.post(settings.SIMULATOR_WEBHOOK_URL).mock(
            side_effect=[httpx.Response(503), httpx.ConnectError("refused"), httpx.Response(200), httpx.Response(200)]
        )
        with django_capture_on_commit_callbacks(execute=True):
            graph.send(text_body())
    # sent: 503 then 200; delivered: connection refused then 200.
    assert route.call_count == 4
    webhooks = SimulatedWebhook.objects.filter(kind="status").order_by("id")
    assert [(w.attempts, w.response_status, w.error) for w in webhooks] == [(2, 200, ""), (2, 200, "")]
    assert all(w.delivered_at for w in webhooks)


def test_inbox_message_with_the_id_arriving_late_still_gets_its_statuses(
    graph, channel, window_open, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        wamid = graph.send(text_body()).json()["messages"][0]["id"]
    assert not StatusUpdate.objects.get(provider_message_id=wamid, status="delivered").applied
    assert Message.objects.filter(provider_message_id=wamid).count() == 0
