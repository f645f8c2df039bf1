"""In-app notifications: a mention, an assignment, a new customer message in a conversation assigned to me.

Every notification is a row (the bell lists them, the API pages them) and a live push to its person's tabs
(`events.user_group`), after commit. `notification_create` is the one writer; the workflow services call it
for assignments, transfers and escalations, the notes service for mentions, ingest for new messages.
"""

from datetime import datetime
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from inbox import access, events
from inbox.models import Conversation, Message, Notification

if TYPE_CHECKING:
    from templates_app.models import MessageTemplate

TEXT_LENGTH = 300


def notification_create(
    *,
    user: User,
    kind: str,
    conversation: Conversation | None = None,
    message: Message | None = None,
    template: "MessageTemplate | None" = None,
    actor: User | None = None,
    text: str = "",
) -> Notification | None:
    """Notify `user` and push `notification.created` to their open tabs. Returns None (and notifies no one)
    when the person is inactive, is the actor themselves (assigning a conversation to yourself tells you
    nothing), or may not see the conversation (a notification must never leak one)."""
    if not user.is_active or (actor is not None and actor.pk == user.pk):
        return None
    if conversation is not None and not access.can_view_conversation(user, conversation):
        return None
    with transaction.atomic():
        notification = Notification.objects.create(
            user=user,
            kind=kind,
            conversation=conversation,
            message=message,
            template=template,
            actor=actor,
            text=" ".join(text.split())[:TEXT_LENGTH],
        )
        events.publish_to_user(user_id=user.pk, type="notification.created", data=notification_snapshot(notification))
    return notification


def notification_snapshot(notification: Notification) -> dict:
    """What a tab needs to show and announce a notification (the bell re-renders its list from the server)."""
    actor = notification.actor
    conversation = notification.conversation
    return {
        "id": notification.pk,
        "kind": notification.kind,
        "kind_label": str(notification.get_kind_display()),
        "text": notification.text,
        "conversation_id": notification.conversation_id,
        "template_id": notification.template_id,
        "contact_name": conversation.contact.display_name if conversation is not None else "",
        "actor_name": (actor.name or actor.email) if actor is not None else "",
        "created_at": notification.created_at.isoformat(),
        "read": notification.read_at is not None,
    }


def notification_mark_read(*, notification: Notification, user: User, now: datetime | None = None) -> Notification:
    """Mark one of `user`'s notifications read (a second call changes nothing)."""
    if notification.user_id != user.pk:
        raise PermissionError("Only its person marks a notification read.")
    if notification.read_at is None:
        notification.read_at = now or timezone.now()
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(read_at=notification.read_at)
    return notification


def notifications_mark_all_read(*, user: User, now: datetime | None = None) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).update(read_at=now or timezone.now())


def notifications_mark_read_for_conversation(*, user: User, conversation: Conversation) -> int:
    """Opening a conversation reads the notifications that pointed at it."""
    return Notification.objects.filter(user=user, conversation=conversation, read_at__isnull=True).update(
        read_at=timezone.now()
    )


def notify_assignee_of_inbound(*, conversation_id: int, message: Message) -> Notification | None:
    """A customer wrote in a conversation assigned to someone: tell that person (ingest calls this)."""
    conversation = (
        Conversation.objects.select_related("assignee", "contact", "channel").filter(pk=conversation_id).first()
    )
    if conversation is None or conversation.assignee is None:
        return None
    return notification_create(
        user=conversation.assignee,
        kind="new_message",
        conversation=conversation,
        message=message,
        text=message.text or message.get_type_display(),
    )
