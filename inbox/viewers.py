"""Who is viewing or typing in a conversation: ephemeral presence over the agents' socket.

A tab says `{"type": "viewing", "conversation_id": N}` when it opens a thread, `{"type": "typing", ...}` while
its person writes (throttled here too), and `{"type": "left", ...}` when it leaves. The consumer checks
access before joining the conversation's group (`events.conversation_group`), so only people who may see
the conversation hear about it. Nothing here is stored as a LiveEvent: presence is stale after seconds, and a
tab that reconnects simply says "viewing" again.

The one thing kept is "who typed here last, and when", in the cache for a few seconds: the soft claim
(`someone_else_replying`) asks it before a send.
"""

import time
from datetime import datetime, timedelta

from django.core.cache import cache
from django.utils import timezone

from accounts.models import User
from inbox.models import Direction, Message

# The browser sends "typing" at most every few seconds; the server forwards at most one per this interval.
TYPING_THROTTLE_SECONDS = 2.0
# Someone typed here this recently, or sent this recently: the composer warns before a second reply.
CLAIM_WINDOW = timedelta(seconds=30)
TYPING_FRESH_SECONDS = 8


def _typing_key(conversation_id: int) -> str:
    return f"together:typing:{conversation_id}"


def typing_record(*, conversation_id: int, user_id: int) -> None:
    """Remember that `user_id` is typing in the conversation (a few seconds, for the soft claim)."""
    typing = cache.get(_typing_key(conversation_id)) or {}
    now = time.time()
    typing = {uid: at for uid, at in typing.items() if now - at < TYPING_FRESH_SECONDS}
    typing[user_id] = now
    cache.set(_typing_key(conversation_id), typing, TYPING_FRESH_SECONDS)


def typing_clear(*, conversation_id: int, user_id: int) -> None:
    typing = cache.get(_typing_key(conversation_id)) or {}
    if typing.pop(user_id, None) is not None:
        cache.set(_typing_key(conversation_id), typing, TYPING_FRESH_SECONDS)


def someone_else_replying(*, conversation_id: int, user: User, now: datetime | None = None) -> User | None:
    """Another person who is typing in this conversation or sent a reply in the last CLAIM_WINDOW, or None.
    Two agents answering the same customer at once is the double reply the soft claim prevents."""
    now = now or timezone.now()
    typing = cache.get(_typing_key(conversation_id)) or {}
    fresh = time.time() - TYPING_FRESH_SECONDS
    typists = [uid for uid, at in typing.items() if uid != user.pk and at >= fresh]
    if typists:
        other = User.objects.filter(pk__in=typists, is_active=True).first()
        if other is not None:
            return other
    recent = (
        Message.objects.filter(
            conversation_id=conversation_id,
            direction=Direction.OUTBOUND,
            timestamp__gte=now - CLAIM_WINDOW,
            author__isnull=False,
        )
        .exclude(author=user)
        .select_related("author")
        .order_by("-timestamp")
        .first()
    )
    return recent.author if recent is not None else None
