"""Every write the simulator makes, and the signed webhooks it builds and delivers.

Meta's side of the conversation: accept (or refuse) the business's messages, move them to sent and
delivered with status webhooks, let customers write, read and react, hold media, and keep each WABA's
message templates (review, quality, pauses, category changes, each with the management webhook Meta
sends). Keyword-only functions, one transaction each; background work goes through
`config.task_queue.enqueue`.
"""

import base64
import hashlib
import json
import logging
import mimetypes
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from django.conf import settings
from django.core.files.base import ContentFile, File
from django.db import IntegrityError, transaction
from django.utils import timezone

from config.task_queue import enqueue
from inbox.models import Channel
from inbox.providers.whatsapp_cloud.signature import sign
from inbox.services import sandbox
from inbox.services.webhooks import webhook_receive
from simulator import health_rules, profile, rules, template_review, template_validation
from simulator.errors import GraphError, invalid_parameter, invalid_template, status_error
from simulator.models import (
    FeedbackKind,
    MediaOwner,
    QualityScore,
    RejectionReason,
    SimulatedCustomer,
    SimulatedDirection,
    SimulatedFeedback,
    SimulatedMedia,
    SimulatedMessage,
    SimulatedNumber,
    SimulatedReach,
    SimulatedStatus,
    SimulatedTemplate,
    SimulatedUpload,
    SimulatedWebhook,
    TemplateCategory,
    TemplateStatus,
    WebhookKind,
)
from simulator.validation import MEDIA_TYPES, TEXT_MAX, ReadRequest, SendRequest, is_web_link

logger = logging.getLogger(__name__)

# Meta reports `sent` a moment after accepting, `delivered` when the phone has it (§9).
SENT_AFTER_SECONDS = 0.3
DELIVERED_AFTER_SECONDS = 1.0
# A typing indicator shows until the business replies, or for 25 seconds (§3).
TYPING_INDICATOR = timedelta(seconds=25)
# Failed webhook deliveries are retried with a growing delay, this many attempts in all.
WEBHOOK_ATTEMPTS = 5
# Inbound kinds the control API and the customer page can send.
INBOUND_KINDS = (
    "text",
    *MEDIA_TYPES,
    "location",
    "contacts",
    "interactive",
    "button_reply",
    "list_reply",
    "button",
    "reaction",
    "edit",
    "revoke",
    "request_welcome",
)


class ControlError(Exception):
    """A refusal of the control API or the customer page: a short code, a sentence, an HTTP status."""

    def __init__(self, code: str, detail: str, http_status: int = 400) -> None:
        super().__init__(detail)
        self.code, self.detail, self.http_status = code, detail, http_status


class MediaRefused(Exception):
    """A file Meta would not take: unsupported type or over its size limit (§4)."""


@dataclass(frozen=True)
class Upload:
    """A file a customer sends or the business uploads."""

    file: File
    filename: str
    mime_type: str


def clock() -> float:
    """Seconds since the epoch for the rate limits (tests replace it to pin the one-second window)."""
    return time.time()


# Channels and numbers


def simulated_channel(phone_number_id: str) -> Channel:
    """The channel the simulator speaks for: it must exist and point at the simulator."""
    channel = Channel.objects.filter(phone_number_id=str(phone_number_id)).first()
    if channel is None:
        raise ControlError("unknown_number", f"No channel has the phone_number_id {phone_number_id}.", 404)
    if not sandbox.is_sandbox_channel(channel):
        raise ControlError(
            "not_simulated",
            f"The channel with phone_number_id {phone_number_id} talks to {channel.graph_api_base}, "
            "not to the simulator.",
            403,
        )
    return channel


def simulated_channels() -> list[Channel]:
    return [channel for channel in Channel.objects.order_by("name", "id") if sandbox.is_sandbox_channel(channel)]


def number_for(channel: Channel) -> SimulatedNumber:
    number, _ = SimulatedNumber.objects.get_or_create(channel=channel)
    return number


def number_limits_set(
    *,
    channel: Channel,
    throughput_per_second: int | None = None,
    pair_burst: int | None = None,
    pair_refill_seconds: float | None = None,
) -> SimulatedNumber:
    """Change a simulated number's throughput and pair-rate limits (None keeps the current value)."""
    with transaction.atomic():
        number_for(channel)
        number = SimulatedNumber.objects.select_for_update().get(channel=channel)
        if throughput_per_second is not None:
            number.throughput_per_second = throughput_per_second
        if pair_burst is not None:
            number.pair_burst = pair_burst
        if pair_refill_seconds is not None:
            number.pair_refill_seconds = pair_refill_seconds
        number.save()
        # Existing buckets are refilled to the new burst, so a lowered limit applies from a clean slate.
        SimulatedCustomer.objects.filter(channel=channel).update(pair_tokens=None, pair_updated_at=None)
    return number


# Customers


def customer_upsert(
    *, channel: Channel, wa_id: str, name: str | None = None, unreachable: bool | None = None
) -> SimulatedCustomer:
    """Create the customer's phone for this number, or update its name and reachability."""
    digits = rules.normalise_phone(str(wa_id))
    if digits is None:
        raise ControlError("invalid_wa_id", f"{wa_id!r} is not a phone number (6 to 15 digits).")
    customer, created = SimulatedCustomer.objects.get_or_create(
        channel=channel, wa_id=digits, defaults={"name": name or "", "unreachable": bool(unreachable)}
    )
    if not created:
        fields = []
        if name is not None and name != customer.name:
            customer.name = name
            fields.append("name")
        if unreachable is not None and unreachable != customer.unreachable:
            customer.unreachable = unreachable
            fields.append("unreachable")
        if fields:
            customer.save(update_fields=fields)
    return customer


def customer_get(*, channel: Channel, wa_id: str) -> SimulatedCustomer:
    digits = rules.normalise_phone(str(wa_id)) or str(wa_id)
    customer = SimulatedCustomer.objects.filter(channel=channel, wa_id=digits).first()
    if customer is None:
        raise ControlError("unknown_customer", f"No customer +{digits} on this number yet.", 404)
    return customer


def conversation_age(*, channel: Channel, wa_id: str, hours: float) -> tuple[SimulatedCustomer, int]:
    """Move the customer's last message `hours` into the past here and in the inbox, so the 24-hour
    window closes for the simulator's 131047 and for the agent's composer alike."""
    customer = customer_get(channel=channel, wa_id=wa_id)
    with transaction.atomic():
        if customer.last_inbound_at is not None:
            customer.last_inbound_at -= timedelta(hours=hours)
            customer.save(update_fields=["last_inbound_at"])
        moved = sandbox.conversation_age(channel=channel, wa_id=customer.wa_id, hours=hours)
    return customer, moved


# Business messages (the Graph API side)


def new_wamid(wa_id: str) -> str:
    """A message id shaped like Meta's: `wamid.` + base64 of a small binary record naming the chat."""
    record = b"\x1c\x18\x0b" + wa_id.encode() + b"\x15\x02\x00\x12\x18\x14" + secrets.token_hex(10).upper().encode()
    return "wamid." + base64.b64encode(record + b"\x00").decode()


def message_send(*, channel: Channel, request: SendRequest, api_version: str) -> SimulatedMessage:
    """Accept a business message the way Meta does, or refuse it at once.

    Refused synchronously: a template that cannot go out (132001 unknown or not approved, 132015 paused,
    132016 disabled, 132000/132012 parameters that do not fit it), 130429 (the number's throughput in
    this second is used up), 131056 (the pair rate to this customer is used up), 100 (a media id this
    number does not have), 131048 (a business-initiated message from a restricted number, or to a new
    customer beyond the tier's messaging limit). Failures Meta only reports later are decided here and
    sent as the asynchronous `failed` status, with a 200 now: 131026 (customer unreachable, or they
    blocked the business), 137000 (`recipient_identity_key_hash` is not the customer's current identity),
    131050 (a marketing template to a customer who stopped marketing messages), 131047 (a non-template
    message outside the 24-hour window), 131053 (a media link that is not a web URL)."""
    now = timezone.now()
    moment = clock()
    template = _template_for_send(channel=channel, sent=request.payload) if request.type == "template" else None
    with transaction.atomic():
        if request.media_id and not _media_usable(channel=channel, media_id=request.media_id):
            raise invalid_parameter(
                f"Param {request.type}['id'] is not a valid whatsapp business account media attachment ID"
            )
        number_for(channel)
        number = SimulatedNumber.objects.select_for_update().get(channel=channel)
        allowed, window = rules.throughput_take(
            rules.ThroughputWindow(number.window_second, number.window_count),
            now=moment,
            limit=number.throughput_per_second,
        )
        if not allowed:
            raise GraphError(code=130429)
        customer_upsert(channel=channel, wa_id=request.wa_id)
        customer = SimulatedCustomer.objects.select_for_update().get(channel=channel, wa_id=request.wa_id)
        allowed, bucket = rules.pair_take(
            rules.PairBucket(customer.pair_tokens, customer.pair_updated_at),
            now=moment,
            burst=number.pair_burst,
            refill_seconds=number.pair_refill_seconds,
        )
        if not allowed:
            raise GraphError(code=131056)
        window_open = rules.is_service_window_open(customer.last_inbound_at, now=now)
        initiated = health_rules.business_initiated(message_type=request.type, window_open=window_open)
        if initiated:
            _business_initiated_check(number=number, customer=customer, now=now)
        number.window_second, number.window_count = window.second, window.count
        number.save(update_fields=["window_second", "window_count"])
        customer.pair_tokens, customer.pair_updated_at = bucket.tokens, bucket.updated_at
        # Replying dismisses the typing indicator (§3).
        customer.business_typing_until = None
        customer.save(update_fields=["pair_tokens", "pair_updated_at", "business_typing_until"])

        error = None
        sent_hash = request.body.get("recipient_identity_key_hash")
        if customer.unreachable or customer.blocked:
            error = status_error(131026)
        elif health_rules.identity_mismatch(
            sent_hash=str(sent_hash) if sent_hash else None, current_hash=customer.identity_hash
        ):
            error = status_error(137000)
        elif customer.marketing_stopped and template and template["category"] == TemplateCategory.MARKETING:
            error = status_error(131050)
        elif request.type != "template" and not window_open:
            error = status_error(131047)
        elif request.media_link and not is_web_link(request.media_link):
            error = status_error(131053, "Downloading media from the weblink failed: it is not an http(s) URL.")
        pricing = None
        if not error:
            pricing = rules.pricing_for(
                message_type=request.type,
                window_open=window_open,
                template_category=template["category"] if template else None,
            )
        message = SimulatedMessage.objects.create(
            channel=channel,
            customer=customer,
            wamid=new_wamid(customer.wa_id),
            direction=SimulatedDirection.TO_CUSTOMER,
            type=request.type,
            payload=request.body,
            status=SimulatedStatus.ACCEPTED,
            status_at=now,
            error=error,
            pricing=pricing.as_payload() if pricing else None,
            template=template,
            api_version=api_version,
            created_at=now,
        )
        if initiated and not error:
            _reach_record(number=number, customer=customer, now=now)
        report = _tasks().report_status
        if error:
            enqueue(report, message.pk, SimulatedStatus.FAILED.value, countdown=SENT_AFTER_SECONDS)
        else:
            enqueue(report, message.pk, SimulatedStatus.SENT.value, countdown=SENT_AFTER_SECONDS)
            enqueue(report, message.pk, SimulatedStatus.DELIVERED.value, countdown=DELIVERED_AFTER_SECONDS)
    return message


def _template_for_send(*, channel: Channel, sent: dict) -> dict:
    """The approved template a template message names (by the channel's WABA, name and language code,
    verbatim), checked against the parameters sent; its snapshot is kept on the message."""
    name = str(sent.get("name"))
    language = str((sent.get("language") or {}).get("code"))
    template = SimulatedTemplate.objects.filter(waba_id=channel.waba_id, name=name, language=language).first()
    refusal = 132001
    if template is not None:
        refusal = template_review.send_refusal(
            template.status, has_approved_version=template.approved_components is not None
        )
    if refusal == 132001 or template is None or template.approved_components is None:
        raise GraphError(code=132001, details=f"template name ({name}) does not exist in {language}")
    if refusal is not None:
        raise GraphError(code=refusal)
    template_validation.check_send(
        components=template.approved_components,
        parameter_format=template.parameter_format,
        category=template.category,
        sent=sent,
    )
    return {
        "id": template.template_id,
        "category": template.category,
        "parameter_format": template.parameter_format,
        "components": template.approved_components,
    }


def message_mark_read(*, channel: Channel, request: ReadRequest) -> None:
    """The business read a customer's message (and, as on WhatsApp, every earlier one in the chat)."""
    message = SimulatedMessage.objects.filter(channel=channel, wamid=request.message_id).first()
    if message is None:
        raise invalid_parameter("Please check the message ID you have provided.")
    if message.direction == SimulatedDirection.TO_CUSTOMER:
        raise invalid_parameter(
            f"Message supplied to mark message as read API with message ID: {request.message_id} is outgoing. "
            "Please use an incoming message ID."
        )
    now = timezone.now()
    with transaction.atomic():
        SimulatedMessage.objects.filter(
            customer_id=message.customer_id, direction=SimulatedDirection.FROM_CUSTOMER, id__lte=message.pk
        ).exclude(status=SimulatedStatus.READ).update(status=SimulatedStatus.READ, status_at=now)
        if request.typing_indicator:
            SimulatedCustomer.objects.filter(pk=message.customer_id).update(
                business_typing_until=now + TYPING_INDICATOR
            )


def status_report(*, message_id: int, status: str) -> SimulatedWebhook | None:
    """Move a business message to `status` and build its signed status webhook; None when the status
    would not move it forward (already read, already failed, or a failure pending)."""
    now = timezone.now()
    with transaction.atomic():
        message = (
            SimulatedMessage.objects.select_for_update().select_related("channel", "customer").filter(pk=message_id)
        ).first()
        if message is None or not rules.status_moves_forward(message.status, status):
            return None
        if message.error and status != SimulatedStatus.FAILED:
            return None
        message.status, message.status_at = status, now
        message.save(update_fields=["status", "status_at"])
        return _webhook_create(
            channel=message.channel,
            kind=WebhookKind.STATUS,
            message=message,
            value=_messages_value(message.channel, statuses=[_status_object(message, status, now)]),
        )


def customer_read(*, channel: Channel, wa_id: str, delivered_only: bool = False) -> int:
    """The customer reads the chat: every business message on the phone gets a `read` status. The page
    reads only what has been delivered (so agents see sent, delivered, read in turn); the control API
    reads everything sent. Returns how many messages were read."""
    customer = customer_get(channel=channel, wa_id=wa_id)
    readable = [SimulatedStatus.DELIVERED] if delivered_only else [SimulatedStatus.SENT, SimulatedStatus.DELIVERED]
    message_ids = list(
        SimulatedMessage.objects.filter(
            customer=customer, direction=SimulatedDirection.TO_CUSTOMER, status__in=readable, error__isnull=True
        ).values_list("pk", flat=True)
    )
    with transaction.atomic():
        for message_id in message_ids:
            enqueue(_tasks().report_status, message_id, SimulatedStatus.READ.value)
    return len(message_ids)


def _status_object(message: SimulatedMessage, status: str, at: datetime) -> dict:
    """One `statuses[]` element, shaped like Meta's (§9)."""
    status_object: dict[str, Any] = {
        "id": message.wamid,
        "status": status,
        "timestamp": str(int(at.timestamp())),
        "recipient_id": message.customer.wa_id,
    }
    opaque = message.payload.get("biz_opaque_callback_data") if isinstance(message.payload, dict) else None
    if opaque:
        status_object["biz_opaque_callback_data"] = opaque
    # Pricing rides on `sent` and on one of delivered/read; `conversation` only up to v23 (§9).
    if message.pricing and status in (SimulatedStatus.SENT, SimulatedStatus.DELIVERED):
        if rules.sends_conversation_object(message.api_version):
            conversation: dict[str, Any] = {"id": hashlib.sha256(message.wamid.encode()).hexdigest()[:32]}
            if status == SimulatedStatus.SENT:
                conversation["expiration_timestamp"] = str(int((at + rules.SERVICE_WINDOW).timestamp()))
            conversation["origin"] = {"type": message.pricing["category"]}
            status_object["conversation"] = conversation
        status_object["pricing"] = message.pricing
    if status == SimulatedStatus.FAILED and message.error:
        status_object["errors"] = [message.error]
    return status_object


# Customer messages (the webhook side)


def inbound_message(
    *,
    channel: Channel,
    wa_id: str,
    kind: str,
    fields: dict[str, Any],
    name: str | None = None,
    upload: Upload | None = None,
) -> SimulatedMessage:
    """The customer sends a message: build Meta's message object for `kind`, keep it on the phone and
    deliver the signed webhook at once. Raises ControlError for input a real phone could not send."""
    if kind not in INBOUND_KINDS:
        raise ControlError("invalid_type", f"type must be one of: {', '.join(INBOUND_KINDS)}.")
    now = timezone.now()
    with transaction.atomic():
        customer = customer_upsert(channel=channel, wa_id=wa_id, name=name or None)
        wamid = new_wamid(customer.wa_id)
        message_object = {
            **_context(channel, customer, fields.get("context_message_id")),
            "from": customer.wa_id,
            "id": wamid,
            "timestamp": str(int(now.timestamp())),
            **_inbound_content(channel=channel, customer=customer, kind=kind, fields=fields, upload=upload),
        }
        message_type = message_object["type"]
        if rules.opens_service_window(message_type):
            customer.last_inbound_at = now
            customer.save(update_fields=["last_inbound_at"])
        message = SimulatedMessage.objects.create(
            channel=channel,
            customer=customer,
            wamid=wamid,
            direction=SimulatedDirection.FROM_CUSTOMER,
            type=message_type,
            payload=message_object,
            status=SimulatedStatus.DELIVERED,
            status_at=now,
            created_at=now,
        )
        contact = {"profile": {"name": customer.name}, "wa_id": customer.wa_id}
        webhook = _webhook_create(
            channel=channel,
            kind=WebhookKind.MESSAGE,
            message=message,
            value=_messages_value(channel, contacts=[contact], messages=[message_object]),
        )
        enqueue(_tasks().deliver_webhook, webhook.pk)
    return message


def _context(channel: Channel, customer: SimulatedCustomer, context_message_id: Any) -> dict:
    """A reply's `context`: the quoted message and, as Meta sends it, the business number as `from`."""
    if not context_message_id:
        return {}
    quoted = _chat_message(customer, str(context_message_id))
    return {"context": {"from": _display_digits(channel), "id": quoted.wamid}}


def _chat_message(customer: SimulatedCustomer, wamid: str, *, direction: str | None = None) -> SimulatedMessage:
    messages = SimulatedMessage.objects.filter(customer=customer, wamid=wamid)
    if direction:
        messages = messages.filter(direction=direction)
    message = messages.first()
    if message is None:
        raise ControlError("unknown_message", f"No message {wamid} in this chat.")
    return message


def _required(fields: dict[str, Any], key: str, *, max_length: int | None = None) -> str:
    value = fields.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        raise ControlError("missing_field", f"{key} is required.")
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        raise ControlError("invalid_field", f"{key} must be a string.")
    text = str(value)
    if max_length and len(text) > max_length:
        raise ControlError("invalid_field", f"{key} must be at most {max_length} characters long.")
    return text


def _coordinate(fields: dict[str, Any], key: str, low: float, high: float) -> float:
    try:
        value = float(fields.get(key))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ControlError("invalid_field", f"{key} must be a number.")
    if not low <= value <= high:
        raise ControlError("invalid_field", f"{key} must be between {low:g} and {high:g}.")
    return value


def _inbound_content(
    *, channel: Channel, customer: SimulatedCustomer, kind: str, fields: dict[str, Any], upload: Upload | None
) -> dict:
    """`type` and the type's object of a customer message, as in §8's table."""
    if kind == "text":
        return {"type": "text", "text": {"body": _required(fields, "text", max_length=TEXT_MAX)}}
    if kind in MEDIA_TYPES:
        return {"type": kind, kind: _inbound_media(channel=channel, kind=kind, fields=fields, upload=upload)}
    if kind == "location":
        location: dict[str, Any] = {
            "latitude": _coordinate(fields, "latitude", -90, 90),
            "longitude": _coordinate(fields, "longitude", -180, 180),
        }
        for key in ("name", "address", "url"):
            if fields.get(key):
                location[key] = str(fields[key])
        return {"type": "location", "location": location}
    if kind == "contacts":
        contacts = fields.get("contacts")
        if not isinstance(contacts, list) or not contacts:
            raise ControlError("missing_field", "contacts must be a non-empty list of contact cards.")
        for contact in contacts:
            if not isinstance(contact, dict) or not (contact.get("name") or {}).get("formatted_name"):
                raise ControlError("invalid_field", "Every contact card needs name.formatted_name.")
        return {"type": "contacts", "contacts": contacts}
    if kind in ("interactive", "button_reply", "list_reply"):
        return _interactive_reply(customer=customer, kind=kind, fields=fields)
    if kind == "button":
        payload = _required(fields, "payload", max_length=256)
        return {"type": "button", "button": {"payload": payload, "text": str(fields.get("text") or payload)}}
    if kind == "reaction":
        target = _chat_message(customer, _required(fields, "message_id"))
        emoji = fields.get("emoji") or ""
        if not isinstance(emoji, str) or len(emoji) > 16:
            raise ControlError("invalid_field", "emoji must be one emoji, or empty to remove the reaction.")
        return {"type": "reaction", "reaction": {"message_id": target.wamid, "emoji": emoji}}
    if kind == "edit":
        original = _chat_message(customer, _required(fields, "message_id"), direction=SimulatedDirection.FROM_CUSTOMER)
        body = _required(fields, "text", max_length=TEXT_MAX)
        edited = {"type": "text", "text": {"body": body}}
        return {"type": "edit", "edit": {"original_message_id": original.wamid, "message": edited}}
    if kind == "revoke":
        original = _chat_message(customer, _required(fields, "message_id"), direction=SimulatedDirection.FROM_CUSTOMER)
        return {"type": "revoke", "revoke": {"original_message_id": original.wamid}}
    return {"type": "request_welcome"}


def _interactive_reply(*, customer: SimulatedCustomer, kind: str, fields: dict[str, Any]) -> dict:
    """A tapped reply button or list row. Without an explicit kind, the quoted message decides."""
    reply_kind = kind if kind != "interactive" else str(fields.get("reply_type") or "")
    context_id = fields.get("context_message_id")
    if not reply_kind and context_id:
        quoted = _chat_message(customer, str(context_id))
        interactive = quoted.payload.get("interactive", {}) if isinstance(quoted.payload, dict) else {}
        reply_kind = "list_reply" if interactive.get("type") == "list" else "button_reply"
    reply_kind = reply_kind or "button_reply"
    if reply_kind not in ("button_reply", "list_reply"):
        raise ControlError("invalid_field", "reply_type must be button_reply or list_reply.")
    reply = {"id": _required(fields, "reply_id", max_length=256), "title": _required(fields, "title", max_length=72)}
    if reply_kind == "list_reply" and fields.get("description"):
        reply["description"] = str(fields["description"])
    return {"type": "interactive", "interactive": {"type": reply_kind, reply_kind: reply}}


def _inbound_media(*, channel: Channel, kind: str, fields: dict[str, Any], upload: Upload | None) -> dict:
    if upload is None:
        raise ControlError("missing_file", f"A {kind} needs a file (multipart `file`, or `file_base64`).")
    mime_type = rules.normalise_mime_type(upload.mime_type)
    media_kind = rules.media_kind(mime_type)
    if media_kind is None:
        raise ControlError("unsupported_media", f"{mime_type} is not a type WhatsApp carries.")
    if kind != "document" and media_kind != kind:
        raise ControlError("unsupported_media", f"A {kind} cannot be a {mime_type} file.")
    try:
        media = media_store(channel=channel, upload=upload, owner=MediaOwner.CUSTOMER)
    except MediaRefused as exc:
        raise ControlError("media_too_large", str(exc))
    content: dict[str, Any] = {}
    if kind in ("image", "video", "document") and fields.get("caption"):
        content["caption"] = str(fields["caption"])[:1024]
    if kind == "document":
        content["filename"] = upload.filename or f"{media.media_id}{mimetypes.guess_extension(mime_type) or ''}"
    content.update({"mime_type": media.mime_type, "sha256": media.sha256, "id": media.media_id})
    if kind == "audio":
        content["voice"] = str(fields.get("voice", "")).lower() in ("1", "true", "yes", "on")
    if kind == "sticker":
        content["animated"] = False
    return content


# Media


# Media ids are 16 digits below this, template ids 16 digits from it (see `new_template_id`).
TEMPLATE_ID_FLOOR = 5 * 10**15


def new_media_id() -> str:
    return str(10**15 + secrets.randbelow(TEMPLATE_ID_FLOOR - 10**15))


def media_store(*, channel: Channel, upload: Upload, owner: str) -> SimulatedMedia:
    """Keep a file under MEDIA_ROOT/simulator/ with Meta's metadata. Raises MediaRefused when WhatsApp
    would not carry it (unsupported type, over the type's size limit)."""
    mime_type = rules.normalise_mime_type(upload.mime_type)
    limit = rules.media_size_limit(mime_type)
    if limit is None:
        raise MediaRefused(f"{mime_type or 'This file type'} is not supported.")
    digest = hashlib.sha256()
    size = 0
    for chunk in upload.file.chunks():
        digest.update(chunk)
        size += len(chunk)
    if size > limit:
        raise MediaRefused(f"The file is {size} bytes; {mime_type} files may be at most {limit} bytes.")
    if size == 0:
        raise MediaRefused("The file is empty.")
    media_id = new_media_id()
    media = SimulatedMedia(
        channel=channel,
        media_id=media_id,
        mime_type=mime_type,
        sha256=digest.hexdigest(),
        file_size=size,
        filename=(upload.filename or "")[:255],
        owner=owner,
    )
    upload.file.seek(0)
    # The stored name is ours (the id), never the sender's file name.
    media.file.save(f"{media_id}{mimetypes.guess_extension(mime_type) or '.bin'}", upload.file, save=False)
    media.save()
    return media


def upload_from_base64(*, data: str, filename: str, mime_type: str) -> Upload:
    try:
        content = base64.b64decode(data, validate=True)
    except ValueError:
        raise ControlError("invalid_file", "file_base64 is not valid base64.")
    return Upload(file=ContentFile(content, name=filename or "file"), filename=filename, mime_type=mime_type)


def media_lookup(*, media_id: str) -> SimulatedMedia | None:
    return SimulatedMedia.objects.select_related("channel").filter(media_id=media_id, deleted_at__isnull=True).first()


def _media_usable(*, channel: Channel, media_id: str) -> bool:
    return SimulatedMedia.objects.filter(channel=channel, media_id=media_id, deleted_at__isnull=True).exists()


def media_delete(*, media: SimulatedMedia) -> None:
    media.file.delete(save=False)
    media.deleted_at = timezone.now()
    media.save(update_fields=["file", "deleted_at"])


# Message templates (each WABA's registry)


def template_review_delay() -> float:
    """Seconds between a template's submission and its review (Meta takes minutes; tests set 0)."""
    return float(getattr(settings, "SIMULATOR_TEMPLATE_REVIEW_SECONDS", 2))


def new_template_id() -> str:
    """A template id shaped like Meta's (16 digits). Media ids are drawn below 5·10^15 and template ids
    above, and both are checked against the other table, so `GET /{id}` never has to guess."""
    while True:
        template_id = str(TEMPLATE_ID_FLOOR + secrets.randbelow(10**16 - TEMPLATE_ID_FLOOR))
        taken = SimulatedTemplate.objects.filter(template_id=template_id).exists()
        if not taken and not SimulatedMedia.objects.filter(media_id=template_id).exists():
            return template_id


def simulated_waba_channels(waba_id: str) -> list[Channel]:
    """The simulated channels of a WABA, oldest first: their tokens may manage its templates, and the
    first one's app secret signs its management webhooks."""
    return [c for c in Channel.objects.filter(waba_id=str(waba_id)).order_by("id") if sandbox.is_sandbox_channel(c)]


def simulated_waba(waba_id: str) -> str:
    """A WABA the simulator speaks for (one of its channels points at it); ControlError otherwise."""
    if not simulated_waba_channels(waba_id):
        if Channel.objects.filter(waba_id=str(waba_id)).exists():
            raise ControlError("not_simulated", f"The WABA {waba_id} talks to Meta, not to the simulator.", 403)
        raise ControlError("unknown_waba", f"No simulated channel has the WABA id {waba_id}.", 404)
    return str(waba_id)


def template_lookup(*, template_id: str) -> SimulatedTemplate | None:
    return SimulatedTemplate.objects.filter(template_id=str(template_id)).first()


def template_get(*, template_id: str) -> SimulatedTemplate:
    """A template of a simulated WABA, for the control API and the page; ControlError otherwise."""
    template = template_lookup(template_id=template_id)
    if template is None:
        raise ControlError("unknown_template", f"No template has the id {template_id}.", 404)
    simulated_waba(template.waba_id)
    return template


def template_create(
    *,
    waba_id: str,
    name: Any,
    language: Any,
    category: Any,
    components: Any,
    parameter_format: Any = None,
    allow_category_change: Any = None,
    approved: bool = False,
) -> SimulatedTemplate:
    """Add a template to a WABA's registry, validated and normalised as Meta does (GraphError code 100
    otherwise; subcode 2388024 when the name already has this language, 2388019 past 250 templates).

    By default it is PENDING and a review decides it after SIMULATOR_TEMPLATE_REVIEW_SECONDS, with the
    status webhook Meta sends. `approved=True` puts it straight into the registry as APPROVED, with no
    review and no webhook, as if it had been approved long ago: for seeding demo data and tests."""
    draft = template_validation.parse_create(
        {
            "name": name,
            "language": language,
            "category": category,
            "components": components,
            "parameter_format": parameter_format,
            "allow_category_change": allow_category_change,
        }
    )
    now = timezone.now()
    duplicate = invalid_template(
        "Content in This Language Already Exists",
        f"The template {draft.name} already has content in {draft.language}: the content in this language "
        "already exists. Edit that template, or use another name or language.",
        error_subcode=2388024,
    )
    try:
        with transaction.atomic():
            if SimulatedTemplate.objects.filter(waba_id=waba_id, name=draft.name, language=draft.language).exists():
                raise duplicate
            if SimulatedTemplate.objects.filter(waba_id=waba_id).count() >= template_review.TEMPLATES_PER_WABA:
                raise invalid_template(
                    "Message Template Limit Reached",
                    f"This WhatsApp Business Account already has {template_review.TEMPLATES_PER_WABA} message "
                    "templates. Delete templates you no longer use and try again.",
                    error_subcode=2388019,
                )
            template = SimulatedTemplate.objects.create(
                waba_id=waba_id,
                template_id=new_template_id(),
                name=draft.name,
                language=draft.language,
                category=draft.category,
                parameter_format=draft.parameter_format,
                components=draft.components,
                approved_components=draft.components if approved else None,
                status=TemplateStatus.APPROVED if approved else TemplateStatus.PENDING,
                allow_category_change=draft.allow_category_change,
                quality_updated_at=now,
                status_updated_at=now,
                created_at=now,
                updated_at=now,
            )
            if not approved:
                _template_review_queue(template)
    except IntegrityError:
        # Two creations of the same name and language at once: the second meets the unique constraint.
        raise duplicate
    return template


def _template_review_queue(template: SimulatedTemplate) -> None:
    enqueue(_tasks().review_template, template.pk, template.revision, countdown=template_review_delay())


def template_edit(*, template: SimulatedTemplate, components: list[dict] | None, category: str | None) -> None:
    """Submit new components (and/or a new category) of a template for review, as `POST /{template_id}`.

    Only APPROVED, REJECTED and PAUSED templates may be edited; an approved one at most once in 24 hours
    and 10 times in 30 days, and its category stays. While an edit of an approved template is in review
    (PENDING) the approved version keeps going out; an edit of a rejected or paused one has none."""
    now = timezone.now()
    with transaction.atomic():
        template = SimulatedTemplate.objects.select_for_update().get(pk=template.pk)
        refusal = template_review.edit_refusal(template.status)
        was_approved = template.status == TemplateStatus.APPROVED
        if refusal is None and was_approved:
            if category is not None and category != template.category:
                refusal = "The category of an approved template cannot be changed."
            else:
                refusal = template_review.approved_edit_refusal(template.approved_edit_times, now=now.timestamp())
        if refusal is not None:
            raise invalid_template("Cannot Edit Message Template", refusal)
        if was_approved:
            template.approved_edit_times = template_review.approved_edit_times_after(
                template.approved_edit_times, now=now.timestamp()
            )
        else:
            # A rejected or paused template has no version customers may still receive.
            template.approved_components = None
        if components is not None:
            template.components = components
        if category is not None:
            template.category = category
        template.status = TemplateStatus.PENDING
        template.rejected_reason = RejectionReason.NONE
        template.revision += 1
        template.status_updated_at = template.updated_at = now
        template.save()
        _template_review_queue(template)


def template_delete(*, waba_id: str, name: Any, hsm_id: Any = None) -> int:
    """`DELETE /{waba_id}/message_templates?name=…[&hsm_id=…]`: every language of the name, or only the
    template with that id. Unknown → GraphError subcode 2593002, as Meta answers."""
    if not name:
        raise invalid_template("Missing parameter", "The parameter name is required.")
    templates = SimulatedTemplate.objects.filter(waba_id=waba_id, name=str(name))
    if hsm_id:
        templates = templates.filter(template_id=str(hsm_id))
    deleted, _ = templates.delete()
    if not deleted:
        raise invalid_template(
            "Message Template Not Found",
            f"The message template {name} wasn't found for this account.",
            error_subcode=2593002,
        )
    return deleted


def template_review_run(*, template_pk: int, revision: int) -> None:
    """The review of one submission: decide, move the template and send Meta's webhooks. A submission
    decided by hand in the meantime, or replaced by a newer edit, is left alone."""
    now = timezone.now()
    with transaction.atomic():
        template = SimulatedTemplate.objects.select_for_update().filter(pk=template_pk).first()
        if template is None or template.revision != revision or template.status != TemplateStatus.PENDING:
            return
        decision = template_review.review(
            category=template.category,
            components=template.components,
            parameter_format=template.parameter_format,
            allow_category_change=template.allow_category_change,
        )
        if not decision.approved:
            _template_reject(
                template,
                decision.reason,
                now=now,
                explanation=decision.explanation,
                recommendation=decision.recommendation,
            )
            return
        recategorised = decision.category != template.category
        if recategorised:
            template.previous_category, template.category = template.category, decision.category
        _template_approve(template, now=now)
        if recategorised:
            value = {
                **_template_names(template),
                "previous_category": template.previous_category,
                "new_category": template.category,
            }
            _template_webhook(template, "template_category_update", value, now=now)


def _template_names(template: SimulatedTemplate) -> dict[str, Any]:
    return {
        "message_template_id": int(template.template_id),
        "message_template_name": template.name,
        "message_template_language": template.language,
    }


def _template_status_webhook(
    template: SimulatedTemplate, event: str, *, now: datetime, reason: str = RejectionReason.NONE, **extra: Any
) -> None:
    """`message_template_status_update` (§10): event, the template's names, reason, category, extras."""
    value = {
        "event": event,
        **_template_names(template),
        "reason": reason,
        "message_template_category": template.category,
        **extra,
    }
    _template_webhook(template, "message_template_status_update", value, now=now)


def _template_status_set(template: SimulatedTemplate, status: str, *, now: datetime) -> None:
    template.status = status
    template.status_updated_at = template.updated_at = now
    template.save()


def _template_approve(template: SimulatedTemplate, *, now: datetime) -> None:
    template.approved_components = template.components
    template.rejected_reason = RejectionReason.NONE
    _template_status_set(template, TemplateStatus.APPROVED, now=now)
    _template_status_webhook(template, TemplateStatus.APPROVED, now=now)


def _template_reject(
    template: SimulatedTemplate, reason: str, *, now: datetime, explanation: str = "", recommendation: str = ""
) -> None:
    template.rejected_reason = reason
    if template.approved_components is None:
        _template_status_set(template, TemplateStatus.REJECTED, now=now)
    else:
        # A rejected edit of an approved template: the approved version stays, keeps going out and keeps
        # its APPROVED status; only the edit is refused (the webhook still says REJECTED, with the reason).
        template.components = template.approved_components
        _template_status_set(template, TemplateStatus.APPROVED, now=now)
    extra = {}
    # Meta explains only format rejections (`rejection_info`, "only included if ... INVALID_FORMAT").
    if reason == RejectionReason.INVALID_FORMAT:
        extra["rejection_info"] = {
            "reason": explanation or "The template's variables are not formatted correctly.",
            "recommendation": recommendation or "Check the variables and their examples.",
        }
    _template_status_webhook(template, TemplateStatus.REJECTED, now=now, reason=reason, **extra)


def _locked_template(template: SimulatedTemplate, action: str) -> SimulatedTemplate:
    """The template row, locked, when `action` may start from its status (ControlError otherwise)."""
    template = SimulatedTemplate.objects.select_for_update().get(pk=template.pk)
    refusal = template_review.action_refusal(action, template.status)
    if refusal:
        raise ControlError("invalid_transition", refusal, 409)
    return template


def template_approve(*, template: SimulatedTemplate) -> SimulatedTemplate:
    """Approve a template now, as the review would (status webhook APPROVED)."""
    with transaction.atomic():
        template = _locked_template(template, "approve")
        _template_approve(template, now=timezone.now())
    return template


def template_reject(*, template: SimulatedTemplate, reason: str) -> SimulatedTemplate:
    """Reject a template now for `reason` (status webhook REJECTED, with rejection_info for INVALID_FORMAT)."""
    if reason not in RejectionReason.values or reason == RejectionReason.NONE:
        choices = ", ".join(r for r in RejectionReason.values if r != RejectionReason.NONE)
        raise ControlError("invalid_reason", f"reason must be one of {choices}.")
    with transaction.atomic():
        template = _locked_template(template, "reject")
        _template_reject(template, reason, now=timezone.now())
    return template


def template_flag(*, template: SimulatedTemplate) -> SimulatedTemplate:
    """Customers complained: the template is FLAGGED (it still sends) and at risk of being paused."""
    now = timezone.now()
    with transaction.atomic():
        template = _locked_template(template, "flag")
        _template_status_set(template, TemplateStatus.FLAGGED, now=now)
        _template_status_webhook(template, TemplateStatus.FLAGGED, now=now)
    return template


def template_pause(*, template: SimulatedTemplate, title: str) -> SimulatedTemplate:
    """Pause for low quality: FIRST_PAUSE (3 hours) or SECOND_PAUSE (6 hours), with Meta's `other_info`.
    The simulator does not lift the pause by itself: unpause it from the page or the control API."""
    if title not in template_review.PAUSE_TITLES:
        raise ControlError("invalid_title", f"title must be one of {', '.join(template_review.PAUSE_TITLES)}.")
    now = timezone.now()
    with transaction.atomic():
        template = _locked_template(template, "pause")
        _template_status_set(template, TemplateStatus.PAUSED, now=now)
        other_info = {"title": title, "description": template_review.pause_description(title, now=now)}
        _template_status_webhook(template, TemplateStatus.PAUSED, now=now, other_info=other_info)
    return template


def template_unpause(*, template: SimulatedTemplate) -> SimulatedTemplate:
    """The pause is over: APPROVED again, with `other_info` UNPAUSE."""
    now = timezone.now()
    with transaction.atomic():
        template = _locked_template(template, "unpause")
        _template_status_set(template, TemplateStatus.APPROVED, now=now)
        other_info = {"title": "UNPAUSE", "description": template_review.UNPAUSE_DESCRIPTION}
        _template_status_webhook(template, TemplateStatus.APPROVED, now=now, other_info=other_info)
    return template


def template_disable(*, template: SimulatedTemplate) -> SimulatedTemplate:
    """Disabled for low quality (sends fail with 132016), with `disable_info.disable_date`."""
    now = timezone.now()
    with transaction.atomic():
        template = _locked_template(template, "disable")
        _template_status_set(template, TemplateStatus.DISABLED, now=now)
        disable_info = {"disable_date": int(now.timestamp())}
        _template_status_webhook(template, TemplateStatus.DISABLED, now=now, disable_info=disable_info)
    return template


def template_reinstate(*, template: SimulatedTemplate) -> SimulatedTemplate:
    """No longer flagged or disabled: REINSTATED, and it sends again."""
    now = timezone.now()
    with transaction.atomic():
        template = _locked_template(template, "reinstate")
        _template_status_set(template, TemplateStatus.REINSTATED, now=now)
        _template_status_webhook(template, TemplateStatus.REINSTATED, now=now)
    return template


def template_quality_set(*, template: SimulatedTemplate, score: str) -> SimulatedTemplate:
    """A new quality score, with `message_template_quality_update` (§10)."""
    if score not in QualityScore.values:
        raise ControlError("invalid_score", f"score must be one of {', '.join(QualityScore.values)}.")
    now = timezone.now()
    with transaction.atomic():
        template = SimulatedTemplate.objects.select_for_update().get(pk=template.pk)
        if score == template.quality_score:
            raise ControlError("unchanged", f"The quality score is already {score}.", 409)
        previous = template.quality_score
        template.quality_score, template.quality_updated_at, template.updated_at = score, now, now
        template.save()
        value = {"previous_quality_score": previous, "new_quality_score": score, **_template_names(template)}
        _template_webhook(template, "message_template_quality_update", value, now=now)
    return template


def template_category_set(*, template: SimulatedTemplate, category: str, impending: bool = False) -> SimulatedTemplate:
    """Meta re-categorises a template (`template_category_update`, §10).

    Done: the category changes, `previous_category`/`new_category`. Impending (`impending=True`): nothing
    changes yet; the webhook announces `correct_category` for 24 hours from now and carries the *current*
    category as `new_category`. The simulator does not apply it by itself: send the done change later."""
    if category not in TemplateCategory.values:
        raise ControlError("invalid_category", f"category must be one of {', '.join(TemplateCategory.values)}.")
    now = timezone.now()
    with transaction.atomic():
        template = SimulatedTemplate.objects.select_for_update().get(pk=template.pk)
        if category == template.category:
            raise ControlError("unchanged", f"The template is already {category}.", 409)
        if impending:
            value = {
                **_template_names(template),
                "correct_category": category,
                "new_category": template.category,
                "category_update_timestamp": int((now + timedelta(days=1)).timestamp()),
            }
        else:
            value = {**_template_names(template), "previous_category": template.category, "new_category": category}
            template.previous_category, template.category, template.updated_at = template.category, category, now
            template.save()
        _template_webhook(template, "template_category_update", value, now=now)
    return template


def _template_webhook(template: SimulatedTemplate, field: str, value: dict, *, now: datetime) -> None:
    """A management webhook about a template, delivered after commit. Without a simulated channel on
    the WABA (all were removed or moved to Meta) there is nobody to sign it and nowhere to send it."""
    channels = simulated_waba_channels(template.waba_id)
    if not channels:
        return
    webhook = _management_webhook_create(channel=channels[0], field=field, value=value, now=now)
    enqueue(_tasks().deliver_webhook, webhook.pk)


# Number health (simulator/health_rules.py): quality, flag, tier, restriction, and the webhooks Meta sends


def _business_initiated_check(*, number: SimulatedNumber, customer: SimulatedCustomer, now: datetime) -> None:
    """Refuse a business-initiated send with 131048: the number is restricted, or the customer is new in
    the moving 24 hours and the tier's limit of unique customers is reached."""
    since = now - health_rules.MESSAGING_LIMIT_WINDOW
    reaches = SimulatedReach.objects.filter(channel_id=number.channel_id, created_at__gt=since)
    refusal = health_rules.business_initiated_refusal(
        restricted_until=number.restricted_until,
        tier=number.messaging_limit_tier,
        reached_today=reaches.count(),
        already_reached_today=reaches.filter(customer=customer).exists(),
        now=now,
    )
    if refusal:
        raise GraphError(code=health_rules.RESTRICTED_ERROR, details=refusal)


def _reach_record(*, number: SimulatedNumber, customer: SimulatedCustomer, now: datetime) -> None:
    """Count the customer once per moving 24 hours, then see whether the number earned the next tier."""
    since = now - health_rules.MESSAGING_LIMIT_WINDOW
    if not SimulatedReach.objects.filter(customer=customer, created_at__gt=since).exists():
        SimulatedReach.objects.create(channel_id=number.channel_id, customer=customer, created_at=now)
    _health_review(number, now=now)


def _health_facts(channel_id: int, *, now: datetime) -> health_rules.HealthFacts:
    since = now - health_rules.QUALITY_WINDOW
    return health_rules.HealthFacts(
        negative_signals=SimulatedFeedback.objects.filter(channel_id=channel_id, created_at__gt=since).count(),
        recipients=SimulatedReach.objects.filter(channel_id=channel_id, created_at__gt=since)
        .values("customer")
        .distinct()
        .count(),
    )


def health_thresholds(number: SimulatedNumber) -> health_rules.QualityThresholds:
    return health_rules.QualityThresholds(
        yellow_percent=number.quality_yellow_percent,
        red_percent=number.quality_red_percent,
        min_signals=number.quality_min_signals,
    )


def _health_review(number: SimulatedNumber, *, now: datetime) -> tuple[str, ...]:
    """Review a locked number: store the new state and send a webhook for each event (and
    `business_capability_update` when the tier moved)."""
    state = health_rules.NumberHealth(
        quality=number.quality_rating,
        status=number.status,
        tier=number.messaging_limit_tier,
        flagged_at=number.flagged_at,
        restricted_until=number.restricted_until,
    )
    new, events = health_rules.health_review(
        state, _health_facts(number.channel_id, now=now), now=now, thresholds=health_thresholds(number)
    )
    number.quality_rating, number.status, number.messaging_limit_tier = new.quality, new.status, new.tier
    number.flagged_at, number.health_reviewed_at = new.flagged_at, now
    if number.restricted_until is not None and number.restricted_until <= now:
        number.restricted_until = None
    number.save()
    for event in events:
        _quality_webhook(number, event, now=now)
    if new.tier != state.tier:
        _capability_webhook(number, now=now)
    return tuple(str(event) for event in events)


def _locked_number(channel: Channel) -> SimulatedNumber:
    number_for(channel)
    return SimulatedNumber.objects.select_for_update().select_related("channel").get(channel=channel)


def number_health_review(*, channel: Channel) -> tuple[str, ...]:
    """Review a number now (the beat does it every minute): quality from the last 7 days' signals, a flag
    at RED, the verdict 7 days after a flag, an upgrade, an expired restriction. Returns the events sent."""
    with transaction.atomic():
        return _health_review(_locked_number(channel), now=timezone.now())


def number_health_review_all() -> int:
    """Review every simulated number; returns how many events were sent."""
    return sum(len(number_health_review(channel=channel)) for channel in simulated_channels())


def _number_webhook(number: SimulatedNumber, field: str, value: dict, *, now: datetime) -> None:
    """A management webhook about the number, signed with its channel's app secret, after commit."""
    webhook = _management_webhook_create(
        channel=number.channel, field=field, value=value, now=now, kind=WebhookKind.MANAGEMENT
    )
    enqueue(_tasks().deliver_webhook, webhook.pk)


def _quality_webhook(number: SimulatedNumber, event: str, *, now: datetime) -> None:
    """`phone_number_quality_update` (§10): the event and the (new) limit, as a tier and an integer."""
    value = {
        "display_phone_number": _display_digits(number.channel),
        "event": str(event),
        "current_limit": number.messaging_limit_tier,
        "max_daily_conversations_per_business": health_rules.tier_limit_wire(number.messaging_limit_tier),
    }
    _number_webhook(number, "phone_number_quality_update", value, now=now)


def _capability_webhook(number: SimulatedNumber, *, now: datetime) -> None:
    """`business_capability_update` (§10): the new limit as an integer, -1 for unlimited."""
    value = {"max_daily_conversations_per_business": health_rules.tier_limit_wire(number.messaging_limit_tier)}
    _number_webhook(number, "business_capability_update", value, now=now)


def number_flag(*, channel: Channel) -> SimulatedNumber:
    """Flag the number by hand (quality RED): FLAGGED webhook; the 7-day review decides what follows from
    the customers' signals, so a number flagged without them recovers."""
    now = timezone.now()
    with transaction.atomic():
        number = _locked_number(channel)
        if number.flagged_at is not None:
            raise ControlError("unchanged", "The number is already flagged.", 409)
        number.flagged_at, number.quality_rating = now, health_rules.Quality.RED
        number.status = health_rules.status_for(flagged_at=now, restricted_until=number.restricted_until, now=now)
        number.save()
        _quality_webhook(number, health_rules.HealthEvent.FLAGGED, now=now)
    return number


def number_review_fast_forward(*, channel: Channel) -> tuple[str, ...]:
    """For demos: the flag is 7 days old now, and the review runs (UNFLAGGED, or DOWNGRADE at RED)."""
    now = timezone.now()
    with transaction.atomic():
        number = _locked_number(channel)
        if number.flagged_at is None:
            raise ControlError("not_flagged", "The number is not flagged: there is no review to fast-forward.", 409)
        number.flagged_at = now - health_rules.FLAG_REVIEW_AFTER
        return _health_review(number, now=now)


def number_restrict(*, channel: Channel, hours: float) -> SimulatedNumber:
    """Restrict business-initiated messaging for `hours` (131048 until then): `account_update`
    ACCOUNT_RESTRICTION with the expiration. Replies inside open windows still go."""
    if not 0 < hours <= 24 * 365:
        raise ControlError("invalid_field", "hours must be between 0 and 8760.")
    now = timezone.now()
    with transaction.atomic():
        number = _locked_number(channel)
        number.restricted_until = now + timedelta(hours=hours)
        number.status = health_rules.NumberStatus.RESTRICTED
        number.save()
        value = {
            "event": "ACCOUNT_RESTRICTION",
            "restriction_info": [
                {
                    "restriction_type": "RESTRICTED_BIZ_INITIATED_MESSAGING",
                    "expiration": int(number.restricted_until.timestamp()),
                }
            ],
        }
        _number_webhook(number, "account_update", value, now=now)
    return number


def number_unrestrict(*, channel: Channel) -> SimulatedNumber:
    """End a restriction early. Meta sends no webhook when a restriction ends: Switchboard sees the status
    in `GET /{phone_number_id}` (or from the expiration it was told)."""
    now = timezone.now()
    with transaction.atomic():
        number = _locked_number(channel)
        if number.restricted_until is None:
            raise ControlError("unchanged", "The number is not restricted.", 409)
        number.restricted_until = None
        number.status = health_rules.status_for(flagged_at=number.flagged_at, restricted_until=None, now=now)
        number.save()
    return number


def number_tier_set(*, channel: Channel, tier: str) -> SimulatedNumber:
    """Set the messaging-limit tier by hand: UPGRADE or DOWNGRADE, and `business_capability_update`."""
    if tier not in health_rules.TIERS:
        raise ControlError("invalid_tier", f"tier must be one of {', '.join(health_rules.TIERS)}.")
    now = timezone.now()
    with transaction.atomic():
        number = _locked_number(channel)
        if tier == number.messaging_limit_tier:
            raise ControlError("unchanged", f"The number is already {tier}.", 409)
        up = health_rules.TIERS.index(tier) > health_rules.TIERS.index(number.messaging_limit_tier)
        number.messaging_limit_tier = tier
        number.save()
        event = health_rules.HealthEvent.UPGRADE if up else health_rules.HealthEvent.DOWNGRADE
        _quality_webhook(number, event, now=now)
        _capability_webhook(number, now=now)
    return number


def number_throughput_set(*, channel: Channel, level: str) -> SimulatedNumber:
    """Move the number to STANDARD (80/s) or HIGH (1000/s) throughput. An upgrade is announced with
    `phone_number_quality_update` THROUGHPUT_UPGRADE, as Meta announces it (§10)."""
    if level not in health_rules.THROUGHPUT_PER_LEVEL:
        raise ControlError("invalid_level", "level must be STANDARD or HIGH.")
    now = timezone.now()
    with transaction.atomic():
        number = _locked_number(channel)
        before = health_rules.throughput_level(number.throughput_per_second)
        if before == level:
            raise ControlError("unchanged", f"The throughput is already {level}.", 409)
        number.throughput_per_second = health_rules.THROUGHPUT_PER_LEVEL[health_rules.ThroughputLevel(level)]
        number.save(update_fields=["throughput_per_second"])
        if level == health_rules.ThroughputLevel.HIGH:
            _quality_webhook(number, "THROUGHPUT_UPGRADE", now=now)
    return number


def number_thresholds_set(
    *,
    channel: Channel,
    yellow_percent: float | None = None,
    red_percent: float | None = None,
    min_signals: int | None = None,
) -> tuple[str, ...]:
    """Change the quality thresholds (None keeps a value), then review the number with them."""
    with transaction.atomic():
        number = _locked_number(channel)
        yellow = number.quality_yellow_percent if yellow_percent is None else yellow_percent
        red = number.quality_red_percent if red_percent is None else red_percent
        if not 0 < yellow <= red <= 100:
            raise ControlError("invalid_thresholds", "Use 0 < yellow_percent ≤ red_percent ≤ 100.")
        number.quality_yellow_percent, number.quality_red_percent = yellow, red
        if min_signals is not None:
            number.quality_min_signals = min_signals
        return _health_review(number, now=timezone.now())


# What customers do about a business (the phone page's actions)


def customer_block(*, channel: Channel, wa_id: str, blocked: bool = True) -> SimulatedCustomer:
    """The customer blocks (or unblocks) the business. A block is a negative signal for the number's
    quality; while blocked nothing reaches them (131026). Meta tells the business nothing."""
    now = timezone.now()
    with transaction.atomic():
        customer = SimulatedCustomer.objects.select_for_update().get(pk=customer_get(channel=channel, wa_id=wa_id).pk)
        if customer.blocked == blocked:
            raise ControlError(
                "unchanged",
                "The customer already blocked this business."
                if blocked
                else "The customer has not blocked this business.",
                409,
            )
        customer.blocked = blocked
        customer.save(update_fields=["blocked"])
        if blocked:
            SimulatedFeedback.objects.create(
                channel=channel, customer=customer, kind=FeedbackKind.BLOCK, created_at=now
            )
            _health_review(_locked_number(channel), now=now)
    return customer


def customer_report_no_human(*, channel: Channel, wa_id: str) -> SimulatedCustomer:
    """The customer reports that a bot gave them no way to reach a person: a negative quality signal."""
    now = timezone.now()
    with transaction.atomic():
        customer = customer_get(channel=channel, wa_id=wa_id)
        SimulatedFeedback.objects.create(
            channel=channel, customer=customer, kind=FeedbackKind.NO_HUMAN_ROUTE, created_at=now
        )
        _health_review(_locked_number(channel), now=now)
    return customer


MARKETING_PREFERENCE_DETAILS = {
    "stop": "User requested to stop marketing messages",
    "resume": "User requested to resume marketing messages",
}


def customer_marketing_set(*, channel: Channel, wa_id: str, stop: bool) -> SimulatedCustomer:
    """The customer stops (or resumes) marketing messages in WhatsApp: the `user_preferences` webhook
    (§10). While stopped, marketing templates to them fail with 131050."""
    now = timezone.now()
    with transaction.atomic():
        customer = SimulatedCustomer.objects.select_for_update().get(pk=customer_get(channel=channel, wa_id=wa_id).pk)
        if customer.marketing_stopped == stop:
            state = "stopped" if stop else "not stopped"
            raise ControlError("unchanged", f"Marketing messages are already {state} for this customer.", 409)
        customer.marketing_stopped = stop
        customer.save(update_fields=["marketing_stopped"])
        choice = "stop" if stop else "resume"
        preference = {
            "wa_id": customer.wa_id,
            "detail": MARKETING_PREFERENCE_DETAILS[choice],
            "category": "marketing_messages",
            "value": choice,
            "timestamp": int(now.timestamp()),
        }
        webhook = _webhook_create(
            channel=channel,
            kind=WebhookKind.MANAGEMENT,
            message=None,
            value=_messages_value(channel, user_preferences=[preference]),
            field="user_preferences",
        )
        enqueue(_tasks().deliver_webhook, webhook.pk)
    return customer


def _system_message(
    *, channel: Channel, customer: SimulatedCustomer, system: dict, now: datetime, **extra: Any
) -> SimulatedMessage:
    """A `system` message from the customer (§8): no `contacts[]`, kept on their phone as a notice."""
    wamid = new_wamid(customer.wa_id)
    message_object = {
        "from": customer.wa_id,
        "id": wamid,
        "timestamp": str(int(now.timestamp())),
        "type": "system",
        "system": system,
        **extra,
    }
    message = SimulatedMessage.objects.create(
        channel=channel,
        customer=customer,
        wamid=wamid,
        direction=SimulatedDirection.FROM_CUSTOMER,
        type="system",
        payload=message_object,
        status=SimulatedStatus.DELIVERED,
        status_at=now,
        created_at=now,
    )
    webhook = _webhook_create(
        channel=channel,
        kind=WebhookKind.MESSAGE,
        message=message,
        value=_messages_value(channel, messages=[message_object]),
    )
    enqueue(_tasks().deliver_webhook, webhook.pk)
    return message


def customer_change_number(*, channel: Channel, wa_id: str, new_wa_id: str) -> SimulatedCustomer:
    """The customer moves their WhatsApp account to another number: a `user_changed_number` system
    message from the old number, and the customer's phone now answers on the new one (same name and
    identity). Returns the customer at the new number."""
    digits = rules.normalise_phone(str(new_wa_id))
    if digits is None:
        raise ControlError("invalid_wa_id", f"{new_wa_id!r} is not a phone number (6 to 15 digits).")
    now = timezone.now()
    with transaction.atomic():
        old = SimulatedCustomer.objects.select_for_update().get(pk=customer_get(channel=channel, wa_id=wa_id).pk)
        if digits == old.wa_id:
            raise ControlError("unchanged", "That is the customer's current number.", 409)
        if SimulatedCustomer.objects.filter(channel=channel, wa_id=digits).exists():
            raise ControlError("number_taken", f"+{digits} is already a customer of this number.", 409)
        name = old.name or old.wa_id
        system = {
            "body": f"User {name} changed from {old.wa_id} to {digits}",
            "wa_id": digits,
            "type": "user_changed_number",
        }
        _system_message(channel=channel, customer=old, system=system, now=now)
        new = SimulatedCustomer.objects.create(
            channel=channel,
            wa_id=digits,
            name=old.name,
            identity_hash=old.identity_hash,
            last_inbound_at=old.last_inbound_at,
            marketing_stopped=old.marketing_stopped,
            created_at=now,
        )
        old.changed_to = digits
        old.save(update_fields=["changed_to"])
    return new


def customer_identity_reset(*, channel: Channel, wa_id: str) -> SimulatedCustomer:
    """The customer reinstalls WhatsApp (or moves to a new phone): a new identity key hash, announced
    with a `customer_identity_changed` system message and its `identity` object (§8). Sends carrying the
    old hash fail with 137000 from now on."""
    now = timezone.now()
    with transaction.atomic():
        customer = SimulatedCustomer.objects.select_for_update().get(pk=customer_get(channel=channel, wa_id=wa_id).pk)
        customer.identity_hash = health_rules.identity_hash(f"{customer.wa_id}:{secrets.token_hex(16)}")
        customer.save(update_fields=["identity_hash"])
        system = {
            "body": f"User {customer.name or customer.wa_id} changed",
            "customer": customer.wa_id,
            "type": "customer_identity_changed",
        }
        identity = {"acknowledged": False, "created_timestamp": int(now.timestamp()), "hash": customer.identity_hash}
        _system_message(channel=channel, customer=customer, system=system, now=now, identity=identity)
    return customer


# The business profile and Resumable Upload


# Files a Resumable Upload session may carry: profile pictures, and template header examples.
UPLOAD_TYPES = ("image/jpeg", "image/png", "video/mp4", "application/pdf")
PROFILE_PICTURE_TYPES = ("image/jpeg", "image/png")
UPLOAD_MAX_BYTES = 100 * rules.MB


def profile_stored(number: SimulatedNumber, *, picture_url: str = "") -> dict[str, Any]:
    """The number's profile under Meta's field names (the picture as the URL the caller gives)."""
    return {
        "about": number.profile_about,
        "address": number.profile_address,
        "description": number.profile_description,
        "email": number.profile_email,
        "profile_picture_url": picture_url if number.profile_picture_id else "",
        "websites": list(number.profile_websites or []),
        "vertical": number.profile_vertical,
    }


def profile_update(*, channel: Channel, update: profile.ProfileUpdate) -> SimulatedNumber:
    """Store a checked profile update; `profile_picture_handle` must name a finished image upload of this
    channel's app (GraphError 100 otherwise)."""
    with transaction.atomic():
        number = _locked_number(channel)
        if update.profile_picture_handle is not None:
            upload = SimulatedUpload.objects.filter(handle=update.profile_picture_handle, channel=channel).first()
            if upload is None or upload.file_offset < upload.file_length:
                raise invalid_parameter("Param profile_picture_handle is not a valid upload handle.")
            if upload.file_type not in PROFILE_PICTURE_TYPES:
                raise invalid_parameter("The profile picture must be a JPEG or PNG image.")
            number.profile_picture = upload
        for name in ("about", "address", "description", "email", "websites", "vertical"):
            value = getattr(update, name)
            if value is not None:
                setattr(number, f"profile_{name}", value)
        number.save()
    return number


def upload_session_create(
    *, channel: Channel, app_id: str, file_name: Any, file_length: Any, file_type: Any
) -> SimulatedUpload:
    """`POST /{app_id}/uploads?file_name=&file_length=&file_type=`: open a session (GraphError 100 for a
    missing or wrong parameter). Any app id is accepted; the token decides the channel."""
    try:
        length = int(str(file_length))
    except ValueError:
        raise invalid_parameter("Param file_length must be a positive integer.")
    if length <= 0:
        raise invalid_parameter("Param file_length must be a positive integer.")
    if length > UPLOAD_MAX_BYTES:
        raise invalid_parameter(f"Param file_length must be at most {UPLOAD_MAX_BYTES} bytes.")
    kind = rules.normalise_mime_type(str(file_type or ""))
    if kind not in UPLOAD_TYPES:
        raise invalid_parameter(f"Param file_type must be one of {', '.join(UPLOAD_TYPES)}.")
    return SimulatedUpload.objects.create(
        upload_id="upload:" + base64.urlsafe_b64encode(secrets.token_bytes(24)).decode().rstrip("="),
        channel=channel,
        app_id=str(app_id),
        file_name=str(file_name or "")[:255],
        file_length=length,
        file_type=kind,
    )


def upload_lookup(*, upload_id: str) -> SimulatedUpload | None:
    return SimulatedUpload.objects.select_related("channel").filter(upload_id=upload_id).first()


def upload_append(*, upload: SimulatedUpload, file_offset: Any, content: bytes) -> SimulatedUpload:
    """`POST /upload:<id>` with `file_offset` and raw bytes: append them where the session stands. The
    last piece mints the handle (`h`). A wrong offset or too many bytes is GraphError 100."""
    with transaction.atomic():
        upload = SimulatedUpload.objects.select_for_update().get(pk=upload.pk)
        try:
            offset = int(str(file_offset))
        except ValueError:
            raise invalid_parameter("The header file_offset must be an integer.")
        if offset != upload.file_offset:
            raise invalid_parameter(f"The header file_offset must be {upload.file_offset}, where the upload stands.")
        if not content:
            raise invalid_parameter("The request body must hold the file's bytes.")
        if offset + len(content) > upload.file_length:
            raise invalid_parameter(f"The upload holds more bytes than file_length ({upload.file_length}).")
        previous = upload.file.read() if upload.file else b""
        if upload.file:
            upload.file.close()
            upload.file.delete(save=False)
        extension = mimetypes.guess_extension(upload.file_type) or ".bin"
        upload.file.save(f"{secrets.token_hex(12)}{extension}", ContentFile(previous + content), save=False)
        upload.file_offset = offset + len(content)
        if upload.file_offset == upload.file_length:
            upload.handle = ":".join(
                (
                    "4",
                    base64.b64encode(upload.file_name.encode()).decode(),
                    base64.b64encode(upload.file_type.encode()).decode(),
                    base64.urlsafe_b64encode(secrets.token_bytes(48)).decode().rstrip("="),
                    "e",
                    str(int(timezone.now().timestamp()) + 30 * 24 * 3600),
                    upload.app_id,
                )
            )
        upload.save()
    return upload


# Webhooks


def meta_json(document: Any) -> bytes:
    """Serialise as Meta does: compact, non-ASCII as lower-case `\\uXXXX`, `/` as `\\/`, `@` as `\\u0040`
    (§1, §7), so the receiver's signature check over raw bytes meets the real thing."""
    text = json.dumps(document, ensure_ascii=True, separators=(",", ":"))
    return text.replace("/", "\\/").replace("@", "\\u0040").encode()


def _display_digits(channel: Channel) -> str:
    return "".join(ch for ch in channel.display_phone_number if ch.isdigit()) or channel.phone_number_id


def _messages_value(channel: Channel, **parts: Any) -> dict:
    return {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": _display_digits(channel), "phone_number_id": channel.phone_number_id},
        **parts,
    }


def _webhook_create(
    *, channel: Channel, kind: str, message: SimulatedMessage | None, value: dict, field: str = "messages"
) -> SimulatedWebhook:
    """A change about one number (`messages`, `user_preferences`): its value carries `metadata`."""
    envelope = {
        "object": "whatsapp_business_account",
        "entry": [{"id": channel.waba_id, "changes": [{"value": value, "field": field}]}],
    }
    raw_body = meta_json(envelope)
    return SimulatedWebhook.objects.create(
        channel=channel,
        message=message,
        kind=kind,
        field=field,
        raw_body=raw_body,
        signature=sign(channel.app_secret, raw_body),
    )


def _management_webhook_create(
    *, channel: Channel, field: str, value: dict, now: datetime, kind: str = WebhookKind.TEMPLATE
) -> SimulatedWebhook:
    """A WABA-level change (§7, §10): routed by `entry.id` alone, with `entry.time` and no `metadata`."""
    envelope = {
        "object": "whatsapp_business_account",
        "entry": [{"id": channel.waba_id, "time": int(now.timestamp()), "changes": [{"value": value, "field": field}]}],
    }
    raw_body = meta_json(envelope)
    return SimulatedWebhook.objects.create(
        channel=channel,
        kind=kind,
        field=field,
        raw_body=raw_body,
        signature=sign(channel.app_secret, raw_body),
    )


def webhook_deliver(*, webhook_id: int) -> SimulatedWebhook:
    """POST the signed bytes to SIMULATOR_WEBHOOK_URL, or hand them to the inbox's webhook receiver in
    this process when it is unset. A failed delivery is retried later, as Meta does."""
    webhook = SimulatedWebhook.objects.get(pk=webhook_id)
    if webhook.delivered_at is not None:
        return webhook
    raw_body = bytes(webhook.raw_body)
    url = getattr(settings, "SIMULATOR_WEBHOOK_URL", "")
    webhook.attempts += 1
    webhook.transport = "http" if url else "in_process"
    try:
        if url:
            response = httpx.post(
                url,
                content=raw_body,
                headers={
                    "Content-Type": "application/json",
                    "X-Hub-Signature-256": webhook.signature,
                    "User-Agent": "facebookexternalua",
                },
                timeout=10,
            )
            webhook.response_status = response.status_code
        else:
            webhook.response_status = webhook_receive(raw_body=raw_body, signature_header=webhook.signature).http_status
        webhook.error = "" if 200 <= webhook.response_status < 300 else f"HTTP {webhook.response_status}"
    except httpx.HTTPError as exc:
        webhook.response_status, webhook.error = None, f"{type(exc).__name__}: {exc}"
    if not webhook.error:
        webhook.delivered_at = timezone.now()
    webhook.save(update_fields=["attempts", "transport", "response_status", "error", "delivered_at"])
    if webhook.error:
        logger.warning(
            "Simulator webhook %s not delivered (attempt %s): %s", webhook.pk, webhook.attempts, webhook.error
        )
        if webhook.attempts < WEBHOOK_ATTEMPTS:
            enqueue(_tasks().deliver_webhook, webhook.pk, countdown=2**webhook.attempts)
    return webhook


def _tasks():
    from simulator import tasks

    return tasks
