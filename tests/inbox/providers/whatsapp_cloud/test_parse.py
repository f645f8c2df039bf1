"""Recorded-payload tests for the WhatsApp Cloud API webhook parser (no database, no network).

Each fixture in `payloads/` is one webhook POST body as Meta sends it (shapes from
shared/whatsapp-cloud-api.md §7-§10 and the OpenAPI webhook examples)."""

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from inbox.providers.whatsapp_cloud.parse import load, parse, routing_ids
from inbox.providers.whatsapp_cloud.types import (
    Delivery,
    InboundMessage,
    MalformedPayload,
    ManagementChange,
    ProviderError,
    StatusReport,
)

PAYLOADS = Path(__file__).parent / "payloads"

WABA = "419561257915477"
WABA_2 = "102290129340398"
PHONE_NUMBER_ID = "106540352242922"
PHONE_NUMBER_ID_2 = "107878721936019"

SHEENA = "16505551234"
JURGEN = "4915112345678"
NOURA = "966501234567"
LUCIA = "5511987654321"

# Outbound messages that inbound ones point at.
REACTED_TO = "wamid.HBgLMTY1MDU1NTEyMzQVAgARGBI3QjFCRjcyNEREOTM1RjA5OEIA"
EDITED_ORIGINAL = "wamid.HBgNNTUxMTk4NzY1NDMyMRUCABIYFDE5RURGNkNCMDFCMzJBOTFGNTk5AA=="
OUTBOUND_1 = "wamid.HBgLMTY1MDU1NTEyMzQVAgARGBI3RTVBNkNBMTkzRTI4QjJCQ0MA"

# The keys of `messages[]` that InboundMessage carries in its own fields rather than in `content`.
ENVELOPE_KEYS = {"from", "from_user_id", "id", "timestamp", "type"}

MESSAGE_FIXTURES = [
    "text.json",
    "text_reply_forwarded.json",
    "text_product_inquiry.json",
    "text_ad_referral.json",
    "text_int_timestamp_numeric_ids.json",
    "text_meta_escaped.json",
    "image.json",
    "audio_voice.json",
    "video.json",
    "document.json",
    "sticker_animated.json",
    "media_with_url.json",
    "location.json",
    "location_current_bare.json",
    "contacts.json",
    "interactive_button_reply.json",
    "interactive_list_reply.json",
    "interactive_nfm_reply.json",
    "button_template_quick_reply.json",
    "button_template_quick_reply_no_context.json",
    "reaction.json",
    "reaction_removed.json",
    "order.json",
    "system_user_changed_number.json",
    "system_customer_identity_changed.json",
    "system_user_changed_user_id.json",
    "unsupported.json",
    "unknown_legacy.json",
    "request_welcome.json",
    "revoke.json",
    "edit.json",
    "edit_caption.json",
    "bsuid_username_only.json",
    "batch_two_entries.json",
]

STATUS_FIXTURES = [
    "status_sent_with_pricing.json",
    "status_delivered.json",
    "status_read.json",
    "status_played.json",
    "status_failed_131049.json",
    "status_failed_131047.json",
    "status_cbp_conversation.json",
    "status_bsuid.json",
    "batch_two_entries.json",
]

MANAGEMENT_FIXTURES = [
    "message_template_status_update_rejected.json",
    "message_template_status_update_paused.json",
    "message_template_status_update_disabled.json",
    "message_template_quality_update.json",
    "template_category_update.json",
    "template_category_update_impending.json",
    "message_template_components_update.json",
    "phone_number_quality_update.json",
    "phone_number_quality_update_legacy.json",
    "phone_number_name_update.json",
    "account_update_restriction.json",
    "account_update_ban.json",
    "business_capability_update.json",
    "business_capability_update_tier.json",
    "user_preferences_stop.json",
    "security.json",
    "smb_message_echoes.json",
]


def payload(name: str) -> bytes:
    return (PAYLOADS / name).read_bytes()


def parsed(name: str) -> Delivery:
    return parse(payload(name))


def raw_changes(name: str) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(entry, change) pairs of a fixture, in payload order."""
    document = json.loads(payload(name))
    return [(entry, change) for entry in document["entry"] for change in entry["changes"]]


def raw_messages(name: str) -> list[tuple[dict[str, Any], dict[str, Any], dict[str, Any]]]:
    """(entry, value, message) for every inbound message of a fixture, in payload order."""
    return [
        (entry, change["value"], message)
        for entry, change in raw_changes(name)
        if change["field"] == "messages"
        for message in change["value"].get("messages", [])
    ]


def only_message(name: str, index: int = 0) -> InboundMessage:
    delivery = parsed(name)
    assert delivery.statuses == ()
    assert delivery.management == ()
    return delivery.messages[index]


def only_status(name: str) -> StatusReport:
    delivery = parsed(name)
    assert delivery.messages == ()
    assert delivery.management == ()
    assert len(delivery.statuses) == 1
    return delivery.statuses[0]


def only_change(name: str) -> ManagementChange:
    delivery = parsed(name)
    assert delivery.messages == ()
    assert delivery.statuses == ()
    assert len(delivery.management) == 1
    return delivery.management[0]


def test_every_fixture_is_covered_by_a_table():
    on_disk = {path.name for path in PAYLOADS.glob("*.json")}
    covered = {*MESSAGE_FIXTURES, *STATUS_FIXTURES, *MANAGEMENT_FIXTURES, "value_errors.json"}
    assert on_disk == covered


# --- inbound messages: what an agent sees -----------------------------------------------------------


@dataclass(frozen=True)
class Seen:
    """What matters about one inbound message."""

    type: str
    provider_message_id: str
    sender_wa_id: str | None
    profile_name: str | None
    text: str
    sender_user_id: str | None = None
    reply_to: str = ""
    target: str = ""


@pytest.mark.parametrize(
    ("fixture", "index", "seen"),
    [
        pytest.param(
            "text.json",
            0,
            Seen(
                "text",
                "wamid.HBgLMTY1MDU1NTEyMzQVAgASGBQxQ0IyNTFFQzBENTY4REU2QTkyOQA=",
                SHEENA,
                "Sheena Nelson",
                "Is the café open on Sunday? 😊 Mail me at sheena@example.com",
            ),
            id="text",
        ),
        pytest.param(
            "text_reply_forwarded.json",
            0,
            Seen(
                "text",
                "wamid.HBgMOTY2NTAxMjM0NTY3FQIAEhgURTg0QUZBQUI4M0VDQjMwMUIzRDkA",
                NOURA,
                "نورة العتيبي",
                "مرحبا، هل الطلب جاهز؟",
                reply_to="wamid.HBgMOTY2NTAxMjM0NTY3FQIAERgSMjE1RDQ0NDM5NTQ1M0QwMkQ4AA==",
            ),
            id="text-reply",
        ),
        pytest.param(
            "text_reply_forwarded.json",
            1,
            Seen(
                "text",
                "wamid.HBgMOTY2NTAxMjM0NTY3FQIAEhgUM0M4NjI4OEUzODcxQjU0NEUxM0EA",
                NOURA,
                "نورة العتيبي",
                "Forwarded many times: free coffee @ the café today ☕",
            ),
            id="text-forwarded",
        ),
        pytest.param(
            "text_product_inquiry.json",
            0,
            Seen(
                "text",
                "wamid.HBgLMTY1MDU1NTEyMzQVAgASGBRBNkY5RDEzMUM5ODcwQzc5N0E5NgA=",
                SHEENA,
                "Sheena Nelson",
                "Is this still available?",
                reply_to="wamid.HBgLMTY1MDU1NTEyMzQVAgARGBI1RkREMTBDRDU3RTg5RkVFMUQA",
            ),
            id="text-product-inquiry",
        ),
        pytest.param(
            "text_ad_referral.json",
            0,
            Seen(
                "text",
                "wamid.HBgLMTY1MDU1NTEyMzQVAgASGBQzQUMyNDU1RTY1MDRGNUZBODkxQwA=",
                SHEENA,
                "Sheena Nelson",
                "Hello! Can I get more info on this?",
            ),
            id="text-ad-referral",
        ),
        pytest.param(
            "text_int_timestamp_numeric_ids.json",
            0,
            Seen(
                "text",
                "wamid.HBgNNTUxMTk4NzY1NDMyMRUCABIYFDc3ODEyRjYyRDVERTlBMUIxN0I1AA==",
                LUCIA,
                "Lucía Gómez",
                "Olá! Meu e-mail é lucia@exemplo.com.br",
            ),
            id="text-legacy-numbers",
        ),
        pytest.param(
            "text_meta_escaped.json",
            0,
            Seen(
                "text",
                "wamid.HBgNNDkxNTExMjM0NTY3OBUCABIYFEJBRkJCMkZBQkJGRjU4NzZGOEJGAA==",
                JURGEN,
                "Jürgen Müller",
                "Grüße aus München! Schreib an testing@gmail.com oder https://example.com/café 😀",
            ),
            id="text-meta-escaped",
        ),
        pytest.param(
            "image.json",
            0,
            Seen(
                "image",
                "wamid.HBgNNTUxMTk4NzY1NDMyMRUCABIYFDc4ODA1QTIyMUE5ODhFNzlFRjNGAA==",
                LUCIA,
                "Lucía Gómez",
                "Foto do recibo — café & pão",
            ),
            id="image",
        ),
        pytest.param(
            "audio_voice.json",
            0,
            Seen(
                "audio",
                "wamid.HBgNNDkxNTExMjM0NTY3OBUCABIYFEI5NTY3NzIxNkU0MzlEOTZFQzRGAA==",
                JURGEN,
                "Jürgen Müller",
                "",
            ),
            id="audio-voice",
        ),
        pytest.param(
            "video.json",
            0,
            Seen(
                "video",
                "wamid.HBgLMTY1MDU1NTEyMzQVAgASGBQ0MjFCNDdGRkQ5NDZDQTA4M0I2NQA=",
                SHEENA,
                "Sheena Nelson",
                "The crack in the vase 🏺",
            ),
            id="video",
        ),
        pytest.param(
            "document.json",
            0,
            Seen(
                "document",
                "wamid.HBgNNDkxNTExMjM0NTY3OBUCABIYFEZEQzNCREVGQjc5Q0VDOEVCODIxAA==",
                JURGEN,
                "Jürgen Müller",
                "Rechnung für März",
            ),
            id="document",
        ),
        pytest.param(
            "sticker_animated.json",
            0,
            Seen(
                "sticker",
                "wamid.HBgLMTY1MDU1NTEyMzQVAgASGBQ5MTczRjdENzQ0NEQzMTYxQzRERQA=",
                SHEENA,
                "Sheena Nelson",
                "",
            ),
            id="sticker-animated",
        ),
        pytest.param(
            "media_with_url.json",
            0,
            Seen(
                "image",
                "wamid.HBgLMTY1MDU1NTEyMzQVAgASGBREMzA4OUFBQjkzOTVBNjQ3NTZDOAA=",
                SHEENA,
                "Sheena Nelson",
                "",
            ),
            id="media-with-url",
        ),
        pytest.param(
            "location.json",
            0,
            Seen(
                "location",
                "wamid.HBgLMTY1MDU1NTEyMzQVAgASGBRENTE4OURFMDI3OTIyRjgxMDA1OQA=",
                SHEENA,
                "Sheena Nelson",
                "Philz Coffee",
            ),
            id="location",
        ),
        pytest.param(
            "location_current_bare.json",
            0,
            Seen(
                "location",
                "wamid.HBgMOTY2NTAxMjM0NTY3FQIAEhgUMzI3RjQ0QUNERENDRkM1MTQ2OUEA",
                NOURA,
                "نورة العتيبي",
                "24.7136, 46.6753",
            ),
            id="location-current-bare",
        ),
        pytest.param(
            "contacts.json",
            0,
            Seen(
                "contacts",
                "wamid.HBgLMTY1MDU1NTEyMzQVAgASGBQ0MTM2QTkzMkVCNzcyNEEwMENCOAA=",
                SHEENA,
                "Sheena Nelson",
                "Lucía Gómez, Ahmed",
            ),
            id="contacts",
        ),
        pytest.param(
            "interactive_button_reply.json",
            0,
            Seen(
                "interactive",
                "wamid.HBgLMTY1MDU1NTEyMzQVAgASGBRFM0QxMDhBNDkyOTMwMDBCNzA3QQA=",
                SHEENA,
                "Sheena Nelson",
                "Cancel",
                reply_to="wamid.HBgLMTY1MDU1NTEyMzQVAgARGBIwMjYzNEVGRjNDMjQ3NDIwNTcA",
            ),
            id="interactive-button-reply",
        ),
        pytest.param(
            "interactive_list_reply.json",
            0,
            Seen(
                "interactive",
                "wamid.HBgLMTY1MDU1NTEyMzQVAgASGBQ3RjIzRkEwNzgwQkRENzdDMjlGMwA=",
                SHEENA,
                "Sheena Nelson",
                "Priority Mail Express",
                reply_to="wamid.HBgLMTY1MDU1NTEyMzQVAgARGBIxMEFFOUZDN0Q0NTNCMERENTIA",
            ),
            id="interactive-list-reply",
        ),
        pytest.param(
            "interactive_nfm_reply.json",
            0,
            Seen(
                "interactive",
                "wamid.HBgNNTUxMTk4NzY1NDMyMRUCABIYFDEyMjkzMTc4NzUxNjg2MTA0M0IyAA==",
                LUCIA,
                "Lucía Gómez",
                "Sent",
                reply_to="wamid.HBgNNTUxMTk4NzY1NDMyMRUCABEYEkNGRjU0OTcxMjExMDRDMkI4RQA=",
            ),
            id="interactive-nfm-reply",
        ),
        pytest.param(
            "button_template_quick_reply.json",
            0,
            Seen(
                "button",
                "wamid.HBgLMTY1MDU1NTEyMzQVAgASGBQ4REZDNkVFQTUwQTI2M0M5RjNERQA=",
                SHEENA,
                "Sheena Nelson",
                "Unsubscribe",
                reply_to="wamid.HBgLMTY1MDU1NTEyMzQVAgARGBI2NkY2MTgxQkNCNENGRjRDRDMA",
            ),
            id="button-quick-reply",
        ),
        pytest.param(
            "button_template_quick_reply_no_context.json",
            0,
            Seen(
                "button",
                "wamid.HBgNNDkxNTExMjM0NTY3OBUCABIYFEVGMjBFQzdGNDg1MzNBNDE4NThFAA==",
                JURGEN,
                "Jürgen Müller",
                "Ja, bestätigen",
            ),
            id="button-quick-reply-no-context",
        ),
        pytest.param(
            "reaction.json",
            0,
            Seen(
                "reaction",
                "wamid.HBgLMTY1MDU1NTEyMzQVAgASGBRFMEFCMDc0RTgxMDQ4NzA1ODNGNAA=",
                SHEENA,
                "Sheena Nelson",
                "👍",
                target=REACTED_TO,
            ),
            id="reaction",
        ),
        pytest.param(
            "reaction_removed.json",
            0,
            Seen(
                "reaction",
                "wamid.HBgLMTY1MDU1NTEyMzQVAgASGBQyNjY1RTI3ODBFM0ExNkIyQjdGRQA=",
                SHEENA,
                "Sheena Nelson",
                "",
                target=REACTED_TO,
            ),
            id="reaction-removed-empty-emoji",
        ),
        pytest.param(
            "reaction_removed.json",
            1,
            Seen(
                "reaction",
                "wamid.HBgLMTY1MDU1NTEyMzQVAgASGBQ4MUNEODY4Q0Y3ODU0NTMyNzRGMQA=",
                SHEENA,
                "Sheena Nelson",
                "",
                target=REACTED_TO,
            ),
            id="reaction-removed-no-emoji-key",
        ),
        pytest.param(
            "order.json",
            0,
            Seen(
                "order",
                "wamid.HBgLMTY1MDU1NTEyMzQVAgASGBQ3MEExN0ZGQTcyMkEzOTg1Qjg2RAA=",
                SHEENA,
                "Sheena Nelson",
                "Please gift-wrap the café mugs 🎁",
            ),
            id="order",
        ),
        pytest.param(
            "system_user_changed_number.json",
            0,
            Seen(
                "system",
                "wamid.HBgLMTIxOTU1NTUzNTgVAgASGBRFMTQxQkVBNDUwNUQwMkQzMTU0NwA=",
                SHEENA,
                None,
                "User Sheena Nelson changed from 16505551234 to 12195555358",
            ),
            id="system-user-changed-number",
        ),
        pytest.param(
            "system_customer_identity_changed.json",
            0,
            Seen(
                "system",
                "wamid.HBgNNDkxNTExMjM0NTY3OBUCABIYFEZGNDgzRDFGRjU5MTg5OEE5OTQyAA==",
                JURGEN,
                "Jürgen Müller",
                "User identity changed",
            ),
            id="system-customer-identity-changed",
        ),
        pytest.param(
            "system_user_changed_user_id.json",
            0,
            Seen(
                "system",
                "wamid.HBgLMTY1MDU1NTEyMzQVAgASGBRFNzk1MDE1QzE4ODU0OTg2Rjk3OAA=",
                None,
                None,
                "User changed from US.13491208655302741918 to US.90210337712865301144",
                sender_user_id="US.13491208655302741918",
            ),
            id="system-user-changed-user-id",
        ),
        pytest.param(
            "unsupported.json",
            0,
            Seen(
                "unsupported",
                "wamid.HBgLMTY1MDU1NTEyMzQVAgASGBQ3MjNDMjU4NzdBODY3ODY2NjRFRAA=",
                SHEENA,
                "Sheena Nelson",
                "Message type unknown",
            ),
            id="unsupported",
        ),
        pytest.param(
            "unknown_legacy.json",
            0,
            Seen(
                "unsupported",
                "wamid.HBgLMTY1MDU1NTEyMzQVAgASGBRGQ0VCMDdERUI5MkQ3MUMzRkVBNAA=",
                SHEENA,
                "Sheena Nelson",
                "Unsupported message type",
            ),
            id="unknown-legacy",
        ),
        pytest.param(
            "request_welcome.json",
            0,
            Seen(
                "request_welcome",
                "wamid.HBgNNTUxMTk4NzY1NDMyMRUCABIYFDQwQkU0RTU5QjlBMkEyQjVERkZCAA==",
                LUCIA,
                "Lucía Gómez",
                "",
            ),
            id="request-welcome",
        ),
        pytest.param(
            "revoke.json",
            0,
            Seen(
                "revoke",
                "wamid.HBgNNTUxMTk4NzY1NDMyMRUCABIYFDExMUZGNEJCNjlCMTI4MDEwNjNFAA==",
                LUCIA,
                "Lucía Gómez",
                "",
                target=EDITED_ORIGINAL,
            ),
            id="revoke",
        ),
        pytest.param(
            "edit.json",
            0,
            Seen(
                "edit",
                "wamid.HBgNNTUxMTk4NzY1NDMyMRUCABIYFERFOTVCNDNCQ0VFQjRCOTk4QUVEAA==",
                LUCIA,
                "Lucía Gómez",
                "Chego às 15h, não às 14h",
                target=EDITED_ORIGINAL,
            ),
            id="edit",
        ),
        pytest.param(
            "edit_caption.json",
            0,
            Seen(
                "edit",
                "wamid.HBgNNTUxMTk4NzY1NDMyMRUCABIYFDRBNzk1QUJEOURCNzExMzhDRjQ0AA==",
                LUCIA,
                "Lucía Gómez",
                "Recibo corrigido",
                target="wamid.HBgNNTUxMTk4NzY1NDMyMRUCABIYFDg4RDNDMEFCRTI0MEZDRTAyOUEyAA==",
            ),
            id="edit-caption",
        ),
        pytest.param(
            "bsuid_username_only.json",
            0,
            Seen(
                "text",
                "wamid.HBgWU0EuNjYwNDQxMjg5NTEzNzcyMDkzMRUCABIYFDNBQ0Q5RTk3MkQ5QTYxNzlBQkNEAA==",
                None,
                "Noura",
                "أهلاً! I found you via your username @switchboard",
                sender_user_id="SA.6604412895137720931",
            ),
            id="bsuid-username-only",
        ),
    ],
)
def test_inbound_message_reads_as_the_agent_sees_it(fixture, index, seen):
    message = only_message(fixture, index)

    assert message.type == seen.type
    assert message.provider_message_id == seen.provider_message_id
    assert message.sender_wa_id == seen.sender_wa_id
    assert message.sender_user_id == seen.sender_user_id
    assert (message.profile.name if message.profile else None) == seen.profile_name
    assert message.text == seen.text
    assert message.reply_to_provider_id == seen.reply_to
    assert message.target_provider_message_id == seen.target


@pytest.mark.parametrize("fixture", MESSAGE_FIXTURES)
def test_every_inbound_message_keeps_its_envelope_and_every_key_meta_sent(fixture):
    delivery = parsed(fixture)
    raw = raw_messages(fixture)

    assert len(delivery.messages) == len(raw)
    for message, (entry, value, sent) in zip(delivery.messages, raw, strict=True):
        assert message.provider_message_id == sent["id"]
        assert message.timestamp == int(sent["timestamp"])
        assert message.phone_number_id == value["metadata"]["phone_number_id"]
        assert message.waba_id == entry["id"]
        # Nothing Meta put on the message is lost: the type's own object is spread into `content`
        # (contacts stay a list under "contacts"), every other key sits beside it verbatim.
        for key, sent_value in sent.items():
            if key in ENVELOPE_KEYS:
                continue
            if key == sent["type"] and key != "contacts":
                for inner_key, inner_value in sent_value.items():
                    assert message.content[inner_key] == inner_value, (key, inner_key)
            else:
                assert message.content[key] == sent_value, key


@pytest.mark.parametrize(
    ("fixture", "key", "expected"),
    [
        ("image.json", "id", "1003383421387256"),
        ("image.json", "mime_type", "image/jpeg"),
        ("image.json", "sha256", "SfInY0gGKTsJlUWbwxC1k+FAD0FZHvzwfpvO0zX0GUI="),
        ("audio_voice.json", "voice", True),
        ("audio_voice.json", "mime_type", "audio/ogg; codecs=opus"),
        ("video.json", "id", "1672381936798271"),
        ("document.json", "filename", "Rechnung_2025-03_Müller.pdf"),
        ("sticker_animated.json", "animated", True),
        ("sticker_animated.json", "mime_type", "image/webp"),
        (
            "media_with_url.json",
            "url",
            "https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=1761991787669262&ext=1763000300"
            "&hash=ATta1hd0Gqx7Lb9YrX2Cq",
        ),
    ],
)
def test_media_content_keeps_what_the_download_and_preview_need(fixture, key, expected):
    assert only_message(fixture).content[key] == expected


def test_a_reply_carries_the_context_and_a_forward_carries_its_flags_but_no_reply_target():
    reply, forwarded = parsed("text_reply_forwarded.json").messages

    assert reply.content["context"]["from"] == "15550783881"
    assert forwarded.content["context"] == {"forwarded": True, "frequently_forwarded": True}
    assert forwarded.reply_to_provider_id == ""


def test_a_product_inquiry_keeps_the_referred_product():
    message = only_message("text_product_inquiry.json")

    assert message.content["context"]["referred_product"] == {
        "catalog_id": "194836987003835",
        "product_retailer_id": "di9ozbzfi4",
    }


def test_a_click_to_whatsapp_ad_keeps_the_referral_for_the_free_entry_point():
    referral = only_message("text_ad_referral.json").content["referral"]

    assert referral["source_type"] == "ad"
    assert referral["source_id"] == "120226305854810726"
    assert referral["ctwa_clid"].startswith("Aff-n8ZTODiE79d22KtAwQKj9e")
    assert referral["welcome_message"] == {"text": "Hi there! Let us know how we can help!"}


def test_locations_keep_exact_coordinates_and_a_bare_current_location_has_no_name():
    named = only_message("location.json")
    bare = only_message("location_current_bare.json")

    assert (named.content["latitude"], named.content["longitude"]) == (37.44221496582, -122.16165924072)
    assert named.content["address"] == "101 Forest Ave, Palo Alto, CA 94301"
    assert bare.content == {"latitude": 24.7136, "longitude": 46.6753}


def test_shared_contacts_keep_every_card_whole():
    cards = only_message("contacts.json").content["contacts"]

    assert [card["name"]["formatted_name"] for card in cards] == ["Lucía Gómez", "Ahmed"]
    assert cards[0]["phones"] == [{"phone": "+1 (983) 555-2319", "wa_id": "19835552319", "type": "MOBILE"}]
    assert cards[0]["birthday"] == "1990-05-17"
    assert "wa_id" not in cards[1]["phones"][0]


def test_interactive_replies_keep_the_ids_the_business_chose():
    button = only_message("interactive_button_reply.json").content
    listed = only_message("interactive_list_reply.json").content
    flow = only_message("interactive_nfm_reply.json").content

    assert button["button_reply"] == {"id": "cancel-button", "title": "Cancel"}
    assert listed["list_reply"]["id"] == "priority_express"
    assert listed["list_reply"]["description"] == "Next Day to 2 Days"
    # The flow's answers stay the JSON string Meta sent; it decodes to the form's fields.
    assert isinstance(flow["nfm_reply"]["response_json"], str)
    assert json.loads(flow["nfm_reply"]["response_json"])["notes"] == "Açaí sem açúcar, por favor"


def test_a_template_quick_reply_keeps_its_payload_with_or_without_context():
    with_context = only_message("button_template_quick_reply.json")
    without_context = only_message("button_template_quick_reply_no_context.json")

    assert with_context.content["payload"] == "Unsubscribe"
    assert without_context.content["payload"] == "CONFIRM_APPOINTMENT_42"
    assert "context" not in without_context.content
    assert without_context.reply_to_provider_id == ""


def test_a_removed_reaction_is_recognisable_both_ways_meta_sends_it():
    empty_emoji, no_emoji = parsed("reaction_removed.json").messages

    assert empty_emoji.content == {"message_id": REACTED_TO, "emoji": ""}
    assert no_emoji.content == {"message_id": REACTED_TO}


def test_an_order_keeps_its_catalog_and_items():
    order = only_message("order.json").content

    assert order["catalog_id"] == "194836987003835"
    assert [(item["product_retailer_id"], item["quantity"]) for item in order["product_items"]] == [
        ("di9ozbzfi4", 2),
        ("nqryix03ez", 1),
    ]
    assert order["product_items"][1]["item_price"] == 25.5


def test_a_number_change_names_the_old_number_as_sender_and_the_new_one_in_content():
    message = only_message("system_user_changed_number.json")

    assert message.sender_wa_id == SHEENA
    assert message.content["type"] == "user_changed_number"
    assert message.content["wa_id"] == "12195555358"
    # System messages come without `contacts[]`.
    assert message.profile is None


def test_an_identity_change_keeps_the_top_level_identity():
    message = only_message("system_customer_identity_changed.json")

    assert message.content["type"] == "customer_identity_changed"
    assert message.content["identity"] == {
        "acknowledged": True,
        "created_timestamp": "1697044706",
        "hash": "Sjvjlx8G6Z0=",
    }


def test_a_bsuid_change_is_attributed_to_the_previous_bsuid_and_keeps_the_new_one():
    message = only_message("system_user_changed_user_id.json")

    assert message.sender_user_id == "US.13491208655302741918"
    assert message.content["user_id"] == "US.90210337712865301144"


@pytest.mark.parametrize(
    ("fixture", "error", "unsupported_type"),
    [
        (
            "unsupported.json",
            ProviderError(
                code=131051,
                title="Message type unknown",
                message="Message type unknown",
                details="Message type is currently not supported.",
            ),
            "poll",
        ),
        (
            "unknown_legacy.json",
            ProviderError(
                code=131051, title="Unsupported message type", details="Message type is not currently supported"
            ),
            None,
        ),
    ],
)
def test_unsupported_messages_carry_their_error(fixture, error, unsupported_type):
    message = only_message(fixture)

    assert message.errors == (error,)
    # The optional `unsupported{type}` says what the user actually sent; legacy `unknown` had none.
    assert message.content.get("type") == unsupported_type
    assert message.content["errors"][0]["code"] == 131051


def test_request_welcome_has_no_payload_but_a_sender():
    message = only_message("request_welcome.json")

    assert message.content == {}
    assert message.sender_wa_id == LUCIA


def test_an_edit_keeps_the_new_message_whole():
    edit = only_message("edit.json")
    caption = only_message("edit_caption.json")

    assert edit.content["message"] == {"type": "text", "text": {"body": "Chego às 15h, não às 14h"}}
    assert caption.content["message"]["image"]["id"] == "65463453"


def test_a_revoke_matches_the_contact_by_phone_and_keeps_its_bsuids():
    message = only_message("revoke.json")

    assert message.profile is not None
    assert message.profile.wa_id == LUCIA
    assert message.profile.user_id == "BR.13491208655302741918"
    assert message.profile.parent_user_id == "BR.ENT.11815799212886844830"


def test_a_username_user_without_phone_is_identified_by_bsuid_only():
    message = only_message("bsuid_username_only.json")

    assert message.sender_wa_id is None
    assert message.profile is not None
    assert message.profile.wa_id is None
    assert message.profile.user_id == "SA.6604412895137720931"
    assert message.profile.parent_user_id == "SA.ENT.88210934455102376"
    assert message.profile.username == "@noura.designs"


def test_legacy_numbers_and_int_timestamp_become_strings_and_an_int():
    message = only_message("text_int_timestamp_numeric_ids.json")

    assert message.timestamp == 1673000000
    assert message.sender_wa_id == "5511987654321"
    assert message.profile is not None
    assert message.profile.wa_id == "5511987654321"


def test_the_profile_is_matched_to_each_sender_when_a_change_has_several_contacts():
    first, second, third, _other_entry = parsed("batch_two_entries.json").messages

    assert [m.profile.name if m.profile else None for m in (first, second, third)] == [
        "Sheena Nelson",
        "Jürgen Müller",
        "Sheena Nelson",
    ]


# --- statuses ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reported:
    status: str
    provider_message_id: str
    timestamp: int
    recipient_id: str = ""
    recipient_user_id: str = ""
    error_code: int | None = None
    pricing: dict[str, Any] | None = None
    conversation: dict[str, Any] | None = None
    biz_opaque_callback_data: str = ""


PMP_MARKETING = {"billable": True, "pricing_model": "PMP", "type": "regular", "category": "marketing"}


@pytest.mark.parametrize(
    ("fixture", "reported"),
    [
        pytest.param(
            "status_sent_with_pricing.json",
            Reported(
                "sent",
                OUTBOUND_1,
                1750030073,
                recipient_id=SHEENA,
                pricing=PMP_MARKETING,
                conversation={
                    "id": "72b14d6bd5407799e66f64d1b338e567",
                    "expiration_timestamp": "1750116480",
                    "origin": {"type": "marketing"},
                },
                biz_opaque_callback_data="campaign=summer-2025;agent=42",
            ),
            id="sent-with-pricing",
        ),
        pytest.param(
            "status_delivered.json",
            Reported("delivered", OUTBOUND_1, 1750030080, recipient_id=SHEENA, pricing=PMP_MARKETING),
            id="delivered",
        ),
        pytest.param(
            "status_read.json",
            Reported("read", OUTBOUND_1, 1750030190, recipient_id=SHEENA),
            id="read-without-pricing",
        ),
        pytest.param(
            "status_played.json",
            Reported(
                "played",
                "wamid.HBgNNDkxNTExMjM0NTY3OBUCABEYEjQzODFBM0Y2OERDRjI2NzhGMgA=",
                1750031000,
                recipient_id=JURGEN,
            ),
            id="played",
        ),
        pytest.param(
            "status_failed_131049.json",
            Reported(
                "failed",
                "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI0QUQ2MjA4NEYyRkExNjMyREUA",
                1751142888,
                recipient_id="16505551234",
                error_code=131049,
            ),
            id="failed-131049",
        ),
        pytest.param(
            "status_failed_131047.json",
            Reported(
                "failed",
                "wamid.HBgMOTY2NTAxMjM0NTY3FQIAERgSNjAwMTk0MTM0REQ4ODVDRjc5AA==",
                1751200000,
                recipient_id=NOURA,
                error_code=131047,
            ),
            id="failed-131047",
        ),
        pytest.param(
            "status_cbp_conversation.json",
            Reported(
                "delivered",
                "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI3MTE5MjVBOTE3MDk5QUVFM0YA",
                1719000000,
                recipient_id="16505551234",
                pricing={"billable": True, "pricing_model": "CBP", "category": "service"},
                conversation={"id": "6ceb9d929c9bdc4f90e967a32f8639b4", "origin": {"type": "service"}},
            ),
            id="cbp-conversation",
        ),
        pytest.param(
            "status_bsuid.json",
            Reported(
                "read",
                "wamid.HBgKNjYwNDQxMjg5NRUCABEYEkE0NkM4MDVGOTUzNzA3N0YxMQA=",
                1776160500,
                recipient_user_id="SA.6604412895137720931",
            ),
            id="bsuid-recipient-upper-case-int-timestamp",
        ),
    ],
)
def test_status_report(fixture, reported):
    status = only_status(fixture)

    assert status.status == reported.status
    assert status.provider_message_id == reported.provider_message_id
    assert status.timestamp == reported.timestamp
    assert status.recipient_id == reported.recipient_id
    assert status.recipient_user_id == reported.recipient_user_id
    assert (status.errors[0].code if status.errors else None) == reported.error_code
    assert status.pricing == reported.pricing
    assert status.conversation == reported.conversation
    assert status.biz_opaque_callback_data == reported.biz_opaque_callback_data
    assert (status.phone_number_id, status.waba_id) in {(PHONE_NUMBER_ID, WABA), (PHONE_NUMBER_ID, WABA_2)}


@pytest.mark.parametrize("fixture", STATUS_FIXTURES)
def test_every_status_keeps_the_raw_object(fixture):
    raw = [
        status
        for _entry, change in raw_changes(fixture)
        if change["field"] == "messages"
        for status in change["value"].get("statuses", [])
    ]

    assert [status.raw for status in parsed(fixture).statuses] == raw


def test_a_failed_status_carries_the_whole_error():
    status = only_status("status_failed_131049.json")

    assert status.errors == (
        ProviderError(
            code=131049,
            title="This message was not delivered to maintain healthy ecosystem engagement.",
            message="This message was not delivered to maintain healthy ecosystem engagement.",
            details="In order to maintain a healthy ecosystem engagement, the message failed to be delivered.",
            href="/documentation/business-messaging/whatsapp/support/error-codes",
        ),
    )


def test_a_bsuid_status_keeps_the_parent_and_identity_hash_in_raw():
    status = only_status("status_bsuid.json")

    assert status.raw["parent_recipient_user_id"] == "SA.ENT.88210934455102376"
    assert status.raw["recipient_identity_key_hash"] == "Sjvjlx8G6Z0="


# --- a batched delivery: every entry, change, message and status, in order -------------------------------


def test_a_batched_delivery_returns_everything_in_payload_order():
    delivery = parsed("batch_two_entries.json")

    assert [(m.waba_id, m.phone_number_id, m.sender_wa_id, m.type, m.text) for m in delivery.messages] == [
        (WABA, PHONE_NUMBER_ID, SHEENA, "text", "first"),
        (WABA, PHONE_NUMBER_ID, JURGEN, "text", "zweite Nachricht"),
        (WABA, PHONE_NUMBER_ID, SHEENA, "reaction", "❤️"),
        (WABA_2, PHONE_NUMBER_ID_2, NOURA, "text", "شكراً جزيلاً"),
    ]
    assert [(s.waba_id, s.phone_number_id, s.status, s.timestamp) for s in delivery.statuses] == [
        (WABA, PHONE_NUMBER_ID, "delivered", 1750100010),
        (WABA, PHONE_NUMBER_ID, "read", 1750100011),
        (WABA_2, PHONE_NUMBER_ID_2, "sent", 1750100022),
    ]
    assert [(c.waba_id, c.field, c.time, c.value["event"]) for c in delivery.management] == [
        (WABA_2, "message_template_status_update", 1750100020, "APPROVED"),
    ]
    assert delivery.phone_number_ids == {PHONE_NUMBER_ID, PHONE_NUMBER_ID_2}
    assert delivery.waba_ids == {WABA, WABA_2}


def test_a_batched_delivery_keeps_both_read_and_delivered_of_one_message():
    delivered, read, _sent = parsed("batch_two_entries.json").statuses

    assert delivered.provider_message_id == read.provider_message_id
    assert (delivered.status, read.status) == ("delivered", "read")


# --- errors on the messages field itself ------------------------------------------------------------------


def test_value_level_errors_become_a_management_change_of_the_number():
    delivery = parsed("value_errors.json")

    assert delivery.messages == ()
    assert delivery.statuses == ()
    (change,) = delivery.management
    assert change.field == "messages.errors"
    assert change.waba_id == WABA
    assert change.time is None
    assert change.value["phone_number_id"] == PHONE_NUMBER_ID
    assert change.value["errors"][0]["code"] == 130429
    assert change.value["errors"][0]["error_data"]["details"] == "Cloud API message throughput has been reached."


# --- management fields ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fixture", "field", "time", "expected"),
    [
        (
            "message_template_status_update_rejected.json",
            "message_template_status_update",
            1751247548,
            {"event": "REJECTED", "message_template_id": 1689556908129835, "reason": "INVALID_FORMAT"},
        ),
        (
            "message_template_status_update_paused.json",
            "message_template_status_update",
            1751296500,
            {"event": "PAUSED", "message_template_language": "pt_BR", "reason": "NONE"},
        ),
        (
            "message_template_status_update_disabled.json",
            "message_template_status_update",
            1751234563,
            {"event": "DISABLED", "reason": None, "disable_info": {"disable_date": 1751234563}},
        ),
        (
            "message_template_quality_update.json",
            "message_template_quality_update",
            1751300000,
            {"previous_quality_score": "GREEN", "new_quality_score": "YELLOW"},
        ),
        (
            "template_category_update.json",
            "template_category_update",
            1746169200,
            {"previous_category": "UTILITY", "new_category": "MARKETING", "message_template_language": "en-US"},
        ),
        (
            "template_category_update_impending.json",
            "template_category_update",
            1746082800,
            # In the impending variant `new_category` is the *current* one; `correct_category` comes in 24 h.
            {"new_category": "UTILITY", "correct_category": "MARKETING", "category_update_timestamp": 1746169200},
        ),
        (
            "message_template_components_update.json",
            "message_template_components_update",
            1751483772,
            {
                "message_template_element": "Hola {{1}}, tu pedido {{2}} está en camino 🚚",
                "message_template_title": "Actualización del pedido",
                "message_template_footer": "Responde STOP para darte de baja",
            },
        ),
        (
            "phone_number_quality_update.json",
            "phone_number_quality_update",
            1748454394,
            {
                "event": "THROUGHPUT_UPGRADE",
                "current_limit": "TIER_UNLIMITED",
                "max_daily_conversations_per_business": "TIER_2K",
            },
        ),
        (
            "phone_number_quality_update_legacy.json",
            "phone_number_quality_update",
            1680000000,
            {"event": "FLAGGED", "current_limit": "TIER_10K", "display_phone_number": "15550934873"},
        ),
        (
            "phone_number_name_update.json",
            "phone_number_name_update",
            1739321024,
            {"decision": "APPROVED", "requested_verified_name": "Café Lucky Shrub", "rejection_reason": None},
        ),
        (
            "account_update_restriction.json",
            "account_update",
            1641330498,
            {"event": "ACCOUNT_RESTRICTION"},
        ),
        (
            "account_update_ban.json",
            "account_update",
            1743451903,
            {
                "event": "DISABLED_UPDATE",
                "ban_info": {"waba_ban_state": "SCHEDULE_FOR_DISABLE", "waba_ban_date": "April 17, 2025"},
            },
        ),
        (
            "business_capability_update.json",
            "business_capability_update",
            1739321024,
            {"max_daily_conversations_per_business": 2000, "max_phone_numbers_per_waba": 25},
        ),
        (
            "business_capability_update_tier.json",
            "business_capability_update",
            1772000000,
            {"max_daily_conversations_per_business": "TIER_UNLIMITED", "max_phone_numbers_per_business": 2},
        ),
        (
            "security.json",
            "security",
            1748811473,
            {"event": "PIN_RESET_REQUEST", "requester": "61555822107539"},
        ),
    ],
)
def test_management_change(fixture, field, time, expected):
    change = only_change(fixture)

    assert change.field == field
    assert change.waba_id == WABA_2
    assert change.time == time
    assert {key: change.value[key] for key in expected} == expected


@pytest.mark.parametrize("fixture", MANAGEMENT_FIXTURES)
def test_every_management_change_keeps_the_value_verbatim(fixture):
    ((entry, change),) = raw_changes(fixture)

    parsed_change = only_change(fixture)

    assert parsed_change.value == change["value"]
    assert parsed_change.waba_id == entry["id"]


def test_a_template_rejection_keeps_the_reason_and_recommendation():
    rejection = only_change("message_template_status_update_rejected.json").value["rejection_info"]

    assert rejection["reason"].startswith("Your template has parameters placed next to each other")
    assert rejection["recommendation"].startswith("Separate parameters with descriptive text")


def test_a_paused_template_keeps_other_info():
    assert only_change("message_template_status_update_paused.json").value["other_info"]["title"] == "FIRST_PAUSE"


def test_an_account_restriction_keeps_expirations_as_sent():
    restrictions = only_change("account_update_restriction.json").value["restriction_info"]

    assert [(r["restriction_type"], r["expiration"]) for r in restrictions] == [
        ("RESTRICTED_BIZ_INITIATED_MESSAGING", 1641330498),
        ("RESTRICTED_ADD_PHONE_NUMBER_ACTION", "1641330498"),
    ]


def test_component_update_keeps_the_buttons():
    buttons = only_change("message_template_components_update.json").value["message_template_buttons"]

    assert [b["message_template_button_type"] for b in buttons] == ["URL", "QUICK_REPLY"]


def test_a_marketing_stop_is_a_management_change_with_the_user_and_the_number():
    change = only_change("user_preferences_stop.json")

    assert change.field == "user_preferences"
    assert change.waba_id == WABA
    assert change.time is None
    (preference,) = change.value["user_preferences"]
    assert (preference["wa_id"], preference["category"], preference["value"]) == (
        SHEENA,
        "marketing_messages",
        "stop",
    )
    assert change.value["metadata"]["phone_number_id"] == PHONE_NUMBER_ID


def test_message_echoes_are_not_mistaken_for_inbound_messages():
    change = only_change("smb_message_echoes.json")

    assert change.field == "smb_message_echoes"
    (echo,) = change.value["message_echoes"]
    assert (echo["from"], echo["to"], echo["text"]["body"]) == (
        "15550934873",
        "16505551234",
        "Here's the info you requested! https://www.meta.com/quest/quest-3/",
    )


# --- routing ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fixture", "phone_number_ids", "waba_ids"),
    [
        ("text.json", {PHONE_NUMBER_ID}, {WABA}),
        ("status_cbp_conversation.json", {PHONE_NUMBER_ID}, {WABA_2}),
        ("value_errors.json", {PHONE_NUMBER_ID}, {WABA}),
        ("batch_two_entries.json", {PHONE_NUMBER_ID, PHONE_NUMBER_ID_2}, {WABA, WABA_2}),
        # Management fields have no `metadata.phone_number_id`: only the WABA routes them.
        ("message_template_status_update_rejected.json", set(), {WABA_2}),
        ("phone_number_quality_update.json", set(), {WABA_2}),
        ("account_update_ban.json", set(), {WABA_2}),
        ("security.json", set(), {WABA_2}),
        # Per-number fields that do carry metadata route to that number too.
        ("user_preferences_stop.json", {PHONE_NUMBER_ID}, {WABA}),
        ("smb_message_echoes.json", {PHONE_NUMBER_ID_2}, {WABA_2}),
    ],
)
def test_routing_ids(fixture, phone_number_ids, waba_ids):
    assert routing_ids(load(payload(fixture))) == (phone_number_ids, waba_ids)
    delivery = parsed(fixture)
    assert (delivery.phone_number_ids, delivery.waba_ids) == (phone_number_ids, waba_ids)


def test_routing_ids_ignore_null_ids():
    document = {
        "entry": [
            {"id": None, "changes": [{"field": "security", "value": {"event": "PIN_CHANGED"}}]},
            {"id": WABA, "changes": [{"field": "messages", "value": {"metadata": {"phone_number_id": None}}}]},
        ]
    }

    assert routing_ids(document) == (set(), {WABA})


# --- malformed input ----------------------------------------------------------------------------------------


def _messages_change(message: dict[str, Any], metadata: dict[str, Any] | None = None) -> bytes:
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550783881", "phone_number_id": PHONE_NUMBER_ID}
        if metadata is None
        else metadata,
        "messages": [message],
    }
    return json.dumps(
        {
            "object": "whatsapp_business_account",
            "entry": [{"id": WABA, "changes": [{"field": "messages", "value": value}]}],
        }
    ).encode()


VALID_TEXT = {"from": SHEENA, "id": "wamid.X", "timestamp": "1749416383", "type": "text", "text": {"body": "hi"}}


@pytest.mark.parametrize(
    ("raw_body", "complaint"),
    [
        pytest.param(b"", "not valid JSON", id="empty"),
        pytest.param(b"hub.challenge=123", "not valid JSON", id="not-json"),
        pytest.param(b'{"entry": [', "not valid JSON", id="truncated"),
        pytest.param(
            b'{"object":"whatsapp_business_account","entry":[],"x":"caf\xe9"}', "not valid JSON", id="latin-1"
        ),
        pytest.param(b'{"entry": [], "x": "\xff\xfe"}', "not valid JSON", id="invalid-utf8"),
        pytest.param(b'[{"object": "whatsapp_business_account", "entry": []}]', "no `entry` list", id="json-array"),
        pytest.param(b'"whatsapp_business_account"', "no `entry` list", id="json-string"),
        pytest.param(b'{"object": "whatsapp_business_account"}', "no `entry` list", id="no-entry"),
        pytest.param(b'{"object": "whatsapp_business_account", "entry": {}}', "no `entry` list", id="entry-not-list"),
        pytest.param(
            b'{"entry": [{"id": "1", "changes": [{"field": "messages", "value": "x"}]}]}',
            "no `value` object",
            id="value-not-object",
        ),
        pytest.param(
            _messages_change({k: v for k, v in VALID_TEXT.items() if k != "id"}), "has no `id`", id="message-no-id"
        ),
        pytest.param(_messages_change({**VALID_TEXT, "id": ""}), "has no `id`", id="message-empty-id"),
        pytest.param(
            _messages_change({**VALID_TEXT, "timestamp": "yesterday"}), "not a number", id="timestamp-not-numeric"
        ),
        pytest.param(
            _messages_change({k: v for k, v in VALID_TEXT.items() if k != "timestamp"}),
            "not a number",
            id="timestamp-missing",
        ),
        pytest.param(_messages_change(VALID_TEXT, metadata={}), "phone_number_id", id="no-phone-number-id"),
        pytest.param(
            _messages_change(VALID_TEXT, metadata={"phone_number_id": None}),
            "phone_number_id",
            id="null-phone-number-id",
        ),
        pytest.param(
            json.dumps(
                {
                    "entry": [
                        {
                            "id": WABA,
                            "changes": [
                                {
                                    "field": "messages",
                                    "value": {
                                        "metadata": {"phone_number_id": PHONE_NUMBER_ID},
                                        "statuses": [{"status": "sent", "timestamp": "1"}],
                                    },
                                }
                            ],
                        }
                    ]
                }
            ).encode(),
            "status has no `id`",
            id="status-no-id",
        ),
        pytest.param(
            json.dumps(
                {
                    "entry": [
                        {
                            "id": WABA,
                            "changes": [
                                {
                                    "field": "messages",
                                    "value": {
                                        "metadata": {"phone_number_id": PHONE_NUMBER_ID},
                                        "statuses": [{"id": "wamid.X", "status": "sent", "timestamp": "soon"}],
                                    },
                                }
                            ],
                        }
                    ]
                }
            ).encode(),
            "not a number",
            id="status-timestamp-not-numeric",
        ),
    ],
)
def test_malformed_payload_is_rejected(raw_body, complaint):
    with pytest.raises(MalformedPayload, match=complaint):
        parse(raw_body)


def test_malformed_payload_is_a_value_error_for_callers_that_catch_broadly():
    assert issubclass(MalformedPayload, ValueError)


def test_an_empty_delivery_parses_to_nothing():
    delivery = parse(b'{"object": "whatsapp_business_account", "entry": []}')

    assert delivery == Delivery()


def test_the_valid_message_used_by_the_malformed_cases_parses():
    (message,) = parse(_messages_change(VALID_TEXT)).messages

    assert (message.provider_message_id, message.text) == ("wamid.X", "hi")


def test_a_key_meta_adds_later_is_kept_in_content():
    (message,) = parse(_messages_change({**VALID_TEXT, "group_id": "Y2FwaV9ncm91cDoxODA1NTU1MDE3Mjox"})).messages

    assert message.content == {"body": "hi", "group_id": "Y2FwaV9ncm91cDoxODA1NTU1MDE3Mjox"}


def test_parsed_values_are_frozen():
    message = only_message("text.json")

    with pytest.raises(AttributeError):
        message.text = "changed"  # type: ignore[misc]
