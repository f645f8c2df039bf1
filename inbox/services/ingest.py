"""Inbound writes: what a parsed WhatsApp delivery becomes in the database.

Every function is idempotent: Meta retries deliveries for days and may re-batch them, so a replayed
message, status or management change finds its earlier row (unique constraints, not caches) and creates
nothing new. Times are Meta's timestamps, never processing time.

Several workers may process deliveries naming the same contact or message at once (Meta retries, re-batches
and sends to every subscribed app). Each insert that can collide runs in its own savepoint, so on PostgreSQL
the loser of the race waits for the winner's commit, gets an IntegrityError, rolls back only the savepoint
and reads the winner's row; the rest of its delivery carries on.
"""

import hashlib
import json
import logging
from datetime import UTC, datetime

from django.db import IntegrityError, transaction
from django.db.models import Case, F, Q, Value, When
from django.db.models.functions import Greatest
from django.utils import timezone

from config.task_queue import enqueue
from inbox import events, policy
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
from inbox.services import consent, notifications, workflow

logger = logging.getLogger(__name__)

PREVIEW_LENGTH = 160
# Inbound types that change an earlier message (the customer edited or deleted it) rather than add one.
CHANGE_TYPES = ("edit", "revoke")
# Losing a race to create a contact more than this many times in a row means something else is wrong.
_CONTACT_ATTEMPTS = 3


def provider_time(unix_seconds: int) -> datetime:
    """Meta's unix-seconds timestamp as an aware UTC datetime."""
    return datetime.fromtimestamp(unix_seconds, tz=UTC)


def _limited(value: str, model: type, field: str) -> str:
    """Cut free text from the provider to the column's length: PostgreSQL refuses longer values, and one
    over-long error title must not fail a whole delivery."""
    return value[: model._meta.get_field(field).max_length]


def contact_upsert(
    *, wa_id: str | None, bsuid: str | None, parent_bsuid: str = "", profile_name: str = "", username: str = ""
) -> Contact:
    """Find the contact by phone (`wa_id`) or else by BSUID, create it if new, and keep its profile current.

    A username user first known only by their BSUID gains the phone number when a message carries both.
    If the phone and the BSUID each already belong to a different contact (one known by phone, the other
    by BSUID only), they are the same person and the two are merged."""
    if not wa_id and not bsuid:
        raise ValueError("A contact needs a wa_id or a BSUID.")
    profile_name = _limited(profile_name, Contact, "profile_name")
    username = _limited(username, Contact, "username")
    for _attempt in range(_CONTACT_ATTEMPTS):
        contact = _contact_find(wa_id=wa_id, bsuid=bsuid)
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
                # A concurrent delivery created the same person first: find theirs.
                continue
        changes: dict[str, object] = {}
        if profile_name and contact.profile_name != profile_name:
            changes["profile_name"] = profile_name
        if username and contact.username != username:
            changes["username"] = username
        # Fill in an identity the contact lacks, unless another contact holds it (a merge that was refused).
        if wa_id and not contact.wa_id and not Contact.objects.filter(wa_id=wa_id).exists():
            changes["wa_id"] = wa_id
        if bsuid and not contact.bsuid and not Contact.objects.filter(bsuid=bsuid).exists():
            changes["bsuid"] = bsuid
        if parent_bsuid and contact.parent_bsuid != parent_bsuid:
            changes["parent_bsuid"] = parent_bsuid
        if not changes:
            return contact
        changes["updated_at"] = timezone.now()
        try:
            with transaction.atomic():
                Contact.objects.filter(pk=contact.pk).update(**changes)
        except IntegrityError:
            # A concurrent worker gave this phone or BSUID to a new contact meanwhile: look again (the
            # next pass finds both and merges them).
            continue
        for name, value in changes.items():
            setattr(contact, name, value)
        return contact
    raise IntegrityError(f"Could not settle the contact for wa_id={wa_id!r} bsuid={bsuid!r}.")


def _contact_find(*, wa_id: str | None, bsuid: str | None) -> Contact | None:
    by_phone = Contact.objects.filter(wa_id=wa_id).first() if wa_id else None
    by_bsuid = Contact.objects.filter(bsuid=bsuid).first() if bsuid else None
    if by_phone is None or by_bsuid is None or by_phone.pk == by_bsuid.pk:
        return by_phone or by_bsuid
    if by_phone.bsuid is None and by_bsuid.wa_id is None:
        return _contacts_merge(into=by_phone, duplicate=by_bsuid)
    # Two contacts with conflicting identities (a changed number mints a new BSUID): the phone number
    # the message came from decides, as it did before BSUIDs existed.
    return by_phone


def _contacts_merge(*, into: Contact, duplicate: Contact) -> Contact:
    """Fold a BSUID-only contact into the phone-number contact of the same person: their conversations
    (an unresolved one on the same channel is folded into ours, since only one may be open), anything else
    that points at them, and their BSUID. Should something refuse the move, both are kept unmerged."""
    try:
        with transaction.atomic():
            for conversation in Conversation.objects.select_for_update().filter(contact=duplicate):
                _conversation_move(conversation=conversation, to=into)
            # Anything else that points at a contact (consent, notes...) follows it. A move that breaks a
            # unique constraint raises, and the whole merge is rolled back.
            _references_move(model=Contact, old=duplicate, new=into, skip=Conversation)
            changes = {
                "bsuid": duplicate.bsuid,
                "parent_bsuid": into.parent_bsuid or duplicate.parent_bsuid,
                "username": into.username or duplicate.username,
                "profile_name": into.profile_name or duplicate.profile_name,
                "created_at": min(into.created_at, duplicate.created_at),
                "updated_at": timezone.now(),
            }
            # Deleted first: the BSUID is unique and moves to the kept contact.
            duplicate.delete()
            Contact.objects.filter(pk=into.pk).update(**changes)
    except IntegrityError:
        logger.warning("Could not merge contact %s into contact %s; both are kept.", duplicate.pk, into.pk)
        return into
    for name, value in changes.items():
        setattr(into, name, value)
    return into


def _conversation_move(*, conversation: Conversation, to: Contact) -> None:
    open_twin = None
    if conversation.status != ConversationStatus.RESOLVED:
        open_twin = (
            Conversation.objects.select_for_update()
            .filter(channel_id=conversation.channel_id, contact=to)
            .exclude(status=ConversationStatus.RESOLVED)
            .first()
        )
    if open_twin is None:
        Conversation.objects.filter(pk=conversation.pk).update(contact=to)
        return
    # Its messages, uploads and anything else of the conversation join the open one.
    _references_move(model=Conversation, old=conversation, new=open_twin)
    newest = open_twin
    if conversation.last_message_at and (
        open_twin.last_message_at is None or conversation.last_message_at > open_twin.last_message_at
    ):
        newest = conversation
    Conversation.objects.filter(pk=open_twin.pk).update(
        unread_count=F("unread_count") + conversation.unread_count,
        activity_at=Greatest(F("activity_at"), conversation.activity_at),
        last_message_at=newest.last_message_at,
        last_message_preview=newest.last_message_preview,
        last_message_direction=newest.last_message_direction,
        last_inbound_at=_latest(open_twin.last_inbound_at, conversation.last_inbound_at),
        service_window_closes_at=_latest(open_twin.service_window_closes_at, conversation.service_window_closes_at),
    )
    conversation.delete()


def _references_move(*, model: type, old: object, new: object, skip: type | None = None) -> None:
    """Point every foreign key to `old` (a `model` row) at `new` instead."""
    for relation in model._meta.related_objects:
        if relation.related_model is skip or not (relation.one_to_many or relation.one_to_one):
            continue
        relation.related_model._base_manager.filter(**{relation.field.name: old}).update(**{relation.field.name: new})


def _latest(*moments: datetime | None) -> datetime | None:
    known = [moment for moment in moments if moment is not None]
    return max(known) if known else None


def conversation_for_inbound(*, channel: Channel, contact: Contact, at: datetime) -> Conversation:
    """The contact's unresolved conversation on this channel; a resolved one reopens; else a new one."""
    conversation = (
        Conversation.objects.filter(channel=channel, contact=contact)
        .exclude(status=ConversationStatus.RESOLVED)
        .first()
    )
    if conversation is not None:
        # A snoozed conversation wakes when the customer writes.
        workflow.conversation_customer_returned(conversation=conversation, at=at)
        return conversation
    try:
        with transaction.atomic():
            resolved = Conversation.objects.filter(channel=channel, contact=contact).order_by("-id").first()
            if resolved is not None:
                # Reopened (snooze cleared, an activity line, round robin when nobody holds it).
                workflow.conversation_customer_returned(conversation=resolved, at=at)
                return resolved
            conversation = Conversation.objects.create(channel=channel, contact=contact, activity_at=at)
            workflow.conversation_auto_assign_later(conversation_id=conversation.pk)
            return conversation
    except IntegrityError:
        # Another worker opened it between our read and our write: use theirs.
        return Conversation.objects.exclude(status=ConversationStatus.RESOLVED).get(channel=channel, contact=contact)


def message_receive(*, channel: Channel, inbound: InboundMessage) -> tuple[Message, bool]:
    """Store one inbound message exactly once and bring its conversation up to date. Returns
    (message, created); a replay returns the stored message and changes nothing."""
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
    first_error = inbound.errors[0] if inbound.errors else None
    reply_to = inbound.reply_to_provider_id
    if not reply_to and inbound.type == "reaction":
        # A reaction belongs to the message it reacts to; Meta names it in `reaction.message_id`, not in
        # `context`. Keeping it in the column lets a thread attach reactions without reading JSON.
        reply_to = inbound.target_provider_message_id
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
                reply_to_provider_id=reply_to,
                status=MessageStatus.RECEIVED,
                error_code=first_error.code if first_error else None,
                error_title=_limited(first_error.title, Message, "error_title") if first_error else "",
                error_details=(first_error.details or first_error.message) if first_error else "",
                timestamp=sent_at,
            )
    except IntegrityError:
        # The same message id committed by a concurrent worker: a duplicate delivery.
        return Message.objects.get(channel=channel, provider_message_id=inbound.provider_message_id), False
    if inbound.type in CHANGE_TYPES:
        _change_apply_to_target(change=message, target_provider_message_id=inbound.target_provider_message_id)
    else:
        _earlier_changes_apply(message=message)
    _conversation_record_inbound(conversation=conversation, message=message)
    if policy.counts_as_reply(message.type):
        template_messages_mark_replied(conversation_id=conversation.pk, answer=message)
    events.publish_message(message, "message.created")
    if reply_to and inbound.type == "reaction":
        _publish_target_updated(channel_id=channel.pk, provider_message_id=reply_to)
    events.publish_conversation(conversation.pk)
    if conversation.assignee_id is not None and policy.counts_as_unread(message.type):
        # The person the conversation is assigned to hears about the customer's new message.
        notifications.notify_assignee_of_inbound(conversation_id=conversation.pk, message=message)
    enqueue(_follow_up_task(), message.pk)
    return message, True


def _follow_up_task():
    from inbox.tasks import follow_up_inbound_message

    return follow_up_inbound_message


def _publish_target_updated(*, channel_id: int, provider_message_id: str) -> None:
    """The message a reaction, edit or deletion acts on is drawn again wherever it is shown."""
    target = Message.objects.filter(channel_id=channel_id, provider_message_id=provider_message_id).first()
    if target is not None:
        events.publish_message(target, "message.updated")


def _change_apply_to_target(*, change: Message, target_provider_message_id: str) -> None:
    """An edit or deletion changes the message it names (and is kept as its own row too). When that
    message has not arrived yet, the change waits and is applied when it does (`_earlier_changes_apply`)."""
    if not target_provider_message_id:
        return
    target = (
        Message.objects.select_for_update()
        .filter(channel_id=change.channel_id, provider_message_id=target_provider_message_id)
        .first()
    )
    if target is None:
        return
    _change_apply(target=target, change=change)
    target.save(update_fields=["content", "text", "edited_at", "revoked_at"])
    events.publish_message(target, "message.updated")
    # The conversation list shows the edited text (or the deletion) when the target is its last message.
    Conversation.objects.filter(
        pk=target.conversation_id, last_message_at=target.timestamp, last_message_direction=target.direction
    ).update(last_message_preview=message_preview(target))


def _earlier_changes_apply(*, message: Message) -> None:
    """Meta does not guarantee order: an edit or deletion may have been stored before its message. They
    happened after it, so only the conversation's newer rows are looked at (the thread index covers it)."""
    changes = Message.objects.filter(
        conversation_id=message.conversation_id,
        timestamp__gte=message.timestamp,
        type__in=CHANGE_TYPES,
        content__original_message_id=message.provider_message_id,
    ).order_by("timestamp", "id")
    applied = False
    for change in changes:
        _change_apply(target=message, change=change)
        applied = True
    if applied:
        message.save(update_fields=["content", "text", "edited_at", "revoked_at"])


def _change_apply(*, target: Message, change: Message) -> None:
    """Apply one edit or deletion to `target` in memory. Edits keep every earlier text in
    `content.previous_texts`; an edit older than one already applied only adds its text to that history."""
    if change.type == "revoke":
        target.revoked_at = change.timestamp
        return
    previous_texts = list(target.content.get("previous_texts", []))
    if target.edited_at is None or change.timestamp >= target.edited_at:
        previous_texts.append(target.text)
        target.text = change.text
        target.edited_at = change.timestamp
    else:
        previous_texts.append(change.text)
    target.content = {**target.content, "previous_texts": previous_texts}


def _conversation_record_inbound(*, conversation: Conversation, message: Message) -> None:
    """Keep the list's columns current in one UPDATE computed from the row itself, so concurrent workers
    cannot lose each other's counts and an older message arriving late never overwrites a newer preview
    or window."""
    at = message.timestamp
    updates: dict[str, object] = {"activity_at": Greatest(F("activity_at"), Value(at))}
    if policy.counts_as_unread(message.type):
        is_newest = Q(last_message_at__isnull=True) | Q(last_message_at__lte=at)
        updates |= {
            "unread_count": F("unread_count") + 1,
            "last_message_at": _if(is_newest, Value(at), "last_message_at"),
            "last_message_preview": _if(is_newest, Value(message_preview(message)), "last_message_preview"),
            "last_message_direction": _if(is_newest, Value(message.direction), "last_message_direction"),
        }
    if policy.opens_service_window(message.type):
        is_latest_inbound = Q(last_inbound_at__isnull=True) | Q(last_inbound_at__lt=at)
        updates |= {
            "last_inbound_at": _if(is_latest_inbound, Value(at), "last_inbound_at"),
            "service_window_closes_at": _if(
                is_latest_inbound, Value(policy.service_window_closes_at(at)), "service_window_closes_at"
            ),
        }
    Conversation.objects.filter(pk=conversation.pk).update(**updates)


def template_messages_mark_replied(*, conversation_id: int, answer: Message) -> int:
    """The customer answered: the latest message of each template sent to them since their previous
    answer was replied to. An earlier send of the same template that the customer let pass stays
    unanswered (a reminder sent three times and answered once is answered once). Returns how many."""
    at = answer.timestamp
    since = (
        Message.objects.filter(conversation_id=conversation_id, direction=Direction.INBOUND, timestamp__lt=at)
        .exclude(pk=answer.pk)
        .exclude(type__in=policy.NOT_ANSWERS)
        .order_by("-timestamp")
        .values_list("timestamp", flat=True)
        .first()
    )
    candidates = Message.objects.filter(
        conversation_id=conversation_id,
        template__isnull=False,
        replied_at__isnull=True,
        direction=Direction.OUTBOUND,
        timestamp__lt=at,
    )
    if since is not None:
        candidates = candidates.filter(timestamp__gt=since)
    latest_per_template: dict[int, int] = {}
    for message_id, template_id in candidates.order_by("-timestamp", "-id").values_list("pk", "template_id"):
        latest_per_template.setdefault(template_id, message_id)
    if not latest_per_template:
        return 0
    return Message.objects.filter(pk__in=latest_per_template.values()).update(replied_at=at)


def _if(condition: Q, then: Value, otherwise_field: str) -> Case:
    """`then` where the row meets `condition`, else the column's current value."""
    field = Conversation._meta.get_field(otherwise_field)
    return Case(When(condition, then=then), default=F(otherwise_field), output_field=field)


def message_preview(message: Message) -> str:
    """One line for the conversation list: the text, or what kind of message it was."""
    if message.revoked_at is not None:
        return "🚫 This message was deleted"
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
    """Record one delivery status (once per message and status) and apply it if the message is known;
    otherwise it waits (applied=False) for `message_provider_id_record`."""
    first_error = report.errors[0] if report.errors else None
    with transaction.atomic():
        update, created = StatusUpdate.objects.get_or_create(
            channel=channel,
            provider_message_id=report.provider_message_id,
            status=_limited(report.status, StatusUpdate, "status"),
            defaults={
                "timestamp": provider_time(report.timestamp),
                "recipient_id": _limited(report.recipient_id or report.recipient_user_id, StatusUpdate, "recipient_id"),
                "error_code": first_error.code if first_error else None,
                "error_title": _limited(first_error.title, StatusUpdate, "error_title") if first_error else "",
                "error_details": (first_error.details or first_error.message) if first_error else "",
                "pricing": report.pricing,
                "payload": report.raw,
            },
        )
        if created:
            # Locked, so two statuses of one message applied by two workers cannot undo each other.
            message = (
                Message.objects.select_for_update()
                .filter(channel=channel, provider_message_id=report.provider_message_id)
                .first()
            )
            if message is not None and _status_apply(message=message, update=update):
                events.publish_message(message, "message.updated")
    return update


def _status_apply(*, message: Message, update: StatusUpdate) -> bool:
    """Apply a stored status to a locked message: forward only (policy.status_moves_forward); a failure's
    error and the pricing Meta reported are kept whatever the order. Returns whether the message changed."""
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
        message.pricing_category = _limited(
            str(update.pricing.get("category") or message.pricing_category), Message, "pricing_category"
        )
        message.pricing_type = _limited(
            str(update.pricing.get("type") or message.pricing_type), Message, "pricing_type"
        )
        fields += ["pricing_category", "pricing_type"]
    if fields:
        message.save(update_fields=fields)
    StatusUpdate.objects.filter(pk=update.pk).update(applied=True)
    if update.status == MessageStatus.FAILED and update.error_code == consent.MARKETING_STOPPED_ERROR:
        consent.marketing_stop_from_failure(message=message)
    return bool(fields)


def message_provider_id_record(*, message: Message, provider_message_id: str) -> Message:
    """Store the id the provider gave an outbound message, then apply any statuses that arrived first."""
    with transaction.atomic():
        Message.objects.filter(pk=message.pk).update(provider_message_id=provider_message_id)
        message.provider_message_id = provider_message_id
        status_updates_apply_waiting(message=message)
    return message


_STATUS_FIELDS = [
    "status",
    "status_at",
    "error_code",
    "error_title",
    "error_details",
    "pricing_category",
    "pricing_type",
]


def status_updates_apply_waiting(*, message: Message) -> int:
    """Apply the statuses stored for this message's provider id before the message had it (Meta can
    report "sent" before our send call returned). Returns how many were applied."""
    with transaction.atomic():
        # Lock first, then read what waits: a status worker applying the same update holds this lock too,
        # so each update is applied once and never from a stale copy of the message.
        locked = Message.objects.select_for_update().get(pk=message.pk)
        waiting = list(
            StatusUpdate.objects.filter(
                channel_id=locked.channel_id, provider_message_id=locked.provider_message_id, applied=False
            ).order_by("timestamp", "id")
        )
        changed = [_status_apply(message=locked, update=update) for update in waiting]
        if any(changed):
            events.publish_message(locked, "message.updated")
    for name in _STATUS_FIELDS:
        setattr(message, name, getattr(locked, name))
    return len(waiting)


def management_event_record(
    *, change: ManagementChange, webhook_event: WebhookEvent | None
) -> tuple[ManagementEvent, bool]:
    """Keep an account-level change once (replays are ignored). Returns the row and whether it was new."""
    canonical = json.dumps([change.waba_id, change.field, change.time, change.value], sort_keys=True)
    row, created = ManagementEvent.objects.get_or_create(
        dedupe_key=hashlib.sha256(canonical.encode()).hexdigest(),
        defaults={
            "webhook_event": webhook_event,
            "waba_id": change.waba_id,
            "field": change.field,
            "value": change.value,
            "occurred_at": provider_time(change.time) if change.time else None,
        },
    )
    return row, created
