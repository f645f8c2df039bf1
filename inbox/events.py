"""Live events: the only way services tell browsers that something changed.

`publish()` defers to `transaction.on_commit`: nothing is pushed for a write that rolls back. Each event
is stored (its id is the sequence number) and then sent to the channel's group; the consumer re-checks
access for every event before forwarding it. A page that reconnects asks for events after the last
sequence it saw (the Redis channel layer is at-most-once by design). `grep "events.publish("` lists every
producer.
"""

import asyncio
import logging
import threading
from functools import partial

from asgiref.sync import async_to_sync
from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.db import transaction
from django.db.models import Max

from inbox.models import Conversation, LiveEvent, Message, MessageStatus
from inbox.providers.whatsapp_cloud.errors import failure_reason

logger = logging.getLogger(__name__)


def channel_group(channel_id: int) -> str:
    """The Channels group of everyone who may see a channel's conversations."""
    return f"channel.{channel_id}"


def user_group(user_id: int) -> str:
    return f"user.{user_id}"


def conversation_group(conversation_id: int) -> str:
    """The group of the sockets viewing one conversation (joined only after an access check): ephemeral
    presence ("Sam is viewing", "Sam is typing…") travels here and is never stored."""
    return f"conversation.{conversation_id}"


def publish_to_user(*, user_id: int, type: str, data: dict) -> None:
    """Push `type` to one person's open tabs once the transaction commits. Not stored as a LiveEvent: the
    row it announces (a notification) is the record, and a page that reconnects reloads it."""
    transaction.on_commit(partial(_send_to_user, user_id, type, data))


def _send_to_user(user_id: int, type: str, data: dict) -> None:
    try:
        group_send(user_group(user_id), {"type": "user.event", "event": {"type": type, "data": data}})
    except Exception:
        logger.exception("Could not push %s to user %s", type, user_id)


def publish_access_changed(*, user_ids) -> None:
    """Tell these people's open sockets that what they may see changed (team members or channels, a
    conversation moved to another team, a role, a deactivation): once the transaction commits, each socket
    drops its access cache, re-joins the channel groups it may follow now and has the page reload."""
    transaction.on_commit(partial(_send_access_changed, sorted(set(user_ids))))


def _send_access_changed(user_ids: list[int]) -> None:
    for user_id in user_ids:
        try:
            group_send(user_group(user_id), {"type": "access.changed"})
        except Exception:
            logger.exception("Could not tell user %s that their access changed", user_id)


def publish_sessions_revoked(*, user_id: int) -> None:
    """Close this person's open sockets once the transaction commits (their password changed): each closes
    with 4401 at once instead of at its next event, and the page sends them to the login page."""
    transaction.on_commit(partial(_send_sessions_revoked, user_id))


def _send_sessions_revoked(user_id: int) -> None:
    try:
        group_send(user_group(user_id), {"type": "session.revoked"})
    except Exception:
        logger.exception("Could not close the sockets of user %s", user_id)


def publish(*, channel_id: int, conversation_id: int | None, type: str, data: dict) -> None:
    """Push `type` with a small snapshot `data` to the channel's viewers once the transaction commits."""
    transaction.on_commit(partial(_store_and_send, channel_id, conversation_id, type, data))


def publish_contact_change(*, contact_id: int, type: str, data: dict) -> None:
    """A change to a contact (consent, identity) for whoever has one of their conversations open: sent with
    the contact's latest conversation on each number it wrote to (live events travel per channel, and the
    conversation keeps them to the people who may see the contact). `data` gets `contact_id` and
    `conversation_id`."""
    latest = (
        Conversation.objects.filter(contact_id=contact_id)
        .values("channel_id")
        .annotate(conversation_id=Max("pk"))
        .order_by("channel_id")
    )
    for row in latest:
        publish(
            channel_id=row["channel_id"],
            conversation_id=row["conversation_id"],
            type=type,
            data={"contact_id": contact_id, "conversation_id": row["conversation_id"], **data},
        )


def publish_message(message: Message, type: str) -> None:
    """`message.created` or `message.updated` with a small snapshot; pages fetch the rendered bubble."""
    data = {
        "message_id": message.pk,
        "conversation_id": message.conversation_id,
        "direction": message.direction,
        "type": message.type,
        "status": message.status,
    }
    if message.status == MessageStatus.FAILED:
        data["error_code"] = message.error_code
        data["error_reason"] = failure_reason(message.error_code, message.error_title)
    publish(channel_id=message.channel_id, conversation_id=message.conversation_id, type=type, data=data)


def publish_conversation(conversation_id: int) -> None:
    """`conversation.updated` with the list row's columns as they are now in this transaction."""
    row = (
        Conversation.objects.filter(pk=conversation_id)
        .values(
            "channel_id",
            "status",
            "last_message_at",
            "last_message_preview",
            "last_message_direction",
            "unread_count",
            "last_inbound_at",
            "service_window_closes_at",
            # Workflow (issue 4): who holds it, in which team's queue, how urgent, snoozed until when.
            "assignee_id",
            "team_id",
            "priority",
            "snoozed_until",
        )
        .get()
    )
    channel_id = row.pop("channel_id")
    data = {key: value.isoformat() if hasattr(value, "isoformat") else value for key, value in row.items()}
    publish(
        channel_id=channel_id,
        conversation_id=conversation_id,
        type="conversation.updated",
        data={"conversation_id": conversation_id, **data},
    )


def _store_and_send(channel_id: int, conversation_id: int | None, type: str, data: dict) -> None:
    event = LiveEvent.objects.create(channel_id=channel_id, conversation_id=conversation_id, type=type, data=data)
    try:
        group_send(channel_group(channel_id), {"type": "live.event", "event": as_message(event)})
    except Exception:
        # The event is stored: a socket that missed it fetches it on resume.
        logger.exception("Could not push live event %s", event.pk)


def as_message(event: LiveEvent) -> dict:
    """The JSON a browser receives for one event."""
    return {
        "seq": event.pk,
        "type": event.type,
        "channel_id": event.channel_id,
        "conversation_id": event.conversation_id,
        "data": event.data,
    }


# --- Sending to Channels groups from sync code ----------------------------------------------------------

_server_loop: asyncio.AbstractEventLoop | None = None
_sender_loop: asyncio.AbstractEventLoop | None = None
_sender_loop_lock = threading.Lock()
SEND_TIMEOUT_SECONDS = 5


def remember_server_loop(loop: asyncio.AbstractEventLoop) -> None:
    """The consumers' event loop (Daphne's). In the embedded mode the in-memory layer's queues live on it."""
    global _server_loop
    _server_loop = loop


def group_send(group: str, message: dict) -> None:
    """Send to a group from sync code (services after commit, task threads, Celery workers).

    - In-memory layer (embedded mode): on the server's own loop. Its asyncio queues are not thread-safe: a
      put from another thread does not wake the waiting socket, which then sat until Daphne's next 1-second
      tick (measured: every event arrived 0.8-1.1 s late).
    - Redis layer: on one long-lived loop per process, so channels_redis keeps its connections instead of
      opening a new one for every event (async_to_sync makes a new loop per call)."""
    layer = get_channel_layer()
    if isinstance(layer, InMemoryChannelLayer):
        loop = _server_loop
        if loop is None or loop.is_closed():
            async_to_sync(layer.group_send)(group, message)  # no socket on this process: nobody waits
            return
        if _running_loop() is loop:
            loop.create_task(layer.group_send(group, message))
            return
    else:
        loop = _persistent_sender_loop()
    asyncio.run_coroutine_threadsafe(layer.group_send(group, message), loop).result(timeout=SEND_TIMEOUT_SECONDS)


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def _persistent_sender_loop() -> asyncio.AbstractEventLoop:
    global _sender_loop
    with _sender_loop_lock:
        if _sender_loop is None or _sender_loop.is_closed():
            _sender_loop = asyncio.new_event_loop()
            threading.Thread(target=_sender_loop.run_forever, name="switchboard-live-send", daemon=True).start()
        return _sender_loop
