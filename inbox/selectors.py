"""Every read used by pages and the API, scoped by `inbox.access`: a selector never returns a row its user
may not see.

Lists are keyset pages: ordered by an indexed (time, id) pair and continued from the last row's key, so a
page costs the same whatever its depth (no OFFSET) and nothing counts the whole table (no COUNT).
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from django.db.models import Model, Q, QuerySet
from django.db.models.functions import Length

from accounts.models import User
from inbox import access
from inbox.models import Channel, Conversation, Message, WebhookEvent

T = TypeVar("T", bound=Model)

# A page continues after the row with this key: (the sort time, the id).
PageKey = tuple[datetime, int]


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    # The key of the last item when more rows follow; None on the last page.
    next_key: PageKey | None


def _keyset_page(
    queryset: QuerySet[T], *, time_field: str, newest_first: bool, after: PageKey | None, limit: int
) -> Page[T]:
    """One page of `queryset` ordered by (time_field, id), continuing after the row keyed `after`.

    Ties on the time are broken by id, so rows with equal times are neither repeated nor skipped."""
    if after is not None:
        time, pk = after
        if newest_first:
            # The `lte` bound alone lets the database use the (time, id) index range; the OR breaks ties.
            queryset = queryset.filter(
                Q(**{f"{time_field}__lte": time}), Q(**{f"{time_field}__lt": time}) | Q(pk__lt=pk)
            )
        else:
            queryset = queryset.filter(
                Q(**{f"{time_field}__gte": time}), Q(**{f"{time_field}__gt": time}) | Q(pk__gt=pk)
            )
    order = (f"-{time_field}", "-id") if newest_first else (time_field, "id")
    rows = list(queryset.order_by(*order)[: limit + 1])
    items = rows[:limit]
    next_key = (getattr(items[-1], time_field), items[-1].pk) if len(rows) > limit else None
    return Page(items=items, next_key=next_key)


def channel_list(*, user: User) -> QuerySet[Channel]:
    return access.channels_visible_to(user).order_by("id")


def channel_get(*, user: User, channel_id: int) -> Channel | None:
    return access.channels_visible_to(user).filter(pk=channel_id).first()


def conversation_page(
    *,
    user: User,
    channel_id: int | None = None,
    status: str | None = None,
    after: PageKey | None = None,
    limit: int = 25,
) -> Page[Conversation]:
    """Conversations with the newest activity first, with their contact (one query per page)."""
    conversations = access.conversations_visible_to(user).select_related("contact")
    if channel_id is not None:
        conversations = conversations.filter(channel_id=channel_id)
    if status is not None:
        conversations = conversations.filter(status=status)
    return _keyset_page(conversations, time_field="activity_at", newest_first=True, after=after, limit=limit)


def conversation_get(*, user: User, conversation_id: int) -> Conversation | None:
    return access.conversations_visible_to(user).select_related("contact").filter(pk=conversation_id).first()


def message_page(
    *, user: User, conversation: Conversation, after: PageKey | None = None, limit: int = 50
) -> Page[Message]:
    """A conversation's messages in the order they happened (Meta's timestamps), oldest first."""
    messages = Message.objects.filter(conversation=conversation, channel__in=access.channels_visible_to(user))
    return _keyset_page(messages, time_field="timestamp", newest_first=False, after=after, limit=limit)


def message_get(*, user: User, message_id: int) -> Message | None:
    """One message the person may see, with its conversation."""
    return (
        Message.objects.select_related("conversation")
        .filter(pk=message_id, channel__in=access.channels_visible_to(user))
        .first()
    )


def _webhook_events_visible_to(user: User) -> QuerySet[WebhookEvent]:
    if not access.can_view_webhook_events(user):
        return WebhookEvent.objects.none()
    return WebhookEvent.objects.annotate(size_bytes=Length("raw_body"))


def webhook_event_page(
    *, user: User, state: str | None = None, after: PageKey | None = None, limit: int = 25
) -> Page[WebhookEvent]:
    """Stored deliveries, newest first, without their raw bodies (up to 3 MB each): `size_bytes` says how big."""
    events = _webhook_events_visible_to(user).defer("raw_body")
    if state is not None:
        events = events.filter(state=state)
    return _keyset_page(events, time_field="received_at", newest_first=True, after=after, limit=limit)


def webhook_event_get(*, user: User, event_id: int) -> WebhookEvent | None:
    return _webhook_events_visible_to(user).filter(pk=event_id).first()
