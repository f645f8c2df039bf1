"""Sandbox-only writes, for channels connected to the built-in WhatsApp simulator and never to Meta.

They let a person (or a test) fast-forward time in a demo: a conversation "ages" so the 24-hour window
closes for the agent exactly as it would after a day of silence.
"""

from datetime import timedelta
from urllib.parse import urlparse

from django.db import transaction
from django.db.models import F

from inbox import events
from inbox.models import Channel, Conversation, Direction, Message

SIMULATOR_GRAPH_PATH = "/simulator/graph/"


class SandboxRefused(Exception):
    """The channel talks to a real provider: sandbox writes would falsify real history."""


def is_sandbox_channel(channel: Channel) -> bool:
    """Does this channel talk to the built-in simulator (its Graph API base is under /simulator/graph/)?"""
    return SIMULATOR_GRAPH_PATH in urlparse(channel.graph_api_base).path


def conversation_age(*, channel: Channel, wa_id: str, hours: float) -> int:
    """Move the contact's history on this channel `hours` into the past: the conversations' last inbound
    time and window end, and the inbound messages' timestamps. Returns how many conversations moved.
    Raises SandboxRefused unless the channel points at the simulator."""
    if not is_sandbox_channel(channel):
        raise SandboxRefused(f"Channel {channel.pk} talks to {channel.graph_api_base}, not to the simulator.")
    shift = timedelta(hours=hours)
    with transaction.atomic():
        conversations = list(
            Conversation.objects.select_for_update().filter(channel=channel, contact__wa_id=wa_id).order_by("id")
        )
        for conversation in conversations:
            Message.objects.filter(conversation=conversation, direction=Direction.INBOUND).update(
                timestamp=F("timestamp") - shift
            )
            fields = []
            for name in ("last_inbound_at", "service_window_closes_at"):
                value = getattr(conversation, name)
                if value is not None:
                    setattr(conversation, name, value - shift)
                    fields.append(name)
            if conversation.last_message_direction == Direction.INBOUND and conversation.last_message_at:
                conversation.last_message_at -= shift
                fields.append("last_message_at")
            if fields:
                conversation.save(update_fields=fields)
            # The same event as any other conversation change, with the window: an open agent composer
            # switches to the template picker at once.
            events.publish_conversation(conversation.pk)
    return len(conversations)
