"""WhatsApp's rules as pure functions over plain values. No ORM, no I/O; `now` is always passed in.

Each rule says which WhatsApp rule it mirrors. Tests are tables with no database (tests/inbox/test_policy.py).
"""

import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from random import Random

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
            if said in {normalise_keyword(word) for word in words}:
                return intent, language
    return None


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
