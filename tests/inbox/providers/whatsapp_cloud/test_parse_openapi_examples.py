"""Cross-check the recorded payloads and the parser against the webhook examples in Meta's OpenAPI file.

The file (facebook/openapi `business-messaging-api_v23.0.yaml`) lives beside the project in
`shared/meta-openapi/`; these tests are skipped where that checkout is absent."""

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from inbox.providers.whatsapp_cloud.parse import parse

PAYLOADS = Path(__file__).parent / "payloads"
OPENAPI_FILE = Path(__file__).resolve().parents[4].parent / "shared/meta-openapi/business-messaging-api_v23.0.yaml"

# OpenAPI example name -> the recorded fixture of the same shape, and the text an agent should read.
MESSAGE_EXAMPLES = {
    "Text Message": ("text.json", "Does it come in another color?"),
    "Text Message with Context (Product Inquiry)": ("text_product_inquiry.json", "Is this still available?"),
    "Text Message from Click to WhatsApp Ad": ("text_ad_referral.json", "Hello! Can I get more info on this?"),
    "Reaction Message": ("reaction.json", "👍"),
    "Image Message": ("image.json", "Taj Mahal"),
    "Location Message": ("location.json", "Philz Coffee"),
    "Contact Sharing Message": ("contacts.json", "Lucía Gómez"),
    "Unsupported Message": ("unsupported.json", "Message type unknown"),
    "Button Message": ("button_template_quick_reply.json", "Unsubscribe"),
    "Interactive List Reply Message": ("interactive_list_reply.json", "Priority Mail Express"),
    "Interactive Button Reply Message": ("interactive_button_reply.json", "Cancel"),
    "Order Message": ("order.json", ""),
    "System Message": ("system_user_changed_number.json", "User Sheena Nelson changed from 16505551234 to 12195555358"),
}

GROUP_EXAMPLES = {
    "Group Create Message": "group_lifecycle_update",
    "Group Settings Update": "group_settings_update",
    "Group Remove Participants": "group_participants_update",
}


@pytest.fixture(scope="module")
def openapi_examples() -> dict[str, dict[str, Any]]:
    if not OPENAPI_FILE.exists():
        pytest.skip(f"Meta's OpenAPI file is not at {OPENAPI_FILE}")
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with OPENAPI_FILE.open(encoding="utf-8") as stream:
        spec = yaml.load(stream, Loader=loader)
    examples = spec["paths"]["/whatsapp/webhooks"]["post"]["requestBody"]["content"]["application/json"]["examples"]
    return {name: example["value"] for name, example in examples.items()}


def first_value(document: dict[str, Any]) -> dict[str, Any]:
    return document["entry"][0]["changes"][0]["value"]


def key_paths(node: Any, prefix: str = "") -> set[str]:
    """Every key path in a JSON document; list items are merged under `[]`."""
    if isinstance(node, dict):
        paths = set()
        for key, child in node.items():
            paths.add(prefix + key)
            paths |= key_paths(child, prefix + key + ".")
        return paths
    if isinstance(node, list):
        return set().union(*(key_paths(item, prefix + "[].") for item in node)) if node else set()
    return set()


def test_every_webhook_example_in_the_openapi_file_is_cross_checked(openapi_examples):
    assert set(openapi_examples) == set(MESSAGE_EXAMPLES) | set(GROUP_EXAMPLES)


@pytest.mark.parametrize("example_name", MESSAGE_EXAMPLES)
def test_the_recorded_fixture_has_every_key_of_metas_example(openapi_examples, example_name):
    fixture, _text = MESSAGE_EXAMPLES[example_name]
    example_value = first_value(openapi_examples[example_name])
    fixture_value = first_value(json.loads((PAYLOADS / fixture).read_bytes()))

    assert key_paths(example_value["messages"][0]) <= key_paths(fixture_value["messages"][0])
    assert key_paths(example_value["metadata"]) == key_paths(fixture_value["metadata"])
    # System messages come without `contacts[]`, the others with it.
    assert ("contacts" in example_value) == ("contacts" in fixture_value)


@pytest.mark.parametrize("example_name", MESSAGE_EXAMPLES)
def test_the_parser_reads_metas_own_example(openapi_examples, example_name):
    _fixture, text = MESSAGE_EXAMPLES[example_name]
    example = openapi_examples[example_name]
    sent = first_value(example)["messages"][0]

    (message,) = parse(json.dumps(example).encode()).messages

    assert message.provider_message_id == sent["id"]
    assert message.type == sent["type"]
    assert message.timestamp == int(sent["timestamp"])
    assert message.sender_wa_id == sent["from"]
    assert message.text == text
    assert message.phone_number_id == "106540352242922"
    assert message.waba_id == example["entry"][0]["id"]
    for key, value in sent.items():
        if key not in {"from", "id", "timestamp", "type"} and key not in {sent["type"], "contacts"}:
            assert message.content[key] == value


def test_metas_unsupported_example_carries_error_131051(openapi_examples):
    (message,) = parse(json.dumps(openapi_examples["Unsupported Message"]).encode()).messages

    assert [(e.code, e.details) for e in message.errors] == [(131051, "Message type is currently not supported.")]


@pytest.mark.parametrize(("example_name", "field"), GROUP_EXAMPLES.items())
def test_group_examples_are_kept_as_changes_routed_to_the_number(openapi_examples, example_name, field):
    example = openapi_examples[example_name]

    delivery = parse(json.dumps(example).encode())

    assert delivery.messages == ()
    (change,) = delivery.management
    assert change.field == field
    assert change.value == first_value(example)
    assert delivery.phone_number_ids == {"106540352242922"}
