"""The control API: customers write (through the real signed webhook path), read, age and limits."""

import base64
import hashlib
import json
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from inbox import policy
from inbox.models import Conversation, LiveEvent, Message, WebhookEvent
from inbox.providers.whatsapp_cloud.signature import verify
from inbox.services.sandbox import SandboxRefused, conversation_age
from simulator.models import SimulatedCustomer, SimulatedMessage, SimulatedWebhook
from tests.factories import TEST_APP_SECRET, ChannelFactory
from tests.simulator.conftest import oa_message_part, oa_schema, oa_validate, text_body

pytestmark = pytest.mark.django_db
CUSTOMER = "16505551234"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x01" * 100

# For each inbound kind: OA's schema for the webhook message (where it is usable).
INCOMING_SCHEMAS = {
    "text": "TextMessage_2",
    "image": "ImageMessage_1",
    "document": "DocumentMessage_1",
    "audio": "AudioMessage_1",
    "sticker": "StickerMessage_1",
    "location": "LocationMessage_1",
    "contacts": "ContactSharingMessage",
    "interactive": "InteractiveMessageReply",
    "button": "ButtonMessage",
    "reaction": "ReactionMessage_1",
}


def _inbound(control, capture, **fields):
    with capture(execute=True):
        response = control.inbound(**fields)
    assert response.status_code == 200, response.content
    return response.json()["message_id"]


def _webhook_message(wamid):
    """The message object the simulator's signed webhook carried, checked against Meta's shapes."""
    webhook = SimulatedWebhook.objects.get(kind="message", message__wamid=wamid)
    raw = bytes(webhook.raw_body)
    assert verify(webhook.signature, raw, [TEST_APP_SECRET])
    document = json.loads(raw)
    # OA's IncomingMessage maps inbound types to the *send* schemas (a bug in the file), so the envelope,
    # the change, the value and the message are validated level by level instead of in one go.
    entry = document["entry"][0]
    oa_validate({**document, "entry": [{**entry, "changes": []}]}, oa_schema("WebhookPayload"))
    change = entry["changes"][0]
    oa_validate({"field": change["field"]}, {"properties": {"field": oa_schema("Change")["properties"]["field"]}})
    value = change["value"]
    value_schema = oa_schema("IncomingMessageValueGeneral")
    properties = {key: item for key, item in value_schema["properties"].items() if key != "messages"}
    oa_validate(value, {**value_schema, "properties": properties})
    [message] = value["messages"]
    oa_validate(message, oa_schema("BaseMessageProperties_1"))
    if message["type"] in INCOMING_SCHEMAS:
        oa_validate(message, oa_message_part(INCOMING_SCHEMAS[message["type"]]))
    return value, message


def test_inbound_text_becomes_an_inbox_conversation(control, channel, django_capture_on_commit_callbacks):
    wamid = _inbound(control, django_capture_on_commit_callbacks, type="text", text="Do you ship to Porto?", name="Ana")
    assert wamid.startswith("wamid.")
    message = Message.objects.get(provider_message_id=wamid)
    assert (message.direction, message.type, message.text) == ("inbound", "text", "Do you ship to Porto?")
    assert message.conversation.contact.profile_name == "Ana"
    assert message.conversation.channel == channel
    assert message.conversation.service_window_closes_at is not None
    assert WebhookEvent.objects.get().state == "processed"
    value, webhook_message = _webhook_message(wamid)
    assert value["contacts"] == [{"profile": {"name": "Ana"}, "wa_id": CUSTOMER}]
    assert value["metadata"]["phone_number_id"] == channel.phone_number_id
    assert webhook_message["from"] == CUSTOMER


def test_inbound_text_is_serialised_like_meta(control, channel, django_capture_on_commit_callbacks):
    wamid = _inbound(control, django_capture_on_commit_callbacks, text="Olá! café@home 1/2 \U0001f600")
    raw = bytes(SimulatedWebhook.objects.get(message__wamid=wamid).raw_body)
    assert b"Ol\\u00e1! caf\\u00e9\\u0040home 1\\/2 \\ud83d\\ude00" in raw
    assert Message.objects.get(provider_message_id=wamid).text == "Olá! café@home 1/2 \U0001f600"


def test_inbound_image_can_be_fetched_by_the_business(
    control, graph, client, channel, django_capture_on_commit_callbacks
):
    wamid = _inbound(
        control,
        django_capture_on_commit_callbacks,
        type="image",
        caption="My receipt",
        file_base64=base64.b64encode(PNG).decode(),
        mime_type="image/png",
        filename="r.png",
    )
    message = Message.objects.get(provider_message_id=wamid)
    assert (message.type, message.text) == ("image", "My receipt")
    assert message.content["mime_type"] == "image/png"
    assert message.content["sha256"] == hashlib.sha256(PNG).hexdigest()
    info = graph.get(f"/simulator/graph/v23.0/{message.content['id']}").json()
    downloaded = client.get(info["url"], headers={"Authorization": "Bearer test-access-token"})
    assert b"".join(downloaded.streaming_content) == PNG
    _webhook_message(wamid)


def test_inbound_document_by_multipart(client, channel, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/simulator/api/inbound",
            {
                "phone_number_id": channel.phone_number_id,
                "from": CUSTOMER,
                "type": "document",
                "file": SimpleUploadedFile("invoice.pdf", b"%PDF-1.4 invoice", content_type="application/pdf"),
            },
        )
    assert response.status_code == 200, response.content
    message = Message.objects.get(provider_message_id=response.json()["message_id"])
    assert (message.type, message.text, message.content["filename"]) == ("document", "invoice.pdf", "invoice.pdf")
    _webhook_message(message.provider_message_id)


@pytest.mark.parametrize(
    ("fields", "inbox_type", "inbox_text"),
    [
        (
            {
                "type": "audio",
                "file_base64": base64.b64encode(b"OggS....").decode(),
                "mime_type": "audio/ogg",
                "voice": True,
            },
            "audio",
            "",
        ),
        (
            {"type": "sticker", "file_base64": base64.b64encode(b"RIFF0000WEBP").decode(), "mime_type": "image/webp"},
            "sticker",
            "",
        ),
        (
            {
                "type": "location",
                "latitude": 38.7223,
                "longitude": -9.1393,
                "name": "Baixa",
                "address": "Rua Augusta 1",
            },
            "location",
            "Baixa",
        ),
        (
            {
                "type": "contacts",
                "contacts": [{"name": {"formatted_name": "Rui Costa"}, "phones": [{"phone": "+351 912 345 678"}]}],
            },
            "contacts",
            "Rui Costa",
        ),
        ({"type": "request_welcome"}, "request_welcome", ""),
    ],
)
def test_inbound_kinds(control, channel, django_capture_on_commit_callbacks, fields, inbox_type, inbox_text):
    wamid = _inbound(control, django_capture_on_commit_callbacks, **fields)
    message = Message.objects.get(provider_message_id=wamid)
    assert (message.type, message.text) == (inbox_type, inbox_text)
    _webhook_message(wamid)


def _business_message(graph, body):
    response = graph.send(body)
    assert response.status_code == 200, response.content
    return response.json()["messages"][0]["id"]


def test_taps_on_buttons_lists_and_template_quick_replies(control, graph, channel, django_capture_on_commit_callbacks):
    _inbound(control, django_capture_on_commit_callbacks, text="Hi")
    buttons = _business_message(
        graph,
        {
            "messaging_product": "whatsapp",
            "to": CUSTOMER,
            "type": "interactive",
            "interactive": {
                "type": "button",
                "body": {"text": "Ship today?"},
                "action": {"buttons": [{"type": "reply", "reply": {"id": "yes", "title": "Yes"}}]},
            },
        },
    )
    a_list = _business_message(
        graph,
        {
            "messaging_product": "whatsapp",
            "to": CUSTOMER,
            "type": "interactive",
            "interactive": {
                "type": "list",
                "body": {"text": "Slot?"},
                "action": {
                    "button": "Slots",
                    "sections": [{"title": "Morning", "rows": [{"id": "m1", "title": "8-10", "description": "Early"}]}],
                },
            },
        },
    )

    tapped = _inbound(
        control,
        django_capture_on_commit_callbacks,
        type="button_reply",
        reply_id="yes",
        title="Yes",
        context_message_id=buttons,
    )
    picked = _inbound(
        control,
        django_capture_on_commit_callbacks,
        type="interactive",
        reply_id="m1",
        title="8-10",
        description="Early",
        context_message_id=a_list,
    )
    quick = _inbound(
        control,
        django_capture_on_commit_callbacks,
        type="button",
        payload="track",
        text="Track it",
        context_message_id=buttons,
    )

    tapped_message = Message.objects.get(provider_message_id=tapped)
    assert (tapped_message.type, tapped_message.text, tapped_message.reply_to_provider_id) == (
        "interactive",
        "Yes",
        buttons,
    )
    assert tapped_message.content["button_reply"] == {"id": "yes", "title": "Yes"}
    picked_message = Message.objects.get(provider_message_id=picked)
    assert picked_message.content["list_reply"] == {"id": "m1", "title": "8-10", "description": "Early"}
    quick_message = Message.objects.get(provider_message_id=quick)
    assert (quick_message.type, quick_message.text) == ("button", "Track it")
    for wamid in (tapped, picked, quick):
        _, webhook_message = _webhook_message(wamid)
        assert webhook_message["context"] == {"from": "15550783881", "id": webhook_message["context"]["id"]}


def test_reactions_edits_and_deletions(control, graph, channel, django_capture_on_commit_callbacks):
    original = _inbound(control, django_capture_on_commit_callbacks, text="I want 2 boxes")
    business = _business_message(graph, text_body(body="Noted!"))
    reaction = _inbound(control, django_capture_on_commit_callbacks, type="reaction", message_id=business, emoji="👍")
    removal = _inbound(control, django_capture_on_commit_callbacks, type="reaction", message_id=business, emoji="")
    _inbound(control, django_capture_on_commit_callbacks, type="edit", message_id=original, text="I want 3 boxes")
    assert Message.objects.get(provider_message_id=original).text == "I want 3 boxes"
    _inbound(control, django_capture_on_commit_callbacks, type="revoke", message_id=original)
    assert Message.objects.get(provider_message_id=original).revoked_at is not None
    assert Message.objects.get(provider_message_id=reaction).text == "👍"
    assert Message.objects.get(provider_message_id=removal).content == {"message_id": business, "emoji": ""}


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"phone_number_id": "999", "from": CUSTOMER, "text": "x"}, 404, "unknown_number"),
        ({"phone_number_id": None, "from": CUSTOMER, "text": "x"}, 400, "missing_field"),
        ({"from": "abc", "text": "x"}, 400, "invalid_wa_id"),
        ({"from": CUSTOMER, "type": "text"}, 400, "missing_field"),
        ({"from": CUSTOMER, "type": "fax"}, 400, "invalid_type"),
        ({"from": CUSTOMER, "type": "image"}, 400, "missing_file"),
        ({"from": CUSTOMER, "type": "image", "file_base64": "@@", "mime_type": "image/png"}, 400, "invalid_file"),
        (
            {"from": CUSTOMER, "type": "image", "file_base64": "aGk=", "mime_type": "application/pdf"},
            400,
            "unsupported_media",
        ),
        ({"from": CUSTOMER, "type": "location", "latitude": 100, "longitude": 0}, 400, "invalid_field"),
        ({"from": CUSTOMER, "type": "reaction", "message_id": "wamid.nope", "emoji": "x"}, 400, "unknown_message"),
        ({"from": CUSTOMER, "type": "text", "text": "x", "context_message_id": "wamid.nope"}, 400, "unknown_message"),
    ],
)
def test_inbound_refusals(client, channel, body, status, code):
    body = {"phone_number_id": channel.phone_number_id, **body}
    response = client.post("/simulator/api/inbound", json.dumps(body), content_type="application/json")
    assert response.status_code == status
    assert response.json()["code"] == code
    assert response.json()["detail"]
    assert not SimulatedMessage.objects.exists()


def test_invalid_json_and_wrong_method(client, channel):
    response = client.post("/simulator/api/inbound", "{", content_type="application/json")
    assert (response.status_code, response.json()["code"]) == (400, "invalid_json")
    response = client.get("/simulator/api/inbound")
    assert (response.status_code, response.json()["code"]) == (405, "method_not_allowed")


def test_a_channel_pointing_at_meta_is_refused(client, db):
    real = ChannelFactory(graph_api_base="https://graph.facebook.com/v23.0")
    response = client.post(
        "/simulator/api/inbound",
        json.dumps({"phone_number_id": real.phone_number_id, "from": CUSTOMER, "text": "x"}),
        content_type="application/json",
    )
    assert (response.status_code, response.json()["code"]) == (403, "not_simulated")
    assert not WebhookEvent.objects.exists()
    with pytest.raises(SandboxRefused):
        conversation_age(channel=real, wa_id=CUSTOMER, hours=25)


def test_outbound_lists_what_the_phone_received(control, graph, channel, django_capture_on_commit_callbacks):
    _inbound(control, django_capture_on_commit_callbacks, text="Hi")
    with django_capture_on_commit_callbacks(execute=True):
        wamid = _business_message(graph, text_body(body="Hello Ana", context={"message_id": "wamid.X"}))
    response = control.get("outbound", phone_number_id=channel.phone_number_id, to="+1 650 555 1234")
    [message] = response.json()["messages"]
    assert message["id"] == wamid
    assert message["type"] == "text"
    assert message["payload"] == {"body": "Hello Ana"}
    assert message["status"] == "delivered"
    assert message["error"] is None
    assert message["context_message_id"] == "wamid.X"
    assert message["timestamp"]
    assert control.get("outbound", phone_number_id=channel.phone_number_id, to="19999999999").json() == {"messages": []}


def test_outbound_shows_asynchronous_failures(control, graph, channel, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        _business_message(graph, text_body())
    [message] = control.get("outbound", phone_number_id=channel.phone_number_id, to=CUSTOMER).json()["messages"]
    assert message["status"] == "failed"
    assert message["error"]["code"] == 131047


def test_customers_create_update_and_list(control, channel):
    created = control.post(
        "customers", {"phone_number_id": channel.phone_number_id, "wa_id": "+351 912 345 678", "name": "Rui"}
    )
    assert created.json() == {
        "wa_id": "351912345678",
        "name": "Rui",
        "unreachable": False,
        "last_inbound_at": None,
        "window_open": False,
    }
    updated = control.post(
        "customers", {"phone_number_id": channel.phone_number_id, "wa_id": "351912345678", "unreachable": True}
    )
    assert updated.json()["unreachable"] is True and updated.json()["name"] == "Rui"
    listed = control.get("customers", phone_number_id=channel.phone_number_id).json()["customers"]
    assert [c["wa_id"] for c in listed] == ["351912345678"]
    assert control.get("customers").status_code == 400


def test_ageing_closes_the_window_here_and_in_the_inbox(control, graph, channel, django_capture_on_commit_callbacks):
    wamid = _inbound(control, django_capture_on_commit_callbacks, text="Hi")
    inbound = Message.objects.get(provider_message_id=wamid)
    before = inbound.timestamp
    now = timezone.now()
    conversation = inbound.conversation
    assert policy.is_service_window_open(conversation.last_inbound_at, now=now)

    with django_capture_on_commit_callbacks(execute=True):
        response = control.post("age", {"phone_number_id": channel.phone_number_id, "wa_id": CUSTOMER, "hours": 25})
    assert response.status_code == 200
    assert response.json()["window_open"] is False
    assert response.json()["conversations_moved"] == 1

    conversation = Conversation.objects.get(pk=conversation.pk)
    assert not policy.is_service_window_open(conversation.last_inbound_at, now=now)
    assert conversation.service_window_closes_at < now
    assert Message.objects.get(pk=inbound.pk).timestamp == before - timedelta(hours=25)
    event = LiveEvent.objects.filter(type="conversation.updated", conversation_id=conversation.pk).latest("id")
    assert event.data["service_window_closes_at"] == conversation.service_window_closes_at.isoformat()

    with django_capture_on_commit_callbacks(execute=True):
        graph.send(text_body())
    assert SimulatedMessage.objects.get(direction="to_customer").error["code"] == 131047


@pytest.mark.parametrize("hours", [0, -3, "soon", None])
def test_ageing_needs_positive_hours(control, channel, hours):
    SimulatedCustomer.objects.create(channel=channel, wa_id=CUSTOMER)
    response = control.post("age", {"phone_number_id": channel.phone_number_id, "wa_id": CUSTOMER, "hours": hours})
    assert response.status_code == 400


def test_ageing_an_unknown_customer_is_404(control, channel):
    response = control.post("age", {"phone_number_id": channel.phone_number_id, "wa_id": CUSTOMER, "hours": 1})
    assert (response.status_code, response.json()["code"]) == (404, "unknown_customer")


def test_limits(control, channel):
    path = f"numbers/{channel.phone_number_id}/limits"
    assert control.get(path).json() == {
        "phone_number_id": channel.phone_number_id,
        "throughput_per_second": 80,
        "pair_burst": 45,
        "pair_refill_seconds": 6.0,
    }
    changed = control.post(path, {"throughput_per_second": 5, "pair_burst": 3, "pair_refill_seconds": 0.5}).json()
    assert (changed["throughput_per_second"], changed["pair_burst"], changed["pair_refill_seconds"]) == (5, 3, 0.5)
    assert control.post(path, {"pair_burst": 0}).status_code == 400
    assert control.post(path, {"throughput_per_second": "many"}).status_code == 400
    assert control.get("numbers/000/limits").status_code == 404
