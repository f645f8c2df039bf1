"""What a customer does about a business on the simulated phone: block it, report it, stop or resume
marketing messages (`user_preferences`), change number (`user_changed_number`) and reinstall WhatsApp
(`customer_identity_changed`): each with the exact webhook Meta sends, through the control API and the page."""

import json

import pytest
from django.test import Client

from inbox.models import Message
from inbox.providers.whatsapp_cloud.signature import verify
from simulator.models import SimulatedCustomer, SimulatedFeedback, SimulatedMessage, SimulatedWebhook
from tests.factories import TEST_APP_SECRET
from tests.simulator.conftest import oa_schema, oa_validate

pytestmark = pytest.mark.django_db
CUSTOMER = "16505551234"
DISPLAY_DIGITS = "15550783881"


@pytest.fixture
def customer(control, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        control.inbound(type="text", text="Hi", name="Ana")
    return SimulatedCustomer.objects.get(wa_id=CUSTOMER)


def act(control, channel, action, capture, wa_id=CUSTOMER, expect=200, **fields):
    with capture(execute=True):
        response = control.post(
            f"customers/{action}", {"phone_number_id": channel.phone_number_id, "wa_id": wa_id, **fields}
        )
    assert response.status_code == expect, response.content
    return response.json()


def signed_value(webhook, channel, field):
    """The change's value of a webhook about one number: signed, `metadata` present, no `entry.time`."""
    raw = bytes(webhook.raw_body)
    assert verify(webhook.signature, raw, [TEST_APP_SECRET])
    document = json.loads(raw)
    [entry] = document["entry"]
    assert entry["id"] == channel.waba_id
    [change] = entry["changes"]
    assert change["field"] == field == webhook.field
    value = change["value"]
    assert value["messaging_product"] == "whatsapp"
    assert value["metadata"] == {"display_phone_number": DISPLAY_DIGITS, "phone_number_id": channel.phone_number_id}
    return value


def test_stop_and_resume_marketing_send_user_preferences(
    control, channel, customer, django_capture_on_commit_callbacks
):
    answer = act(control, channel, "stop_marketing", django_capture_on_commit_callbacks)
    assert answer["marketing_stopped"] is True
    act(control, channel, "stop_marketing", django_capture_on_commit_callbacks, expect=409)
    act(control, channel, "resume_marketing", django_capture_on_commit_callbacks)
    webhooks = list(SimulatedWebhook.objects.filter(field="user_preferences").order_by("id"))
    assert [w.delivered_at is not None for w in webhooks] == [True, True]
    values = [signed_value(w, channel, "user_preferences") for w in webhooks]
    for item, (choice, sentence) in zip(
        values,
        [
            ("stop", "User requested to stop marketing messages"),
            ("resume", "User requested to resume marketing messages"),
        ],
        strict=True,
    ):
        [preference] = item["user_preferences"]
        assert set(item) == {"messaging_product", "metadata", "user_preferences"}
        assert isinstance(preference.pop("timestamp"), int)
        assert preference == {"wa_id": CUSTOMER, "detail": sentence, "category": "marketing_messages", "value": choice}


def test_block_and_report_are_quality_signals_without_webhooks(
    control, channel, customer, django_capture_on_commit_callbacks
):
    before = SimulatedWebhook.objects.count()
    assert act(control, channel, "block", django_capture_on_commit_callbacks)["blocked"] is True
    act(control, channel, "block", django_capture_on_commit_callbacks, expect=409)
    act(control, channel, "report_no_human", django_capture_on_commit_callbacks)
    assert act(control, channel, "unblock", django_capture_on_commit_callbacks)["blocked"] is False
    assert sorted(SimulatedFeedback.objects.values_list("kind", flat=True)) == ["block", "no_human_route"]
    # Meta tells the business nothing about a block; only the number's quality moves (here: RED, flagged).
    fields = list(SimulatedWebhook.objects.order_by("id").values_list("field", flat=True)[before:])
    assert fields == ["phone_number_quality_update"]


def test_change_number_sends_the_system_message_and_moves_the_phone(
    control, channel, customer, django_capture_on_commit_callbacks
):
    customer.identity_hash = "Sjvjlx8G6Z0="
    customer.save()
    answer = act(control, channel, "change_number", django_capture_on_commit_callbacks, new_wa_id="+1 650 555 9876")
    assert (answer["wa_id"], answer["name"], answer["identity_hash"]) == ("16505559876", "Ana", "Sjvjlx8G6Z0=")
    assert SimulatedCustomer.objects.get(wa_id=CUSTOMER).changed_to == "16505559876"

    message = SimulatedMessage.objects.get(type="system")
    value = signed_value(message.webhooks.get(), channel, "messages")
    assert "contacts" not in value
    [sent] = value["messages"]
    assert sent == {
        "from": CUSTOMER,
        "id": message.wamid,
        "timestamp": sent["timestamp"],
        "type": "system",
        "system": {
            "body": "User Ana changed from 16505551234 to 16505559876",
            "wa_id": "16505559876",
            "type": "user_changed_number",
        },
    }
    oa_validate(sent["system"], oa_schema("SystemMessage")["allOf"][1]["properties"]["system"])
    inbox_message = Message.objects.get(provider_message_id=message.wamid)
    assert inbox_message.type == "system"

    assert (
        act(
            control,
            channel,
            "change_number",
            django_capture_on_commit_callbacks,
            wa_id="16505559876",
            expect=409,
            new_wa_id=CUSTOMER,
        )["code"]
        == "number_taken"
    )
    assert (
        act(control, channel, "change_number", django_capture_on_commit_callbacks, expect=400, new_wa_id="abc")["code"]
        == "invalid_wa_id"
    )


def test_reinstalling_whatsapp_mints_a_new_identity(control, channel, customer, django_capture_on_commit_callbacks):
    old_hash = customer.identity_hash
    answer = act(control, channel, "new_identity", django_capture_on_commit_callbacks)
    assert answer["identity_hash"] != old_hash
    message = SimulatedMessage.objects.get(type="system")
    [sent] = signed_value(message.webhooks.get(), channel, "messages")["messages"]
    assert sent["system"] == {"body": "User Ana changed", "customer": CUSTOMER, "type": "customer_identity_changed"}
    assert isinstance(sent["identity"].pop("created_timestamp"), int)
    assert sent["identity"] == {"acknowledged": False, "hash": answer["identity_hash"]}
    assert Message.objects.get(provider_message_id=message.wamid).content["identity"]["hash"] == answer["identity_hash"]


def test_unknown_customers_and_actions(control, channel, customer, django_capture_on_commit_callbacks):
    assert (
        act(control, channel, "block", django_capture_on_commit_callbacks, wa_id="16505550000", expect=404)["code"]
        == "unknown_customer"
    )
    assert act(control, channel, "dance", django_capture_on_commit_callbacks, expect=404)["code"] == "unknown_action"


def test_the_page_offers_the_actions_and_they_work(channel, customer, django_capture_on_commit_callbacks):
    client = Client()
    query = {"number": channel.phone_number_id, "customer": CUSTOMER}
    page = client.get("/simulator/", query).content.decode()
    for test_id in (
        "customer-block",
        "customer-report",
        "customer-stop-marketing",
        "customer-new-identity",
        "customer-change-number",
    ):
        assert f'data-testid="{test_id}"' in page
    form = {"number": channel.phone_number_id, "customer": CUSTOMER}
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post("/simulator/phone/customers/stop_marketing", form).status_code == 302
        assert client.post("/simulator/phone/customers/block", form).status_code == 302
    page = client.get("/simulator/", query).content.decode()
    assert 'data-testid="customer-unblock"' in page and 'data-testid="customer-resume-marketing"' in page

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/simulator/phone/customers/change_number", {**form, "new_wa_id": "16505559876"})
    assert response.status_code == 302 and "customer=16505559876" in response["Location"]
    # The old chat shows the change as a notice.
    old_chat = client.get("/simulator/", query).content.decode()
    assert "User Ana changed from 16505551234 to 16505559876" in old_chat

    refused = client.post("/simulator/phone/customers/change_number", {**form, "new_wa_id": "16505559876"})
    assert refused.status_code == 409 and "already a customer" in refused.content.decode()
