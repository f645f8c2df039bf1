"""POST /{phone_number_id}/messages against the simulator: Meta's bodies, answers, errors and headers."""

import copy
import json

import pytest

from simulator import services
from simulator.models import GraphRequest, SimulatedCustomer, SimulatedMessage
from tests.factories import ChannelFactory
from tests.simulator.conftest import (
    TOKEN,
    approved_template,
    components_for,
    oa_message_part,
    oa_schema,
    oa_validate,
    openapi,
    text_body,
)

pytestmark = pytest.mark.django_db
CUSTOMER = "16505551234"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def open_window(control, django_capture_on_commit_callbacks):
    """The customer wrote first, so free-form messages may go out for 24 hours."""
    with django_capture_on_commit_callbacks(execute=True):
        response = control.inbound(type="text", text="Hi there")
    assert response.status_code == 200
    return response.json()["message_id"]


def _media_id(graph, mime_type="image/png", content=PNG, name="a.png"):
    response = graph.upload(content, mime_type=mime_type, name=name)
    assert response.status_code == 200, response.content
    return response.json()["id"]


def _bodies(graph):
    """One body per message type of §2, each checked against Meta's own schema for that type."""
    image_id = _media_id(graph)
    doc_id = _media_id(graph, "application/pdf", b"%PDF-1.4 test", "terms.pdf")
    interactive_buttons = {
        "type": "button",
        "header": {"type": "text", "text": "Your order"},
        "body": {"text": "Shall we ship it today?"},
        "footer": {"text": "Reply to choose"},
        "action": {
            "buttons": [
                {"type": "reply", "reply": {"id": "ship-today", "title": "Yes, today"}},
                {"type": "reply", "reply": {"id": "ship-later", "title": "Later"}},
            ]
        },
    }
    interactive_list = {
        "type": "list",
        "body": {"text": "Pick a delivery slot"},
        "action": {
            "button": "Slots",
            "sections": [
                {"title": "Morning", "rows": [{"id": "m1", "title": "8-10", "description": "Early"}]},
                {"title": "Evening", "rows": [{"id": "e1", "title": "18-20"}]},
            ],
        },
    }
    return {
        "text": ("TextMessage", {"text": {"body": "Hello, Ana!", "preview_url": False}}),
        "image_by_id": ("ImageMessage", {"image": {"id": image_id, "caption": "Your receipt"}}),
        "image_by_link": ("ImageMessage", {"image": {"link": "https://example.com/a.jpg"}}),
        "document": ("DocumentMessage", {"document": {"id": doc_id, "filename": "terms.pdf"}}),
        "audio": ("AudioMessage", {"audio": {"link": "https://example.com/a.ogg"}}),
        "video": ("VideoMessage", {"video": {"link": "https://example.com/a.mp4", "caption": "Demo"}}),
        "sticker": ("StickerMessage", {"sticker": {"link": "https://example.com/a.webp"}}),
        "location": (
            None,
            {"location": {"latitude": 37.758056, "longitude": -122.425332, "name": "HQ", "address": "1 Hacker Way"}},
        ),
        "contacts": (
            "ContactsMessage",
            {
                "contacts": [
                    {
                        "name": {"formatted_name": "John Smith", "first_name": "John"},
                        "phones": [{"phone": "+1 650 555 1234", "type": "WORK", "wa_id": "16505551234"}],
                    }
                ]
            },
        ),
        "reaction": ("ReactionMessage", {"reaction": {"message_id": "wamid.ANY", "emoji": "\U0001f600"}}),
        "interactive_button": ("InteractiveMessage", {"interactive": interactive_buttons}),
        "interactive_list": ("InteractiveMessage", {"interactive": interactive_list}),
        "interactive_product": (
            "InteractiveMessage",
            {
                "interactive": {
                    "type": "product",
                    "action": {"catalog_id": "367025965434465", "product_retailer_id": "sku-1"},
                }
            },
        ),
        "interactive_product_list": (
            "InteractiveMessage",
            {
                "interactive": {
                    "type": "product_list",
                    "header": {"type": "text", "text": "Our picks"},
                    "body": {"text": "Take a look"},
                    "action": {
                        "catalog_id": "146265584024623",
                        "sections": [
                            {
                                "title": "Shoes",
                                "product_items": [{"product_retailer_id": "sku-1"}, {"product_retailer_id": "sku-2"}],
                            }
                        ],
                    },
                }
            },
        ),
        "template": (
            "TemplateMessage",
            {
                "template": {
                    "name": "order_update",
                    "language": {"policy": "deterministic", "code": "en_US"},
                    "components": [
                        {"type": "body", "parameters": [{"type": "text", "text": "Ana"}]},
                        # OA types `index` with the meaningless pattern ^[2-6, 11-14]$ (contract §2): "2" passes.
                        {
                            "type": "button",
                            "sub_type": "quick_reply",
                            "index": "2",
                            "parameters": [{"type": "payload", "payload": "track"}],
                        },
                    ],
                }
            },
        ),
    }


def test_every_message_type_is_accepted_with_metas_answer(graph, channel, open_window):
    bodies = _bodies(graph)
    approved_template(channel, name="order_update", components=components_for(bodies["template"][1]["template"]))
    for name, (schema_name, type_part) in bodies.items():
        message_type = next(iter(type_part))
        body = {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": CUSTOMER,
            "type": message_type,
            **type_part,
        }
        # The request itself is what Meta's schema describes.
        oa_validate(
            {key: body[key] for key in ("messaging_product", "recipient_type", "to", "type")},
            oa_schema("BaseMessageProperties"),
        )
        if schema_name:
            oa_validate(type_part, {"type": "object", "properties": oa_message_part(schema_name)["properties"]})
        response = graph.send(body)
        assert response.status_code == 200, (name, response.content)
        answer = response.json()
        oa_validate(answer, oa_schema("MessageResponsePayload"))
        assert answer["messaging_product"] == "whatsapp"
        assert answer["contacts"] == [{"input": CUSTOMER, "wa_id": CUSTOMER}]
        assert answer["messages"][0]["id"].startswith("wamid.")
        assert ("message_status" in answer["messages"][0]) is (message_type == "template")
    assert SimulatedMessage.objects.filter(direction="to_customer").count() == len(_bodies(graph))


def test_template_answer_carries_message_status_accepted(graph, channel):
    approved_template(channel)
    response = graph.send(
        {
            "messaging_product": "whatsapp",
            "to": CUSTOMER,
            "type": "template",
            "template": {"name": "hello_world", "language": {"code": "en_US"}},
        }
    )
    assert response.status_code == 200
    assert response.json()["messages"][0]["message_status"] == "accepted"


def test_to_may_be_a_json_number(graph, open_window):
    response = graph.send(text_body(to=16505551234))
    assert response.status_code == 200
    assert response.json()["contacts"] == [{"input": "16505551234", "wa_id": "16505551234"}]


def test_to_with_plus_and_spaces_is_normalised_but_echoed(graph, open_window):
    response = graph.send(text_body(to="+1 650-555-1234"))
    assert response.json()["contacts"] == [{"input": "+1 650-555-1234", "wa_id": "16505551234"}]


def _placeholders(value, replacements):
    if isinstance(value, dict):
        return {key: _placeholders(item, replacements) for key, item in value.items()}
    if isinstance(value, list):
        return [_placeholders(item, replacements) for item in value]
    if isinstance(value, str):
        return replacements.get(value, value)
    return value


def test_every_request_example_in_metas_openapi_file_is_accepted(graph, control, channel, open_window):
    control.post(f"numbers/{channel.phone_number_id}/limits", {"pair_burst": 1000})
    image_id = _media_id(graph)
    replacements = {
        "{{Recipient-Phone-Number}}": CUSTOMER,
        "{{Recipient-WA-Phone-Number}}": CUSTOMER,
        "<AUDIO_OBJECT_ID>": _media_id(graph, "audio/ogg", b"OggS" + b"\x00" * 32, "a.ogg"),
        "<DOCUMENT_OBJECT_ID>": _media_id(graph, "application/pdf", b"%PDF-1.4", "a.pdf"),
        "<IMAGE_OBJECT_ID>": image_id,
        "<MEDIA_OBJECT_ID>": _media_id(graph, "image/webp", b"RIFF0000WEBP", "a.webp"),
        "<VIDEO_OBJECT_ID>": _media_id(graph, "video/mp4", b"\x00\x00\x00\x18ftypmp42", "a.mp4"),
        "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQUYzMjEzNDM2RTZGQ0MzMDJBRgA=": open_window,
    }
    operation = openapi()["paths"]["/{Version}/{Phone-Number-ID}/messages"]["post"]
    examples = operation["requestBody"]["content"]["application/json"]["examples"]
    assert len(examples) > 40
    for number, (name, example) in enumerate(examples.items()):
        body = _placeholders(copy.deepcopy(example["value"]), replacements)
        if body.get("type") == "template":
            # Meta's examples name placeholder templates ("template-name" in "language-and-locale-code")
            # with different shapes: each gets an approved template of its own that fits it.
            body["template"]["name"] = f"oa_example_{number}"
            body["template"]["language"]["code"] = "en_US"
            approved_template(channel, name=f"oa_example_{number}", components=components_for(body["template"]))
        response = graph.send(body)
        assert response.status_code == 200, (name, response.content)
        expected = {"success": True} if body.get("status") == "read" else None
        if expected:
            assert response.json() == expected
        else:
            oa_validate(response.json(), oa_schema("MessageResponsePayload"))


def _error(response, http_status, code):
    assert response.status_code == http_status, response.content
    error = response.json()["error"]
    assert error["code"] == code
    assert error["message"].startswith(f"(#{code}) ") or error["type"] == "GraphMethodException"
    assert error["fbtrace_id"]
    return error


def test_invalid_body_gets_metas_error_envelope(graph):
    response = graph.send(text_body(text={"body": "x" * 4097}))
    error = _error(response, 400, 100)
    assert set(error) == {"message", "type", "code", "error_data", "fbtrace_id"}
    assert error["message"] == "(#100) Invalid parameter"
    assert error["type"] == "OAuthException"
    assert error["error_data"] == {
        "messaging_product": "whatsapp",
        "details": "Param text['body'] must be at most 4096 characters long.",
    }
    assert response["WWW-Authenticate"].startswith('OAuth "Facebook Platform" "invalid_request"')


def test_body_that_is_not_json_is_invalid_parameter(graph):
    assert (
        _error(graph.send(None, raw="{nope"), 400, 100)["error_data"]["details"]
        == "The request body is not valid JSON."
    )


def test_interactive_limit_is_131009(graph):
    body = {
        "messaging_product": "whatsapp",
        "to": CUSTOMER,
        "type": "interactive",
        "interactive": {
            "type": "button",
            "body": {"text": "b"},
            "action": {"buttons": [{"type": "reply", "reply": {"id": str(i), "title": f"t{i}"}} for i in range(4)]},
        },
    }
    assert _error(graph.send(body), 400, 131009)["message"] == "(#131009) Parameter value is not valid"


def test_unknown_media_id_is_refused(graph, open_window):
    body = {"messaging_product": "whatsapp", "to": CUSTOMER, "type": "image", "image": {"id": "999"}}
    details = _error(graph.send(body), 400, 100)["error_data"]["details"]
    assert "is not a valid whatsapp business account media attachment ID" in details


@pytest.mark.parametrize("token", ["wrong-token", ""])
def test_wrong_or_missing_token_is_190(graph, token):
    error = _error(graph.send(text_body(), token=token), 401, 190)
    assert error["type"] == "OAuthException"
    assert not SimulatedMessage.objects.exists()


def test_unknown_phone_number_id_does_not_exist(client):
    response = client.post(
        "/simulator/graph/v23.0/123123/messages",
        json.dumps(text_body()),
        content_type="application/json",
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    error = _error(response, 400, 100)
    assert error["type"] == "GraphMethodException"
    assert error["error_subcode"] == 33
    assert error["message"].startswith("Unsupported post request. Object with ID '123123' does not exist")


def test_a_channel_pointing_at_meta_is_never_touched(client, db):
    real = ChannelFactory(graph_api_base="https://graph.facebook.com/v23.0")
    response = client.post(
        f"/simulator/graph/v23.0/{real.phone_number_id}/messages",
        json.dumps(text_body()),
        content_type="application/json",
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    assert _error(response, 400, 100)["error_subcode"] == 33
    assert not SimulatedMessage.objects.exists()
    assert not SimulatedCustomer.objects.exists()


def test_throughput_limit_is_130429_within_one_second(graph, control, channel, open_window, monkeypatch):
    control.post(f"numbers/{channel.phone_number_id}/limits", {"throughput_per_second": 2})
    monkeypatch.setattr(services, "clock", lambda: 1_000_000.2)
    assert graph.send(text_body(to="16505550001")).status_code == 200
    assert graph.send(text_body(to="16505550002")).status_code == 200
    error = _error(graph.send(text_body(to="16505550003")), 400, 130429)
    assert error["message"] == "(#130429) Rate limit hit"
    assert error["error_data"]["details"] == "Cloud API message throughput has been reached."
    monkeypatch.setattr(services, "clock", lambda: 1_000_001.0)
    assert graph.send(text_body(to="16505550003")).status_code == 200


def test_pair_rate_limit_is_131056_per_recipient(graph, control, channel, open_window):
    control.post(f"numbers/{channel.phone_number_id}/limits", {"pair_burst": 2, "pair_refill_seconds": 600})
    assert graph.send(text_body()).status_code == 200
    assert graph.send(text_body()).status_code == 200
    error = _error(graph.send(text_body()), 400, 131056)
    assert error["message"] == "(#131056) (Business Account, Consumer Account) pair rate limit hit"
    # Another customer of the same number has their own budget (and an async 131047, not a refusal).
    assert graph.send(text_body(to="16505550009")).status_code == 200


def test_default_pair_rate_allows_a_burst_of_45(graph, open_window):
    statuses = [graph.send(text_body()).status_code for _ in range(46)]
    assert statuses == [200] * 45 + [400]


def test_version_headers(graph, channel):
    current = graph.send(text_body())
    assert current["Facebook-Api-Version"] == "v23.0"
    usage = json.loads(current["X-Business-Use-Case-Usage"])
    assert usage[channel.waba_id][0]["type"] == "whatsapp"
    retired = graph.send(text_body(), version="v19.0")
    assert retired.status_code == 200
    assert retired["Facebook-Api-Version"] == "v24.0"
    assert "auto-upgraded to v24.0" in retired["X-Ad-Api-Version-Warning"]


def test_every_request_is_in_the_ledger_without_the_token(graph, channel):
    graph.send(text_body())
    graph.send(text_body(), token="wrong")
    graph.send(text_body(text={"body": ""}))
    ledger = list(GraphRequest.objects.order_by("id"))
    assert [(r.response_status, r.authorized, r.error_code) for r in ledger] == [
        (200, True, None),
        (401, False, 190),
        (400, True, 100),
    ]
    assert all(r.channel_id == channel.pk and r.api_version == "v23.0" for r in ledger)
    assert json.loads(ledger[0].body)["text"]["body"] == "Hello from the business"
    assert all(TOKEN not in r.body + r.response_body + r.query for r in ledger)


def test_mark_as_read(graph, open_window):
    response = graph.send(
        {
            "messaging_product": "whatsapp",
            "status": "read",
            "message_id": open_window,
            "typing_indicator": {"type": "text"},
        }
    )
    assert response.status_code == 200
    assert response.json() == {"success": True}
    inbound = SimulatedMessage.objects.get(wamid=open_window)
    assert inbound.status == "read"
    assert inbound.customer.business_typing_until is not None


def test_mark_as_read_refuses_outgoing_and_unknown_ids(graph, open_window):
    outgoing = graph.send(text_body()).json()["messages"][0]["id"]
    error = _error(graph.send({"messaging_product": "whatsapp", "status": "read", "message_id": outgoing}), 400, 100)
    assert error["error_data"]["details"] == (
        f"Message supplied to mark message as read API with message ID: {outgoing} is outgoing. "
        "Please use an incoming message ID."
    )
    error = _error(graph.send({"messaging_product": "whatsapp", "status": "read", "message_id": "12345"}), 400, 100)
    assert error["error_data"]["details"] == "Please check the message ID you have provided."


def test_form_encoded_bodies_are_accepted_like_graph(client, channel, open_window):
    response = client.post(
        f"/simulator/graph/v23.0/{channel.phone_number_id}/messages",
        "messaging_product=whatsapp&to=16505551234&type=text&text=%7B%22body%22%3A%22hi%22%7D",
        content_type="application/x-www-form-urlencoded",
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    assert response.status_code == 200, response.content


def test_phone_number_node(graph, channel):
    response = graph.get(f"/simulator/graph/v23.0/{channel.phone_number_id}")
    assert response.status_code == 200
    assert response.json()["id"] == channel.phone_number_id
    assert response.json()["platform_type"] == "CLOUD_API"
