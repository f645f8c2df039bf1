"""Reads behind the inbox pages: the conversation list, a thread's messages dressed for display, the
composer's state. Everything is scoped by `inbox.access` and costs a constant number of queries per page.

Lists are keyset pages over indexed (time, id) pairs; a cursor is the last row's key as text
(`<microseconds since the epoch>_<id>`), so the next page costs the same at any depth.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from urllib.parse import urlencode, urlsplit

from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language_info
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from accounts.models import Role, Team, User
from inbox import access, selectors
from inbox.models import (
    Channel,
    Contact,
    Conversation,
    ConversationStatus,
    Direction,
    Label,
    Message,
    MessageStatus,
    MessageType,
    Priority,
    SavedView,
)
from inbox.providers.whatsapp_cloud import errors as provider_errors
from inbox.providers.whatsapp_cloud import limits
from templates_app import lint, sending
from templates_app.access import can_author_templates, templates_visible_to
from templates_app.models import MessageTemplate

CONVERSATIONS_PER_PAGE = 25
MESSAGES_PER_PAGE = 50

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# Kinds that change another message (a reaction, an edit, a deletion): shown on their target, never as
# bubbles of their own.
ACTS_ON_ANOTHER = frozenset({MessageType.REACTION, MessageType.EDIT, MessageType.REVOKE})
# Kinds shown as a grey activity line rather than a bubble.
ACTIVITY_KINDS = frozenset({MessageType.SYSTEM, MessageType.REQUEST_WELCOME, MessageType.ACTIVITY})
# The template that draws each kind's bubble body; anything else is shown as unsupported.
_KIND_TEMPLATES = {
    MessageType.TEXT: "text",
    MessageType.IMAGE: "image",
    MessageType.STICKER: "image",
    MessageType.VIDEO: "video",
    MessageType.AUDIO: "audio",
    MessageType.DOCUMENT: "document",
    MessageType.LOCATION: "location",
    MessageType.CONTACTS: "contacts",
    MessageType.INTERACTIVE: "interactive",
    MessageType.BUTTON: "button",
    MessageType.ORDER: "order",
    MessageType.TEMPLATE: "template",
    MessageType.UNSUPPORTED: "unsupported",
}
MEDIA_KINDS = frozenset(
    {MessageType.IMAGE, MessageType.STICKER, MessageType.VIDEO, MessageType.AUDIO, MessageType.DOCUMENT}
)


class ListView(StrEnum):
    """The conversation list's tabs: mine (assigned to me), unassigned, my teams' conversations, all."""

    MINE = "mine"
    UNASSIGNED = "unassigned"
    TEAM = "team"
    ALL = "all"


# The status filter: "active" (the default: open and pending, what needs someone) or one status, or every.
ACTIVE_STATUSES = (ConversationStatus.OPEN, ConversationStatus.PENDING)
STATUS_FILTERS = ("active", *ConversationStatus.values, "any")


@dataclass(frozen=True)
class ListFilters:
    """The list's tab and filter chips as the page sends them (`view`, `status`, `channel`, `label`,
    `priority`, `window=closing_soon`). Unknown values fall back to the default."""

    view: ListView = ListView.ALL
    status: str = "active"
    channel: int | None = None
    label: int | None = None
    priority: str = ""
    window: str = ""

    @classmethod
    def from_query(cls, params) -> "ListFilters":
        def number(name: str) -> int | None:
            value = params.get(name, "")
            return int(value) if value.isdigit() and len(value) < 19 else None

        try:
            view = ListView(params.get("view", ListView.ALL))
        except ValueError:
            view = ListView.ALL
        status = params.get("status", "active")
        priority = params.get("priority", "")
        return cls(
            view=view,
            status=status if status in STATUS_FILTERS else "active",
            channel=number("channel"),
            label=number("label"),
            priority=priority if priority in Priority.values else "",
            window="closing_soon" if params.get("window") == "closing_soon" else "",
        )

    def selector_filters(self, *, with_view: bool = True) -> selectors.ConversationFilters:
        assignee = {ListView.MINE: "me", ListView.UNASSIGNED: "none"}.get(self.view) if with_view else None
        statuses = {"active": ACTIVE_STATUSES, "any": ()}.get(self.status, (self.status,))
        return selectors.ConversationFilters(
            assignee=assignee,
            team="mine" if with_view and self.view == ListView.TEAM else None,
            statuses=tuple(statuses),
            channel_id=self.channel,
            label_id=self.label,
            priority=self.priority or None,
            window_closing_soon=self.window == "closing_soon",
        )

    def as_query(self) -> str:
        """The filters as a query string, for the next page's URL (the defaults left out)."""
        pairs = {
            "view": self.view,
            "status": self.status if self.status != "active" else "",
            "channel": self.channel or "",
            "label": self.label or "",
            "priority": self.priority,
            "window": self.window,
        }
        return urlencode({key: value for key, value in pairs.items() if value})


# Cursors


def encode_cursor(at: datetime, pk: int) -> str:
    delta = at - _EPOCH
    microseconds = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
    return f"{microseconds}_{pk}"


def decode_cursor(cursor: str | None) -> tuple[datetime, int] | None:
    """The (time, id) key in a cursor, or None for a missing or malformed one (the first page)."""
    if not cursor:
        return None
    try:
        microseconds, pk = (int(part) for part in cursor.split("_", 1))
    except ValueError:
        return None
    return _EPOCH + timedelta(microseconds=microseconds), pk


# Conversation list


@dataclass(frozen=True)
class ConversationPage:
    conversations: list[Conversation]
    next_cursor: str | None


def conversation_page(
    *,
    user: User,
    view: ListView = ListView.ALL,
    search: str = "",
    cursor: str | None = None,
    filters: ListFilters | None = None,
) -> ConversationPage:
    """Newest activity first (`-activity_at, -id`), with contact, channel, assignee and labels: two queries
    per page."""
    filters = filters or ListFilters(view=view, status="any")
    conversations = selectors.conversations_filter(
        access.conversations_visible_to(user).select_related("contact", "channel", "assignee"),
        user=user,
        filters=filters.selector_filters(),
    ).prefetch_related("labels")
    search = search.strip()
    if search:
        conversations = conversations.filter(
            Q(contact__profile_name__icontains=search)
            | Q(contact__username__icontains=search)
            | Q(contact__wa_id__contains=search.lstrip("+"))
        )
    key = decode_cursor(cursor)
    if key is not None:
        at, pk = key
        # The `lte` bound lets the database walk the (activity_at, id) index; the OR breaks ties by id.
        conversations = conversations.filter(Q(activity_at__lte=at), Q(activity_at__lt=at) | Q(pk__lt=pk))
    rows = list(conversations.order_by("-activity_at", "-id")[: CONVERSATIONS_PER_PAGE + 1])
    page = rows[:CONVERSATIONS_PER_PAGE]
    more = len(rows) > CONVERSATIONS_PER_PAGE
    return ConversationPage(page, encode_cursor(page[-1].activity_at, page[-1].pk) if more else None)


SNOOZE_PRESETS = (("1h", _lazy("In 1 hour")), ("tomorrow", _lazy("Tomorrow, 9:00")), ("next_week", _lazy("Next week")))


def workflow_header(*, user: User, conversation: Conversation, refresh: bool = True) -> dict:
    """What the thread header's workflow controls show: status, assignee and team pickers (people with
    their presence), priority, labels; disabled for people who may not change the conversation. `refresh`
    reads the conversation again (after a change); the page passes the one it just read."""
    fresh = (conversation_get(user=user, conversation_id=conversation.pk) if refresh else None) or conversation
    return {
        "conversation": fresh,
        "can_work": access.can_work_conversation(user, fresh),
        "assignable": list(access.people_assignable_to(fresh)),
        "teams": list(Team.objects.filter(channels=fresh.channel_id).order_by("name")),
        "all_labels": list(Label.objects.all()),
        "applied_labels": {label.pk for label in fresh.labels.all()},
        "priorities": Priority.choices,
        "snooze_presets": SNOOZE_PRESETS,
    }


def matches_filters(*, user: User, conversation: Conversation, filters: ListFilters) -> bool:
    conversations = Conversation.objects.filter(pk=conversation.pk)
    return selectors.conversations_filter(conversations, user=user, filters=filters.selector_filters()).exists()


def list_tabs(*, user: User, filters: ListFilters) -> dict:
    """The tabs row: the views with their counts (one grouped COUNT) and the person's saved views, each
    with its filters as a query string."""
    saved_views = list(SavedView.objects.filter(owner=user))
    for saved in saved_views:
        saved.query = urlencode({key: value for key, value in saved.filters.items() if isinstance(value, str)})
    return {
        "filters": filters,
        "view": filters.view,
        "counts": selectors.conversation_counts(user=user, filters=filters.selector_filters(with_view=False)),
        "saved_views": saved_views,
        # Lazy: only the full page draws the filter chips.
        "channels": access.channels_visible_to(user).order_by("name"),
        "labels": Label.objects.all(),
        "people": User.objects.filter(is_active=True, role__in=(Role.AGENT, Role.ADMIN)).order_by("name", "email"),
        "statuses": [("active", _lazy("Open & pending")), *ConversationStatus.choices, ("any", _lazy("Any status"))],
        "priorities": [(value, label) for value, label in Priority.choices if value != Priority.NONE],
    }


def conversation_get(*, user: User, conversation_id: int) -> Conversation | None:
    return (
        access.conversations_visible_to(user)
        .select_related("contact", "channel", "assignee", "team")
        .prefetch_related("labels")
        .filter(pk=conversation_id)
        .first()
    )


def previous_conversations(*, user: User, conversation: Conversation) -> QuerySet[Conversation]:
    return (
        access.conversations_visible_to(user)
        .filter(contact_id=conversation.contact_id)
        .exclude(pk=conversation.pk)
        .select_related("channel")
        .order_by("-activity_at", "-id")[:10]
    )


# Service window


class WindowState(StrEnum):
    OPEN = "open"
    CLOSING = "closing"  # open, but closing within selectors.window_closing_lead()
    CLOSED = "closed"
    NEVER_OPENED = "never_opened"  # the customer never wrote on this channel


@dataclass(frozen=True)
class Window:
    state: WindowState
    closes_at: datetime | None

    @property
    def is_open(self) -> bool:
        return self.state in (WindowState.OPEN, WindowState.CLOSING)


def service_window(conversation: Conversation, *, now: datetime | None = None) -> Window:
    now = now or timezone.now()
    closes_at = conversation.service_window_closes_at
    if closes_at is None:
        return Window(WindowState.NEVER_OPENED, None)
    if now >= closes_at:
        return Window(WindowState.CLOSED, closes_at)
    if closes_at - now <= selectors.window_closing_lead():
        return Window(WindowState.CLOSING, closes_at)
    return Window(WindowState.OPEN, closes_at)


@dataclass(frozen=True)
class Composer:
    """What the composer shows: the text box, or the sentence saying why not and the way forward.
    `can_send_templates`: the person may reply here, so the template picker is offered (always, and as the
    primary action when only a template may go out)."""

    can_write: bool
    window: Window
    reason: str = ""
    can_send_templates: bool = True


def composer_state(
    *, user: User, conversation: Conversation, can_reply: bool | None = None, now: datetime | None = None
) -> Composer:
    window = service_window(conversation, now=now)
    if can_reply is None:
        can_reply = access.can_reply(user, conversation)
    if not can_reply:
        return Composer(
            False,
            window,
            _("Managers read conversations; agents and admins reply to customers."),
            can_send_templates=False,
        )
    if window.state == WindowState.CLOSED:
        return Composer(
            False,
            window,
            _(
                "The 24-hour customer-service window has closed: WhatsApp only allows an approved template "
                "until the customer writes again."
            ),
        )
    if window.state == WindowState.NEVER_OPENED:
        return Composer(
            False,
            window,
            _("This customer has not written to this number yet: start the conversation with an approved template."),
        )
    return Composer(True, window)


# Thread


@dataclass
class Reaction:
    emoji: str
    direction: str
    at: datetime


@dataclass(frozen=True)
class MessagePage:
    messages: list[Message]
    # Cursor for the next older page; None when this page reaches the first message.
    older_cursor: str | None


def message_page(*, conversation: Conversation, before: str | None = None) -> MessagePage:
    """The newest page of a thread (or the page before `before`), oldest first, dressed for display.

    Three queries whatever the page holds: the messages, the messages they quote, the reactions on them."""
    messages = (
        Message.objects.filter(conversation=conversation).exclude(type__in=ACTS_ON_ANOTHER).select_related("author")
    )
    key = decode_cursor(before)
    if key is not None:
        at, pk = key
        messages = messages.filter(Q(timestamp__lte=at), Q(timestamp__lt=at) | Q(pk__lt=pk))
    rows = list(messages.order_by("-timestamp", "-id")[: MESSAGES_PER_PAGE + 1])
    page = rows[:MESSAGES_PER_PAGE]
    older = encode_cursor(page[-1].timestamp, page[-1].pk) if len(rows) > MESSAGES_PER_PAGE else None
    page.reverse()
    dress(page, conversation=conversation)
    return MessagePage(page, older)


def message_for_display(*, user: User, message_id: int) -> Message | None:
    """One message dressed like in the thread. For a reaction, edit or deletion, the message it acts on
    (that is the bubble that changes)."""
    message = Message.objects.select_related("conversation__contact", "author").filter(pk=message_id).first()
    if message is None or not access.can_view_message(user, message):
        return None
    if message.type in ACTS_ON_ANOTHER:
        target_id = _target_provider_id(message)
        message = (
            Message.objects.select_related("conversation__contact", "author")
            .filter(channel_id=message.channel_id, provider_message_id=target_id)
            .exclude(type__in=ACTS_ON_ANOTHER)
            .first()
            if target_id
            else None
        )
        if message is None:
            return None
    dress([message], conversation=message.conversation)
    return message


def _target_provider_id(message: Message) -> str:
    content = message.content if isinstance(message.content, dict) else {}
    if message.type == MessageType.REACTION:
        return str(content.get("message_id") or "")
    return str(content.get("original_message_id") or "")


def dress(messages: list[Message], *, conversation: Conversation) -> None:
    """Attach what a bubble shows beyond its own row: the quoted message, reactions, the body template,
    the plain-language failure reason."""
    quoted_ids = {m.reply_to_provider_id for m in messages if m.reply_to_provider_id}
    quoted = {}
    if quoted_ids:
        quoted = {
            q.provider_message_id: q
            for q in Message.objects.filter(channel_id=conversation.channel_id, provider_message_id__in=quoted_ids)
        }
    provider_ids = [m.provider_message_id for m in messages if m.provider_message_id]
    reactions = _reactions(conversation, provider_ids) if provider_ids else {}
    customer_name = conversation.contact.display_name
    for message in messages:
        message.customer_name = customer_name
        if not isinstance(message.content, dict):
            message.content = {}
        message.quoted = quoted.get(message.reply_to_provider_id) if message.reply_to_provider_id else None
        message.reply_missing = bool(message.reply_to_provider_id) and message.quoted is None
        message.reactions = reactions.get(message.provider_message_id or "", [])
        message.is_activity = message.type in ACTIVITY_KINDS
        message.is_note = message.type == MessageType.NOTE
        message.is_outbound = message.direction == Direction.OUTBOUND
        message.kind_template = f"inbox/kinds/{_KIND_TEMPLATES.get(message.type, 'unsupported')}.html"
        message.has_media = message.type in MEDIA_KINDS
        context = message.content.get("context") if isinstance(message.content.get("context"), dict) else {}
        message.forwarded = bool(context.get("forwarded") or context.get("frequently_forwarded"))
        message.frequently_forwarded = bool(context.get("frequently_forwarded"))
        referral = message.content.get("referral")
        message.referral = referral if isinstance(referral, dict) else None
        message.failure = _failure(message) if message.status == MessageStatus.FAILED else None
        if message.type == MessageType.TEMPLATE:
            _dress_template(message)


def _dress_template(message: Message) -> None:
    """A template message as sent (`content["rendered"]`, None for one stored without it) and where its
    header's file is: ours (`/media/<id>/`) or the https link it was sent with."""
    rendered = message.content.get("rendered")
    message.template_rendered = rendered if isinstance(rendered, dict) else None
    media = (message.template_rendered or {}).get("header_media")
    media = media if isinstance(media, dict) else {}
    message.template_media_url = ""
    if media.get("media_file_id"):
        message.template_media_url = reverse("inbox:media", args=[message.pk])
    elif isinstance(media.get("link"), str) and urlsplit(media["link"]).scheme in ("http", "https"):
        message.template_media_url = media["link"]


@dataclass(frozen=True)
class Failure:
    reason: str
    hint: str


def _failure(message: Message) -> Failure:
    """Why an outbound message failed, in plain words (WhatsApp's code explained, or the worker's refusal)."""
    hint = provider_errors.describe(message.error_code).hint if message.error_code is not None else ""
    return Failure(provider_errors.failure_reason(message.error_code, message.error_title), hint)


def _reactions(conversation: Conversation, provider_ids: list[str]) -> dict[str, list[Reaction]]:
    """The current reactions per target: each side's latest reaction counts, and an empty emoji removes it."""
    latest: dict[tuple[str, str], Reaction] = {}
    rows = (
        Message.objects.filter(
            conversation=conversation, type=MessageType.REACTION, content__message_id__in=provider_ids
        )
        .order_by("timestamp", "id")
        .values_list("content", "direction", "timestamp")
    )
    for content, direction, at in rows:
        target = str(content.get("message_id") or "")
        latest[(target, direction)] = Reaction(str(content.get("emoji") or ""), direction, at)
    by_target: dict[str, list[Reaction]] = {}
    for (target, _direction), reaction in latest.items():
        if reaction.emoji:
            by_target.setdefault(target, []).append(reaction)
    return by_target


# Templates: the composer's picker and form (the contact page's "Start a conversation" uses the same)


@dataclass(frozen=True)
class TemplateChoice:
    """One row of the template picker: the template, its body with the placeholders showing where the
    values go, its header kind, and whether it is in the contact's language. `search` is what the filter
    box matches (name, language, category, body), lower case."""

    template: MessageTemplate
    snippet: str
    header_kind: str
    in_contact_language: bool
    search: str


def _draft(template: MessageTemplate) -> dict:
    return {"category": template.live_revision.category, "components": template.live_revision.components}


def template_shape(template: MessageTemplate) -> dict:
    """The live revision as the customer sees it with every placeholder still in place (`{{1}}`,
    `{{first_name}}`): what the form's preview fills in as the person types. `variables` name which value
    goes where: [{"key": "body.1", "part": "body", "name": "1"}]."""
    variables = sending.template_variables(template.live_revision)
    placeholders: dict[str, dict[str, str]] = {}
    for variable in variables:
        placeholders.setdefault(variable.part, {})[variable.name] = "{{" + variable.name + "}}"
    shape = lint.render(_draft(template), placeholders)
    shape["variables"] = [{"key": v.key, "part": v.part, "name": v.name} for v in variables]
    return shape


def template_choices(*, user: User, conversation: Conversation) -> list[TemplateChoice]:
    """The templates the person may send in the conversation (saved, or about to be opened from the contact
    page), in the contact's language first (`sending.sendable_templates_for` orders them)."""
    choices = []
    for template in sending.sendable_templates_for(conversation=conversation, user=user):
        shape = template_shape(template)
        header_format = (shape["header_format"] or "").lower()
        snippet = " ".join(str(shape["body"] or "").split())
        choices.append(
            TemplateChoice(
                template=template,
                snippet=snippet,
                header_kind=header_format,
                in_contact_language=sending.language_rank(template.language, conversation.contact.language) == 0,
                search=" ".join((template.name, template.language, template.get_category_display(), snippet)).lower(),
            )
        )
    return choices


def template_picker(*, user: User, conversation: Conversation) -> dict:
    """The picker's context: the choices, or the empty state's reason and whether the person may write a
    template (then it links to the template editor)."""
    choices = template_choices(user=user, conversation=conversation)
    return {
        "choices": choices,
        "contact": conversation.contact,
        "channel": conversation.channel,
        "can_author": can_author_templates(user),
        "any_template": bool(choices) or MessageTemplate.objects.filter(waba_id=conversation.channel.waba_id).exists(),
    }


def template_sendable(*, user: User, conversation: Conversation, template_id: int) -> MessageTemplate | None:
    """The template, if the person may send it in the conversation now (else None: the form answers 404)."""
    return next(
        (t for t in sending.sendable_templates_for(conversation=conversation, user=user) if t.pk == template_id),
        None,
    )


@dataclass(frozen=True)
class TemplateField:
    """One input of the template form: the variable's key (`body.1`), its label, the sample shown as the
    placeholder, the value it starts with (prefilled from the contact, or what was typed), and where a
    prefill comes from."""

    key: str
    label: str
    sample: str
    value: str
    prefill: str

    @property
    def input_name(self) -> str:
        return f"var:{self.key}"

    @property
    def input_id(self) -> str:
        return "tpl-var-" + self.key.replace(".", "-")

    @property
    def maxlength(self) -> int:
        if self.key.endswith(".code"):
            return sending.CODE_MAX
        return sending.URL_MAX if self.key.startswith("buttons.") else sending.TEXT_PARAMETER_MAX


def template_values_from(post) -> dict[str, str]:
    """The form's values (`var:body.1` inputs) as the sending service takes them (`{"body.1": …}`)."""
    return {key[4:]: value for key, value in post.items() if key.startswith("var:")}


def template_form(*, template: MessageTemplate, contact: Contact, values: dict[str, str] | None = None) -> dict:
    """The form for one template: an input per variable (prefilled from the contact unless `values` were
    typed), the media header's file rule, and the preview as it starts (samples stand in for blanks)."""
    revision = template.live_revision
    variables = sending.template_variables(revision)
    prefilled = sending.prefilled_values(revision, contact)
    given = values if values is not None else prefilled
    fields = [
        TemplateField(
            key=v.key,
            label=v.label,
            sample=v.sample,
            value=str(given.get(v.key) or ""),
            prefill=sending.PREFILL_FIELDS.get(v.prefill_field, ""),
        )
        for v in variables
    ]
    by_part: dict[str, dict[str, str]] = {}
    for variable in variables:
        if value := str(given.get(variable.key) or "").strip():
            by_part.setdefault(variable.part, {})[variable.name] = value
    preview = lint.render(_draft(template), by_part)
    for index, button in enumerate(preview["buttons"]):
        if button["type"] == "COPY_CODE":
            button["code"] = by_part.get(f"buttons.{index}", {}).get("code", "")
    media_kind = sending.header_media_kind(revision)
    rule = limits.MEDIA_RULES.get(media_kind or "")
    return {
        "template": template,
        "fields": fields,
        "preview": preview,
        "shape": template_shape(template),
        "media_kind": media_kind,
        "media_accept": ",".join(sorted(rule.mime_types)) if rule else "",
        "media_max_bytes": rule.max_bytes if rule else 0,
    }


# Contacts


def contact_get(*, user: User, contact_id: int) -> Contact | None:
    return access.contacts_visible_to(user).filter(pk=contact_id).first()


def contact_conversations(*, user: User, contact: Contact) -> QuerySet[Conversation]:
    """The contact's conversations on every number the person may see, newest activity first."""
    return (
        access.conversations_visible_to(user)
        .filter(contact=contact)
        .select_related("channel", "assignee", "team")
        .order_by("-activity_at", "-id")
    )


def start_channels(user: User) -> QuerySet[Channel]:
    """The WhatsApp numbers the person may write from first: the active ones they may reply on (a new
    conversation joins no team, so every team working the number sees it)."""
    if not (user.is_active and user.role in (Role.AGENT, Role.ADMIN)):
        return Channel.objects.none()
    return access.channels_visible_to(user).filter(is_active=True).order_by("name", "id")


def template_languages(*, user: User, contact: Contact) -> list[tuple[str, str]]:
    """(code, name) of the languages the person's templates are written in, plus the contact's own: the
    choices for the contact's template language."""
    codes = set(templates_visible_to(user).values_list("language", flat=True).distinct())
    if contact.language:
        codes.add(contact.language)
    return sorted(((code, language_name(code)) for code in codes), key=lambda pair: (pair[1].lower(), pair[0]))


def language_name(code: str) -> str:
    """ "Portuguese (BR)" for `pt_BR`, in the viewer's language where Django knows the language; else the code."""
    base, _sep, region = code.replace("-", "_").partition("_")
    try:
        name = str(get_language_info(base.lower())["name_translated"])
    except KeyError:
        return code
    return f"{name} ({region.upper()})" if region else name
