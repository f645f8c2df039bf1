"""Private notes: what colleagues write to each other inside a conversation, never sent to the customer.

A note is a Message with direction INTERNAL and type NOTE. It has no outbox entry, so the outbound worker
never sees it; it does not count as unread, does not touch the service window, and the list's preview shows
it as "Note: …" only to say the team wrote something. `@mentions` of colleagues who may see the conversation
notify them.
"""

import re
from datetime import datetime

from django.db import transaction
from django.db.models import F, Q
from django.db.models.functions import Greatest
from django.utils import timezone

from accounts.models import User
from inbox import access, events
from inbox.models import Conversation, Direction, Message, MessageStatus, MessageType, NotificationKind
from inbox.services.notifications import notification_create

NOTE_LENGTH = 4096
PREVIEW_LENGTH = 160
# `@` then a handle: an e-mail address, its local part, or a name without spaces (as the autocomplete
# inserts it). Preceded by the start or a space so e-mail addresses in the text are not mentions.
MENTION = re.compile(r"(?:(?<=\s)|^)@([\w.+-]+(?:@[\w-]+(?:\.[\w-]+)+)?)", re.UNICODE)


class NoteRefused(Exception):
    def __init__(self, code: str, detail: str):
        super().__init__(detail)
        self.code = code
        self.detail = detail


def note_add(*, conversation: Conversation, author: User, body: str, now: datetime | None = None) -> Message:
    """Add a private note by `author` and notify the colleagues it @mentions who may see the conversation."""
    now = now or timezone.now()
    if not access.can_work_conversation(author, conversation):
        raise NoteRefused("permission_denied", "You may not add notes to this conversation.")
    body = body.strip()
    if not body:
        raise NoteRefused("empty", "Write the note first.")
    if len(body) > NOTE_LENGTH:
        raise NoteRefused("text_too_long", f"A note holds at most {NOTE_LENGTH} characters.")
    mentioned = mentioned_users(conversation=conversation, body=body, author=author)
    with transaction.atomic():
        note = Message.objects.create(
            conversation=conversation,
            channel_id=conversation.channel_id,
            direction=Direction.INTERNAL,
            type=MessageType.NOTE,
            text=body,
            content={"mentions": [user.pk for user in mentioned]},
            status=MessageStatus.SENT,
            status_at=now,
            timestamp=now,
            author=author,
        )
        # The list moves the conversation up and previews the note, but unread and the window stay as they are.
        Conversation.objects.filter(pk=conversation.pk).update(activity_at=Greatest(F("activity_at"), now))
        preview = ("Note: " + " ".join(body.split()))[:PREVIEW_LENGTH]
        Conversation.objects.filter(
            Q(last_message_at__isnull=True) | Q(last_message_at__lte=now), pk=conversation.pk
        ).update(last_message_at=now, last_message_preview=preview, last_message_direction=Direction.INTERNAL)
        for user in mentioned:
            notification_create(
                user=user,
                kind=NotificationKind.MENTION,
                conversation=conversation,
                message=note,
                actor=author,
                text=body,
            )
        events.publish_message(note, "message.created")
        events.publish_conversation(conversation.pk)
    return note


def mentionable_users(*, conversation: Conversation, prefix: str = "", limit: int | None = None) -> list[User]:
    """Active people who may see the conversation, optionally those whose name or e-mail starts with
    `prefix` (any word of the name). Ordered by name."""
    people = access.people_who_can_view(conversation).order_by("name", "email")
    prefix = prefix.strip().lower()
    found = []
    for person in people:
        words = [person.email.lower(), *(word.lower() for word in person.name.split())]
        if prefix and not any(word.startswith(prefix) for word in words):
            continue
        found.append(person)
        if limit is not None and len(found) >= limit:
            break
    return found


def mention_handle(user: User, *, among: list[User]) -> str:
    """What the autocomplete inserts after `@`: the e-mail's local part when no one else shares it."""
    local = user.email.split("@", 1)[0]
    clashes = [
        other for other in among if other.pk != user.pk and other.email.split("@", 1)[0].lower() == local.lower()
    ]
    return user.email if clashes else local


def mentioned_users(*, conversation: Conversation, body: str, author: User) -> list[User]:
    """The people a note mentions (`@local-part`, `@email`, or `@FirstName` when unambiguous) who may see
    the conversation; never the author."""
    handles = {handle.lower().rstrip(".") for handle in MENTION.findall(body)}
    if not handles:
        return []
    candidates = [person for person in mentionable_users(conversation=conversation) if person.pk != author.pk]
    found: dict[int, User] = {}
    for handle in handles:
        matches = [person for person in candidates if person.email.lower() == handle]
        if not matches:
            matches = [person for person in candidates if person.email.split("@", 1)[0].lower() == handle]
        if not matches:
            matches = [
                person
                for person in candidates
                if person.name
                and (person.name.split()[0].lower() == handle or "".join(person.name.split()).lower() == handle)
            ]
        if len(matches) == 1:
            found[matches[0].pk] = matches[0]
    return list(found.values())
