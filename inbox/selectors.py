"""Every read used by pages and the API, scoped by `inbox.access`: a selector never returns a row its user
may not see.

Lists are keyset pages: ordered by an indexed (time, id) pair and continued from the last row's key, so a
page costs the same whatever its depth (no OFFSET) and nothing counts the whole table (no COUNT).
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Generic, TypeVar

from django.conf import settings
from django.db.models import Count, Model, Q, QuerySet
from django.db.models.functions import Length
from django.utils import timezone

from accounts.models import Team, User
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


# The list's "window closing soon" filter and the assignee's alert (inbox.services.window_alerts): free-form
# replies end within this long. Configurable (settings.WINDOW_ALERT_LEAD_MINUTES); this is the default.
WINDOW_CLOSING_SOON = timedelta(hours=2)


def window_closing_lead() -> timedelta:
    """How long before the 24-hour window closes a conversation counts as "closing soon": the list's filter
    and the window-closing alert both use it, so the alert names exactly the conversations the filter shows."""
    minutes = getattr(settings, "WINDOW_ALERT_LEAD_MINUTES", None)
    return timedelta(minutes=minutes) if minutes else WINDOW_CLOSING_SOON


@dataclass(frozen=True)
class ConversationFilters:
    """What the inbox list and the API narrow conversations by. `assignee` is "me", "none" or a user id;
    `team` is "mine" (the person's teams) or a team id; `statuses` empty means every status."""

    assignee: str | int | None = None
    team: str | int | None = None
    statuses: tuple[str, ...] = ()
    channel_id: int | None = None
    label_id: int | None = None
    priority: str | None = None
    window_closing_soon: bool = False


def _my_team_ids(user: User) -> QuerySet:
    return Team.objects.filter(members=user).values("pk")


def conversations_filter(
    conversations: QuerySet[Conversation],
    *,
    user: User,
    filters: ConversationFilters,
    now: datetime | None = None,
    with_assignment: bool = True,
) -> QuerySet[Conversation]:
    """Apply `filters` (the assignee and team parts only when `with_assignment`: the tab counts group by them)."""
    if with_assignment:
        if filters.assignee == "me":
            conversations = conversations.filter(assignee=user.pk)
        elif filters.assignee == "none":
            conversations = conversations.filter(assignee__isnull=True)
        elif filters.assignee is not None:
            conversations = conversations.filter(assignee=filters.assignee)
        if filters.team == "mine":
            conversations = conversations.filter(team__in=_my_team_ids(user))
        elif filters.team is not None:
            conversations = conversations.filter(team=filters.team)
    if filters.statuses:
        conversations = conversations.filter(status__in=filters.statuses)
    if filters.channel_id is not None:
        conversations = conversations.filter(channel_id=filters.channel_id)
    if filters.label_id is not None:
        conversations = conversations.filter(labels=filters.label_id)
    if filters.priority:
        conversations = conversations.filter(priority=filters.priority)
    if filters.window_closing_soon:
        now = now or timezone.now()
        conversations = conversations.filter(
            service_window_closes_at__gt=now, service_window_closes_at__lte=now + window_closing_lead()
        )
    return conversations


def conversation_counts(*, user: User, filters: ConversationFilters) -> dict[str, int]:
    """How many conversations each tab (mine, unassigned, team, all) holds under the other filters: one
    grouped COUNT, the only count per request (the list itself is keyset)."""
    conversations = conversations_filter(
        access.conversations_visible_to(user), user=user, filters=filters, with_assignment=False
    )
    return conversations.aggregate(
        mine=Count("pk", filter=Q(assignee=user.pk)),
        unassigned=Count("pk", filter=Q(assignee__isnull=True)),
        team=Count("pk", filter=Q(team__in=_my_team_ids(user))),
        all=Count("pk"),
    )


def conversation_page(
    *,
    user: User,
    channel_id: int | None = None,
    status: str | None = None,
    filters: ConversationFilters | None = None,
    after: PageKey | None = None,
    limit: int = 25,
) -> Page[Conversation]:
    """Conversations with the newest activity first, with their contact, assignee and labels (two queries
    per page)."""
    conversations = access.conversations_visible_to(user).select_related("contact").prefetch_related("labels")
    if channel_id is not None:
        conversations = conversations.filter(channel_id=channel_id)
    if status is not None:
        conversations = conversations.filter(status=status)
    if filters is not None:
        conversations = conversations_filter(conversations, user=user, filters=filters)
    return _keyset_page(conversations, time_field="activity_at", newest_first=True, after=after, limit=limit)


def conversation_get(*, user: User, conversation_id: int) -> Conversation | None:
    return access.conversations_visible_to(user).select_related("contact").filter(pk=conversation_id).first()


def message_page(
    *, user: User, conversation: Conversation, after: PageKey | None = None, limit: int = 50
) -> Page[Message]:
    """A conversation's messages in the order they happened (Meta's timestamps), oldest first."""
    messages = access.messages_visible_to(user).filter(conversation=conversation)
    return _keyset_page(messages, time_field="timestamp", newest_first=False, after=after, limit=limit)


def message_get(*, user: User, message_id: int) -> Message | None:
    """One message the person may see, with its conversation."""
    return access.messages_visible_to(user).select_related("conversation").filter(pk=message_id).first()


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
