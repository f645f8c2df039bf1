"""Automations: welcome, away and keyword replies, the bot hook, and the human escalation path.

WhatsApp's rule (DESIGN.md §4): anything automated always offers the customer a way to a person, asking for
one hands the conversation to people at once, and when nobody answers in time the business escalates
further. So:

- An auto-reply or the bot can only be switched on while the channel has a complete escalation route (a team,
  minutes to answer, a fallback) and the automation itself offers the route: the "Talk to a person" reply
  button (added to every automated message) or the text naming a keyword that hands over.
- After each customer message (`inbound_message_apply`, called by inbound_followup after consent commands):
  a request for a person (a keyword in seven languages or the channel's own, or a tap on the button) hands
  over at once; a conversation the bot handles goes to the bot hook; otherwise a keyword reply, the welcome
  (a conversation's first customer message) and the away reply (outside business hours, at most once per
  conversation in `policy.AWAY_REPLY_INTERVAL`) answer.
- The bot hook: a signed JSON POST per customer message; its reply is relayed with the button added. Two
  failures in a row, or one timeout, hand over.
- The escalation clock (`escalations_advance`, every minute): nobody answered within the channel's minutes
  → managers and admins are told; still nobody at the fallback time → the customer gets the fallback (call,
  e-mail, web form, store visit). A person's reply (`person_replied`) stops it.
"""

import hashlib
import hmac
import json
import logging
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import httpx
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Role, Team, User
from accounts.services import audit_record
from inbox import access, events, policy
from inbox.models import (
    AutomationKind,
    AutoReply,
    Channel,
    ChannelAutomation,
    Conversation,
    ConversationStatus,
    Direction,
    FallbackKind,
    HandledBy,
    HandoverReason,
    HumanRoute,
    Initiator,
    Message,
    MessageType,
    NotificationKind,
)
from inbox.providers.whatsapp_cloud import limits
from inbox.services import workflow
from inbox.services.notifications import notification_create

logger = logging.getLogger(__name__)

# Inbound messages nothing automated answers: WhatsApp's notices, changes to earlier messages, reactions.
NOT_ANSWERED = frozenset({"system", "edit", "revoke", "reaction"})
# Open and pending conversations wait on people; the clock stops for snoozed and resolved ones.
_WAITING_STATUSES = (ConversationStatus.OPEN, ConversationStatus.PENDING)
# WhatsApp's limit on a text message's body.
TEXT_MAX = 4096
KEYWORD_MAX = 40
BOT_TIMEOUT_MAX = 30
MINUTES_MAX = 7 * 24 * 60
NO_ROUTE = "no_escalation_route"


class AutomationRefused(Exception):
    """The change may not be made. `code` is stable (`permission_denied`, `no_escalation_route`,
    `no_human_route`, `bot_not_configured`, `invalid`, `duplicate_auto_reply`); `detail` is the sentence shown
    to the person; `field` names the setting at fault when there is one."""

    def __init__(self, code: str, detail: str, *, field: str = ""):
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.field = field


# --- Reading a channel's settings ----------------------------------------------------------------------------


def automation_settings(*, channel_id: int) -> ChannelAutomation:
    """The channel's settings; an unsaved default row when the channel has none yet."""
    return ChannelAutomation.objects.select_related("escalation_team").filter(
        channel_id=channel_id
    ).first() or ChannelAutomation(channel_id=channel_id)


def escalation_route(automation: ChannelAutomation) -> policy.EscalationRoute:
    has_team = automation.escalation_team_id is not None or Team.objects.filter(channels=automation.channel_id).exists()
    return policy.EscalationRoute(
        has_team=has_team,
        answer_within_minutes=automation.answer_within_minutes,
        fallback_after_minutes=automation.fallback_after_minutes,
        fallback_kind=automation.fallback_kind,
        fallback_text=automation.fallback_text,
    )


def human_keywords(automation: ChannelAutomation) -> dict[str, tuple[str, ...]] | tuple[str, ...]:
    """The words that hand over: the channel's own list, else the built-in ones in seven languages."""
    return tuple(automation.human_keywords) if automation.human_keywords else policy.HUMAN_KEYWORDS


def automation_active(automation: ChannelAutomation) -> bool:
    """Is anything automated answering on this channel (the bot, or an auto-reply switched on)?"""
    return automation.bot_enabled or AutoReply.objects.filter(channel_id=automation.channel_id, enabled=True).exists()


# --- Changing them (admins) ------------------------------------------------------------------------------------

_SETTING_FIELDS = (
    "time_zone",
    "business_hours",
    "stop_keywords",
    "start_keywords",
    "human_keywords",
    "escalation_team",
    "answer_within_minutes",
    "fallback_after_minutes",
    "fallback_kind",
    "fallback_text",
    "bot_enabled",
    "bot_url",
    "bot_secret",
    "bot_timeout_seconds",
)


def _require_admin(actor: User, channel_id: int) -> None:
    if not access.can_manage_automation(actor, channel_id):
        raise AutomationRefused("permission_denied", _("Only admins change a channel's automations."))


def _keyword_list(value: object, *, name: str) -> list[str]:
    if not isinstance(value, list | tuple) or not all(isinstance(word, str) for word in value):
        raise AutomationRefused("invalid", _("Keywords are a list of words."), field=name)
    words = []
    for word in value:
        cleaned = " ".join(word.split())
        if not cleaned:
            continue
        if not policy.normalise_keyword(cleaned) or len(cleaned) > KEYWORD_MAX:
            raise AutomationRefused(
                "invalid",
                _("“%(word)s” cannot be a keyword: use a word or short phrase of up to %(max)d characters.")
                % {"word": cleaned[:60], "max": KEYWORD_MAX},
                field=name,
            )
        if cleaned not in words:
            words.append(cleaned)
    return words


def is_http_url(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def _checked_settings(automation: ChannelAutomation, changes: dict) -> None:
    """Apply `changes` to the (unsaved) row, refusing anything invalid."""
    unknown = set(changes) - set(_SETTING_FIELDS)
    if unknown:
        raise AutomationRefused("invalid", _("Unknown setting: %(name)s.") % {"name": sorted(unknown)[0]})
    if "time_zone" in changes:
        try:
            ZoneInfo(changes["time_zone"] or "")
        except (ZoneInfoNotFoundError, ValueError, TypeError):
            raise AutomationRefused(
                "invalid", _("Choose a time zone such as Europe/Rome or America/New_York."), field="time_zone"
            )
    if "business_hours" in changes:
        errors = policy.business_hours_errors(changes["business_hours"])
        if errors:
            raise AutomationRefused("invalid", errors[0], field="business_hours")
        changes["business_hours"] = {
            day: [list(pair) for pair in changes["business_hours"].get(day) or []]
            for day in policy.WEEKDAYS
            if day in changes["business_hours"]
        }
    for name in ("stop_keywords", "start_keywords", "human_keywords"):
        if name in changes:
            changes[name] = _keyword_list(changes[name], name=name) if changes[name] is not None else []
    team = changes.get("escalation_team")
    if team is not None and not team.channels.filter(pk=automation.channel_id).exists():
        raise AutomationRefused(
            "invalid",
            _("The %(team)s team does not work this channel: its members could not see the conversations.")
            % {"team": team.name},
            field="escalation_team",
        )
    for name in ("answer_within_minutes", "fallback_after_minutes"):
        if name in changes and (not isinstance(changes[name], int) or not 1 <= changes[name] <= MINUTES_MAX):
            raise AutomationRefused(
                "invalid", _("Minutes are a whole number from 1 to %(max)d.") % {"max": MINUTES_MAX}, field=name
            )
    if changes.get("fallback_kind") not in (None, "", *FallbackKind.values):
        raise AutomationRefused("invalid", _("The fallback is a phone call, an e-mail, a web form or a store visit."))
    if "fallback_text" in changes:
        changes["fallback_text"] = (changes["fallback_text"] or "").strip()
        if len(changes["fallback_text"]) > 500:
            raise AutomationRefused(
                "invalid", _("The fallback message is at most 500 characters."), field="fallback_text"
            )
    if "bot_url" in changes:
        changes["bot_url"] = (changes["bot_url"] or "").strip()
        if changes["bot_url"] and (not is_http_url(changes["bot_url"]) or len(changes["bot_url"]) > 500):
            raise AutomationRefused("invalid", _("The bot's address is an http:// or https:// URL."), field="bot_url")
    if "bot_timeout_seconds" in changes and (
        not isinstance(changes["bot_timeout_seconds"], int)
        or not 1 <= changes["bot_timeout_seconds"] <= BOT_TIMEOUT_MAX
    ):
        raise AutomationRefused(
            "invalid",
            _("The bot has 1 to %(max)d seconds to answer.") % {"max": BOT_TIMEOUT_MAX},
            field="bot_timeout_seconds",
        )
    if changes.get("bot_secret") is None:
        changes.pop("bot_secret", None)  # None keeps the current secret (it is never shown back)
    for name, value in changes.items():
        setattr(automation, name, value)


def route_refusal(route: policy.EscalationRoute) -> AutomationRefused | None:
    gaps = policy.escalation_route_gaps(route)
    if not gaps:
        return None
    return AutomationRefused(
        NO_ROUTE,
        _("An automation can only be on while the channel has an escalation route to a person. %(gap)s")
        % {"gap": gaps[0]},
    )


def automation_update(*, actor: User, channel: Channel, **changes) -> ChannelAutomation:
    """Change a channel's automation settings (admins). `bot_secret=None` keeps the secret. Refuses a route
    left incomplete while an automation is on (`no_escalation_route`), a bot switched on without its address
    and secret (`bot_not_configured`), and human keywords that an enabled auto-reply's text no longer names.
    Audited (without the secret)."""
    _require_admin(actor, channel.pk)
    with transaction.atomic():
        automation = ChannelAutomation.objects.select_for_update().filter(channel=channel).first()
        if automation is None:
            automation = ChannelAutomation(channel=channel)
        before = {name: _audit_value(name, getattr(automation, name)) for name in _SETTING_FIELDS}
        _checked_settings(automation, dict(changes))
        if automation.bot_enabled and (not automation.bot_url or not automation.bot_secret):
            raise AutomationRefused(
                "bot_not_configured",
                _("The bot needs its address and a shared secret before it can be switched on."),
                field="bot_enabled",
            )
        enabled_replies = list(AutoReply.objects.filter(channel=channel, enabled=True))
        if automation.bot_enabled or enabled_replies:
            refusal = route_refusal(escalation_route(automation))
            if refusal is not None:
                raise refusal
        words = human_keywords(automation)
        for reply in enabled_replies:
            if not policy.offers_human_route(human_route=reply.human_route, text=reply.text, human_keywords=words):
                raise AutomationRefused(
                    "no_human_route",
                    _("The auto-reply “%(name)s” would no longer name a keyword that reaches a person.")
                    % {"name": reply.name},
                    field="human_keywords",
                )
        automation.updated_at = timezone.now()
        automation.save()
        after = {name: _audit_value(name, getattr(automation, name)) for name in _SETTING_FIELDS}
        changed = {name: [before[name], after[name]] for name in _SETTING_FIELDS if before[name] != after[name]}
        if changed:
            audit_record(actor=actor, action="automation.updated", target=automation, details=changed)
    return automation


def _audit_value(name: str, value: object) -> object:
    if name == "bot_secret":
        return "(set)" if value else ""
    if isinstance(value, Team):
        return value.pk
    return value


def _checked_reply(reply: AutoReply, automation: ChannelAutomation) -> None:
    if reply.kind not in AutomationKind.values:
        raise AutomationRefused("invalid", _("An auto-reply is a welcome, an away or a keyword reply."), field="kind")
    reply.name = " ".join((reply.name or "").split())
    if not reply.name or len(reply.name) > 120:
        raise AutomationRefused("invalid", _("Give the auto-reply a name of up to 120 characters."), field="name")
    reply.text = (reply.text or "").strip()
    text_max = limits.BUTTON_BODY_MAX if reply.human_route == HumanRoute.BUTTON else TEXT_MAX
    if not reply.text or len(reply.text) > text_max:
        raise AutomationRefused(
            "invalid",
            _("Write the message, up to %(max)d characters (a message with a button holds %(button)d).")
            % {"max": TEXT_MAX, "button": limits.BUTTON_BODY_MAX},
            field="text",
        )
    if reply.human_route not in HumanRoute.values:
        raise AutomationRefused("invalid", _("Choose how the message offers a person."), field="human_route")
    reply.keywords = _keyword_list(reply.keywords or [], name="keywords")
    if reply.kind == AutomationKind.KEYWORD and not reply.keywords:
        raise AutomationRefused("invalid", _("A keyword reply needs the words it answers."), field="keywords")
    if reply.kind != AutomationKind.KEYWORD:
        reply.keywords = []
    if not reply.enabled:
        return
    refusal = route_refusal(escalation_route(automation))
    if refusal is not None:
        raise refusal
    if not policy.offers_human_route(
        human_route=reply.human_route, text=reply.text, human_keywords=human_keywords(automation)
    ):
        raise AutomationRefused(
            "no_human_route",
            _(
                "This message must offer a way to a person: choose the “Talk to a person” button, or name in the "
                "text a keyword that hands over (such as “agent” or “person”)."
            ),
            field="human_route",
        )
    if reply.kind in (AutomationKind.WELCOME, AutomationKind.AWAY):
        others = AutoReply.objects.filter(channel_id=reply.channel_id, kind=reply.kind, enabled=True)
        if reply.pk is not None:
            others = others.exclude(pk=reply.pk)
        if others.exists():
            raise AutomationRefused(
                "duplicate_auto_reply",
                _("Another %(kind)s is on for this channel: switch it off first.")
                % {"kind": AutomationKind(reply.kind).label.lower()},
                field="enabled",
            )


_REPLY_FIELDS = ("kind", "name", "enabled", "text", "keywords", "human_route")


def auto_reply_create(
    *,
    actor: User,
    channel: Channel,
    kind: str,
    name: str,
    text: str,
    keywords: list[str] | None = None,
    human_route: str = HumanRoute.BUTTON,
    enabled: bool = False,
) -> AutoReply:
    """A new auto-reply (admins). Switched on only with a complete escalation route and a route to a
    person in the message itself (`no_escalation_route`, `no_human_route`). Audited."""
    _require_admin(actor, channel.pk)
    reply = AutoReply(
        channel=channel,
        kind=kind,
        name=name,
        text=text,
        keywords=keywords or [],
        human_route=human_route,
        enabled=enabled,
    )
    with transaction.atomic():
        _checked_reply(reply, automation_settings(channel_id=channel.pk))
        reply.save()
        audit_record(
            actor=actor,
            action="auto_reply.created",
            target=reply,
            details={name: getattr(reply, name) for name in _REPLY_FIELDS},
        )
    return reply


def auto_reply_update(*, actor: User, auto_reply: AutoReply, **changes) -> AutoReply:
    """Change an auto-reply (any of kind, name, enabled, text, keywords, human_route); the same checks as
    creating it. Audited."""
    _require_admin(actor, auto_reply.channel_id)
    unknown = set(changes) - set(_REPLY_FIELDS)
    if unknown:
        raise AutomationRefused("invalid", _("Unknown setting: %(name)s.") % {"name": sorted(unknown)[0]})
    with transaction.atomic():
        reply = AutoReply.objects.select_for_update().get(pk=auto_reply.pk)
        before = {name: getattr(reply, name) for name in _REPLY_FIELDS}
        for name, value in changes.items():
            setattr(reply, name, value)
        _checked_reply(reply, automation_settings(channel_id=reply.channel_id))
        reply.updated_at = timezone.now()
        reply.save()
        changed = {
            name: [before[name], getattr(reply, name)] for name in _REPLY_FIELDS if before[name] != getattr(reply, name)
        }
        if changed:
            audit_record(actor=actor, action="auto_reply.updated", target=reply, details=changed)
    return reply


def auto_reply_delete(*, actor: User, auto_reply: AutoReply) -> None:
    _require_admin(actor, auto_reply.channel_id)
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="auto_reply.deleted",
            target=auto_reply,
            details={"name": auto_reply.name, "kind": auto_reply.kind},
        )
        auto_reply.delete()


# --- The bot hook ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BotAnswer:
    """What the bot said: its reply (text and up to three buttons), whether it asks to hand over, whether
    it understood; or why the call failed (`error`), `timed_out` when it did not answer in time."""

    text: str = ""
    buttons: list[tuple[str, str]] = field(default_factory=list)
    handover: bool = False
    understood: bool = True
    error: str = ""
    timed_out: bool = False

    @property
    def failed(self) -> bool:
        return bool(self.error) or self.timed_out or not self.understood


def bot_signature(secret: str, body: bytes) -> str:
    """`sha256=<hex HMAC-SHA256 of the raw body with the shared secret>`, as in X-Switchboard-Signature."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def bot_event(*, message: Message | None, text: str = "") -> dict:
    """The JSON the bot receives for one customer message (or, without a message, a test)."""
    if message is None:
        return {
            "event": "message",
            "conversation_id": None,
            "contact": {"id": None, "name": "Test customer", "language": "en"},
            "message": {"id": None, "type": "text", "text": text, "button_id": None},
        }
    contact = message.conversation.contact
    return {
        "event": "message",
        "conversation_id": message.conversation_id,
        "contact": {"id": contact.pk, "name": contact.display_name, "language": contact.language},
        "message": {
            "id": message.pk,
            "type": message.type,
            "text": message.text,
            "button_id": tapped_button_id(message),
        },
    }


def bot_call(*, automation: ChannelAutomation, event: dict) -> BotAnswer:
    """POST the event to the bot and read its answer. Never raises for the bot's faults; never logs the
    secret."""
    if not is_http_url(automation.bot_url):
        return BotAnswer(error=_("The bot's address is not an http:// or https:// URL."))
    body = json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Switchboard-bot-hook/1",
        "X-Switchboard-Signature": bot_signature(automation.bot_secret, body),
    }
    try:
        response = httpx.post(automation.bot_url, content=body, headers=headers, timeout=automation.bot_timeout_seconds)
    except httpx.TimeoutException:
        return BotAnswer(
            timed_out=True,
            error=_("The bot did not answer within %(seconds)d seconds.") % {"seconds": automation.bot_timeout_seconds},
        )
    except httpx.HTTPError as exc:
        return BotAnswer(error=_("The bot could not be reached (%(why)s).") % {"why": type(exc).__name__})
    if not 200 <= response.status_code < 300:
        return BotAnswer(error=_("The bot answered HTTP %(status)d.") % {"status": response.status_code})
    try:
        data = response.json()
    except ValueError:
        return BotAnswer(error=_("The bot's answer is not JSON."))
    return bot_answer_read(data)


def bot_answer_read(data: object) -> BotAnswer:
    """The bot's JSON as a BotAnswer; anything out of shape is a failure. Buttons are kept within
    WhatsApp's limits (titles of 20 characters, unique)."""
    if not isinstance(data, dict):
        return BotAnswer(error=_("The bot's answer is not a JSON object."))
    reply = data.get("reply") or {}
    if not isinstance(reply, dict):
        return BotAnswer(error=_("The bot's `reply` is not an object."))
    text = reply.get("text") or ""
    if not isinstance(text, str):
        return BotAnswer(error=_("The bot's reply text is not text."))
    buttons: list[tuple[str, str]] = []
    for button in reply.get("buttons") or []:
        if not isinstance(button, dict):
            continue
        button_id, title = str(button.get("id") or "")[: limits.BUTTON_ID_MAX], str(button.get("title") or "").strip()
        title = title[: limits.BUTTON_TITLE_MAX]
        if button_id and title and all(title != kept[1] and button_id != kept[0] for kept in buttons):
            buttons.append((button_id, title))
    handover = data.get("handover") is True
    understood = data.get("understood", True) is not False
    if not text.strip() and not handover and understood:
        return BotAnswer(error=_("The bot answered without a reply text."))
    return BotAnswer(
        text=text.strip()[:TEXT_MAX], buttons=buttons[: limits.BUTTONS_MAX], handover=handover, understood=understood
    )


def bot_test(*, actor: User, channel: Channel, text: str) -> BotAnswer:
    """Send the channel's bot a test message with its saved address and secret (admins); nothing is sent
    to any customer."""
    _require_admin(actor, channel.pk)
    automation = automation_settings(channel_id=channel.pk)
    if not automation.bot_url:
        return BotAnswer(error=_("Save the bot's address first."))
    return bot_call(automation=automation, event=bot_event(message=None, text=text.strip()[:TEXT_MAX] or "hello"))


# --- After a customer's message ------------------------------------------------------------------------------------


def tapped_button_id(message: Message) -> str | None:
    """The id of the reply button (or a template's quick-reply payload) the customer tapped, if any."""
    content = message.content or {}
    if message.type == MessageType.INTERACTIVE:
        for reply_kind in ("button_reply", "list_reply"):
            reply = content.get(reply_kind)
            if isinstance(reply, dict) and reply.get("id"):
                return str(reply["id"])
    if message.type == MessageType.BUTTON and content.get("payload"):
        return str(content["payload"])
    return None


def asks_for_a_person(message: Message, automation: ChannelAutomation) -> tuple[bool, str]:
    """(does the message ask for a person, the language of the words they used)."""
    if tapped_button_id(message) == policy.HUMAN_BUTTON_ID:
        return True, ""
    if message.type != MessageType.TEXT:
        return False, ""
    intent = policy.keyword_intent(message.text, stop=(), start=(), human=human_keywords(automation))
    if intent is not None and intent[0] == policy.Intent.HUMAN:
        return True, intent[1]
    return False, ""


def inbound_message_apply(*, message: Message) -> None:
    """Answer a customer's message automatically when an automation applies: hand over when they ask for a
    person, let the bot answer a conversation it handles, else send the keyword reply, the welcome or the
    away reply. A message an automation may not send (the customer's identity is held, the window closed)
    is logged and skipped."""
    if message.direction != Direction.INBOUND or message.type in NOT_ANSWERED:
        return
    automation = ChannelAutomation.objects.filter(channel_id=message.channel_id).first()
    if automation is None:
        return
    conversation = Conversation.objects.select_related("contact", "channel").get(pk=message.conversation_id)
    route_ready = policy.has_escalation_route(escalation_route(automation))
    wants_person, language = asks_for_a_person(message, automation)
    if wants_person:
        waiting = conversation.handover_at is not None and conversation.human_answered_at is None
        if conversation.handled_by == HandledBy.BOT or (not waiting and automation_active(automation)):
            handover(
                conversation=conversation,
                reason=HandoverReason.ASKED,
                automation=automation,
                language=language,
                at=message.created_at,
            )
        return
    if not route_ready:
        # Nothing automated may answer without a way to a person (the settings refuse it; a team deleted
        # since would leave one): people answer.
        return
    if automation.bot_enabled and _bot_takes(conversation=conversation, message=message):
        conversation.handled_by = HandledBy.BOT
    if conversation.handled_by == HandledBy.BOT:
        if automation.bot_enabled:
            _bot_answer(conversation=conversation, message=message, automation=automation)
            return
        # The bot was switched off while it had this conversation: people take it.
        Conversation.objects.filter(pk=conversation.pk, handled_by=HandledBy.BOT).update(handled_by=HandledBy.HUMAN)
    _auto_replies_send(conversation=conversation, message=message, automation=automation)


def _is_first_customer_message(message: Message) -> bool:
    return not (
        Message.objects.filter(conversation_id=message.conversation_id, direction=Direction.INBOUND, pk__lt=message.pk)
        .exclude(type__in=NOT_ANSWERED)
        .exists()
    )


def _bot_takes(*, conversation: Conversation, message: Message) -> bool:
    """A new conversation starts with the bot: its first customer message, nobody handed it over yet and no
    person has written in it."""
    if conversation.handled_by == HandledBy.BOT or conversation.handover_at is not None:
        return False
    if not _is_first_customer_message(message):
        return False
    if Message.objects.filter(conversation=conversation, direction=Direction.OUTBOUND, author__isnull=False).exists():
        return False
    return bool(
        Conversation.objects.filter(pk=conversation.pk, handled_by=HandledBy.HUMAN, handover_at__isnull=True).update(
            handled_by=HandledBy.BOT, bot_failures=0
        )
    )


def _auto_replies_send(*, conversation: Conversation, message: Message, automation: ChannelAutomation) -> None:
    """A keyword reply answers alone; otherwise the welcome (first customer message) and the away reply
    (outside business hours, at most once per conversation in AWAY_REPLY_INTERVAL) may both go."""
    replies = list(AutoReply.objects.filter(channel_id=conversation.channel_id, enabled=True).order_by("name", "pk"))
    if not replies:
        return
    said = policy.normalise_keyword(message.text) if message.type == MessageType.TEXT else ""
    if said:
        for reply in replies:
            if reply.kind == AutomationKind.KEYWORD and said in {policy.normalise_keyword(w) for w in reply.keywords}:
                already = Message.objects.filter(
                    conversation=conversation, initiator=Initiator.AUTOMATION, pk__gt=message.pk, text=reply.text
                ).exists()
                if not already:
                    _reply_send(conversation=conversation, reply=reply)
                return
    now = timezone.now()
    for reply in replies:
        if reply.kind == AutomationKind.WELCOME and _is_first_customer_message(message):
            # Claimed with one UPDATE: a replayed task (or two racing ones) sends the welcome once.
            if Conversation.objects.filter(pk=conversation.pk, welcome_sent_at__isnull=True).update(
                welcome_sent_at=now
            ):
                _reply_send(conversation=conversation, reply=reply)
            break
    if message.type == MessageType.REQUEST_WELCOME:
        return  # merely opening the chat: the welcome, nothing else
    for reply in replies:
        if reply.kind == AutomationKind.AWAY:
            if policy.is_open_at(automation.business_hours, time_zone=automation.time_zone, now=now):
                break
            conversation.refresh_from_db(fields=["away_sent_at"])
            last_sent = conversation.away_sent_at
            if policy.away_reply_due(last_sent, now=now) and Conversation.objects.filter(
                Q(away_sent_at__isnull=True) if last_sent is None else Q(away_sent_at=last_sent), pk=conversation.pk
            ).update(away_sent_at=now):
                _reply_send(conversation=conversation, reply=reply)
            break


def _reply_send(*, conversation: Conversation, reply: AutoReply) -> None:
    if reply.human_route == HumanRoute.BUTTON:
        _offer_send(conversation=conversation, text=reply.text, buttons=[])
    else:
        _automated_send(conversation=conversation, kind="text", payload={"body": reply.text}, offers_route=True)


def _language_of(conversation: Conversation, *hints: str) -> str:
    return policy.customer_language(*hints, conversation.contact.language)


def _offer_send(*, conversation: Conversation, text: str, buttons: list[tuple[str, str]]) -> bool:
    """Send `text` with reply buttons and "Talk to a person" among them (a text too long for a button message
    goes alone, then a short message carrying the button)."""
    title = policy.HUMAN_BUTTON_TITLES[_language_of(conversation)]
    buttons = policy.with_human_button(buttons, title=title)
    if len(text) > limits.BUTTON_BODY_MAX:
        if not _automated_send(conversation=conversation, kind="text", payload={"body": text}, offers_route=False):
            return False
        text, buttons = _("Would you rather talk to a person?"), [(policy.HUMAN_BUTTON_ID, title)]
    payload = {
        "type": "button",
        "body": {"text": text},
        "action": {"buttons": [{"type": "reply", "reply": {"id": bid, "title": btitle}} for bid, btitle in buttons]},
    }
    return _automated_send(conversation=conversation, kind="interactive", payload=payload, offers_route=True)


def _automated_send(*, conversation: Conversation, kind: str, payload: dict, offers_route: bool) -> bool:
    """Queue an automation's message; a refusal is logged, never raised (the customer's message stays for
    people to answer). Records when the way to a person was offered."""
    from inbox.services.outbound import SendRefused, message_send_automated

    try:
        message = message_send_automated(conversation=conversation, kind=kind, payload=payload)
    except SendRefused as refused:
        logger.info("Automated message to conversation %s not sent: %s", conversation.pk, refused.code)
        return False
    if offers_route:
        Conversation.objects.filter(pk=conversation.pk).update(human_route_offered_at=message.created_at)
    return True


def _bot_answer(*, conversation: Conversation, message: Message, automation: ChannelAutomation) -> None:
    answer = bot_call(automation=automation, event=bot_event(message=message))
    if answer.timed_out:
        handover(conversation=conversation, reason=HandoverReason.BOT_TIMEOUT, automation=automation)
        return
    if answer.handover:
        handover(conversation=conversation, reason=HandoverReason.ASKED, automation=automation)
        return
    if answer.failed:
        logger.info("The bot of channel %s failed on message %s: %s", conversation.channel_id, message.pk, answer.error)
        Conversation.objects.filter(pk=conversation.pk).update(bot_failures=F("bot_failures") + 1)
        failures = Conversation.objects.values_list("bot_failures", flat=True).get(pk=conversation.pk)
        if failures >= policy.BOT_FAILURES_BEFORE_HANDOVER:
            handover(conversation=conversation, reason=HandoverReason.BOT_FAILED, automation=automation)
            return
        text = answer.text or _("Sorry, I could not answer that. Tap “Talk to a person” to reach someone.")
        _offer_send(conversation=conversation, text=text, buttons=answer.buttons)
        return
    Conversation.objects.filter(pk=conversation.pk).update(bot_failures=0)
    _offer_send(conversation=conversation, text=answer.text, buttons=answer.buttons)


# --- Handover and the escalation clock ----------------------------------------------------------------------------


def handover(
    *,
    conversation: Conversation,
    reason: str,
    automation: ChannelAutomation | None = None,
    language: str = "",
    at: datetime | None = None,
) -> User | None:
    """People take the conversation at once: the human queue of the channel's escalation team (assigned
    when someone has room), the customer told in their language, the escalation clock started. Returns
    the assignee, if any."""
    automation = automation or automation_settings(channel_id=conversation.channel_id)
    assignee = workflow.conversation_escalate_to_humans(
        conversation=conversation, reason=reason, team=automation.escalation_team, at=at or timezone.now()
    )
    language = _language_of(conversation, language)
    _automated_send(
        conversation=conversation, kind="text", payload={"body": policy.HANDOVER_TEXTS[language]}, offers_route=False
    )
    return assignee


def person_replied(*, conversation: Conversation, at: datetime) -> None:
    """A person wrote to the customer: people handle the conversation from now on and the escalation clock
    stops (the first answer after a handover is recorded)."""
    answered = Conversation.objects.filter(
        pk=conversation.pk, handover_at__isnull=False, handover_at__lte=at, human_answered_at__isnull=True
    ).update(human_answered_at=at)
    from_bot = Conversation.objects.filter(pk=conversation.pk, handled_by=HandledBy.BOT).update(
        handled_by=HandledBy.HUMAN, bot_failures=0
    )
    if from_bot:
        _activity(conversation=conversation, text=_("A person answered: the bot stops answering here"), at=at)
    if answered or from_bot:
        events.publish_conversation(conversation.pk)


def conversation_take_over(*, conversation: Conversation, actor: User) -> Conversation:
    """A person takes the conversation from the bot (and assigns it to themselves): the bot stops answering.
    The escalation clock of a handover keeps running until a person actually answers."""
    if not access.can_take_over(actor, conversation):
        raise AutomationRefused(
            "permission_denied", _("Only agents and admins who work this conversation may take it over.")
        )
    now = timezone.now()
    with transaction.atomic():
        from_bot = Conversation.objects.filter(pk=conversation.pk, handled_by=HandledBy.BOT).update(
            handled_by=HandledBy.HUMAN, bot_failures=0
        )
        if from_bot:
            _activity(
                conversation=conversation,
                text=_("%(actor)s took over from the bot") % {"actor": actor.name or actor.email},
                at=now,
                actor=actor,
            )
            audit_record(actor=actor, action="conversation.taken_over", target=conversation, details={})
        fresh = Conversation.objects.get(pk=conversation.pk)
        if fresh.assignee_id != actor.pk:
            try:
                workflow.conversation_take(conversation=fresh, actor=actor)
            except workflow.WorkflowRefused as refused:
                raise AutomationRefused(refused.code, refused.detail)
        events.publish_conversation(conversation.pk)
    return Conversation.objects.get(pk=conversation.pk)


def _activity(*, conversation: Conversation, text: str, at: datetime, actor: User | None = None, **details) -> Message:
    return workflow.activity_add(
        conversation=conversation, actor=actor, text=text, details={"action": "automation", **details}, at=at
    )


def escalation_due_at(conversation: Conversation) -> datetime | None:
    """When the conversation's escalation clock takes its next step (None: no clock running)."""
    if conversation.handover_at is None or conversation.human_answered_at is not None:
        return None
    automation = automation_settings(channel_id=conversation.channel_id)
    return policy.escalation_due_at(
        conversation.handover_at,
        level=conversation.escalation_level,
        answer_within_minutes=automation.answer_within_minutes,
        fallback_after_minutes=automation.fallback_after_minutes,
    )


def escalations_advance(*, now: datetime | None = None) -> int:
    """The escalation clock (the beat runs it every minute): for every conversation handed to people and not
    answered yet, tell the managers and admins once `answer_within_minutes` passed (level 1), then send the
    customer the channel's fallback once `fallback_after_minutes` passed (level 2). Idempotent: each step is
    claimed with a conditional update, so two runs never repeat it; a person's answer stops it. Returns
    how many steps were taken."""
    now = now or timezone.now()
    waiting = (
        Conversation.objects.filter(
            handover_at__isnull=False,
            human_answered_at__isnull=True,
            escalation_level__lt=2,
            status__in=_WAITING_STATUSES,
        )
        .select_related("contact", "channel")
        .order_by("handover_at", "pk")[:500]
    )
    settings_by_channel: dict[int, ChannelAutomation] = {}
    steps = 0
    for conversation in waiting:
        automation = settings_by_channel.setdefault(
            conversation.channel_id, automation_settings(channel_id=conversation.channel_id)
        )
        while True:
            step = policy.escalation_next_step(
                handover_at=conversation.handover_at,
                human_answered_at=conversation.human_answered_at,
                level=conversation.escalation_level,
                answer_within_minutes=automation.answer_within_minutes,
                fallback_after_minutes=automation.fallback_after_minutes,
                now=now,
            )
            if step is None or not _escalation_step_take(
                conversation=conversation, step=step, automation=automation, now=now
            ):
                break
            steps += 1
    return steps


def _escalation_step_take(
    *, conversation: Conversation, step: policy.EscalationStep, automation: ChannelAutomation, now: datetime
) -> bool:
    level = conversation.escalation_level
    with transaction.atomic():
        claimed = Conversation.objects.filter(
            pk=conversation.pk,
            escalation_level=level,
            handover_at=conversation.handover_at,
            human_answered_at__isnull=True,
        ).update(escalation_level=level + 1)
        if not claimed:
            return False
        conversation.escalation_level = level + 1
        if step == policy.EscalationStep.NOTIFY:
            _managers_notify(conversation=conversation, automation=automation, now=now)
            return True
    _fallback_send(conversation=conversation, automation=automation, now=now)
    return True


def _managers_notify(*, conversation: Conversation, automation: ChannelAutomation, now: datetime) -> None:
    minutes = automation.answer_within_minutes
    text = _("Nobody answered %(name)s within %(minutes)d min of the handover") % {
        "name": conversation.contact.display_name,
        "minutes": minutes,
    }
    people = access.people_who_can_view(conversation).filter(role__in=(Role.ADMIN, Role.MANAGER))
    told = set()
    for person in list(people) + ([conversation.assignee] if conversation.assignee_id else []):
        if person.pk in told:
            continue
        told.add(person.pk)
        notification_create(user=person, kind=NotificationKind.ESCALATION, conversation=conversation, text=text)
    _activity(
        conversation=conversation,
        text=_("Escalated: nobody answered within %(minutes)d min, managers and admins told") % {"minutes": minutes},
        at=now,
        escalation_level=1,
    )
    events.publish_conversation(conversation.pk)


def _fallback_send(*, conversation: Conversation, automation: ChannelAutomation, now: datetime) -> None:
    from inbox.services.outbound import SendRefused, message_send_automated

    kind = FallbackKind(automation.fallback_kind).label.lower() if automation.fallback_kind else _("fallback")
    if not automation.fallback_text:
        text = _("Escalated: nobody answered in time, and no fallback is configured to offer the customer")
    else:
        try:
            message_send_automated(
                conversation=conversation, kind="text", payload={"body": automation.fallback_text}, now=now
            )
        except SendRefused as refused:
            text = _("The fallback (%(kind)s) could not be sent: %(why)s") % {"kind": kind, "why": refused.detail}
        else:
            text = _("Escalated: nobody answered in time, the customer was offered the fallback (%(kind)s)") % {
                "kind": kind
            }
    _activity(conversation=conversation, text=text, at=now, escalation_level=2)
    events.publish_conversation(conversation.pk)
