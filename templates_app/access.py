"""Who may see, write, review and send message templates: one function per question, used by every path
(pages, API, the composer's picker, the tasks that act for a person)."""

from django.db.models import QuerySet

from accounts.models import Role, User
from inbox import access as inbox_access
from inbox.models import Channel, Conversation
from templates_app.models import MessageTemplate


def _active(user: User) -> bool:
    return bool(user.is_authenticated and user.is_active)


def waba_ids_visible_to(user: User) -> QuerySet:
    """The WhatsApp Business Accounts whose templates a person sees: those of the channels they see."""
    return inbox_access.channels_visible_to(user).values("waba_id")


def templates_visible_to(user: User) -> QuerySet[MessageTemplate]:
    """Everyone at work sees the templates of the numbers they work (agents pick them in the composer,
    managers watch their health, admins keep them)."""
    if not _active(user):
        return MessageTemplate.objects.none()
    if inbox_access.sees_everything(user):
        return MessageTemplate.objects.all()
    return MessageTemplate.objects.filter(waba_id__in=waba_ids_visible_to(user))


def can_view_template(user: User, template: MessageTemplate) -> bool:
    return templates_visible_to(user).filter(pk=template.pk).exists()


def can_author_templates(user: User) -> bool:
    """Admins, and the agents an admin allowed to write templates."""
    return _active(user) and (user.role == Role.ADMIN or (user.role == Role.AGENT and user.can_author_templates))


def can_edit_template(user: User, template: MessageTemplate) -> bool:
    return can_author_templates(user) and can_view_template(user, template)


def can_author_on_waba(user: User, waba_id: str) -> bool:
    return can_author_templates(user) and waba_ids_visible_to(user).filter(waba_id=waba_id).exists()


def can_review_templates(user: User) -> bool:
    """Admins approve or reject drafts (never their own: see `policy.may_review`)."""
    return _active(user) and user.role == Role.ADMIN


def can_sync_templates(user: User) -> bool:
    return _active(user) and user.role == Role.ADMIN


def can_send_template(user: User, conversation: Conversation, template: MessageTemplate) -> bool:
    """A person who may reply in the conversation may send the templates of its number's account."""
    return inbox_access.can_reply(user, conversation) and template.waba_id == conversation.channel.waba_id


def template_accounts_for(user: User) -> list[Channel]:
    """One channel per WhatsApp Business Account the person sees, to name the account in forms."""
    seen: dict[str, Channel] = {}
    for channel in inbox_access.channels_visible_to(user).order_by("name", "id"):
        seen.setdefault(channel.waba_id, channel)
    return list(seen.values())
