"""Parse WhatsApp Cloud API webhook deliveries: bytes in, frozen dataclasses out. Pure: no Django, no I/O.

Meta batches: one delivery may hold many entries (WABAs), each with many changes, each with many
messages and statuses. Every one of them is returned. Shapes follow shared/whatsapp-cloud-api.md §7-§10,
and the parser is lenient where real traffic is (timestamps as strings or ints, absent keys).
"""

import json
from typing import Any

from inbox.providers.whatsapp_cloud.types import (
    ContactProfile,
    Delivery,
    InboundMessage,
    MalformedPayload,
    ManagementChange,
    ProviderError,
    StatusReport,
)

# Message types whose payload lives under a key of the same name.
_MEDIA_TYPES = {"image", "audio", "video", "document", "sticker"}
# The keys of `messages[]` that the InboundMessage fields carry; every other key goes into `content`.
_ENVELOPE_KEYS = {"from", "from_user_id", "id", "timestamp", "type"}


def load(raw_body: bytes) -> dict[str, Any]:
    """Decode the JSON envelope; raise MalformedPayload when it is not a webhook delivery."""
    try:
        document = json.loads(raw_body)
    except (UnicodeDecodeError, ValueError) as exc:
        raise MalformedPayload(f"The body is not valid JSON: {exc}") from exc
    if not isinstance(document, dict) or not isinstance(document.get("entry"), list):
        raise MalformedPayload("The body is JSON but has no `entry` list.")
    return document


def routing_ids(document: dict[str, Any]) -> tuple[set[str], set[str]]:
    """The phone number ids (any change's `metadata`) and WABA ids (every entry) a delivery names.

    `messages` changes carry `metadata.phone_number_id`, and so do `user_preferences`, `smb_message_echoes`
    and the group fields; template, number and account management fields do not: they are routed by the
    WABA id alone."""
    phone_number_ids: set[str] = set()
    waba_ids: set[str] = set()
    for entry in _dicts(document.get("entry")):
        waba_id = _optional_str(entry.get("id"))
        if waba_id:
            waba_ids.add(waba_id)
        for change in _dicts(entry.get("changes")):
            value = change.get("value")
            if isinstance(value, dict) and isinstance(value.get("metadata"), dict):
                phone_number_id = _optional_str(value["metadata"].get("phone_number_id"))
                if phone_number_id:
                    phone_number_ids.add(phone_number_id)
    return phone_number_ids, waba_ids


def parse(raw_body: bytes) -> Delivery:
    """Everything in one delivery: inbound messages, statuses and management changes, in payload order."""
    document = load(raw_body)
    messages: list[InboundMessage] = []
    statuses: list[StatusReport] = []
    management: list[ManagementChange] = []
    for entry in _dicts(document["entry"]):
        waba_id = _optional_str(entry.get("id")) or ""
        entry_time = _optional_int(entry.get("time"))
        for change in _dicts(entry.get("changes")):
            field_name = str(change.get("field", ""))
            value = change.get("value")
            if not isinstance(value, dict):
                raise MalformedPayload(f"A `{field_name}` change has no `value` object.")
            if field_name != "messages":
                management.append(ManagementChange(waba_id=waba_id, field=field_name, value=value, time=entry_time))
                continue
            metadata = value.get("metadata") if isinstance(value.get("metadata"), dict) else {}
            phone_number_id = _optional_str(metadata.get("phone_number_id"))
            if not phone_number_id:
                raise MalformedPayload("A `messages` change has no `metadata.phone_number_id`.")
            profiles = [_profile(contact) for contact in _dicts(value.get("contacts"))]
            for message in _dicts(value.get("messages")):
                messages.append(_inbound_message(message, phone_number_id, waba_id, profiles))
            for status in _dicts(value.get("statuses")):
                statuses.append(_status_report(status, phone_number_id, waba_id))
            if value.get("errors"):
                # System, app or account level errors reported on the messages field.
                management.append(
                    ManagementChange(
                        waba_id=waba_id,
                        field="messages.errors",
                        value={"phone_number_id": phone_number_id, "errors": value["errors"]},
                        time=entry_time,
                    )
                )
    phone_number_ids, waba_ids = routing_ids(document)
    return Delivery(
        messages=tuple(messages),
        statuses=tuple(statuses),
        management=tuple(management),
        phone_number_ids=frozenset(phone_number_ids),
        waba_ids=frozenset(waba_ids),
    )


def _inbound_message(
    message: dict[str, Any], phone_number_id: str, waba_id: str, profiles: list[ContactProfile]
) -> InboundMessage:
    provider_message_id = message.get("id")
    if not provider_message_id:
        raise MalformedPayload("An inbound message has no `id`.")
    sent_type = str(message.get("type") or "unsupported")
    # "unknown" is the legacy name for what Meta now calls "unsupported".
    message_type = "unsupported" if sent_type == "unknown" else sent_type
    sender_wa_id = _optional_str(message.get("from"))
    sender_user_id = _optional_str(message.get("from_user_id"))
    if sender_wa_id is None and sender_user_id is None and message_type == "system":
        # A username user's BSUID change (`user_changed_user_id`) names no sender: the contact we
        # know is the one with the previous BSUID.
        system = message.get("system") if isinstance(message.get("system"), dict) else {}
        sender_user_id = _optional_str(system.get("previous_user_id"))
    content = message.get(sent_type)
    content = dict(content) if isinstance(content, dict) else {}
    if message_type == "contacts":
        content = {"contacts": message.get("contacts") or []}
    # Everything else Meta put on the message (`context`, `referral`, `identity`, `errors`, and keys
    # added after this was written) is kept beside the type's object.
    for key, extra in message.items():
        if key not in _ENVELOPE_KEYS and key != sent_type and key not in content:
            content[key] = extra
    context = message.get("context") if isinstance(message.get("context"), dict) else {}
    errors = tuple(_provider_error(error) for error in _dicts(message.get("errors")))
    return InboundMessage(
        phone_number_id=phone_number_id,
        waba_id=waba_id,
        provider_message_id=str(provider_message_id),
        type=message_type,
        timestamp=_required_int(message.get("timestamp"), "message timestamp"),
        sender_wa_id=sender_wa_id,
        sender_user_id=sender_user_id,
        profile=_matching_profile(profiles, sender_wa_id, sender_user_id),
        text=_readable_text(message_type, message, errors),
        content=content,
        reply_to_provider_id=str(context.get("id") or ""),
        target_provider_message_id=_target_message_id(message_type, message),
        errors=errors,
    )


def _readable_text(message_type: str, message: dict[str, Any], errors: tuple[ProviderError, ...]) -> str:
    """The part of a message a person reads in a preview or searches for."""
    body = message.get(message_type) if isinstance(message.get(message_type), dict) else {}
    if message_type == "text":
        return str(body.get("body", ""))
    if message_type in _MEDIA_TYPES:
        return str(body.get("caption") or body.get("filename") or "")
    if message_type == "location":
        return str(body.get("name") or body.get("address") or f"{body.get('latitude')}, {body.get('longitude')}")
    if message_type == "contacts":
        names = [str((c.get("name") or {}).get("formatted_name", "")) for c in _dicts(message.get("contacts"))]
        return ", ".join(name for name in names if name)
    if message_type == "interactive":
        for reply_kind in ("button_reply", "list_reply"):
            if isinstance(body.get(reply_kind), dict):
                return str(body[reply_kind].get("title", ""))
        if isinstance(body.get("nfm_reply"), dict):
            return str(body["nfm_reply"].get("body") or body["nfm_reply"].get("name") or "")
        return ""
    if message_type == "button":
        return str(body.get("text") or body.get("payload") or "")
    if message_type == "reaction":
        return str(body.get("emoji") or "")
    if message_type in ("order", "system"):
        return str(body.get("text") or body.get("body") or "")
    if message_type == "edit":
        edited = body.get("message") if isinstance(body.get("message"), dict) else {}
        edited_type = str(edited.get("type") or "text")
        return _readable_text(edited_type, edited, ())
    if message_type == "unsupported":
        return errors[0].title if errors else ""
    return ""


def _target_message_id(message_type: str, message: dict[str, Any]) -> str:
    body = message.get(message_type) if isinstance(message.get(message_type), dict) else {}
    if message_type == "reaction":
        return str(body.get("message_id") or "")
    if message_type in ("edit", "revoke"):
        return str(body.get("original_message_id") or "")
    return ""


def _status_report(status: dict[str, Any], phone_number_id: str, waba_id: str) -> StatusReport:
    provider_message_id = status.get("id")
    if not provider_message_id or not status.get("status"):
        raise MalformedPayload("A status has no `id` or no `status`.")
    return StatusReport(
        phone_number_id=phone_number_id,
        waba_id=waba_id,
        provider_message_id=str(provider_message_id),
        status=str(status["status"]).lower(),
        timestamp=_required_int(status.get("timestamp"), "status timestamp"),
        recipient_id=str(status.get("recipient_id") or ""),
        recipient_user_id=str(status.get("recipient_user_id") or ""),
        errors=tuple(_provider_error(error) for error in _dicts(status.get("errors"))),
        pricing=status.get("pricing") if isinstance(status.get("pricing"), dict) else None,
        conversation=status.get("conversation") if isinstance(status.get("conversation"), dict) else None,
        biz_opaque_callback_data=str(status.get("biz_opaque_callback_data") or ""),
        raw=status,
    )


def _profile(contact: dict[str, Any]) -> ContactProfile:
    profile = contact.get("profile") if isinstance(contact.get("profile"), dict) else {}
    return ContactProfile(
        wa_id=_optional_str(contact.get("wa_id")),
        user_id=_optional_str(contact.get("user_id")),
        parent_user_id=_optional_str(contact.get("parent_user_id")),
        name=str(profile.get("name") or ""),
        username=str(profile.get("username") or ""),
    )


def _matching_profile(profiles: list[ContactProfile], wa_id: str | None, user_id: str | None) -> ContactProfile | None:
    for profile in profiles:
        if (wa_id and profile.wa_id == wa_id) or (user_id and profile.user_id == user_id):
            return profile
    # A single contact in the change is the sender even when Meta's ids differ in form.
    return profiles[0] if len(profiles) == 1 else None


def _provider_error(error: dict[str, Any]) -> ProviderError:
    error_data = error.get("error_data") if isinstance(error.get("error_data"), dict) else {}
    return ProviderError(
        code=_optional_int(error.get("code")),
        title=str(error.get("title") or ""),
        message=str(error.get("message") or ""),
        # Legacy payloads (the `unknown` type era) put `details` beside `code` instead of in `error_data`.
        details=str(error_data.get("details") or error.get("details") or ""),
        href=str(error.get("href") or ""),
    )


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _optional_str(value: Any) -> str | None:
    return None if value in (None, "") else str(value)


def _optional_int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _required_int(value: Any, what: str) -> int:
    number = _optional_int(value)
    if number is None:
        raise MalformedPayload(f"The {what} is missing or not a number: {value!r}.")
    return number
