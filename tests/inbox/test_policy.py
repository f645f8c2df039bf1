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
    return policy.OutboundFacts(
        message_type="template",
        last_customer_message_at=wrote,
        template_status=status,
        template_has_live_revision=live,
        template_revision_current=current,
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
