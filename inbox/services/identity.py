"""Identity changes: a customer's new number or WhatsApp identity holds outbound messages until an agent
acknowledges it.

WhatsApp tells the business with a `system` message (whatsapp-cloud-api.md §8): `user_changed_number`
(legacy `customer_changed_number`) names the new number in `system.wa_id` (legacy `new_wa_id`) and comes
from the old one; `customer_identity_changed` (a new phone, a reinstall) carries the new identity key hash in
the top-level `identity` object. Either way, the person writing from that number might no longer be the
customer the team knows, so nothing more goes to them (the pre-send guard's `identity_unconfirmed`) until
someone who may edit the contact checked it is still the same person and acknowledged it (audited).

`inbound_message_apply` runs once per new inbound message, from a task (`inbound_followup`); a replay of
the task finds the activity line it wrote and changes nothing.
"""

import logging
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from accounts.models import AuditEntry, User
from accounts.services import audit_record
from inbox import access, events
from inbox.models import (
    Contact,
    Conversation,
    ConversationStatus,
    Message,
    MessageType,
    NotificationKind,
)
from inbox.services import ingest, workflow
from inbox.services.notifications import notification_create

logger = logging.getLogger(__name__)

# `system.type` values (§8). The legacy spelling still arrives from older API versions.
CHANGED_NUMBER_TYPES = frozenset({"user_changed_number", "customer_changed_number"})
IDENTITY_CHANGED_TYPES = frozenset({"customer_identity_changed"})
NUMBER, IDENTITY = "number", "identity"
# The audit action of an acknowledgement (the panel and the API read the latest one back).
ACKNOWLEDGED = "contact.identity_acknowledged"
NOTE_MAX = 500
# The activity lines' `content.action`: the hold names the system message it came from (replays find it).
HELD_ACTION, ACKNOWLEDGED_ACTION = "identity_held", "identity_acknowledged"


class IdentityRefused(Exception):
    """The acknowledgement may not be made. `code` is stable (`permission_denied`, `nothing_to_acknowledge`,
    `note_too_long`); `detail` is the sentence shown where the person tried."""

    def __init__(self, code: str, detail: str):
        super().__init__(detail)
        self.code = code
        self.detail = detail


@dataclass(frozen=True)
class IdentityChange:
    """What a system message says changed: the customer's number (`new_wa_id`, when WhatsApp named it) or
    their identity (`key_hash`, when WhatsApp sent the new one)."""

    kind: str
    new_wa_id: str = ""
    key_hash: str = ""


def identity_change_of(message_type: str, content: dict) -> IdentityChange | None:
    """The identity change a stored inbound message announces, or None. Pure: reads `Message.content` as
    parse.py keeps it (the `system` object's keys, plus `identity` beside them)."""
    if message_type != MessageType.SYSTEM or not isinstance(content, dict):
        return None
    system_type = str(content.get("type") or "")
    if system_type in CHANGED_NUMBER_TYPES:
        new_wa_id = str(content.get("wa_id") or content.get("new_wa_id") or "").strip().lstrip("+")
        return IdentityChange(kind=NUMBER, new_wa_id=new_wa_id if new_wa_id.isdigit() else "")
    if system_type in IDENTITY_CHANGED_TYPES:
        identity = content.get("identity") if isinstance(content.get("identity"), dict) else {}
        key_hash = str(identity.get("hash") or "").strip()
        return IdentityChange(
            kind=IDENTITY, key_hash=key_hash[: Contact._meta.get_field("identity_key_hash").max_length]
        )
    return None


def _day(at: datetime) -> str:
    return formats.date_format(timezone.localtime(at), "DATE_FORMAT")


def hold_reason(change: IdentityChange, *, at: datetime) -> str:
    """The sentence the contact panel, the composer's guard and the API show for the hold (written in the
    site's language: it is stored)."""
    with translation.override(settings.LANGUAGE_CODE):
        if change.kind == NUMBER and change.new_wa_id:
            return _("Changed their WhatsApp number to +%(number)s on %(day)s") % {
                "number": change.new_wa_id,
                "day": _day(at),
            }
        if change.kind == NUMBER:
            return _("Changed their WhatsApp number on %(day)s") % {"day": _day(at)}
        return _("Their WhatsApp identity changed (a new phone or a reinstall) on %(day)s") % {"day": _day(at)}


# --- The system message arrives -----------------------------------------------------------------------------


def inbound_message_apply(*, message: Message) -> None:
    """A `system` message about a changed number or identity puts the contact on hold: for a changed number,
    the contact now carrying the new number (the same contact, moved to it, so the conversation continues
    there). The new identity key hash is kept; the thread gets an activity line; the assignee (or, when
    nobody holds the conversation, the people who could) is told; open panels and composers redraw."""
    change = identity_change_of(message.type, message.content)
    if change is None:
        return
    with transaction.atomic():
        contact = Contact.objects.select_for_update().filter(pk=message.conversation.contact_id).first()
        if contact is None or _already_applied(message):
            return
        held = [contact]
        if change.kind == NUMBER:
            carrier = _number_move(contact=contact, new_wa_id=change.new_wa_id)
            # Should the old contact survive (a merge that was refused), its number may now be someone
            # else's: it is held too.
            held = [carrier] + ([contact] if carrier.pk != contact.pk and _exists(contact) else [])
        reason = hold_reason(change, at=message.timestamp)
        for person in held:
            _hold(contact=person, reason=reason, at=message.timestamp, key_hash=change.key_hash)
        # A merge may have moved the system message into the new number's open conversation.
        conversation = Conversation.objects.select_related("contact", "channel", "assignee").get(
            pk=Message.objects.filter(pk=message.pk).values_list("conversation_id", flat=True).get()
        )
        line = workflow.activity_add(
            conversation=conversation,
            actor=None,
            text=_("Sending is held: %(reason)s. Someone must check it is still the same person and acknowledge it.")
            % {"reason": reason},
            details={
                "action": HELD_ACTION,
                "source_message_id": message.pk,
                "kind": change.kind,
                "wa_id": change.new_wa_id,
                "identity_key_hash_changed": bool(change.key_hash),
            },
            at=message.timestamp,
        )
        _notify(conversation=conversation, line=line, change=change)
        for person in held:
            _publish_changed(contact_id=person.pk, held=True)
        events.publish_conversation(conversation.pk)


def _already_applied(message: Message) -> bool:
    """The hold's activity line for this system message exists (the task ran before). It sits at the
    message's own time in its thread, so the thread index finds it."""
    return Message.objects.filter(
        conversation_id=Message.objects.filter(pk=message.pk).values("conversation_id")[:1],
        type=MessageType.ACTIVITY,
        timestamp=message.timestamp,
        content__action=HELD_ACTION,
        content__source_message_id=message.pk,
    ).exists()


def _exists(contact: Contact) -> bool:
    return Contact.objects.filter(pk=contact.pk).exists()


def _number_move(*, contact: Contact, new_wa_id: str) -> Contact:
    """The contact that carries the new number afterwards. Usually the same contact takes the new number
    (its BSUID is dropped: a number change mints a new one, which the next message fills in). When another
    contact already has the new number (its first message came before this notice), the customer's history
    joins it, as ingest merges contacts; should that be refused, both are kept."""
    if not new_wa_id or contact.wa_id == new_wa_id:
        return contact
    carrier = Contact.objects.select_for_update().filter(wa_id=new_wa_id).first()
    if carrier is None:
        try:
            with transaction.atomic():
                Contact.objects.filter(pk=contact.pk).update(wa_id=new_wa_id, bsuid=None, updated_at=timezone.now())
        except IntegrityError:
            # A concurrent delivery from the new number created its contact meanwhile: join it.
            carrier = Contact.objects.select_for_update().filter(wa_id=new_wa_id).first()
            if carrier is None:
                raise
        else:
            contact.wa_id, contact.bsuid = new_wa_id, None
            return contact
    try:
        with transaction.atomic():
            for conversation in Conversation.objects.select_for_update().filter(contact=contact):
                ingest._conversation_move(conversation=conversation, to=carrier)
            ingest._references_move(model=Contact, old=contact, new=carrier, skip=Conversation)
            kept = {
                name: getattr(contact, name)
                for name in ("profile_name", "username", "language")
                if not getattr(carrier, name) and getattr(contact, name)
            }
            contact.delete()
            if kept:
                Contact.objects.filter(pk=carrier.pk).update(**kept, updated_at=timezone.now())
                for name, value in kept.items():
                    setattr(carrier, name, value)
    except IntegrityError:
        logger.warning(
            "Could not move contact %s to the new number's contact %s; both are kept.", contact.pk, carrier.pk
        )
    return carrier


def _hold(*, contact: Contact, reason: str, at: datetime, key_hash: str) -> None:
    changes: dict[str, object] = {"identity_hold_reason": reason[:300], "updated_at": timezone.now()}
    if contact.identity_held_since is None or at < contact.identity_held_since:
        changes["identity_held_since"] = at
    if key_hash:
        changes["identity_key_hash"] = key_hash
    Contact.objects.filter(pk=contact.pk).update(**changes)
    for name, value in changes.items():
        setattr(contact, name, value)


def _notify(*, conversation: Conversation, line: Message, change: IdentityChange) -> None:
    """The assignee; when nobody holds the conversation, everyone who could take it (its team's agents and
    the admins). `notification_create` never tells someone who may not see the conversation."""
    name = conversation.contact.display_name
    if change.kind == NUMBER:
        text = _("%(name)s changed their WhatsApp number: sending is held until someone acknowledges it.")
    else:
        text = _("%(name)s's WhatsApp identity changed: sending is held until someone acknowledges it.")
    people = [conversation.assignee] if conversation.assignee is not None else access.people_assignable_to(conversation)
    for person in people:
        notification_create(
            user=person,
            kind=NotificationKind.IDENTITY,
            conversation=conversation,
            message=line,
            text=text % {"name": name},
        )


def _publish_changed(*, contact_id: int, held: bool) -> None:
    """`identity.changed`: the identity panel and the composer of whoever has the contact open redraw."""
    events.publish_contact_change(contact_id=contact_id, type="identity.changed", data={"held": held})


# --- An agent acknowledges ----------------------------------------------------------------------------------


def identity_acknowledge(*, contact: Contact, actor: User, note: str = "", now: datetime | None = None) -> Contact:
    """`actor` checked the customer is still the same person: the hold ends and messages may go again.
    Only people who may edit the contact (agents and admins who see it; managers read). Audited with what
    was held and why; an activity line in each of the contact's unresolved conversations."""
    if not access.can_acknowledge_identity(actor, contact):
        raise IdentityRefused(
            "permission_denied", _("Managers read contacts; agents and admins acknowledge identity changes.")
        )
    note = " ".join(note.split())
    if len(note) > NOTE_MAX:
        raise IdentityRefused("note_too_long", _("Keep the note under %(max)d characters.") % {"max": NOTE_MAX})
    now = now or timezone.now()
    with transaction.atomic():
        locked = Contact.objects.select_for_update().get(pk=contact.pk)
        if locked.identity_held_since is None:
            raise IdentityRefused(
                "nothing_to_acknowledge",
                _(
                    "Nothing to acknowledge: sending to this customer is not held (someone may have acknowledged "
                    "it already)."
                ),
            )
        audit_record(
            actor=actor,
            action=ACKNOWLEDGED,
            target=locked,
            details={
                "held_since": locked.identity_held_since.isoformat(),
                "reason": locked.identity_hold_reason,
                "wa_id": locked.wa_id or "",
                "identity_key_known": bool(locked.identity_key_hash),
                "note": note,
            },
        )
        reason = locked.identity_hold_reason
        locked.identity_held_since, locked.identity_hold_reason, locked.updated_at = None, "", now
        locked.save(update_fields=["identity_held_since", "identity_hold_reason", "updated_at"])
        who = actor.name or actor.email
        text = _("%(name)s acknowledged the change (%(reason)s): sending is allowed again.") % {
            "name": who,
            "reason": reason or _("number or identity"),
        }
        if note:
            text = f"{text} {_('Note:')} {note}"
        for conversation in Conversation.objects.filter(contact=locked).exclude(status=ConversationStatus.RESOLVED):
            workflow.activity_add(
                conversation=conversation,
                actor=actor,
                text=text,
                details={"action": ACKNOWLEDGED_ACTION, "note": note},
                at=now,
            )
        _publish_changed(contact_id=locked.pk, held=False)
    for name in ("identity_held_since", "identity_hold_reason", "updated_at"):
        setattr(contact, name, getattr(locked, name))
    return contact


def last_acknowledgement(contact: Contact) -> AuditEntry | None:
    """The latest acknowledgement of this contact's identity (who, when, the note), from the audit log."""
    return (
        AuditEntry.objects.filter(action=ACKNOWLEDGED, target_type="contact", target_id=str(contact.pk))
        .select_related("actor")
        .order_by("-created_at", "-id")
        .first()
    )
