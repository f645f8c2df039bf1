"""Send bodies for every type: equal to the contract's bodies (§2-§3) and to Meta's own OpenAPI examples,
and valid against the OpenAPI request schema of `/{Phone-Number-ID}/messages`.

The OpenAPI file is partly machine-written (shared/meta-openapi/README.md): structure is validated
strictly, enums leniently, and two recorded contradictions are relaxed where the contract says so."""

import copy
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from inbox.providers.whatsapp_cloud import payloads

OPENAPI = Path(__file__).resolve().parents[4] / "shared" / "meta-openapi" / "business-messaging-api_v23.0.yaml"
TO = "16505551234"
ENVELOPE = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": TO}
pytestmark = pytest.mark.skipif(not OPENAPI.exists(), reason="Meta's OpenAPI file is not beside the project")


@cache
def _openapi() -> dict[str, Any]:
    return yaml.safe_load(OPENAPI.read_text())


@cache
def _schemas() -> dict[str, Any]:
    """components.schemas with enums removed (they contradict real traffic) and the location coordinates
    untyped (OA types them as strings while its own example and the contract send numbers)."""
    components = copy.deepcopy(_openapi()["components"])

    def lenient(node):
        if isinstance(node, dict):
            node.pop("enum", None)
            for value in node.values():
                lenient(value)
        elif isinstance(node, list):
            for value in node:
                lenient(value)

    lenient(components)
    location = components["schemas"]["LocationMessage"]["allOf"][1]["properties"]["location"]["properties"]
    for key in ("latitude", "longitude"):
        location[key].pop("type")
    return components


def _validator(ref_or_schema: dict[str, Any]) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator({**ref_or_schema, "components": _schemas()})


def assert_matches_openapi(body: dict[str, Any]) -> None:
    """The envelope against BaseMessageProperties and the type's object against its schema. (The whole
    `Message` schema cannot be used: its allOf pairs `additionalProperties: false` with the base, so it
    rejects every real body, Meta's own examples included.)"""
    errors = list(_validator({"$ref": "#/components/schemas/BaseMessageProperties"}).iter_errors(body))
    message_type = body["type"]
    schema_name = _openapi()["components"]["schemas"]["Message"]["discriminator"]["mapping"][message_type].rsplit(
        "/", 1
    )[1]
    type_schema = _schemas()["schemas"][schema_name]["allOf"][1]["properties"][message_type]
    errors += list(_validator(type_schema).iter_errors(body[message_type]))
    assert not errors, [e.message for e in errors]


def oa_example(name: str) -> dict[str, Any]:
    examples = _openapi()["paths"]["/{Version}/{Phone-Number-ID}/messages"]["post"]["requestBody"]["content"][
        "application/json"
    ]["examples"]
    return examples[name]["value"]


def send(type: str, content, **kwargs) -> dict[str, Any]:
    return payloads.message(type=type, content=content, to=TO, **kwargs)


CARD = {
    "name": {"formatted_name": "Ana Lima", "first_name": "Ana", "last_name": "Lima"},
    "phones": [{"phone": "+1 (650) 555-1234", "type": "WORK", "wa_id": "16505551234"}],
    "emails": [{"email": "ana@example.com", "type": "WORK"}],
    "addresses": [{"street": "1 Hacker Way", "city": "Menlo Park", "country_code": "us", "type": "WORK"}],
    "org": {"company": "WhatsApp", "title": "Manager"},
    "urls": [{"url": "https://www.whatsapp.com", "type": "WORK"}],
    "birthday": "2012-08-18",
}

# (built body, the contract's body) — every send type of §2.
CONTRACT_BODIES = {
    "text": (
        send("text", payloads.text("Does it come in another color?")),
        {**ENVELOPE, "type": "text", "text": {"body": "Does it come in another color?"}},
    ),
    "text with preview": (
        send("text", payloads.text("See https://example.com", preview_url=True)),
        {**ENVELOPE, "type": "text", "text": {"body": "See https://example.com", "preview_url": True}},
    ),
    "text reply": (
        send("text", payloads.text("Yes"), reply_to="wamid.IN1"),
        {**ENVELOPE, "type": "text", "text": {"body": "Yes"}, "context": {"message_id": "wamid.IN1"}},
    ),
    "image": (
        send("image", payloads.media("image", media_id="914268667232441", caption="The blue one")),
        {**ENVELOPE, "type": "image", "image": {"id": "914268667232441", "caption": "The blue one"}},
    ),
    "video": (
        send("video", payloads.media("video", media_id="1", caption="How to")),
        {**ENVELOPE, "type": "video", "video": {"id": "1", "caption": "How to"}},
    ),
    "audio": (
        send("audio", payloads.media("audio", media_id="2")),
        {**ENVELOPE, "type": "audio", "audio": {"id": "2"}},
    ),
    "document": (
        send("document", payloads.media("document", media_id="3", caption="Invoice", filename="invoice-42.pdf")),
        {**ENVELOPE, "type": "document", "document": {"id": "3", "caption": "Invoice", "filename": "invoice-42.pdf"}},
    ),
    "sticker": (
        send("sticker", payloads.media("sticker", media_id="4")),
        {**ENVELOPE, "type": "sticker", "sticker": {"id": "4"}},
    ),
    "reaction": (
        send("reaction", payloads.reaction(message_id="wamid.IN1", emoji="😀")),
        {**ENVELOPE, "type": "reaction", "reaction": {"message_id": "wamid.IN1", "emoji": "😀"}},
    ),
    "reaction removed": (
        send("reaction", payloads.reaction(message_id="wamid.IN1", emoji="")),
        {**ENVELOPE, "type": "reaction", "reaction": {"message_id": "wamid.IN1", "emoji": ""}},
    ),
    "location": (
        send(
            "location", payloads.location(latitude=37.758056, longitude=-122.425332, name="Shop", address="1 Main St")
        ),
        {
            **ENVELOPE,
            "type": "location",
            "location": {"latitude": 37.758056, "longitude": -122.425332, "name": "Shop", "address": "1 Main St"},
        },
    ),
    "contacts": (send("contacts", payloads.contacts([CARD])), {**ENVELOPE, "type": "contacts", "contacts": [CARD]}),
    "reply buttons": (
        send(
            "interactive",
            payloads.reply_buttons(
                body="Which size?",
                buttons=[("size_s", "Small"), ("size_l", "Large")],
                header="Sizes",
                footer="Pick one",
            ),
        ),
        {
            **ENVELOPE,
            "type": "interactive",
            "interactive": {
                "type": "button",
                "header": {"type": "text", "text": "Sizes"},
                "body": {"text": "Which size?"},
                "footer": {"text": "Pick one"},
                "action": {
                    "buttons": [
                        {"type": "reply", "reply": {"id": "size_s", "title": "Small"}},
                        {"type": "reply", "reply": {"id": "size_l", "title": "Large"}},
                    ]
                },
            },
        },
    ),
    "list": (
        send(
            "interactive",
            payloads.list_message(
                body="Choose a slot",
                button="Slots",
                sections=[
                    {"title": "Morning", "rows": [{"id": "m9", "title": "9:00", "description": "Front desk"}]},
                    {"title": "Afternoon", "rows": [{"id": "a2", "title": "14:00"}]},
                ],
            ),
        ),
        {
            **ENVELOPE,
            "type": "interactive",
            "interactive": {
                "type": "list",
                "body": {"text": "Choose a slot"},
                "action": {
                    "button": "Slots",
                    "sections": [
                        {"title": "Morning", "rows": [{"id": "m9", "title": "9:00", "description": "Front desk"}]},
                        {"title": "Afternoon", "rows": [{"id": "a2", "title": "14:00"}]},
                    ],
                },
            },
        },
    ),
    "product": (
        send(
            "interactive", payloads.product(catalog_id="367025965434465", product_retailer_id="sku-1", body="This one")
        ),
        {
            **ENVELOPE,
            "type": "interactive",
            "interactive": {
                "type": "product",
                "body": {"text": "This one"},
                "action": {"catalog_id": "367025965434465", "product_retailer_id": "sku-1"},
            },
        },
    ),
    "product list": (
        send(
            "interactive",
            payloads.product_list(
                header="Our picks",
                body="Have a look",
                catalog_id="146265584024623",
                sections=[{"title": "Shoes", "product_retailer_ids": ["sku-1", "sku-2"]}],
            ),
        ),
        {
            **ENVELOPE,
            "type": "interactive",
            "interactive": {
                "type": "product_list",
                "header": {"type": "text", "text": "Our picks"},
                "body": {"text": "Have a look"},
                "action": {
                    "catalog_id": "146265584024623",
                    "sections": [
                        {
                            "title": "Shoes",
                            "product_items": [{"product_retailer_id": "sku-1"}, {"product_retailer_id": "sku-2"}],
                        }
                    ],
                },
            },
        },
    ),
}


@pytest.mark.parametrize("name", CONTRACT_BODIES)
def test_bodies_are_the_contracts_byte_for_byte(name):
    built, expected = CONTRACT_BODIES[name]
    assert built == expected


@pytest.mark.parametrize("name", CONTRACT_BODIES)
def test_bodies_match_metas_openapi_schema(name):
    built, _ = CONTRACT_BODIES[name]
    assert_matches_openapi(built)


# Meta's own request examples, rebuilt from their placeholder values.
OA_EXAMPLES = {
    "Send Text Message with Preview URL": lambda: send(
        "text", payloads.text("Please visit https://youtu.be/hpltvTEiRrY.", preview_url=True)
    ),
    "Send Reply to Text Message": lambda: send(
        "text", {"body": "<TEXT_MSG_CONTENT>", "preview_url": False}, reply_to="<MSGID_OF_PREV_MSG>"
    ),
    "Send Image Message by ID": lambda: send("image", payloads.media("image", media_id="<IMAGE_OBJECT_ID>")),
    "Send Sticker Message by ID": lambda: send("sticker", payloads.media("sticker", media_id="<MEDIA_OBJECT_ID>")),
    "Send Audio Message by ID": lambda: send("audio", payloads.media("audio", media_id="<AUDIO_OBJECT_ID>")),
    "Send Video Message by ID": lambda: send(
        "video", payloads.media("video", media_id="<VIDEO_OBJECT_ID>", caption="<VIDEO_CAPTION_TEXT>")
    ),
    "Send Document Message by ID": lambda: send(
        "document",
        payloads.media(
            "document",
            media_id="<DOCUMENT_OBJECT_ID>",
            caption="<DOCUMENT_CAPTION_TO_SEND>",
            filename="<DOCUMENT_FILENAME>",
        ),
    ),
    "Send Location Message": lambda: send(
        "location",
        payloads.location(
            latitude=37.758056, longitude=-122.425332, name="META HQ", address="1 Hacker Way, Menlo Park, CA 94025"
        ),
    ),
    "Send Reply with Reaction Message": lambda: send(
        "reaction", payloads.reaction(message_id="wamid.HBgLM...", emoji="😀")
    ),
    "Send Contact Message": lambda: send("contacts", payloads.contacts(oa_example("Send Contact Message")["contacts"])),
    "Send Reply Button": lambda: send(
        "interactive",
        payloads.reply_buttons(
            body="<BUTTON_TEXT>",
            buttons=[("<UNIQUE_BUTTON_ID_1>", "<BUTTON_TITLE_1>"), ("<UNIQUE_BUTTON_ID_2>", "<BUTTON_TITLE_2>")],
        ),
    ),
    "Send List Message": lambda: send(
        "interactive",
        payloads.content_from_payload("interactive", oa_example("Send List Message")["interactive"]),
    ),
    "Send Single Product Message": lambda: send(
        "interactive",
        payloads.product(
            catalog_id="367025965434465",
            product_retailer_id="<ID_TEST_ITEM_1>",
            body="<OPTIONAL_BODY_TEXT>",
            footer="<OPTIONAL_FOOTER_TEXT>",
        ),
    ),
}


@pytest.mark.parametrize("name", OA_EXAMPLES)
def test_bodies_equal_metas_openapi_examples(name):
    example = oa_example(name)
    built = OA_EXAMPLES[name]()
    # Some examples leave out `recipient_type` or `type`; our bodies always carry both.
    assert built == {"recipient_type": "individual", "type": built["type"], **example, "to": TO}
    assert_matches_openapi(built)


def test_multi_product_example_equals_ours_with_a_text_header():
    example = oa_example("Send Multi-Product Message")["interactive"]
    built = payloads.content_from_payload(
        "interactive", {**example, "header": {"type": "text", "text": example["header"]["text"]}}
    )
    assert built == {**example, "header": {"type": "text", "text": "<YOUR_TEXT_HEADER_CONTENT>"}}


def test_mark_read_and_typing_bodies():
    assert payloads.mark_read("wamid.IN1") == {
        "messaging_product": "whatsapp",
        "status": "read",
        "message_id": "wamid.IN1",
    }
    example = oa_example("Send typing indicator and read receipt")
    assert payloads.mark_read(example["message_id"], typing=True) == example


def test_a_customer_known_only_by_bsuid_is_addressed_with_recipient():
    body = payloads.message(type="text", content={"body": "Hi"}, recipient="US.13491208655302741918")
    assert body == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "recipient": "US.13491208655302741918",
        "type": "text",
        "text": {"body": "Hi"},
    }
    with pytest.raises(ValueError):
        payloads.message(type="text", content={"body": "Hi"})


def test_callback_data_rides_in_the_envelope():
    body = send("text", {"body": "Hi"}, callback_data="sb:1:1")
    assert body["biz_opaque_callback_data"] == "sb:1:1"


@pytest.mark.parametrize(
    ("kind", "payload", "stored"),
    [
        ("text", {"body": "  Hello  ", "preview_url": False, "extra": 1}, {"body": "Hello"}),
        ("text", {"body": "x", "preview_url": True}, {"body": "x", "preview_url": True}),
        ("location", {"latitude": "41.15", "longitude": -8.61}, {"latitude": 41.15, "longitude": -8.61}),
        (
            "contacts",
            {"contacts": [{"name": {"formatted_name": "Ana"}}]},
            {"contacts": [{"name": {"formatted_name": "Ana"}}]},
        ),
        ("reaction", {"message_id": "wamid.1", "emoji": "👍"}, {"message_id": "wamid.1", "emoji": "👍"}),
        (
            "interactive",
            {
                "type": "button",
                "body": {"text": "Ok?"},
                "action": {"buttons": [{"type": "reply", "reply": {"id": "y", "title": "Yes"}}]},
            },
            {
                "type": "button",
                "body": {"text": "Ok?"},
                "action": {"buttons": [{"type": "reply", "reply": {"id": "y", "title": "Yes"}}]},
            },
        ),
    ],
)
def test_content_from_payload_keeps_only_what_whatsapp_knows(kind, payload, stored):
    assert payloads.content_from_payload(kind, payload) == stored


@pytest.mark.parametrize(
    ("kind", "content", "text"),
    [
        ("text", {"body": "Hi"}, "Hi"),
        ("image", {"caption": "Look"}, "Look"),
        ("document", {"filename": "a.pdf"}, "a.pdf"),
        ("location", {"latitude": 1.5, "longitude": 2.0}, "1.5, 2.0"),
        ("location", {"latitude": 1.5, "longitude": 2.0, "name": "Shop"}, "Shop"),
        ("contacts", {"contacts": [{"name": {"formatted_name": "A"}}, {"name": {"formatted_name": "B"}}]}, "A, B"),
        ("reaction", {"message_id": "w", "emoji": "❤️"}, "❤️"),
        ("interactive", {"type": "product", "action": {}}, ""),
        ("interactive", {"type": "button", "body": {"text": "Pick"}, "action": {}}, "Pick"),
    ],
)
def test_readable_text(kind, content, text):
    assert payloads.readable_text(kind, content) == text


@pytest.mark.parametrize(
    ("name", "safe"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\x\\report.pdf", "report.pdf"),
        ("in\nvoice\x00.pdf", "invoice.pdf"),
        ("", "file"),
    ],
)
def test_document_file_names_lose_paths_and_control_characters(name, safe):
    assert payloads.safe_filename(name) == safe


@pytest.mark.parametrize(
    "wrong",
    [
        {**ENVELOPE, "type": "text", "text": {"text": "Hi"}},
        {**ENVELOPE, "type": "image", "image": {"caption": "no id or link"}},
        {
            **ENVELOPE,
            "type": "interactive",
            "interactive": {"type": "button", "action": {"buttons": [{"type": "reply", "reply": {"id": "x"}}]}},
        },
        {"messaging_product": "whatsapp", "type": "text", "text": {"body": "no recipient"}},
    ],
)
def test_the_openapi_oracle_refuses_wrong_bodies(wrong):
    with pytest.raises(AssertionError):
        assert_matches_openapi(wrong)
