"""The agents' socket at `/ws/`: live events for the channels a person may see, and replay after a reconnect.

Why an async consumer: a browser tab keeps its socket open all day and almost all of that time nothing
happens. Async consumers wait on the event loop for free, whereas each sync consumer call hops to a thread;
the only blocking work here (access checks, replay) goes explicitly through `database_sync_to_async`, so
every database touch is visible in this file.

Protocol (JSON text frames):
- server → client: a live event, shaped by `events.as_message` (`seq`, `type`, `channel_id`,
  `conversation_id`, `data`); `{"type": "resync", "seq": <latest>}` when replay cannot cover the gap (the
  page reloads its panes and continues from `seq`); `{"type": "pong"}`.
- server → client: `{"type": "access.changed"}` when what the person may see changed (the page reloads its
  panes); the socket has already re-joined the channel groups it may follow and dropped its access cache.
- client → server: `{"type": "resume", "after": <seq>}` replays every stored event after `seq` that the
  person may see, in order; `{"type": "ping"}` keeps the socket warm and refreshes which channels it follows.
- Per person (`events.user_group`): `{"type": "notification.created", "data": {...}}`, no `seq` (not stored).
- Presence (`inbox.presence`): client → server `{"type": "viewing" | "typing" | "left", "conversation_id"}`;
  server → client `{"type": "presence", "state": "viewing" | "typing" | "left", "conversation_id", "user_id",
  "name"}` to the others viewing that conversation, never stored and only after an access check.

Close code 4401: not (or no longer) signed in: the session ended, the password changed or the account was
deactivated. The page sends the person to the login page instead of reconnecting.
"""

import asyncio
import time

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.contrib.auth import HASH_SESSION_KEY

from accounts.models import User
from inbox import access, events, viewers
from inbox.models import Conversation, LiveEvent
from inbox.services import workflow

CLOSE_UNAUTHENTICATED = 4401


class InboxConsumer(AsyncJsonWebsocketConsumer):
    # Access is re-checked for every event; a burst of events for the same channel within this many
    # seconds shares one check. Small enough that a revoked person stops receiving almost at once.
    ACCESS_CACHE_SECONDS = 1.0
    # A replay longer than this tells the page to reload its panes instead of streaming the backlog.
    RESUME_LIMIT = 500

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated or not user.is_active:
            # Accept, then close: a close before the handshake becomes an HTTP 403 and the browser only
            # sees 1006, so it could not tell "log in again" from "network trouble, reconnect".
            await self.accept()
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        events.remember_server_loop(asyncio.get_running_loop())
        self.user_id: int = user.pk
        self.session_key: str | None = self.scope["session"].session_key
        self.session_hash: str = await database_sync_to_async(self._session_hash)()
        self.groups_joined: set[str] = set()
        self.access_cache: dict[tuple[int, int | None], tuple[bool, float]] = {}
        # Live events with a sequence at or below this were already sent by a replay.
        self.replayed_up_to = 0
        # Subscribe before the handshake completes: an event committed after the page sees the socket open
        # arrives live, and anything earlier is in the store for the page's `resume`.
        await self._follow_visible_channels()
        await self.channel_layer.group_add(events.user_group(self.user_id), self.channel_name)
        # Presence: a person whose sockets all stay quiet for a while goes offline (`workflow`).
        await database_sync_to_async(workflow.socket_seen)(user_id=self.user_id)
        self.user_name: str = user.name or user.email
        self.viewing: int | None = None
        self.typing_sent_at = 0.0
        self.conversation_access: dict[int, tuple[bool, float]] = {}
        await self.accept()

    async def disconnect(self, code: int) -> None:
        for group in getattr(self, "groups_joined", ()):
            await self.channel_layer.group_discard(group, self.channel_name)
        if hasattr(self, "user_id"):
            await self.channel_layer.group_discard(events.user_group(self.user_id), self.channel_name)
            await database_sync_to_async(workflow.socket_seen)(user_id=self.user_id)
            await self._stop_viewing()

    @classmethod
    async def decode_json(cls, text_data: str):
        """A frame that is not JSON is ignored rather than closing the socket with a server error."""
        try:
            return await super().decode_json(text_data)
        except ValueError:
            return None

    async def receive_json(self, content, **kwargs) -> None:
        if not isinstance(content, dict) or not hasattr(self, "user_id"):
            return
        kind = content.get("type")
        if kind == "resume":
            after = content.get("after")
            if isinstance(after, int) and not isinstance(after, bool) and after >= 0:
                await self._resume(after)
        elif kind == "ping" and await self._still_signed_in():
            await self._follow_visible_channels()
            await database_sync_to_async(workflow.socket_seen)(user_id=self.user_id)
            await self.send_json({"type": "pong"})
        elif kind in ("viewing", "typing", "left"):
            conversation_id = content.get("conversation_id")
            if isinstance(conversation_id, int) and not isinstance(conversation_id, bool):
                await self._presence(kind, conversation_id)

    async def live_event(self, message: dict) -> None:
        """A group message from `events.publish`: forward it only if this person may still see it."""
        event = message["event"]
        if event["seq"] <= self.replayed_up_to:
            return
        if await self._may_see(event["channel_id"], event["conversation_id"]):
            await self.send_json(event)

    async def access_changed(self, message: dict) -> None:
        """From `events.publish_access_changed`: what this person may see changed (a team's members or
        channels, a conversation moved to another team, their role). Drop every cached answer, follow the
        channel groups they may see now, and have the page reload its panes."""
        self.access_cache.clear()
        getattr(self, "conversation_access", {}).clear()
        if not await self._still_signed_in():
            return
        await self._follow_visible_channels()
        viewing = getattr(self, "viewing", None)
        if viewing is not None and not await self._may_view_conversation(viewing, fresh=True):
            await self._stop_viewing(announce=False)
        await self.send_json({"type": "access.changed"})

    async def session_revoked(self, message: dict) -> None:
        """From `events.publish_sessions_revoked`: the password changed, so this session no longer stands."""
        await self.close(code=CLOSE_UNAUTHENTICATED)

    async def user_event(self, message: dict) -> None:
        """A group message from `events.publish_to_user`: this person's own notification."""
        await self.send_json(message["event"])

    async def presence_event(self, message: dict) -> None:
        """Someone else's presence in the conversation this tab views (never echoed to the sender's tabs)."""
        if message["user_id"] == self.user_id or message["conversation_id"] != self.viewing:
            return
        if not await self._may_view_conversation(self.viewing):
            await self._stop_viewing(announce=False)
            return
        await self.send_json(
            {key: message[key] for key in ("state", "conversation_id", "user_id", "name")} | {"type": "presence"}
        )
        if message.get("hello"):
            # A newcomer asks who is here: answer with our own "viewing" (no hello, so it does not echo).
            await self._announce("viewing", self.viewing)

    # Presence

    async def _presence(self, kind: str, conversation_id: int) -> None:
        if kind == "left":
            if self.viewing == conversation_id:
                await self._stop_viewing()
            return
        if kind == "viewing":
            if self.viewing != conversation_id:
                await self._stop_viewing()
            if not await self._may_view_conversation(conversation_id, fresh=True):
                return
            self.viewing = conversation_id
            await self.channel_layer.group_add(events.conversation_group(conversation_id), self.channel_name)
            await self._announce("viewing", conversation_id, hello=True)
            return
        # Typing: only in the conversation this tab views, and throttled.
        now = time.monotonic()
        if self.viewing != conversation_id or now - self.typing_sent_at < viewers.TYPING_THROTTLE_SECONDS:
            return
        if not await self._may_view_conversation(conversation_id):
            await self._stop_viewing(announce=False)
            return
        self.typing_sent_at = now
        await database_sync_to_async(viewers.typing_record)(conversation_id=conversation_id, user_id=self.user_id)
        await self._announce("typing", conversation_id)

    async def _announce(self, state: str, conversation_id: int, *, hello: bool = False) -> None:
        await self.channel_layer.group_send(
            events.conversation_group(conversation_id),
            {
                "type": "presence.event",
                "state": state,
                "conversation_id": conversation_id,
                "user_id": self.user_id,
                "name": self.user_name,
                "hello": hello,
            },
        )

    async def _stop_viewing(self, *, announce: bool = True) -> None:
        conversation_id = getattr(self, "viewing", None)
        if conversation_id is None:
            return
        self.viewing = None
        await self.channel_layer.group_discard(events.conversation_group(conversation_id), self.channel_name)
        await database_sync_to_async(viewers.typing_clear)(conversation_id=conversation_id, user_id=self.user_id)
        if announce:
            await self._announce("left", conversation_id)

    async def _may_view_conversation(self, conversation_id: int, *, fresh: bool = False) -> bool:
        cached = self.conversation_access.get(conversation_id)
        now = time.monotonic()
        if not fresh and cached is not None and now - cached[1] < self.ACCESS_CACHE_SECONDS:
            return cached[0]
        allowed = await database_sync_to_async(self._can_view_conversation)(conversation_id)
        self.conversation_access[conversation_id] = (allowed, now)
        return allowed

    def _can_view_conversation(self, conversation_id: int) -> bool:
        user = self._current_user()
        conversation = Conversation.objects.filter(pk=conversation_id).first()
        return user is not None and conversation is not None and access.can_view_conversation(user, conversation)

    # Access

    async def _may_see(self, channel_id: int, conversation_id: int | None) -> bool:
        key = (channel_id, conversation_id)
        cached = self.access_cache.get(key)
        now = time.monotonic()
        if cached is not None and now - cached[1] < self.ACCESS_CACHE_SECONDS:
            return cached[0]
        user = await database_sync_to_async(self._current_user)()
        if user is None:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return False
        allowed = await database_sync_to_async(access.can_view_event)(
            user, channel_id=channel_id, conversation_id=conversation_id
        )
        self.access_cache[key] = (allowed, now)
        return allowed

    async def _still_signed_in(self) -> bool:
        if await database_sync_to_async(self._current_user)() is None:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return False
        return True

    def _session_hash(self) -> str:
        return self.scope["session"].get(HASH_SESSION_KEY, "")

    def _current_user(self) -> User | None:
        """The person as the database says now, or None when their session no longer stands: logged out,
        deactivated, or their password changed (which changes the session hash, as Django's own check does)."""
        session = self.scope["session"]
        if not self.session_key or not session.exists(self.session_key):
            return None
        user = User.objects.filter(pk=self.user_id, is_active=True).first()
        if user is None or user.get_session_auth_hash() != self.session_hash:
            return None
        return user

    async def _follow_visible_channels(self) -> None:
        """Join the group of every channel the person may see now, and leave the others."""
        channel_ids = await database_sync_to_async(self._visible_channel_ids)()
        wanted = {events.channel_group(channel_id) for channel_id in channel_ids}
        for group in wanted - self.groups_joined:
            await self.channel_layer.group_add(group, self.channel_name)
        for group in self.groups_joined - wanted:
            await self.channel_layer.group_discard(group, self.channel_name)
        self.groups_joined = wanted
        self.access_cache.clear()

    def _visible_channel_ids(self) -> list[int]:
        user = self._current_user()
        if user is None:
            return []
        return list(access.channels_visible_to(user).values_list("pk", flat=True))

    # Replay

    async def _resume(self, after: int) -> None:
        if not await self._still_signed_in():
            return
        backlog, latest = await database_sync_to_async(self._backlog)(after)
        if backlog is None:
            self.replayed_up_to = max(self.replayed_up_to, latest)
            await self.send_json({"type": "resync", "seq": latest})
            return
        for event in backlog:
            await self.send_json(events.as_message(event))
        if backlog:
            self.replayed_up_to = max(self.replayed_up_to, backlog[-1].pk)

    def _backlog(self, after: int) -> tuple[list[LiveEvent] | None, int]:
        """The stored events after `after` that the person may see, oldest first; None (with the
        latest sequence) when there are more than RESUME_LIMIT of them."""
        user = User.objects.get(pk=self.user_id)
        rows = list(access.live_events_visible_to(user).filter(pk__gt=after).order_by("pk")[: self.RESUME_LIMIT + 1])
        if len(rows) > self.RESUME_LIMIT:
            latest = LiveEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or after
            return None, latest
        return rows, after
