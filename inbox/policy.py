"""WhatsApp's rules as pure functions over plain values. No ORM, no I/O; `now` is always passed in.

Each rule says which WhatsApp rule it mirrors. Tests are tables with no database (tests/inbox/test_policy.py).
"""

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
    """Why WhatsApp's rules stop a message. Later rules add their codes here (no_consent, opted_out,
    identity_unconfirmed, number_restricted, messaging_limit_reached), each with a sentence in
    `_EXPLANATIONS`; the values never change once shipped (API clients match on them)."""

    WINDOW_CLOSED = "window_closed"
    TEMPLATE_NOT_SENDABLE = "template_not_sendable"


_EXPLANATIONS: dict[Reason, str] = {
    Reason.WINDOW_CLOSED: (
        "The customer last wrote more than 24 hours ago: WhatsApp only allows an approved template now."
    ),
    Reason.TEMPLATE_NOT_SENDABLE: "WhatsApp does not allow this template to be sent now: pick another template.",
}


def explain(reason: Reason) -> str:
    """The plain-language sentence for a refusal reason."""
    return _EXPLANATIONS[reason]


@dataclass(frozen=True)
class Decision:
    """The answer to "may this go out now?". `requires_template` tells the composer to offer templates;
    `detail` is a more precise sentence than the reason's own, when the rule has one (a paused template)."""

    allowed: bool
    reason: Reason | None = None
    requires_template: bool = False
    detail: str = ""


def explain_decision(decision: Decision) -> str:
    """The sentence a person reads for a refusal: the rule's own, else the reason's."""
    if decision.detail or decision.reason is None:
        return decision.detail
    return explain(decision.reason)


ALLOWED = Decision(allowed=True)

# The one message type WhatsApp lets a business send outside the customer-service window (§13).
TEMPLATE = "template"


@dataclass(frozen=True)
class OutboundFacts:
    """What the outbound rules need about one message, read by the caller when it asks.

    `last_customer_message_at` is Meta's timestamp of the contact's latest inbound message on this number
    (None if they never wrote). For a template: WhatsApp's status for it, whether we hold the content
    WhatsApp approved, and whether the message was built from that content (an edit WhatsApp approved
    since then replaces it). Later rules add their facts here with defaults (consent, identity, limits)."""

    message_type: str
    last_customer_message_at: datetime | None
    template_status: str = ""
    template_has_live_revision: bool = False
    template_revision_current: bool = True


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


def may_send(facts: OutboundFacts, *, now: datetime) -> Decision:
    """Every outbound rule for one message: templates by their own rule, everything else by the window."""
    if facts.message_type == TEMPLATE:
        return may_send_template(facts)
    return may_send_free_form(facts, now=now)


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
