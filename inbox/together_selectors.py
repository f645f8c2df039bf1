"""Reads for working together: notifications, the list's unread counts per view, canned responses, search.
Scoped by `inbox.access` like every selector: nothing here returns a row its person may not see."""

import re
from dataclasses import dataclass

from django.contrib.postgres.search import SearchQuery, SearchVector
from django.db import connection
from django.db.models import Count, Q
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from accounts.models import User
from inbox import access
from inbox.models import CannedResponse, Contact, Conversation, ConversationStatus, Message, Notification

# The bell's panel shows this many; the API pages further.
PANEL_SIZE = 30


def notification_list(*, user: User, unread_only: bool = False, before_id: int | None = None, limit: int = PANEL_SIZE):
    rows = Notification.objects.filter(user=user).select_related("actor", "conversation__contact")
    if unread_only:
        rows = rows.filter(read_at__isnull=True)
    if before_id is not None:
        rows = rows.filter(pk__lt=before_id)
    return list(rows.order_by("-id")[:limit])


def notification_unread_count(*, user: User) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


def unread_counts(user: User) -> dict[str, int]:
    """How many unresolved conversations with unread messages each list view holds, in one grouped query:
    `{"mine": n, "unassigned": n, "all": n}`."""
    return (
        access.conversations_visible_to(user)
        .filter(unread_count__gt=0)
        .exclude(status=ConversationStatus.RESOLVED)
        .aggregate(
            mine=Count("pk", filter=Q(assignee=user)),
            unassigned=Count("pk", filter=Q(assignee__isnull=True)),
            all=Count("pk"),
        )
    )


# Canned responses


def canned_for_user(*, user: User, prefix: str = "") -> list[CannedResponse]:
    """The person's own responses and the shared ones, by shortcut; where a personal shortcut repeats a
    shared one, the personal one wins."""
    rows = CannedResponse.objects.filter(Q(owner=user) | Q(owner__isnull=True))
    if prefix:
        rows = rows.filter(shortcut__startswith=prefix.lower())
    chosen: dict[str, CannedResponse] = {}
    for canned in rows.order_by("shortcut", "owner_id"):
        if canned.shortcut not in chosen or canned.owner_id is not None:
            chosen[canned.shortcut] = canned
    return sorted(chosen.values(), key=lambda canned: canned.shortcut)


# Search

SEARCH_KINDS = ("messages", "conversations", "contacts")
SEARCH_LIMIT = 20
SNIPPET_LENGTH = 160
# Messages that are not something a person wrote or read: nothing to find in them.
_UNSEARCHABLE = ("reaction", "edit", "revoke")


@dataclass(frozen=True)
class SearchResults:
    query: str
    messages: list[Message]
    conversations: list[Conversation]
    contacts: list[Contact]

    @property
    def empty(self) -> bool:
        return not (self.messages or self.conversations or self.contacts)


def search_terms(query: str) -> list[str]:
    """The words of a query (letters and digits only, so they are safe in a text-search query)."""
    return re.findall(r"\w+", query.lower())[:8]


def search(*, user: User, query: str, kind: str | None = None, limit: int = SEARCH_LIMIT) -> SearchResults:
    """Messages, conversations and contacts the person may see that match `query`, newest first.

    On PostgreSQL messages use the GIN-indexed full-text search (`simple` configuration, every word as a
    prefix); on SQLite a containment test. Conversations match their contact's name or number or a label;
    contacts their name, username or number."""
    query = query.strip()[:200]
    terms = search_terms(query)
    if not terms:
        return SearchResults(query, [], [], [])
    wanted = SEARCH_KINDS if kind not in SEARCH_KINDS else (kind,)
    return SearchResults(
        query,
        _messages_matching(user, terms, limit) if "messages" in wanted else [],
        _conversations_matching(user, terms, limit) if "conversations" in wanted else [],
        _contacts_matching(user, terms, limit) if "contacts" in wanted else [],
    )


def _messages_matching(user: User, terms: list[str], limit: int) -> list[Message]:
    rows = access.messages_visible_to(user).exclude(type__in=_UNSEARCHABLE)
    if connection.vendor == "postgresql":
        # Raw tsquery built from \w+ words only: `word:* & word:*`. Matches the index expression exactly.
        tsquery = SearchQuery(" & ".join(f"{term}:*" for term in terms), config="simple", search_type="raw")
        rows = rows.annotate(search=SearchVector("text", config="simple")).filter(search=tsquery)
    else:
        for term in terms:
            rows = rows.filter(text__icontains=term)
    found = list(
        rows.select_related("conversation__contact", "conversation__channel", "author").order_by("-timestamp", "-id")[
            :limit
        ]
    )
    for message in found:
        message.snippet = highlight(snippet(message.text, terms), terms)
    return found


def _contact_match(terms: list[str], prefix: str = "") -> Q:
    match = Q()
    for term in terms:
        match &= (
            Q(**{f"{prefix}profile_name__icontains": term})
            | Q(**{f"{prefix}username__icontains": term})
            | Q(**{f"{prefix}wa_id__contains": term})
        )
    return match


def _conversations_matching(user: User, terms: list[str], limit: int) -> list[Conversation]:
    labelled = Q()
    for term in terms:
        labelled &= Q(labels__name__icontains=term)
    matching = access.conversations_visible_to(user).filter(_contact_match(terms, "contact__") | labelled)
    rows = (
        access.conversations_visible_to(user)
        .filter(pk__in=matching.values("pk"))
        .select_related("contact", "channel", "assignee")
        .order_by("-activity_at", "-id")[:limit]
    )
    found = list(rows)
    for conversation in found:
        conversation.highlighted_name = highlight(conversation.contact.display_name, terms)
        conversation.snippet = highlight(conversation.last_message_preview, terms)
    return found


def _contacts_matching(user: User, terms: list[str], limit: int) -> list[Contact]:
    visible = access.conversations_visible_to(user).values("contact_id")
    found = list(Contact.objects.filter(_contact_match(terms), pk__in=visible).order_by("-updated_at", "-id")[:limit])
    # One query for each contact's newest visible conversation (the result opens it).
    latest: dict[int, int] = {}
    for contact_id, conversation_id in (
        access.conversations_visible_to(user)
        .filter(contact_id__in=[contact.pk for contact in found])
        .order_by("contact_id", "-activity_at", "-id")
        .values_list("contact_id", "pk")
    ):
        latest.setdefault(contact_id, conversation_id)
    for contact in found:
        contact.highlighted_name = highlight(contact.display_name, terms)
        contact.latest_conversation_id = latest.get(contact.pk)
    return found


def snippet(text: str, terms: list[str], length: int = SNIPPET_LENGTH) -> str:
    """About `length` characters of `text` around the first match, on one line."""
    text = " ".join(text.split())
    lowered = text.lower()
    hits = [lowered.find(term) for term in terms if lowered.find(term) >= 0]
    start = max(0, min(hits) - length // 3) if hits else 0
    cut = text[start : start + length]
    return ("…" if start else "") + cut + ("…" if start + length < len(text) else "")


def highlight(text: str, terms: list[str]) -> SafeString:
    """`text` escaped, then each term marked: escaping first means customer text can never become markup,
    and the marks are the only HTML in the result."""
    escaped = str(escape(text))
    patterns = [re.escape(str(escape(term))) for term in terms if term]
    if not patterns:
        return mark_safe(escaped)  # noqa: S308 - escaped above
    # Never inside an entity such as &amp; (the terms are \w+, so only its letters could match).
    pattern = re.compile(r"(&\w+;|&#\d+;)|(" + "|".join(sorted(patterns, key=len, reverse=True)) + ")", re.IGNORECASE)
    marked = pattern.sub(lambda m: m.group(1) or f"<mark>{m.group(2)}</mark>", escaped)
    return mark_safe(marked)  # noqa: S308 - built from escaped text
