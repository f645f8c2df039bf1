"""The outbound rules as tables, no database: `may_send_free_form`, `explain`, `retry_delay`."""

import dataclasses
from datetime import UTC, datetime, timedelta
from random import Random

import pytest

from inbox.policy import Decision, OutboundFacts, Reason, explain, may_send_free_form, retry_delay

NOW = datetime(2026, 5, 4, 12, 0, 0, tzinfo=UTC)
FREE_FORM_TYPES = [
    "text",
    "image",
    "audio",
    "video",
    "document",
    "sticker",
    "location",
    "contacts",
    "reaction",
    "interactive",
]


@pytest.mark.parametrize(
    ("customer_wrote", "message_type", "allowed"),
    [
        (timedelta(hours=1), "text", True),
        (timedelta(hours=23, minutes=59, seconds=59), "text", True),
        (timedelta(hours=24), "text", False),
        (timedelta(hours=24, seconds=1), "text", False),
        (timedelta(days=30), "text", False),
        (None, "text", False),
        (timedelta(hours=24), "template", True),
        (None, "template", True),
        # Meta's timestamp can be a moment ahead of our clock: still inside the window.
        (-timedelta(seconds=2), "text", True),
    ],
    ids=[
        "1h",
        "23:59:59",
        "24:00:00",
        "24:00:01",
        "30 days",
        "never wrote",
        "template after 24h",
        "template, never",
        "clock skew",
    ],
)
def test_free_form_only_inside_the_24_hour_window(customer_wrote, message_type, allowed):
    last = None if customer_wrote is None else NOW - customer_wrote
    decision = may_send_free_form(OutboundFacts(message_type=message_type, last_customer_message_at=last), now=NOW)
    assert decision.allowed is allowed
    if allowed:
        assert decision == Decision(allowed=True, reason=None, requires_template=False)
    else:
        assert decision == Decision(allowed=False, reason=Reason.WINDOW_CLOSED, requires_template=True)


@pytest.mark.parametrize("message_type", FREE_FORM_TYPES)
def test_every_non_template_type_is_free_form(message_type):
    closed = OutboundFacts(message_type=message_type, last_customer_message_at=NOW - timedelta(hours=25))
    opened = OutboundFacts(message_type=message_type, last_customer_message_at=NOW - timedelta(hours=2))
    assert may_send_free_form(closed, now=NOW).reason is Reason.WINDOW_CLOSED
    assert may_send_free_form(opened, now=NOW).allowed


def test_reason_codes_are_stable_strings_with_a_sentence_each():
    assert Reason.WINDOW_CLOSED == "window_closed"
    assert explain(Reason.WINDOW_CLOSED) == (
        "The customer last wrote more than 24 hours ago: WhatsApp only allows an approved template now."
    )
    for reason in Reason:
        assert explain(reason).endswith(".")


def test_facts_and_decisions_are_frozen():
    facts = OutboundFacts(message_type="text", last_customer_message_at=None)
    with pytest.raises(dataclasses.FrozenInstanceError):
        facts.message_type = "template"
    with pytest.raises(dataclasses.FrozenInstanceError):
        may_send_free_form(facts, now=NOW).allowed = True


class FixedRandom(Random):
    def __init__(self, value: float):
        super().__init__()
        self.value = value

    def random(self) -> float:
        return self.value


@pytest.mark.parametrize(
    ("attempt", "shortest", "longest"),
    [(1, 2, 4), (2, 8, 16), (3, 32, 64), (4, 128, 256), (5, 450, 900), (6, 450, 900), (50, 450, 900)],
)
def test_retry_delay_grows_by_four_with_jitter_and_a_cap(attempt, shortest, longest):
    assert retry_delay(attempt, rng=FixedRandom(0.0)) == shortest
    assert retry_delay(attempt, rng=FixedRandom(1.0)) == longest
    assert shortest <= retry_delay(attempt, rng=Random(attempt)) <= longest


def test_retry_delay_jitter_spreads_messages_that_failed_together():
    rng = Random(7)
    delays = {round(retry_delay(3, rng=rng), 3) for _ in range(50)}
    assert len(delays) > 40


def test_retry_delay_counts_from_one():
    with pytest.raises(ValueError):
        retry_delay(0, rng=Random(1))
