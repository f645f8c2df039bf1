"""Inbound writes: what a parsed WhatsApp delivery becomes in the database.

Every function is idempotent: Meta retries deliveries for days and may re-batch them, so a replayed
message, status or management change finds its earlier row (unique constraints, not caches) and creates
nothing new. Times are Meta's timestamps, never processing time.
"""

import hashlib
import json
from datetime import UTC, datetime

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.db.models.functions import Greatest
from django.utils import timezone

from inbox import policy
from inbox.models import (
    Channel,
    Contact,
    Conversation,
    ConversationStatus,
    Direction,
    ManagementEvent,
    Message,
    MessageStatus,
    StatusUpdate,
    WebhookEvent,
)
from inbox.providers.whatsapp_cloud.types import InboundMessage, ManagementChange, StatusReport

PREVIEW_LENGTH = 160


def provider_time(unix_seconds: int) -> datetime:
    return datetime.fromtimestamp(unix_seconds, tz=UTC)


def contact_upsert(
    *, wa_id: str | None, bsuid: str | None, parent_bsuid: str = "", profile_name: str = "", username: str = ""
) -> Contact:
    """Find the contact by phone (`wa_id`) or else by BSUID, create it if new, and keep its profile current."""
    if not wa_id and not bsuid:
        raise ValueError("A contact needs a wa_id or a BSUID.")
    contact = None
    if wa_id:
        contact = Contact.objects.filter(wa_id=wa_id).first()
    if contact is None and bsuid:
        contact = Contact.objects.filter(bsuid=bsuid).first()
    if contact is None:
        try:
            with transaction.atomic():
                return Contact.objects.create(
                    wa_id=wa_id,
                    bsuid=bsuid,
                    parent_bsuid=parent_bsuid or "",
                    profile_name=profile_name,
                    username=username,
                )
        except IntegrityError:
            # A concurrent delivery created the same person first.
            return contact_upsert(
                wa_id=wa_id, bsuid=bsuid, parent_bsuid=parent_bsuid, profile_name=profile_name, username=username
            )
    changes = {}
    if profile_name and contact.profile_name != profile_name:
        changes["profile_name"] = profile_name
    if username and contact.username != username:
        changes["username"] = username
    if wa_id and not contact.wa_id and not Contact.objects.filter(wa_id=wa_id).exists():
        changes["wa_id"] = wa_id
    if bsuid and not contact.bsuid and not Contact.objects.filter(bsuid=bsuid).exists():
        changes["bsuid"] = bsuid
    if parent_bsuid and contact.parent_bsuid != parent_bsuid:
        changes["parent_bsuid"] = parent_bsuid
    if changes:
        changes["updated_at"] = timezone.now()
        Contact.objects.filter(pk=contact.pk).update(**changes)
        for name, value in changes.items():
            setattr(contact, name, value)
    return contact


def conversation_for_inbound(*, channel: Channel, contact: Contact, at: datetime) -> Conversation:
    """The contact's unresolved conversation on this channel; a resolved one reopens; else a new one."""
    conversation = (
        Conversation.objects.filter(channel=channel, contact=contact)
        .exclude(status=ConversationStatus.RESOLVED)
        .first()
    )
    if conversation is not None:
        return conversation
    try:
        with transaction.atomic():
            resolved = Conversation.objects.filter(channel=channel, contact=contact).order_by("-id").first()
            if resolved is not None:
                resolved.status = ConversationStatus.OPEN
                resolved.save(update_fields=["status"])
                return resolved
            return Conversation.objects.create(channel=channel, contact=contact, activity_at=at)
    except IntegrityError:
        # Another worker opened it between our read and our write: use theirs.
        return Conversation.objects.exclude(status=ConversationStatus.RESOLVED).get(channel=channel, contact=contact)


def message_receive(*, channel: Channel, inbound: InboundMessage) -> tuple[Message, bool]:
    """Store one inbound message exactly once. Returns (message, created)."""
    existing = Message.objects.filter(channel=channel, provider_message_id=inbound.provider_message_id).first()
    if existing is not None:
        return existing, False
    profile = inbound.profile
    contact = contact_upsert(
        wa_id=inbound.sender_wa_id or (profile.wa_id if profile else None),
        bsuid=inbound.sender_user_id or (profile.user_id if profile else None),
        parent_bsuid=(profile.parent_user_id or "") if profile else "",
        profile_name=profile.name if profile else "",
        username=profile.username if profile else "",
    )
    sent_at = provider_time(inbound.timestamp)
    conversation = conversation_for_inbound(channel=channel, contact=contact, at=sent_at)
    try:
        with transaction.atomic():
            message = Message.objects.create(
                conversation=conversation,
                channel=channel,
                direction=Direction.INBOUND,
                type=inbound.type,
                text=inbound.text,
                content=inbound.content,
                provider_message_id=inbound.provider_message_id,
                reply_to_provider_id=inbound.reply_to_provider_id,
                status=MessageStatus.RECEIVED,
                error_code=inbound.errors[0].code if inbound.errors else None,
                error_title=inbound.errors[0].title if inbound.errors else "",
                error_details=inbound.errors[0].details if inbound.errors else "",
                timestamp=sent_at,
            )
    except IntegrityError:
        # The same message id committed by a concurrent worker: a duplicate delivery.
        return Message.objects.get(channel=channel, provider_message_id=inbound.provider_message_id), False
    _apply_to_target(channel=channel, inbound=inbound, at=sent_at)
    _conversation_record_inbound(conversation=conversation, message=message)
    return message, True


def _apply_to_target(*, channel: Channel, inbound: InboundMessage, at: datetime) -> None:
    """Edits and revocations change the message they name (kept as their own rows too)."""
    if not inbound.target_provider_message_id or inbound.type not in ("edit", "revoke"):
        return
    target = Message.objects.filter(channel=channel, provider_message_id=inbound.target_provider_message_id).first()
    if target is None:
        return
    if inbound.type == "revoke":
        target.revoked_at = at
        target.save(update_fields=["revoked_at"])
        return
    target.content = {**target.content, "previous_texts": [*target.content.get("previous_texts", []), target.text]}
    target.text = inbound.text
    target.edited_at = at
    target.save(update_fields=["content", "text", "edited_at"])


def _conversation_record_inbound(*, conversation: Conversation, message: Message) -> None:
    """Keep the list's columns current with single UPDATEs that are safe under concurrent workers and
    out-of-order arrivals (an older message never overwrites a newer preview or window)."""
    at = message.timestamp
    updates = {"activity_at": Greatest(F("activity_at"), at)}
    if policy.counts_as_unread(message.type):
        updates["unread_count"] = F("unread_count") + 1
    Conversation.objects.filter(pk=conversation.pk).update(**updates)
    if policy.counts_as_unread(message.type):
        Conversation.objects.filter(
            Q(last_message_at__isnull=True) | Q(last_message_at__lte=at), pk=conversation.pk
        ).update(
            last_message_at=at,
            last_message_preview=message_preview(message),
            last_message_direction=message.direction,
        )
    if policy.opens_service_window(message.type):
        Conversation.objects.filter(
            Q(last_inbound_at__isnull=True) | Q(last_inbound_at__lt=at), pk=conversation.pk
        ).update(last_inbound_at=at, service_window_closes_at=policy.service_window_closes_at(at))


def message_preview(message: Message) -> str:
    """One line for the conversation list: the text, or what kind of message it was."""
    label = {
        "image": "📷 Photo",
        "video": "🎥 Video",
        "audio": "🎤 Voice message" if message.content.get("voice") else "🎵 Audio",
        "document": "📄 Document",
        "sticker": "Sticker",
        "location": "📍 Location",
        "contacts": "👤 Contact",
        "reaction": "Reacted",
        "order": "🛒 Order",
        "request_welcome": "Opened the chat",
        "unsupported": "Unsupported message",
    }.get(message.type, "")
    text = " ".join(message.text.split())
    preview = f"{label}: {text}" if label and text else (label or text)
    return preview[:PREVIEW_LENGTH]


def status_receive(*, channel: Channel, report: StatusReport) -> StatusUpdate:
    """Record one delivery status (once per message and status) and apply it if the message is known."""
    first_error = report.errors[0] if report.errors else None
    update, created = StatusUpdate.objects.get_or_create(
        channel=channel,
        provider_message_id=report.provider_message_id,
        status=report.status,
        defaults={
            "timestamp": provider_time(report.timestamp),
            "recipient_id": report.recipient_id or report.recipient_user_id,
            "error_code": first_error.code if first_error else None,
            "error_title": first_error.title if first_error else "",
            "error_details": (first_error.details or first_error.message) if first_error else "",
            "pricing": report.pricing,
            "payload": report.raw,
        },
    )
    if created:
        message = (
            Message.objects.select_for_update()
            .filter(channel=channel, provider_message_id=report.provider_message_id)
            .first()
        )
        if message is not None:
            _status_apply(message=message, update=update)
    return update


def _status_apply(*, message: Message, update: StatusUpdate) -> None:
    fields = []
    if policy.status_moves_forward(message.status, update.status):
        message.status = update.status
        message.status_at = update.timestamp
        fields += ["status", "status_at"]
    if update.status == MessageStatus.FAILED:
        # The error is kept even if a later status outranks "failed".
        message.error_code = update.error_code
        message.error_title = update.error_title
        message.error_details = update.error_details
        fields += ["error_code", "error_title", "error_details"]
    if update.pricing:
        message.pricing_category = str(update.pricing.get("category") or message.pricing_category)
        message.pricing_type = str(update.pricing.get("type") or message.pricing_type)
        fields += ["pricing_category", "pricing_type"]
    if fields:
        message.save(update_fields=fields)
    StatusUpdate.objects.filter(pk=update.pk).update(applied=True)


def message_provider_id_record(*, message: Message, provider_message_id: str) -> Message:
    """Store the id the provider gave an outbound message, then apply any statuses that arrived first."""
    with transaction.atomic():
        message.provider_message_id = provider_message_id
        message.save(update_fields=["provider_message_id"])
        waiting = StatusUpdate.objects.filter(
            channel_id=message.channel_id, provider_message_id=provider_message_id, applied=False
        ).order_by("timestamp", "id")
        for update in waiting:
            _status_apply(message=message, update=update)
    return message


def management_event_record(*, change: ManagementChange, webhook_event: WebhookEvent | None) -> bool:
    """Keep an account-level change once (replays are ignored). Returns True when it was new."""
    canonical = json.dumps([change.waba_id, change.field, change.time, change.value], sort_keys=True)
    _, created = ManagementEvent.objects.get_or_create(
        dedupe_key=hashlib.sha256(canonical.encode()).hexdigest(),
        defaults={
            "webhook_event": webhook_event,
            "waba_id": change.waba_id,
            "field": change.field,
            "value": change.value,
            "occurred_at": provider_time(change.time) if change.time else None,
        },
    )
    return created
