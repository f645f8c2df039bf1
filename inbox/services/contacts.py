"""Writes about a contact: the language the business writes to them in, sending them a template (with its
header file), and starting a conversation with them (a template, since WhatsApp lets a business open a
conversation with nothing else).

Keyword-only, one transaction each; refusals are `ContactRefused` (the contact's own fields) or the outbound
service's `SendRefused` (anything about sending), with a stable code and the sentence to show.
"""

from datetime import datetime

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.services import audit_record
from inbox import access
from inbox.models import Channel, Contact, Conversation, ConversationStatus, Message
from inbox.services import workflow
from inbox.services.outbound import SendRefused, media_store, message_send
from templates_app.lint import LANGUAGE_PATTERN


class ContactRefused(Exception):
    """The change may not be made. `code` is stable (`permission_denied`, `invalid_language`); `detail` is
    the sentence shown where the person tried."""

    def __init__(self, code: str, detail: str):
        super().__init__(detail)
        self.code = code
        self.detail = detail


def contact_language_set(*, contact: Contact, actor: User, language: str) -> Contact:
    """Set the language templates are offered in first for this contact (Meta's code, e.g. `pt_BR`; blank
    for none). Audited."""
    if not access.can_edit_contact(actor, contact):
        raise ContactRefused("permission_denied", _("Managers read contacts; agents and admins change them."))
    language = language.strip()
    if language and not LANGUAGE_PATTERN.fullmatch(language):
        raise ContactRefused(
            "invalid_language", _("Choose a language WhatsApp knows, written like en_US or pt_BR (or none).")
        )
    if language == contact.language:
        return contact
    previous = contact.language
    with transaction.atomic():
        contact.language = language
        contact.updated_at = timezone.now()
        contact.save(update_fields=["language", "updated_at"])
        audit_record(
            actor=actor, action="contact.language_changed", target=contact, details={"from": previous, "to": language}
        )
    return contact


def conversation_start(
    *,
    contact: Contact,
    channel: Channel,
    author: User,
    template_id: int,
    values: dict[str, str],
    header_media: UploadedFile | None = None,
    now: datetime | None = None,
) -> Message:
    """Write to a contact first, from their page: on `channel`, in their unresolved conversation there or a
    new one (the author holds it), with an approved template. Returns the queued template message.

    All or nothing: when the template is refused (`template_not_sendable`, `template_parameters_invalid`,
    `permission_denied`...) the SendRefused propagates and no conversation, file or message is left behind."""
    now = now or timezone.now()
    # Judged on the conversation as it would be opened (no team: everyone working the number sees it).
    if not access.can_view_contact(author, contact) or not access.can_reply(
        author, Conversation(channel=channel, contact=contact)
    ):
        raise SendRefused("permission_denied", _("You may not write to this customer on this number."))
    if not channel.is_active:
        raise SendRefused("channel_inactive", _("This number is switched off: an admin can turn it back on."))
    with transaction.atomic():
        conversation, created = _conversation_for_outbound(contact=contact, channel=channel, at=now)
        if created:
            # Whoever starts the conversation answers the customer's reply (it skips the round robin).
            workflow.conversation_take(conversation=conversation, actor=author)
        return template_send(
            conversation=conversation,
            author=author,
            template_id=template_id,
            values=values,
            header_media=header_media,
            now=now,
        )


def template_send(
    *,
    conversation: Conversation,
    author: User,
    template_id: int,
    values: dict[str, str],
    header_media: UploadedFile | None = None,
    now: datetime | None = None,
) -> Message:
    """Send an approved template to the conversation's customer, its header file (image, video, document)
    stored first. Raises SendRefused as `message_send` does (or `media_store`, for the file); a refused
    template leaves no stored file behind."""
    stored = None
    try:
        with transaction.atomic():
            payload: dict = {"template_id": template_id, "values": values}
            if header_media is not None:
                stored = media_store(conversation=conversation, author=author, upload=header_media)
                payload["header_media_file_id"] = stored.pk
            return message_send(conversation=conversation, author=author, kind="template", payload=payload, now=now)
    except Exception:
        if stored is not None:
            # Its row went with the transaction; the file on disk did not.
            stored.file.delete(save=False)
        raise


def _conversation_for_outbound(*, contact: Contact, channel: Channel, at: datetime) -> tuple[Conversation, bool]:
    """(the contact's unresolved conversation on the channel, False), or (a new one, True). A new one carries
    the service window of the contact's earlier conversations on this number: the window belongs to the
    customer and the number, not to one conversation (as `outbound._facts` reads it)."""
    unresolved = Conversation.objects.filter(channel=channel, contact=contact).exclude(
        status=ConversationStatus.RESOLVED
    )
    conversation = unresolved.first()
    if conversation is not None:
        return conversation, False
    earlier = Conversation.objects.filter(channel=channel, contact=contact).aggregate(
        last_inbound_at=Max("last_inbound_at"), closes_at=Max("service_window_closes_at")
    )
    try:
        with transaction.atomic():
            conversation = Conversation.objects.create(
                channel=channel,
                contact=contact,
                activity_at=at,
                last_inbound_at=earlier["last_inbound_at"],
                service_window_closes_at=earlier["closes_at"],
            )
            return conversation, True
    except IntegrityError:
        # The customer wrote (or a colleague started it) between our read and our write: use that one.
        return unresolved.get(), False
