"""Who may see and do what: one function per resource, used by every path (pages, API, the socket and
each event it forwards, search, exports, media). Nothing else decides access.

Until teams arrive (issue 4), every active person sees every channel; managers only read.
"""

from django.db.models import QuerySet

from accounts.models import Role, User
from inbox.models import Channel, Conversation, Message


def channels_visible_to(user: User) -> QuerySet[Channel]:
    if not (user.is_authenticated and user.is_active):
        return Channel.objects.none()
    return Channel.objects.all()


def can_view_channel(user: User, channel_id: int) -> bool:
    return channels_visible_to(user).filter(pk=channel_id).exists()


def conversations_visible_to(user: User) -> QuerySet[Conversation]:
    return Conversation.objects.filter(channel__in=channels_visible_to(user))


def can_view_conversation(user: User, conversation: Conversation) -> bool:
    return can_view_channel(user, conversation.channel_id)


def can_reply(user: User, conversation: Conversation) -> bool:
    """Agents and admins answer customers; managers watch and never write."""
    return user.role in (Role.AGENT, Role.ADMIN) and can_view_conversation(user, conversation)


def can_view_message(user: User, message: Message) -> bool:
    return can_view_channel(user, message.channel_id)


def can_manage_channels(user: User) -> bool:
    return user.is_authenticated and user.is_active and user.role == Role.ADMIN


def can_view_webhook_events(user: User) -> bool:
    return can_manage_channels(user)
