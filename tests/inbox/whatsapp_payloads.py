"""Builders for WhatsApp Cloud API webhook deliveries, shaped as in shared/whatsapp-cloud-api.md §7-§10.

Builders return plain dicts so a test can bend any field; `encode` turns a delivery into the bytes on the
wire, either in Meta's escaped form (`\\u00e4`, `\\/`, `\\u0040`: what Meta signs) or as raw UTF-8; `post`
signs those bytes and posts them to the webhook.
"""

import json
from typing import Any

from inbox.providers.whatsapp_cloud.signature import sign
from tests.factories import TEST_APP_SECRET

WABA_ID = "419561257915477"
PHONE_NUMBER_ID = "106540352242922"
DISPLAY_PHONE_NUMBER = "15550783881"
CUSTOMER_WA_ID = "16505551234"
CUSTOMER_NAME = "Sheena Nelson"
# A Meta timestamp (unix seconds, sent as a string): 2025-06-08 20:59:43 UTC.
T0 = 1749416383

WEBHOOK_URL = "/webhooks/whatsapp"


# --- envelope -------------------------------------------------------------------------------------------


def delivery(*changes: dict[str, Any], waba_id: str = WABA_ID, time: int | None = None) -> dict[str, Any]:
    """One entry (one WABA) holding these changes."""
    return {"object": "whatsapp_business_account", "entry": [entry(*changes, waba_id=waba_id, time=time)]}


def batch(*entries: dict[str, Any]) -> dict[str, Any]:
    """Several entries in one POST, as Meta batches them."""
    return {"object": "whatsapp_business_account", "entry": list(entries)}


def entry(*changes: dict[str, Any], waba_id: str = WABA_ID, time: int | None = None) -> dict[str, Any]:
    document: dict[str, Any] = {"id": waba_id, "changes": list(changes)}
    if time is not None:
        document["time"] = time
    return document


def messages_change(
    *,
    messages: list[dict[str, Any]] | tuple = (),
    statuses: list[dict[str, Any]] | tuple = (),
    contacts: list[dict[str, Any]] | tuple | None = None,
    phone_number_id: str = PHONE_NUMBER_ID,
    errors: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """A `messages` field change. Inbound messages get the default customer in `contacts` unless given."""
    value: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": DISPLAY_PHONE_NUMBER, "phone_number_id": phone_number_id},
    }
    if contacts is None and messages:
        contacts = [contact()]
    if contacts:
        value["contacts"] = list(contacts)
    if messages:
        value["messages"] = list(messages)
    if statuses:
        value["statuses"] = list(statuses)
    if errors:
        value["errors"] = errors
    return {"field": "messages", "value": value}


def inbound(
    *messages: dict[str, Any],
    contacts: list[dict[str, Any]] | None = None,
    phone_number_id: str = PHONE_NUMBER_ID,
    waba_id: str = WABA_ID,
) -> dict[str, Any]:
    """A whole delivery of inbound messages from one number."""
    return delivery(
        messages_change(messages=messages, contacts=contacts, phone_number_id=phone_number_id), waba_id=waba_id
    )


def statuses(
    *reports: dict[str, Any], phone_number_id: str = PHONE_NUMBER_ID, waba_id: str = WABA_ID
) -> dict[str, Any]:
    """A whole delivery of status reports."""
    return delivery(messages_change(statuses=reports, phone_number_id=phone_number_id), waba_id=waba_id)


def contact(
    *, wa_id: str | None = CUSTOMER_WA_ID, user_id: str | None = None, name: str = CUSTOMER_NAME, username: str = ""
) -> dict[str, Any]:
    """`value.contacts[]`. Username users (2026) may come with `user_id` (a BSUID) and no `wa_id`."""
    profile: dict[str, Any] = {"name": name}
    if username:
        profile["username"] = username
    document: dict[str, Any] = {"profile": profile}
    if wa_id is not None:
        document["wa_id"] = wa_id
    if user_id is not None:
        document["user_id"] = user_id
    return document


# --- inbound messages -----------------------------------------------------------------------------------


def message(
    type: str,
    payload: dict[str, Any] | None = None,
    *,
    id: str,
    timestamp: int | str = T0,
    sender: str | None = CUSTOMER_WA_ID,
    sender_user_id: str | None = None,
    context: dict[str, Any] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """One `messages[]` element; the type's payload sits under the key of the same name."""
    document: dict[str, Any] = {"id": id, "timestamp": str(timestamp), "type": type}
    if sender is not None:
        document["from"] = sender
    if sender_user_id is not None:
        document["from_user_id"] = sender_user_id
    if payload is not None:
        document[type] = payload
    if context is not None:
        document["context"] = context
    document.update(extra)
    return document


def text(body: str, **kwargs: Any) -> dict[str, Any]:
    return message("text", {"body": body}, **kwargs)


def media(kind: str, *, caption: str | None = None, filename: str | None = None, **kwargs: Any) -> dict[str, Any]:
    """image, video, audio, document or sticker."""
    mime_types = {
        "image": "image/jpeg",
        "video": "video/mp4",
        "audio": "audio/ogg; codecs=opus",
        "document": "application/pdf",
        "sticker": "image/webp",
    }
    payload: dict[str, Any] = {
        "id": f"media-{kwargs['id']}",
        "mime_type": mime_types[kind],
        "sha256": "a" * 64,
    }
    if caption is not None:
        payload["caption"] = caption
    if filename is not None:
        payload["filename"] = filename
    if kind == "audio":
        payload["voice"] = kwargs.pop("voice", True)
    if kind == "sticker":
        payload["animated"] = False
    return message(kind, payload, **kwargs)


def location(*, latitude: float, longitude: float, name: str | None = None, **kwargs: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {"latitude": latitude, "longitude": longitude}
    if name is not None:
        payload["name"] = name
    return message("location", payload, **kwargs)


def shared_contacts(formatted_name: str, phone: str, **kwargs: Any) -> dict[str, Any]:
    """A `contacts` message: the vCard-like list sits at `messages[].contacts`, not under the type's key."""
    card = {"name": {"formatted_name": formatted_name}, "phones": [{"phone": phone, "type": "CELL"}]}
    return message("contacts", None, contacts=[card], **kwargs)


def button_reply(title: str, *, reply_id: str, replying_to: str, **kwargs: Any) -> dict[str, Any]:
    payload = {"type": "button_reply", "button_reply": {"id": reply_id, "title": title}}
    return message("interactive", payload, context={"from": DISPLAY_PHONE_NUMBER, "id": replying_to}, **kwargs)


def list_reply(title: str, *, reply_id: str, description: str = "", **kwargs: Any) -> dict[str, Any]:
    payload = {"type": "list_reply", "list_reply": {"id": reply_id, "title": title, "description": description}}
    return message("interactive", payload, **kwargs)


def template_button(text_: str, *, payload: str, **kwargs: Any) -> dict[str, Any]:
    return message("button", {"payload": payload, "text": text_}, **kwargs)


def reaction(target_id: str, emoji: str, **kwargs: Any) -> dict[str, Any]:
    return message("reaction", {"message_id": target_id, "emoji": emoji}, **kwargs)


def order(text_: str, **kwargs: Any) -> dict[str, Any]:
    payload = {
        "catalog_id": "cat-1",
        "text": text_,
        "product_items": [{"product_retailer_id": "sku-1", "quantity": 2, "item_price": 9.5, "currency": "EUR"}],
    }
    return message("order", payload, **kwargs)


def system_changed_number(new_wa_id: str, **kwargs: Any) -> dict[str, Any]:
    payload = {
        "type": "user_changed_number",
        "body": f"User {kwargs.get('sender', CUSTOMER_WA_ID)} changed to {new_wa_id}",
        "wa_id": new_wa_id,
    }
    return message("system", payload, **kwargs)


def request_welcome(**kwargs: Any) -> dict[str, Any]:
    return message("request_welcome", None, **kwargs)


def unsupported(**kwargs: Any) -> dict[str, Any]:
    errors = [
        {
            "code": 131051,
            "title": "Message type unknown",
            "message": "Message type unknown",
            "error_data": {"details": "Message type is currently not supported."},
        }
    ]
    return message("unsupported", {"type": "poll"}, errors=errors, **kwargs)


def edit(target_id: str, new_body: str, **kwargs: Any) -> dict[str, Any]:
    payload = {"original_message_id": target_id, "message": {"type": "text", "text": {"body": new_body}}}
    return message("edit", payload, **kwargs)


def revoke(target_id: str, **kwargs: Any) -> dict[str, Any]:
    return message("revoke", {"original_message_id": target_id}, **kwargs)


# --- statuses -------------------------------------------------------------------------------------------


def status(
    message_id: str,
    status_: str,
    *,
    timestamp: int | str = T0,
    recipient_id: str = CUSTOMER_WA_ID,
    pricing: dict[str, Any] | None = None,
    errors: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """One `statuses[]` element (sent, delivered, read, played, failed)."""
    document: dict[str, Any] = {
        "id": message_id,
        "status": status_,
        "timestamp": str(timestamp),
        "recipient_id": recipient_id,
    }
    if pricing is not None:
        document["pricing"] = pricing
    if errors is not None:
        document["errors"] = errors
    return document


PRICING_MARKETING = {"billable": True, "pricing_model": "PMP", "type": "regular", "category": "marketing"}

ERROR_HEALTHY_ECOSYSTEM = {
    "code": 131049,
    "title": "This message was not delivered to maintain healthy ecosystem engagement.",
    "message": "This message was not delivered to maintain healthy ecosystem engagement.",
    "error_data": {
        "details": "In order to maintain a healthy ecosystem engagement, the message failed to be delivered."
    },
    "href": "/documentation/business-messaging/whatsapp/support/error-codes",
}


# --- management fields ----------------------------------------------------------------------------------


def management_change(field: str, value: dict[str, Any]) -> dict[str, Any]:
    return {"field": field, "value": value}


def template_status_update(event: str = "APPROVED", *, template_id: int = 1689556908129835) -> dict[str, Any]:
    return management_change(
        "message_template_status_update",
        {
            "event": event,
            "message_template_id": template_id,
            "message_template_name": "abandoned_cart",
            "message_template_language": "en_US",
            "reason": "NONE",
        },
    )


def phone_number_quality_update(event: str = "FLAGGED") -> dict[str, Any]:
    return management_change(
        "phone_number_quality_update",
        {"display_phone_number": DISPLAY_PHONE_NUMBER, "event": event, "current_limit": "TIER_10K"},
    )


# --- bytes on the wire ----------------------------------------------------------------------------------


def encode(document: dict[str, Any], *, meta_escaped: bool = True) -> bytes:
    """The body bytes. `meta_escaped` gives the form Facebook webhooks are signed in: non-ASCII as
    lower-case `\\uXXXX` escapes, plus `/`, `@`, `<` and `%` escaped; all of these only ever occur inside
    JSON strings, so the replacements keep it valid. Otherwise compact raw UTF-8."""
    if not meta_escaped:
        return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()
    escaped = json.dumps(document, ensure_ascii=True, separators=(",", ":"))
    for character, escape in (("/", "\\/"), ("@", "\\u0040"), ("<", "\\u003c"), ("%", "\\u0025")):
        escaped = escaped.replace(character, escape)
    return escaped.encode("ascii")


def post(
    client,
    body: bytes | dict[str, Any],
    *,
    secret: str = TEST_APP_SECRET,
    signature: str | None = None,
    headers: dict[str, str] | None = None,
):
    """POST a delivery signed with `secret` (or with the literal `signature` header, "" for none)."""
    raw_body = encode(body) if isinstance(body, dict) else body
    all_headers = dict(headers or {})
    header = sign(secret, raw_body) if signature is None else signature
    if header:
        all_headers["X-Hub-Signature-256"] = header
    return client.post(WEBHOOK_URL, raw_body, content_type="application/json", headers=all_headers)


def user_preferences(
    value: str = "stop",
    *,
    wa_id: str = CUSTOMER_WA_ID,
    detail: str = "User requested to stop marketing messages",
    category: str = "marketing_messages",
    timestamp: int = T0,
    phone_number_id: str = PHONE_NUMBER_ID,
) -> dict[str, Any]:
    """The `user_preferences` field (§10): the customer stopped or resumed marketing messages in WhatsApp."""
    return management_change(
        "user_preferences",
        {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": DISPLAY_PHONE_NUMBER, "phone_number_id": phone_number_id},
            "contacts": [contact(wa_id=wa_id)],
            "user_preferences": [
                {"wa_id": wa_id, "detail": detail, "category": category, "value": value, "timestamp": timestamp}
            ],
        },
    )


# --- identity changes (identity helper) -----------------------------------------------------------------------


def system_customer_changed_number(new_wa_id: str, **kwargs: Any) -> dict[str, Any]:
    """The legacy spelling of a number change: `customer_changed_number`, the new number in `new_wa_id`."""
    sender = kwargs.get("sender", CUSTOMER_WA_ID)
    payload = {
        "type": "customer_changed_number",
        "body": f"User {sender} changed from {sender} to {new_wa_id}",
        "new_wa_id": new_wa_id,
        "customer": sender,
    }
    return message("system", payload, **kwargs)


def system_identity_changed(
    key_hash: str, *, acknowledged: bool = False, created_timestamp: int = T0, **kwargs: Any
) -> dict[str, Any]:
    """`customer_identity_changed` with the top-level `identity` object (§8), as Meta sends it."""
    payload = {"type": "customer_identity_changed", "body": "User identity changed"}
    identity = {"acknowledged": acknowledged, "created_timestamp": str(created_timestamp), "hash": key_hash}
    return message("system", payload, identity=identity, **kwargs)


# --- number health (§10) --------------------------------------------------------------------------------


def number_quality_update(event: str, **fields: Any) -> dict[str, Any]:
    """`phone_number_quality_update` for the test number: `current_limit`, `old_limit`,
    `max_daily_conversations_per_business` as keyword fields (tier strings or integers)."""
    return management_change(
        "phone_number_quality_update", {"display_phone_number": DISPLAY_PHONE_NUMBER, "event": event, **fields}
    )


def business_capability_update(**fields: Any) -> dict[str, Any]:
    return management_change("business_capability_update", fields)


def account_restriction(*restrictions: tuple[str, Any]) -> dict[str, Any]:
    """`account_update` ACCOUNT_RESTRICTION with (restriction_type, expiration) pairs."""
    info = [{"restriction_type": kind, "expiration": expiration} for kind, expiration in restrictions]
    return management_change("account_update", {"event": "ACCOUNT_RESTRICTION", "restriction_info": info})


def account_update(event: str, **fields: Any) -> dict[str, Any]:
    return management_change("account_update", {"event": event, **fields})


def account_alert(
    alert_type: str,
    description: str,
    *,
    severity: str = "WARNING",
    entity_type: str = "WABA",
    entity_id: str = WABA_ID,
) -> dict[str, Any]:
    return management_change(
        "account_alerts",
        {
            "entity_type": entity_type,
            "entity_id": entity_id,
            "alert_info": {
                "alert_severity": severity,
                "alert_status": "ACTIVE",
                "alert_type": alert_type,
                "alert_description": description,
            },
        },
    )
