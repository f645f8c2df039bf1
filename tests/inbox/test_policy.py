"""WhatsApp's rules as tables. No database: policy is pure."""

from datetime import UTC, datetime, timedelta

import pytest

from inbox import policy

LAST_INBOUND = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)

# --- the 24-hour customer-service window ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("since_last_inbound", "is_open"),
    [
        (timedelta(0), True),
        (timedelta(hours=1), True),
        (timedelta(hours=23, minutes=59, seconds=59), True),
        (timedelta(hours=23, minutes=59, seconds=59, microseconds=999_999), True),
        (timedelta(hours=24), False),
        (timedelta(hours=24, seconds=1), False),
        (timedelta(days=3), False),
        # Meta's clock ahead of ours: a message "from the future" has certainly opened the window.
        (-timedelta(minutes=5), True),
    ],
)
def test_service_window_is_open_strictly_before_24_hours(since_last_inbound, is_open):
    assert policy.is_service_window_open(LAST_INBOUND, now=LAST_INBOUND + since_last_inbound) is is_open


def test_service_window_never_opened_when_the_customer_never_wrote():
    assert policy.is_service_window_open(None, now=LAST_INBOUND) is False
    assert policy.service_window_closes_at(None) is None


def test_service_window_closes_24_hours_after_the_last_inbound():
    assert policy.service_window_closes_at(LAST_INBOUND) == datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("message_type", "opens"),
    [
        ("text", True),
        ("image", True),
        ("audio", True),
        ("video", True),
        ("document", True),
        ("sticker", True),
        ("location", True),
        ("contacts", True),
        ("interactive", True),
        ("button", True),
        ("reaction", True),
        ("order", True),
        ("request_welcome", True),
        ("unsupported", True),
        # WhatsApp's own notices, and changes to an earlier message, are not the customer writing now.
        ("system", False),
        ("edit", False),
        ("revoke", False),
    ],
)
def test_opens_service_window_per_type(message_type, opens):
    assert policy.opens_service_window(message_type) is opens


@pytest.mark.parametrize(
    ("message_type", "unread"),
    [("text", True), ("image", True), ("reaction", True), ("system", True), ("edit", False), ("revoke", False)],
)
def test_counts_as_unread_per_type(message_type, unread):
    assert policy.counts_as_unread(message_type) is unread


# --- statuses only move forward ---------------------------------------------------------------------------

# Every (current, new) pair of the statuses an outbound message can have, and whether `new` applies.
# sent < failed < delivered < read < played; queued is where an outbound message starts.
STATUS_MATRIX = {
    "queued": {"queued": False, "sent": True, "failed": True, "delivered": True, "read": True, "played": True},
    "sent": {"queued": False, "sent": False, "failed": True, "delivered": True, "read": True, "played": True},
    "failed": {"queued": False, "sent": False, "failed": False, "delivered": True, "read": True, "played": True},
    "delivered": {"queued": False, "sent": False, "failed": False, "delivered": False, "read": True, "played": True},
    "read": {"queued": False, "sent": False, "failed": False, "delivered": False, "read": False, "played": True},
    "played": {"queued": False, "sent": False, "failed": False, "delivered": False, "read": False, "played": False},
}


@pytest.mark.parametrize(
    ("current", "new", "applies"),
    [(current, new, applies) for current, row in STATUS_MATRIX.items() for new, applies in row.items()],
)
def test_status_moves_forward_matrix(current, new, applies):
    assert policy.status_moves_forward(current, new) is applies


@pytest.mark.parametrize("status", ["queued", "sent", "failed", "delivered", "read", "played"])
def test_the_same_status_again_is_not_a_move(status):
    assert policy.status_moves_forward(status, status) is False


@pytest.mark.parametrize("unknown", ["deleted", "warning", "SENT", "", "pending"])
@pytest.mark.parametrize("current", ["queued", "sent", "delivered", "read", "failed"])
def test_unknown_statuses_never_apply(current, unknown):
    assert policy.status_moves_forward(current, unknown) is False


@pytest.mark.parametrize("new", ["sent", "delivered", "read", "played", "failed"])
def test_nothing_applies_over_an_unknown_current_status(new):
    assert policy.status_moves_forward("mystery", new) is False


@pytest.mark.parametrize(
    ("arrival_order", "final"),
    [
        (["sent", "delivered", "read"], "read"),
        (["read", "delivered", "sent"], "read"),
        (["delivered", "sent"], "delivered"),
        # Meta may skip "delivered" when it coincides with "read".
        (["sent", "read"], "read"),
        (["read", "played", "delivered"], "played"),
        (["sent", "failed"], "failed"),
        (["failed", "sent"], "failed"),
        # Proof of delivery outranks an earlier failure report.
        (["failed", "delivered"], "delivered"),
    ],
)
def test_any_arrival_order_ends_at_the_furthest_status(arrival_order, final):
    current = "queued"
    for status in arrival_order:
        if policy.status_moves_forward(current, status):
            current = status
    assert current == final


# --- may this message go out now: the window for free-form messages, the template's own rule for templates -----

NOW = datetime(2026, 3, 5, 12, 0, tzinfo=UTC)
TEMPLATE_STATUSES = [
    "APPROVED",
    "PENDING",
    "REJECTED",
    "PAUSED",
    "DISABLED",
    "FLAGGED",
    "IN_APPEAL",
    "REINSTATED",
    "PENDING_DELETION",
    "DELETED",
    "ARCHIVED",
    "UNARCHIVED",
    "LIMIT_EXCEEDED",
    "LOCKED",
    "",
]
SENDABLE = {"APPROVED", "FLAGGED", "REINSTATED", "UNARCHIVED"}


def template_facts(status: str, *, live: bool = True, current: bool = True, wrote=None) -> policy.OutboundFacts:
    """A utility template to a customer who opted in to everything (consent has its own tables below)."""
    return policy.OutboundFacts(
        message_type="template",
        last_customer_message_at=wrote,
        template_status=status,
        template_has_live_revision=live,
        template_revision_current=current,
        template_category="UTILITY",
        opted_in=frozenset(policy.PURPOSES),
    )


@pytest.mark.parametrize("live", [True, False], ids=["live revision", "no live revision"])
@pytest.mark.parametrize("status", TEMPLATE_STATUSES)
def test_a_template_goes_out_only_while_whatsapp_has_it_approved(status, live):
    decision = policy.may_send(template_facts(status, live=live), now=NOW)
    if status in SENDABLE and live:
        assert decision == policy.Decision(allowed=True)
        return
    assert (decision.allowed, decision.reason, decision.requires_template) == (
        False,
        policy.Reason.TEMPLATE_NOT_SENDABLE,
        False,
    )
    expected = {"PAUSED": "paused", "DISABLED": "disabled"}.get(status, "has not approved")
    assert expected in decision.detail
    assert policy.explain_decision(decision) == decision.detail


@pytest.mark.parametrize("wrote", [None, NOW - timedelta(hours=1), NOW - timedelta(hours=24), NOW - timedelta(days=40)])
def test_a_template_ignores_the_service_window(wrote):
    assert policy.may_send(template_facts("APPROVED", wrote=wrote), now=NOW).allowed


def test_a_template_message_built_from_content_whatsapp_no_longer_sends_is_refused():
    decision = policy.may_send(template_facts("APPROVED", current=False), now=NOW)
    assert (decision.allowed, decision.reason) == (False, policy.Reason.TEMPLATE_NOT_SENDABLE)
    assert "changed after this message was written" in decision.detail
    # A paused template says so first: writing the message again would not help.
    assert "paused" in policy.may_send(template_facts("PAUSED", current=False), now=NOW).detail


@pytest.mark.parametrize(
    ("wrote", "allowed"),
    [
        (NOW - timedelta(hours=23, minutes=59, seconds=59), True),
        (NOW - timedelta(hours=24), False),
        (None, False),
    ],
)
def test_free_form_messages_follow_the_window_whatever_template_facts_say(wrote, allowed):
    facts = policy.OutboundFacts(
        message_type="text", last_customer_message_at=wrote, template_status="APPROVED", template_has_live_revision=True
    )
    decision = policy.may_send(facts, now=NOW)
    assert decision == policy.may_send_free_form(facts, now=NOW)
    assert decision.allowed is allowed
    if not allowed:
        assert decision.reason is policy.Reason.WINDOW_CLOSED and decision.requires_template
        assert policy.explain_decision(decision) == policy.explain(policy.Reason.WINDOW_CLOSED)


def test_every_reason_has_a_sentence_and_a_stable_code():
    assert {reason.value for reason in policy.Reason} >= {"window_closed", "template_not_sendable"}
    for reason in policy.Reason:
        assert policy.explain(reason).endswith(".")


@pytest.mark.parametrize(
    ("message_type", "answers"),
    [
        ("text", True),
        ("button", True),
        ("interactive", True),
        ("reaction", True),
        ("image", True),
        ("request_welcome", False),
        ("system", False),
        ("edit", False),
        ("revoke", False),
    ],
)
def test_what_counts_as_the_customer_answering(message_type, answers):
    assert policy.counts_as_reply(message_type) is answers


# --- the pre-send guard: identity, consent, restriction, messaging limit ----------------------------------------
# One row per rule and boundary. `facts(...)` starts from a message that passes every rule: an approved utility
# template, outside the window (business-initiated), to a customer who opted in to everything, from a connected
# number with room under its limit.

IN_WINDOW = NOW - timedelta(hours=1)
ALL = frozenset(policy.PURPOSES)
R = policy.Reason


def facts(**changes) -> policy.OutboundFacts:
    base = {
        "message_type": "template",
        "last_customer_message_at": NOW - timedelta(days=2),
        "template_status": "APPROVED",
        "template_has_live_revision": True,
        "template_category": "UTILITY",
        "initiator": policy.AGENT,
        "opted_in": ALL,
        "messaging_limit": 250,
        "reached_in_24h": 10,
    }
    return policy.OutboundFacts(**{**base, **changes})


GUARD_CASES = [
    # (id, changes, expected reason or None when allowed)
    ("passes every rule", {}, None),
    # 1. Identity first: nothing goes, whatever else is true or wrong.
    ("identity held: template", {"identity_held": True}, R.IDENTITY_UNCONFIRMED),
    (
        "identity held: reply inside the window",
        {"identity_held": True, "message_type": "text", "last_customer_message_at": IN_WINDOW},
        R.IDENTITY_UNCONFIRMED,
    ),
    (
        "identity held before a paused template",
        {"identity_held": True, "template_status": "PAUSED"},
        R.IDENTITY_UNCONFIRMED,
    ),
    (
        "identity held before the closed window",
        {"identity_held": True, "message_type": "text"},
        R.IDENTITY_UNCONFIRMED,
    ),
    (
        "identity held before opt-out and restriction",
        {"identity_held": True, "opted_out": ALL, "opted_in": frozenset(), "number_status": "restricted"},
        R.IDENTITY_UNCONFIRMED,
    ),
    # 2. The message itself.
    ("free-form outside the window", {"message_type": "text"}, R.WINDOW_CLOSED),
    ("paused template before the opt-out", {"template_status": "PAUSED", "opted_out": ALL}, R.TEMPLATE_NOT_SENDABLE),
    # 3. An opted-out purpose: refused even inside the window, where no consent is otherwise needed.
    (
        "opted out of marketing: marketing template inside the window",
        {"template_category": "MARKETING", "last_customer_message_at": IN_WINDOW, "opted_out": {"marketing"}},
        R.OPTED_OUT,
    ),
    (
        "opted out of marketing: utility template inside the window",
        {"last_customer_message_at": IN_WINDOW, "opted_out": {"marketing"}, "opted_in": frozenset()},
        None,
    ),
    (
        "opted out of marketing: marketing template outside the window",
        {"template_category": "MARKETING", "opted_out": {"marketing"}, "opted_in": {"utility"}},
        R.OPTED_OUT,
    ),
    (
        "opted out of marketing: a reply inside the window still goes",
        {"message_type": "text", "last_customer_message_at": IN_WINDOW, "opted_out": ALL, "opted_in": frozenset()},
        None,
    ),
    # 4. Consent only for business-initiated messages.
    (
        "no consent: template inside the window",
        {"last_customer_message_at": IN_WINDOW, "opted_in": frozenset()},
        None,
    ),
    ("no consent: template outside the window", {"opted_in": frozenset()}, R.NO_CONSENT),
    ("no consent: customer never wrote", {"last_customer_message_at": None, "opted_in": frozenset()}, R.NO_CONSENT),
    ("consent for another purpose only", {"opted_in": {"marketing"}}, R.NO_CONSENT),
    ("consent for this purpose only", {"opted_in": {"utility"}}, None),
    (
        "authentication template needs authentication consent",
        {"template_category": "AUTHENTICATION", "opted_in": {"utility", "marketing"}},
        R.NO_CONSENT,
    ),
    (
        "unknown category needs marketing consent",
        {"template_category": "SOMETHING_NEW", "opted_in": {"utility", "authentication"}},
        R.NO_CONSENT,
    ),
    ("unknown category with marketing consent", {"template_category": "", "opted_in": {"marketing"}}, None),
    (
        "window boundary 23:59:59: inside, no consent needed",
        {"last_customer_message_at": NOW - timedelta(hours=23, minutes=59, seconds=59), "opted_in": frozenset()},
        None,
    ),
    (
        "window boundary 24:00:00: outside, consent needed",
        {"last_customer_message_at": NOW - timedelta(hours=24), "opted_in": frozenset()},
        R.NO_CONSENT,
    ),
    (
        "window boundary 24:00:00: outside, counts against the limit",
        {"last_customer_message_at": NOW - timedelta(hours=24), "reached_in_24h": 250},
        R.MESSAGING_LIMIT_REACHED,
    ),
    # 5. A campaign is always business-initiated, inside the window too.
    (
        "campaign template inside the window without consent",
        {"initiator": policy.CAMPAIGN, "last_customer_message_at": IN_WINDOW, "opted_in": frozenset()},
        R.NO_CONSENT,
    ),
    (
        "campaign text inside the window without consent",
        {
            "initiator": policy.CAMPAIGN,
            "message_type": "text",
            "last_customer_message_at": IN_WINDOW,
            "template_category": "",
            "opted_in": frozenset(),
        },
        R.NO_CONSENT,
    ),
    (
        "campaign text inside the window with marketing consent",
        {
            "initiator": policy.CAMPAIGN,
            "message_type": "text",
            "last_customer_message_at": IN_WINDOW,
            "template_category": "",
            "opted_in": {"marketing"},
        },
        None,
    ),
    ("campaign text outside the window", {"initiator": policy.CAMPAIGN, "message_type": "text"}, R.WINDOW_CLOSED),
    (
        "campaign inside the window counts against the limit",
        {"initiator": policy.CAMPAIGN, "last_customer_message_at": IN_WINDOW, "reached_in_24h": 250},
        R.MESSAGING_LIMIT_REACHED,
    ),
    (
        "campaign on a restricted number",
        {"initiator": policy.CAMPAIGN, "last_customer_message_at": IN_WINDOW, "number_status": "restricted"},
        R.NUMBER_RESTRICTED,
    ),
    # An automation answers like a person: inside the window it needs nothing, outside it needs consent.
    (
        "automation reply inside the window",
        {"initiator": policy.AUTOMATION, "message_type": "text", "last_customer_message_at": IN_WINDOW},
        None,
    ),
    (
        "automation template inside the window without consent",
        {"initiator": policy.AUTOMATION, "last_customer_message_at": IN_WINDOW, "opted_in": frozenset()},
        None,
    ),
    (
        "automation template outside the window without consent",
        {"initiator": policy.AUTOMATION, "opted_in": frozenset()},
        R.NO_CONSENT,
    ),
    # 6. A restricted number only answers customers inside their window.
    ("restricted number: template outside the window", {"number_status": "restricted"}, R.NUMBER_RESTRICTED),
    (
        "restricted number: reply inside the window",
        {"number_status": "restricted", "message_type": "text", "last_customer_message_at": IN_WINDOW},
        None,
    ),
    (
        "restricted number: template inside the window",
        {"number_status": "restricted", "last_customer_message_at": IN_WINDOW},
        None,
    ),
    ("flagged number is not restricted", {"number_status": "flagged"}, None),
    (
        "no consent is said before the restriction",
        {"number_status": "restricted", "opted_in": frozenset()},
        R.NO_CONSENT,
    ),
    (
        "restriction is said before the limit",
        {"number_status": "restricted", "reached_in_24h": 999},
        R.NUMBER_RESTRICTED,
    ),
    # 7. The messaging limit: unique customers reached by business-initiated messages in 24 hours.
    ("limit: one below", {"reached_in_24h": 249}, None),
    ("limit: exactly at it", {"reached_in_24h": 250}, R.MESSAGING_LIMIT_REACHED),
    ("limit: above it (lowered since)", {"reached_in_24h": 400}, R.MESSAGING_LIMIT_REACHED),
    ("limit: at it, the contact already reached", {"reached_in_24h": 250, "contact_reached_in_24h": True}, None),
    ("limit: unlimited", {"messaging_limit": None, "reached_in_24h": 1_000_000}, None),
    ("limit: zero", {"messaging_limit": 0, "reached_in_24h": 0}, R.MESSAGING_LIMIT_REACHED),
    (
        "limit: does not apply inside the window",
        {"last_customer_message_at": IN_WINDOW, "reached_in_24h": 250},
        None,
    ),
    (
        "limit: does not apply to replies",
        {"message_type": "text", "last_customer_message_at": IN_WINDOW, "reached_in_24h": 250},
        None,
    ),
]


@pytest.mark.parametrize(("changes", "reason"), [case[1:] for case in GUARD_CASES], ids=[c[0] for c in GUARD_CASES])
def test_the_guard(changes, reason):
    decision = policy.may_send(facts(**changes), now=NOW)
    assert (decision.allowed, decision.reason) == (reason is None, reason)
    # Only the messaging limit is temporary: a queued message waits for it instead of failing.
    assert decision.waits is (reason is R.MESSAGING_LIMIT_REACHED)
    if reason is not None:
        assert policy.explain_decision(decision)


@pytest.mark.parametrize(
    ("changes", "business_initiated"),
    [
        ({}, True),
        ({"last_customer_message_at": IN_WINDOW}, False),
        ({"last_customer_message_at": NOW - timedelta(hours=23, minutes=59, seconds=59)}, False),
        ({"last_customer_message_at": NOW - timedelta(hours=24)}, True),
        ({"last_customer_message_at": None}, True),
        ({"message_type": "text", "last_customer_message_at": IN_WINDOW}, False),
        # A free-form message outside the window is not business-initiated: it is not allowed at all.
        ({"message_type": "text"}, False),
        ({"initiator": policy.CAMPAIGN, "message_type": "text", "last_customer_message_at": IN_WINDOW}, True),
        ({"initiator": policy.CAMPAIGN, "last_customer_message_at": IN_WINDOW}, True),
        ({"initiator": policy.AUTOMATION, "last_customer_message_at": IN_WINDOW}, False),
        ({"initiator": policy.AUTOMATION}, True),
    ],
)
def test_what_is_business_initiated(changes, business_initiated):
    assert policy.is_business_initiated(facts(**changes), now=NOW) is business_initiated


@pytest.mark.parametrize(
    ("category", "purpose"),
    [
        ("MARKETING", "marketing"),
        ("marketing", "marketing"),
        ("UTILITY", "utility"),
        ("Utility", "utility"),
        ("AUTHENTICATION", "authentication"),
        # Unknown or missing: the strictest, marketing.
        ("", "marketing"),
        ("SERVICE", "marketing"),
        ("TRANSACTIONAL", "marketing"),
        ("utility ", "marketing"),
    ],
)
def test_consent_purpose_of_a_category(category, purpose):
    assert policy.consent_purpose(category) == purpose


@pytest.mark.parametrize(
    ("limit", "reached", "contact_reached", "headroom"),
    [
        (None, 0, False, True),
        (None, 10**9, False, True),
        (250, 0, False, True),
        (250, 249, False, True),
        (250, 250, False, False),
        (250, 250, True, True),
        (250, 251, True, True),
        (250, 251, False, False),
        (0, 0, False, False),
        (0, 0, True, True),
    ],
)
def test_messaging_headroom(limit, reached, contact_reached, headroom):
    assert (
        policy.has_messaging_headroom(
            facts(messaging_limit=limit, reached_in_24h=reached, contact_reached_in_24h=contact_reached)
        )
        is headroom
    )


def test_room_returns_24_hours_after_the_oldest_reach():
    oldest = datetime(2026, 3, 4, 13, 5, 30, tzinfo=UTC)
    assert policy.messaging_headroom_returns_at(oldest) == datetime(2026, 3, 5, 13, 5, 30, tzinfo=UTC)
    assert policy.messaging_headroom_returns_at(None) is None


def test_every_refusal_of_the_guard_has_a_stable_code():
    assert {reason.value for reason in policy.Reason} == {
        "window_closed",
        "template_not_sendable",
        "no_consent",
        "opted_out",
        "identity_unconfirmed",
        "number_restricted",
        "messaging_limit_reached",
    }


# --- consent keywords: what the customer's whole message asks for -----------------------------------------------


@pytest.mark.parametrize(
    ("text", "normalised"),
    [
        ("STOP", "stop"),
        ("  Stop!  ", "stop"),
        ("stop   all", "stop all"),
        ("Opt-out", "opt out"),
        ("Arrêt", "arret"),
        ("DÉSABONNER", "desabonner"),
        ("cancelar suscripción", "cancelar suscripcion"),
        ("Стоп.", "стоп"),
        ("ＳＴＯＰ", "stop"),  # full-width letters (NFKD)
        ("¡Baja!", "baja"),
        ("", ""),
        ("!!!", ""),
    ],
)
def test_normalise_keyword(text, normalised):
    assert policy.normalise_keyword(text) == normalised


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("STOP", (policy.Intent.STOP, "en")),
        ("stop.", (policy.Intent.STOP, "en")),
        ("Unsubscribe", (policy.Intent.STOP, "en")),
        ("STOP ALL", (policy.Intent.STOP, "en")),
        ("basta", (policy.Intent.STOP, "it")),
        ("Arrête", (policy.Intent.STOP, "fr")),
        ("me désabonner", (policy.Intent.STOP, "fr")),
        ("BAJA", (policy.Intent.STOP, "es")),
        ("darme de baja", (policy.Intent.STOP, "es")),
        ("parar", (policy.Intent.STOP, "es")),  # Spanish and Portuguese share it; the first table wins
        ("sair", (policy.Intent.STOP, "pt")),
        ("Stopp", (policy.Intent.STOP, "de")),
        ("abbestellen", (policy.Intent.STOP, "de")),
        ("СТОП", (policy.Intent.STOP, "ru")),
        ("отписаться!", (policy.Intent.STOP, "ru")),
        ("start", (policy.Intent.START, "en")),
        ("Iscrivimi", (policy.Intent.START, "it")),
        ("reprendre", (policy.Intent.START, "fr")),
        ("alta", (policy.Intent.START, "es")),
        ("voltar", (policy.Intent.START, "pt")),
        ("Fortsetzen", (policy.Intent.START, "de")),
        ("старт", (policy.Intent.START, "ru")),
        ("Talk to a person!", (policy.Intent.HUMAN, "en")),
        ("operatore", (policy.Intent.HUMAN, "it")),
        ("parler à quelqu'un", (policy.Intent.HUMAN, "fr")),
        ("Hablar con una persona", (policy.Intent.HUMAN, "es")),
        ("atendente", (policy.Intent.HUMAN, "pt")),
        ("Mensch", (policy.Intent.HUMAN, "de")),
        ("позовите человека", (policy.Intent.HUMAN, "ru")),
        # Conversation, not commands.
        ("don't stop the delivery", None),
        ("please stop", None),
        ("stopping", None),
        ("", None),
        ("?!", None),
        ("stop " * 10, None),
    ],
)
def test_keyword_intent(text, expected):
    assert policy.keyword_intent(text) == expected


def test_a_channels_own_keywords_replace_the_defaults():
    assert policy.keyword_intent("Alto!", stop=("alto",)) == (policy.Intent.STOP, "")
    assert policy.keyword_intent("STOP", stop=("alto",)) is None
    assert policy.keyword_intent("Ciao ciao", start=("ciao ciao",)) == (policy.Intent.START, "")


def test_a_message_longer_than_40_characters_is_never_a_command():
    forty = "a" * 40
    assert policy.keyword_intent(forty, stop=(forty,)) == (policy.Intent.STOP, "")
    assert policy.keyword_intent(forty + "a", stop=(forty + "a",)) is None
