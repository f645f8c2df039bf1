"""WhatsApp's rules as pure functions over plain values. No ORM, no I/O; `now` is always passed in.

Each rule says which WhatsApp rule it mirrors. Tests are tables with no database (tests/inbox/test_policy.py).
"""

import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from functools import lru_cache
from random import Random
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from templates_app import policy as template_policy

# Customer-service window: free-form replies are allowed for 24 hours after the customer's last message
# (whatsapp-cloud-api.md §13). Our own outgoing messages never extend it.
SERVICE_WINDOW = timedelta(hours=24)

# Messages that are not the customer writing to us: WhatsApp's own system notices, and the customer
# editing or deleting an earlier message (those change an old message; they do not start a new exchange).
_NOT_CUSTOMER_MESSAGES = frozenset({"system", "edit", "revoke"})

# Statuses only move forward: sent < delivered < read < played. Meta does not guarantee order and may
# skip "delivered" (§9), so an older status arriving late must not undo a newer one. "failed" ranks above
# "sent" (a late "sent" must not hide the failure) and below "delivered" (a delivery proves it arrived).
_STATUS_RANK = {"received": 0, "queued": 0, "sent": 1, "failed": 2, "delivered": 3, "read": 4, "played": 5}


def opens_service_window(message_type: str) -> bool:
    """Does an inbound message of this type (re)open the 24-hour customer-service window?"""
    return message_type not in _NOT_CUSTOMER_MESSAGES


# Inbound messages that are not the customer answering us: the above, and merely opening the chat.
NOT_ANSWERS = _NOT_CUSTOMER_MESSAGES | {"request_welcome"}


def counts_as_reply(message_type: str) -> bool:
    """Is an inbound message of this type the customer answering us? Anything they write or tap; not
    WhatsApp's notices, changes to earlier messages, nor merely opening the chat."""
    return message_type not in NOT_ANSWERS


def service_window_closes_at(last_customer_message_at: datetime | None) -> datetime | None:
    """When free-form replies stop being allowed; None when the customer never wrote."""
    if last_customer_message_at is None:
        return None
    return last_customer_message_at + SERVICE_WINDOW


def is_service_window_open(last_customer_message_at: datetime | None, *, now: datetime) -> bool:
    """True strictly before the 24-hour mark: at exactly 24:00:00 the window has closed."""
    closes_at = service_window_closes_at(last_customer_message_at)
    return closes_at is not None and now < closes_at


def status_moves_forward(current: str, new: str) -> bool:
    """May a message whose status is `current` take the status `new`? Unknown statuses never apply."""
    if new not in _STATUS_RANK or current not in _STATUS_RANK:
        return False
    return _STATUS_RANK[new] > _STATUS_RANK[current]


def counts_as_unread(message_type: str) -> bool:
    """Edits and deletions change an old message; they are not something new to read."""
    return message_type not in ("edit", "revoke")


# --- Outbound: may this message go out now, and if not, why ------------------------------------------------
# `message_send` asks before queueing and the outbound worker asks again just before sending (facts change
# while a message waits). A refusal carries a Reason whose value is a stable code the UI, the API and the
# worker all show, and `explain()` gives the sentence a person reads.


class Reason(StrEnum):
    """Why WhatsApp's rules stop a message. Each has a sentence in `_EXPLANATIONS`; the values never change
    once shipped (API clients match on them)."""

    WINDOW_CLOSED = "window_closed"
    TEMPLATE_NOT_SENDABLE = "template_not_sendable"
    NO_CONSENT = "no_consent"
    OPTED_OUT = "opted_out"
    IDENTITY_UNCONFIRMED = "identity_unconfirmed"
    NUMBER_RESTRICTED = "number_restricted"
    MESSAGING_LIMIT_REACHED = "messaging_limit_reached"


_EXPLANATIONS: dict[Reason, str] = {
    Reason.WINDOW_CLOSED: (
        "The customer last wrote more than 24 hours ago: WhatsApp only allows an approved template now."
    ),
    Reason.TEMPLATE_NOT_SENDABLE: "WhatsApp does not allow this template to be sent now: pick another template.",
    Reason.NO_CONSENT: (
        "The customer has not agreed to receive this kind of message: record their opt-in on the contact first."
    ),
    Reason.OPTED_OUT: "The customer asked not to receive this kind of message any more.",
    Reason.IDENTITY_UNCONFIRMED: (
        "The customer's number or WhatsApp identity changed: an agent must acknowledge it on the contact "
        "before anything is sent."
    ),
    Reason.NUMBER_RESTRICTED: (
        "WhatsApp has restricted this number: it may only answer customers who wrote in the last 24 hours."
    ),
    Reason.MESSAGING_LIMIT_REACHED: (
        "This WhatsApp account has reached its limit of customers contacted first in 24 hours: the message "
        "can go when earlier contacts leave the 24-hour count."
    ),
}


def explain(reason: Reason) -> str:
    """The plain-language sentence for a refusal reason."""
    return _EXPLANATIONS[reason]


@dataclass(frozen=True)
class Decision:
    """The answer to "may this go out now?". `requires_template` tells the composer to offer templates;
    `detail` is a more precise sentence than the reason's own, when the rule has one (a paused template);
    `waits` says the refusal is temporary: a queued message waits for it instead of failing."""

    allowed: bool
    reason: Reason | None = None
    requires_template: bool = False
    detail: str = ""
    waits: bool = False


def explain_decision(decision: Decision) -> str:
    """The sentence a person reads for a refusal: the rule's own, else the reason's."""
    if decision.detail or decision.reason is None:
        return decision.detail
    return explain(decision.reason)


ALLOWED = Decision(allowed=True)

# The one message type WhatsApp lets a business send outside the customer-service window (§13).
TEMPLATE = "template"

# Who starts an outbound message (inbox.models.Initiator).
AGENT = "agent"
AUTOMATION = "automation"
CAMPAIGN = "campaign"

# What a customer consents to: the template categories (inbox.models.ConsentPurpose).
PURPOSES = ("marketing", "utility", "authentication")

# The number statuses (inbox.models.NumberStatus) in which WhatsApp refuses business-initiated messages.
RESTRICTED = "restricted"


@dataclass(frozen=True)
class OutboundFacts:
    """What the outbound rules need about one message, read by the caller when it asks.

    `last_customer_message_at` is Meta's timestamp of the contact's latest inbound message on this number
    (None if they never wrote). For a template: WhatsApp's status and category for it, whether we hold the
    content WhatsApp approved, and whether the message was built from that content (an edit WhatsApp
    approved since then replaces it). `initiator`: agent, automation or campaign. Consent: the purposes the
    contact's latest ledger entry says they opted in to / out of. `identity_held`: a changed number or
    identity waits for an agent's acknowledgement. Messaging limit: the account's limit (None = unlimited),
    how many unique customers business-initiated messages reached in the last 24 hours, and whether this
    contact is already one of them (reaching them again costs nothing)."""

    message_type: str
    last_customer_message_at: datetime | None
    template_status: str = ""
    template_has_live_revision: bool = False
    template_revision_current: bool = True
    template_category: str = ""
    initiator: str = AGENT
    opted_in: frozenset[str] = frozenset()
    opted_out: frozenset[str] = frozenset()
    identity_held: bool = False
    number_status: str = "connected"
    messaging_limit: int | None = None
    reached_in_24h: int = 0
    contact_reached_in_24h: bool = False


def may_send_free_form(facts: OutboundFacts, *, now: datetime) -> Decision:
    """Free-form messages (every type but templates: text, media, location, contacts, reactions,
    interactive) only inside the 24-hour customer-service window; after it WhatsApp answers 131047 and
    only an approved template may go out (§13). Templates are not free-form: their own rules decide."""
    if facts.message_type == TEMPLATE:
        return ALLOWED
    if is_service_window_open(facts.last_customer_message_at, now=now):
        return ALLOWED
    return Decision(allowed=False, reason=Reason.WINDOW_CLOSED, requires_template=True)


def may_send_template(facts: OutboundFacts) -> Decision:
    """A template goes out whenever WhatsApp has it approved, window or not (§13); a paused, disabled or
    unapproved template would only earn 132015/132016/132001. A message built from content WhatsApp no
    longer sends (a newer revision went live) would not match its placeholders (132000): write it again."""
    answer = template_policy.sendability(
        status=facts.template_status, has_live_revision=facts.template_has_live_revision
    )
    if not answer.sendable:
        return Decision(allowed=False, reason=Reason.TEMPLATE_NOT_SENDABLE, detail=answer.why_not)
    if not facts.template_revision_current:
        return Decision(
            allowed=False,
            reason=Reason.TEMPLATE_NOT_SENDABLE,
            detail="The template changed after this message was written: write it again from the new version.",
        )
    return ALLOWED


def consent_purpose(template_category: str) -> str:
    """The consent a template needs: its category's (marketing, utility, authentication). An unknown
    category is treated as marketing, the strictest."""
    category = template_category.lower()
    return category if category in PURPOSES else "marketing"


def is_business_initiated(facts: OutboundFacts, *, now: datetime) -> bool:
    """Does this message start a conversation the customer did not ask for? A template outside the
    customer-service window, and anything a campaign sends. Replies inside the window (a person's or an
    automation's) answer the customer."""
    if facts.initiator == CAMPAIGN:
        return True
    return facts.message_type == TEMPLATE and not is_service_window_open(facts.last_customer_message_at, now=now)


def has_messaging_headroom(facts: OutboundFacts) -> bool:
    """Messaging limits count unique customers reached by business-initiated messages in a moving 24 hours
    (§12): a customer already reached costs nothing; a new one needs room under the limit."""
    if facts.messaging_limit is None or facts.contact_reached_in_24h:
        return True
    return facts.reached_in_24h < facts.messaging_limit


def may_send(facts: OutboundFacts, *, now: datetime) -> Decision:
    """Every outbound rule for one message, in this order (the first that refuses answers):

    1. identity: nothing goes to a customer whose number or identity changed until an agent acknowledged it;
    2. the message itself: a template must be sendable, anything else needs the open window;
    3. an opted-out purpose: no template of a category the customer withdrew from, window or not;
    4. business-initiated messages only: consent for the template's purpose, a number WhatsApp has not
       restricted, and room under the messaging limit (a temporary refusal: the message waits)."""
    if facts.identity_held:
        return Decision(allowed=False, reason=Reason.IDENTITY_UNCONFIRMED)
    if facts.message_type != TEMPLATE:
        decision = may_send_free_form(facts, now=now)
        if not decision.allowed or facts.initiator != CAMPAIGN:
            return decision
    else:
        decision = may_send_template(facts)
        if not decision.allowed:
            return decision
        if consent_purpose(facts.template_category) in facts.opted_out:
            return Decision(allowed=False, reason=Reason.OPTED_OUT)
    if not is_business_initiated(facts, now=now):
        return ALLOWED
    purpose = consent_purpose(facts.template_category)
    if purpose in facts.opted_out:
        return Decision(allowed=False, reason=Reason.OPTED_OUT)
    if purpose not in facts.opted_in:
        return Decision(allowed=False, reason=Reason.NO_CONSENT)
    if facts.number_status == RESTRICTED:
        return Decision(allowed=False, reason=Reason.NUMBER_RESTRICTED)
    if not has_messaging_headroom(facts):
        return Decision(allowed=False, reason=Reason.MESSAGING_LIMIT_REACHED, waits=True)
    return ALLOWED


def messaging_headroom_returns_at(oldest_reach_at: datetime | None) -> datetime | None:
    """When the account can reach one more new customer: the oldest reach in the count leaves the moving
    24 hours. None when nothing is counted."""
    if oldest_reach_at is None:
        return None
    return oldest_reach_at + timedelta(hours=24)


# --- Consent: what the customer's own words mean ------------------------------------------------------------
# Built-in keywords, matched against the whole message (case, accents, punctuation and extra spaces
# ignored), so "Stop!" withdraws consent but "don't stop the delivery" does not. Each channel may replace
# a list with its own (ChannelAutomation). STOP withdraws marketing and utility messages (authentication
# codes are requested by the customer each time); START restores them; HUMAN asks for a person.

STOP_KEYWORDS: dict[str, tuple[str, ...]] = {
    "en": ("stop", "unsubscribe", "stop all", "opt out", "optout", "end", "quit"),
    "it": ("stop", "basta", "disiscrivimi", "annulla iscrizione", "cancellami"),
    "fr": ("stop", "arret", "arrete", "desabonner", "me desabonner", "desinscription"),
    "es": ("baja", "parar", "detener", "cancelar suscripcion", "darme de baja", "no enviar"),
    "pt": ("parar", "sair", "pare", "cancelar inscricao", "descadastrar"),
    "de": ("stopp", "stop", "abmelden", "abbestellen", "austragen"),
    "ru": ("стоп", "отписаться", "отписка", "хватит"),
}
START_KEYWORDS: dict[str, tuple[str, ...]] = {
    "en": ("start", "unstop", "subscribe", "resume"),
    "it": ("iscrivimi", "riattiva", "ricomincia"),
    "fr": ("reprendre", "abonner", "m abonner", "demarrer"),
    "es": ("alta", "suscribir", "reanudar", "iniciar"),
    "pt": ("voltar", "inscrever", "retomar", "iniciar"),
    "de": ("anmelden", "fortsetzen", "starten"),
    "ru": ("старт", "подписаться", "возобновить"),
}
HUMAN_KEYWORDS: dict[str, tuple[str, ...]] = {
    "en": ("human", "agent", "person", "talk to a person", "operator", "representative", "speak to someone"),
    "it": ("operatore", "persona", "umano", "parla con una persona", "assistenza"),
    "fr": ("humain", "conseiller", "agent", "operateur", "parler a quelqu un"),
    "es": ("agente", "humano", "persona", "asesor", "hablar con una persona", "operador"),
    "pt": ("atendente", "humano", "pessoa", "agente", "falar com uma pessoa", "operador"),
    "de": ("mensch", "mitarbeiter", "berater", "person", "mit einem menschen sprechen"),
    "ru": ("оператор", "человек", "менеджер", "живой человек", "позовите человека"),
}


class Intent(StrEnum):
    STOP = "stop"
    START = "start"
    HUMAN = "human"


# What STOP withdraws and START restores.
STOP_PURPOSES = ("marketing", "utility")


def normalise_keyword(text: str) -> str:
    """Lower case, no accents (é → e; Cyrillic letters stay), punctuation as spaces, single spaces."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    letters = "".join(char for char in decomposed if not unicodedata.combining(char))
    words = "".join(char if char.isalnum() else " " for char in letters)
    return " ".join(words.split())


def keyword_intent(
    text: str,
    *,
    stop: dict[str, tuple[str, ...]] | tuple[str, ...] = STOP_KEYWORDS,
    start: dict[str, tuple[str, ...]] | tuple[str, ...] = START_KEYWORDS,
    human: dict[str, tuple[str, ...]] | tuple[str, ...] = HUMAN_KEYWORDS,
) -> tuple[Intent, str] | None:
    """What a customer's whole message asks for (stop, start again, a person) and the language of the
    keyword that matched ("" for a channel's own list); None for anything else. Longer messages are
    conversation, not commands."""
    said = normalise_keyword(text)
    if not said or len(said) > 40:
        return None
    for intent, table in ((Intent.STOP, stop), (Intent.START, start), (Intent.HUMAN, human)):
        groups = table.items() if isinstance(table, dict) else (("", table),)
        for language, words in groups:
            if said in _normalised(tuple(words)):
                return intent, language
    return None


@lru_cache(maxsize=1024)
def _normalised(words: tuple[str, ...]) -> frozenset[str]:
    """A keyword list as `keyword_intent` compares it (cached: the lists rarely change)."""
    return frozenset(normalise_keyword(word) for word in words)


# Retries of a failed send: the first waits about 4 s, then 16 s, 64 s, 256 s, then at most 15 minutes.
# Powers of 4 follow Meta's advice for pair-rate errors (retry after 4^X seconds, §12).
RETRY_BASE_SECONDS = 4
RETRY_MAX_SECONDS = 15 * 60


def retry_delay(attempt: int, *, rng: Random) -> float:
    """Seconds to wait before retry number `attempt` (1 = after the first failed attempt).

    Exponential with "equal jitter": between half and all of the step. Messages that failed together (a
    429 burst, a WhatsApp outage) then spread out instead of hitting the rate limit again at the same
    instant, and no retry comes sooner than half its step."""
    if attempt < 1:
        raise ValueError("The first retry is attempt 1.")
    step = RETRY_MAX_SECONDS if attempt >= 5 else min(RETRY_MAX_SECONDS, RETRY_BASE_SECONDS**attempt)
    return step / 2 + rng.random() * step / 2


# --- Teamwork: who takes the next conversation --------------------------------------------------------------
# Not a WhatsApp rule but the same kind of decision: pure, over plain values, with a table of cases.


ONLINE = "online"


@dataclass(frozen=True)
class AgentLoad:
    """One team member as automatic assignment sees them: present or not, and how full their plate is
    (`open_conversations` counts their open and pending conversations; snoozed and resolved ones wait on
    nobody)."""

    user_id: int
    presence: str
    open_conversations: int
    capacity: int


def has_room(agent: AgentLoad) -> bool:
    """Only people at their desk take new work, and never beyond the capacity they set (0 = never)."""
    return agent.presence == ONLINE and agent.open_conversations < agent.capacity


def next_assignee(agents: list[AgentLoad], *, last_assigned_user_id: int | None) -> int | None:
    """Round robin: the first member with room after the one assigned most recently (members in id order,
    wrapping around). A pointer to someone who left the team resumes at the next id, so nobody is skipped
    twice. None when everyone is away, offline or full: the conversation waits in the team's queue."""
    ordered = sorted(agents, key=lambda agent: agent.user_id)
    start = 0
    if last_assigned_user_id is not None:
        start = next((i for i, agent in enumerate(ordered) if agent.user_id > last_assigned_user_id), 0)
    for agent in ordered[start:] + ordered[:start]:
        if has_room(agent):
            return agent.user_id
    return None


# --- Automations ------------------------------------------------------------------------------------------
# WhatsApp's Business Policy: anything automated must give the customer a way to a person ("escalation
# path"), and asking for one must work at once. Pure helpers over plain values; the services in
# inbox/services/automations.py read the facts and write.

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

# The id of the "Talk to a person" reply button every automated message carries (when its route is the
# button). WhatsApp echoes it in `interactive.button_reply.id` when the customer taps it.
HUMAN_BUTTON_ID = "switchboard_human"

# The button's title in the customer's language: WhatsApp allows 20 characters (whatsapp-cloud-api.md §12).
HUMAN_BUTTON_TITLES: dict[str, str] = {
    "en": "Talk to a person",
    "it": "Parla con operatore",
    "fr": "Parler à un humain",
    "es": "Hablar con persona",
    "pt": "Falar com pessoa",
    "de": "Mit Mensch sprechen",
    "ru": "Позвать человека",
}

# What the customer reads when the conversation goes to people.
HANDOVER_TEXTS: dict[str, str] = {
    "en": "Thanks — a person will answer here shortly.",
    "it": "Grazie — una persona ti risponderà qui a breve.",
    "fr": "Merci — une personne va vous répondre ici très bientôt.",
    "es": "Gracias — una persona te responderá aquí en breve.",
    "pt": "Obrigado — uma pessoa vai responder aqui em breve.",
    "de": "Danke — ein Mensch antwortet Ihnen hier in Kürze.",
    "ru": "Спасибо — скоро здесь ответит человек.",
}

# An away reply goes at most once per conversation in this long: a customer writing five messages at night
# reads "we are closed" once, and again the next night.
AWAY_REPLY_INTERVAL = timedelta(hours=12)

# The bot fails (an error, an answer it did not understand) this many times in a row: people take over.
BOT_FAILURES_BEFORE_HANDOVER = 2


def customer_language(*candidates: str) -> str:
    """The first of `candidates` (a keyword's language "it", a contact's "pt_BR") we have texts in; "en"
    otherwise."""
    for candidate in candidates:
        language = (candidate or "").replace("-", "_").split("_")[0].lower()
        if language in HANDOVER_TEXTS:
            return language
    return "en"


def _minutes(clock: str) -> int | None:
    """ "09:30" → 570; "24:00" is the end of the day; None when not a time."""
    hours, _, minutes = clock.partition(":")
    if not (hours.isdigit() and minutes.isdigit() and len(minutes) == 2):
        return None
    value = int(hours) * 60 + int(minutes)
    if int(minutes) > 59 or value > 24 * 60:
        return None
    return value


def business_hours_errors(business_hours: object) -> list[str]:
    """What is wrong with a business-hours value (`{"mon": [["09:00", "17:00"]], …}`); [] when valid.
    A range ending before it starts runs overnight ("22:00" to "06:00" closes at six the next morning)."""
    if not isinstance(business_hours, dict):
        return ["Business hours are a list of opening times per weekday."]
    errors = []
    for day, ranges in business_hours.items():
        if day not in WEEKDAYS:
            errors.append(f"“{day}” is not a weekday (mon, tue, wed, thu, fri, sat, sun).")
            continue
        if not isinstance(ranges, list):
            errors.append(f"The opening times of {day} are a list of [from, to] pairs.")
            continue
        for pair in ranges:
            if not (isinstance(pair, list | tuple) and len(pair) == 2 and all(isinstance(v, str) for v in pair)):
                errors.append(f'The opening times of {day} are pairs of times like ["09:00", "17:00"].')
                continue
            start, end = _minutes(pair[0]), _minutes(pair[1])
            if start is None or end is None or start == 24 * 60:
                errors.append(f"{day}: “{pair[0]}–{pair[1]}” is not a range of times between 00:00 and 24:00.")
            elif start == end:
                errors.append(f"{day}: a range from {pair[0]} to {pair[1]} is empty.")
    return errors


def is_within_business_hours(business_hours: dict, *, local_now: datetime) -> bool:
    """Is the business open at `local_now` (already in the channel's time zone)? No hours at all means open
    around the clock; a weekday with no ranges is closed. An overnight range belongs to the day it starts
    on: Friday's 22:00 to 02:00 covers Saturday 01:00."""
    if not business_hours:
        return True
    now_minutes = local_now.hour * 60 + local_now.minute
    today = WEEKDAYS[local_now.weekday()]
    yesterday = WEEKDAYS[(local_now.weekday() - 1) % 7]
    for start_text, end_text in business_hours.get(today) or ():
        start, end = _minutes(start_text), _minutes(end_text)
        if start is None or end is None:
            continue
        if start < end and start <= now_minutes < end:
            return True
        if start > end and now_minutes >= start:
            return True
    for start_text, end_text in business_hours.get(yesterday) or ():
        start, end = _minutes(start_text), _minutes(end_text)
        if start is not None and end is not None and start > end and now_minutes < end:
            return True
    return False


def is_open_at(business_hours: dict, *, time_zone: str, now: datetime) -> bool:
    """`is_within_business_hours` for an aware `now`, read in the channel's time zone (an unknown zone
    name reads as UTC, so a typo never silences the away reply nor sends it all day)."""
    try:
        zone = ZoneInfo(time_zone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    return is_within_business_hours(business_hours, local_now=now.astimezone(zone))


def away_reply_due(last_away_reply_at: datetime | None, *, now: datetime) -> bool:
    """May the away reply go again? Never sent in this conversation, or at least AWAY_REPLY_INTERVAL ago."""
    return last_away_reply_at is None or now - last_away_reply_at >= AWAY_REPLY_INTERVAL


@dataclass(frozen=True)
class EscalationRoute:
    """A channel's way to a person, as the rules need it: is there a team to hand over to (the escalation
    team, or one working the channel), how long people have to answer before managers are told, when the
    customer is offered the fallback, and the fallback itself (its kind and the text they read)."""

    has_team: bool
    answer_within_minutes: int
    fallback_after_minutes: int
    fallback_kind: str
    fallback_text: str


def escalation_route_gaps(route: EscalationRoute) -> list[str]:
    """What keeps the route from being complete, as sentences; [] when an automation may be switched on.
    An automation without an escalation path cannot be switched on (DESIGN.md §4)."""
    gaps = []
    if not route.has_team:
        gaps.append("Choose the team that takes handed-over conversations (or have a team work this channel).")
    if route.answer_within_minutes < 1:
        gaps.append("Say within how many minutes a person must answer.")
    if route.fallback_after_minutes < route.answer_within_minutes:
        gaps.append("The fallback goes to the customer after people were given their time to answer, not before.")
    if not route.fallback_kind:
        gaps.append("Choose the fallback offered when nobody answers (phone, e-mail, web form or store visit).")
    if not route.fallback_text.strip():
        gaps.append("Write the fallback message the customer receives (“You can also call us at …”).")
    return gaps


def has_escalation_route(route: EscalationRoute) -> bool:
    return not escalation_route_gaps(route)


def names_human_keyword(text: str, human_keywords: dict[str, tuple[str, ...]] | tuple[str, ...]) -> bool:
    """Does an automated message tell the customer how to reach a person, by naming one of the words that
    hand over (whole words, case and accents ignored: "Reply AGENT to talk to us" names "agent")?"""
    said = f" {normalise_keyword(text)} "
    groups = human_keywords.values() if isinstance(human_keywords, dict) else (human_keywords,)
    return any(f" {normalise_keyword(word)} " in said for words in groups for word in words if normalise_keyword(word))


def offers_human_route(*, human_route: str, text: str, human_keywords: dict | tuple) -> bool:
    """An automated message offers a way to a person: the "Talk to a person" button (added to it when it
    is sent), or the text naming a keyword that hands over."""
    if human_route == "button":
        return True
    return human_route == "keywords" and names_human_keyword(text, human_keywords)


def with_human_button(buttons: list[tuple[str, str]], *, title: str) -> list[tuple[str, str]]:
    """A bot's reply buttons with "Talk to a person" added; WhatsApp allows three, so a third one gives
    way (the route to a person always stays). A button of the bot's own with the same title or id goes."""
    kept = [(bid, btitle) for bid, btitle in buttons if bid != HUMAN_BUTTON_ID and btitle != title]
    return [*kept[:2], (HUMAN_BUTTON_ID, title)]


class EscalationStep(StrEnum):
    """What the escalation clock does next for a conversation waiting for a person."""

    NOTIFY = "notify"  # level 0 → 1: tell the managers and admins
    FALLBACK = "fallback"  # level 1 → 2: offer the customer the fallback


def escalation_due_at(
    handover_at: datetime, *, level: int, answer_within_minutes: int, fallback_after_minutes: int
) -> datetime | None:
    """When the next step is due for a conversation handed over at `handover_at` and at `level`; None
    when nothing is left to do."""
    if level == 0:
        return handover_at + timedelta(minutes=answer_within_minutes)
    if level == 1:
        return handover_at + timedelta(minutes=max(fallback_after_minutes, answer_within_minutes))
    return None


def escalation_next_step(
    *,
    handover_at: datetime | None,
    human_answered_at: datetime | None,
    level: int,
    answer_within_minutes: int,
    fallback_after_minutes: int,
    now: datetime,
) -> EscalationStep | None:
    """The step due now, if any. The clock runs from the handover until a person answers; due exactly at
    the minute (10 minutes to answer: at 10:00 after the handover, managers are told)."""
    if handover_at is None or human_answered_at is not None:
        return None
    due = escalation_due_at(
        handover_at,
        level=level,
        answer_within_minutes=answer_within_minutes,
        fallback_after_minutes=fallback_after_minutes,
    )
    if due is None or now < due:
        return None
    return EscalationStep.NOTIFY if level == 0 else EscalationStep.FALLBACK
