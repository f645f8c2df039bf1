"""The simulated number's health rules as tables: no database, `now` passed in."""

from datetime import UTC, datetime, timedelta

import pytest

from simulator import health_rules as hr
from simulator import profile
from simulator.errors import GraphError

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
DEFAULTS = hr.QualityThresholds()


@pytest.mark.parametrize(
    ("negative", "recipients", "expected"),
    [
        (0, 0, "GREEN"),
        (0, 1000, "GREEN"),
        (1, 1, "GREEN"),  # below the minimum count: one unhappy customer is noise
        (2, 1000, "GREEN"),  # 0.2 %
        (2, 101, "GREEN"),  # 1.98 %
        (2, 100, "YELLOW"),  # exactly 2 %
        (4, 100, "YELLOW"),  # 4 %
        (5, 101, "YELLOW"),  # 4.95 %
        (5, 100, "RED"),  # exactly 5 %
        (2, 3, "RED"),
        (2, 0, "RED"),  # customers who were never messaged first still count: base is at least the signals
        (3, 1, "RED"),
    ],
)
def test_quality_rating(negative, recipients, expected):
    assert hr.quality_rating(negative_signals=negative, recipients=recipients, thresholds=DEFAULTS) == expected


@pytest.mark.parametrize(
    ("thresholds", "negative", "recipients", "expected"),
    [
        (hr.QualityThresholds(min_signals=1), 1, 10, "RED"),
        (hr.QualityThresholds(min_signals=3), 2, 2, "GREEN"),
        (hr.QualityThresholds(yellow_percent=10, red_percent=50, min_signals=1), 1, 10, "YELLOW"),
        (hr.QualityThresholds(yellow_percent=10, red_percent=50, min_signals=1), 5, 10, "RED"),
        (hr.QualityThresholds(yellow_percent=10, red_percent=50, min_signals=1), 1, 11, "GREEN"),
    ],
)
def test_quality_thresholds_are_configurable(thresholds, negative, recipients, expected):
    assert hr.quality_rating(negative_signals=negative, recipients=recipients, thresholds=thresholds) == expected


@pytest.mark.parametrize(
    ("tier", "up", "down", "limit", "wire"),
    [
        ("TIER_250", "TIER_2K", "TIER_250", 250, 250),
        ("TIER_2K", "TIER_10K", "TIER_250", 2000, 2000),
        ("TIER_10K", "TIER_100K", "TIER_2K", 10000, 10000),
        ("TIER_100K", "TIER_UNLIMITED", "TIER_10K", 100000, 100000),
        ("TIER_UNLIMITED", "TIER_UNLIMITED", "TIER_100K", None, -1),
    ],
)
def test_tier_ladder(tier, up, down, limit, wire):
    assert (hr.next_tier(tier), hr.lower_tier(tier), hr.tier_limit(tier), hr.tier_limit_wire(tier)) == (
        up,
        down,
        limit,
        wire,
    )


@pytest.mark.parametrize(
    ("per_second", "level"), [(1, "STANDARD"), (80, "STANDARD"), (999, "STANDARD"), (1000, "HIGH"), (5000, "HIGH")]
)
def test_throughput_level_follows_the_configured_rate(per_second, level):
    assert hr.throughput_level(per_second) == level


@pytest.mark.parametrize(
    ("flagged_at", "restricted_until", "expected"),
    [
        (None, None, "CONNECTED"),
        (NOW - timedelta(days=1), None, "FLAGGED"),
        (None, NOW + timedelta(seconds=1), "RESTRICTED"),
        (None, NOW, "CONNECTED"),  # expires at the instant
        (NOW - timedelta(days=1), NOW + timedelta(hours=1), "RESTRICTED"),  # restriction outranks a flag
        (NOW - timedelta(days=1), NOW - timedelta(hours=1), "FLAGGED"),
    ],
)
def test_status(flagged_at, restricted_until, expected):
    assert hr.status_for(flagged_at=flagged_at, restricted_until=restricted_until, now=NOW) == expected


@pytest.mark.parametrize(
    ("age", "due"),
    [
        (timedelta(days=7) - timedelta(seconds=1), False),
        (timedelta(days=7), True),
        (timedelta(days=9), True),
        (timedelta(0), False),
    ],
)
def test_flag_review_after_seven_days(age, due):
    assert hr.flag_review_due(NOW - age, now=NOW) is due
    assert hr.flag_review_due(None, now=NOW) is False


@pytest.mark.parametrize(
    ("tier", "recipients", "quality", "flagged", "due"),
    [
        ("TIER_250", 124, "GREEN", False, False),
        ("TIER_250", 125, "GREEN", False, True),  # exactly half
        ("TIER_250", 125, "YELLOW", False, True),  # medium quality still upgrades
        ("TIER_250", 125, "RED", False, False),
        ("TIER_250", 250, "GREEN", True, False),  # a flagged number waits
        ("TIER_2K", 999, "GREEN", False, False),
        ("TIER_2K", 1000, "GREEN", False, True),
        ("TIER_UNLIMITED", 10**9, "GREEN", False, False),
    ],
)
def test_upgrade_at_half_the_limit_with_good_quality(tier, recipients, quality, flagged, due):
    assert hr.upgrade_due(tier=tier, recipients=recipients, quality=quality, flagged=flagged) is due


def _state(**changes):
    state = hr.NumberHealth(quality="GREEN", status="CONNECTED", tier="TIER_2K", flagged_at=None, restricted_until=None)
    return hr.NumberHealth(**{**state.__dict__, **changes})


RED_FACTS = hr.HealthFacts(negative_signals=10, recipients=20)
GREEN_FACTS = hr.HealthFacts(negative_signals=0, recipients=20)
DAY_SEVEN = NOW - timedelta(days=7)


@pytest.mark.parametrize(
    ("state", "facts", "expected_events", "expected"),
    [
        # Good quality, nothing to do.
        (_state(), GREEN_FACTS, (), {"quality": "GREEN", "status": "CONNECTED", "tier": "TIER_2K", "flagged_at": None}),
        # Quality drops to RED: flagged now.
        (
            _state(),
            RED_FACTS,
            ("FLAGGED",),
            {"quality": "RED", "status": "FLAGGED", "tier": "TIER_2K", "flagged_at": NOW},
        ),
        # Still flagged, review not due: nothing is sent.
        (
            _state(quality="RED", status="FLAGGED", flagged_at=NOW - timedelta(days=6)),
            RED_FACTS,
            (),
            {"status": "FLAGGED", "tier": "TIER_2K", "flagged_at": NOW - timedelta(days=6)},
        ),
        # Day seven, recovered: connected again, same tier.
        (
            _state(quality="RED", status="FLAGGED", flagged_at=DAY_SEVEN),
            GREEN_FACTS,
            ("UNFLAGGED",),
            {"quality": "GREEN", "status": "CONNECTED", "tier": "TIER_2K", "flagged_at": None},
        ),
        # Day seven, still RED: connected one tier lower.
        (
            _state(quality="RED", status="FLAGGED", flagged_at=DAY_SEVEN),
            RED_FACTS,
            ("DOWNGRADE",),
            {"quality": "RED", "status": "CONNECTED", "tier": "TIER_250", "flagged_at": None},
        ),
        # The lowest tier stays the lowest.
        (
            _state(tier="TIER_250", flagged_at=DAY_SEVEN),
            RED_FACTS,
            ("DOWNGRADE",),
            {"tier": "TIER_250", "flagged_at": None},
        ),
        # Half the limit reached in 7 days with good quality: next tier.
        (
            _state(),
            hr.HealthFacts(negative_signals=0, recipients=1000),
            ("UPGRADE",),
            {"tier": "TIER_10K", "status": "CONNECTED"},
        ),
        # Recovering in the same review does not also upgrade (one tier change at a time).
        (
            _state(flagged_at=DAY_SEVEN),
            hr.HealthFacts(negative_signals=0, recipients=1000),
            ("UNFLAGGED",),
            {"tier": "TIER_2K"},
        ),
        # A restriction that ended shows CONNECTED.
        (
            _state(status="RESTRICTED", restricted_until=NOW - timedelta(minutes=1)),
            GREEN_FACTS,
            (),
            {"status": "CONNECTED"},
        ),
        # A restricted number keeps RESTRICTED while flagged underneath.
        (
            _state(restricted_until=NOW + timedelta(hours=1)),
            RED_FACTS,
            ("FLAGGED",),
            {"status": "RESTRICTED", "flagged_at": NOW},
        ),
    ],
)
def test_health_review(state, facts, expected_events, expected):
    new, events = hr.health_review(state, facts, now=NOW, thresholds=DEFAULTS)
    assert events == expected_events
    assert {key: getattr(new, key) for key in expected} == expected


@pytest.mark.parametrize(
    ("message_type", "window_open", "initiated"),
    [("template", False, True), ("template", True, False), ("text", False, False), ("text", True, False)],
)
def test_business_initiated_is_a_template_outside_the_window(message_type, window_open, initiated):
    assert hr.business_initiated(message_type=message_type, window_open=window_open) is initiated


@pytest.mark.parametrize(
    ("restricted_until", "tier", "reached", "already", "refused"),
    [
        (None, "TIER_250", 0, False, False),
        (None, "TIER_250", 249, False, False),
        (None, "TIER_250", 250, False, True),  # the 251st new customer
        (None, "TIER_250", 250, True, False),  # a customer already counted today never counts twice
        (None, "TIER_2K", 250, False, False),
        (None, "TIER_UNLIMITED", 10**7, False, False),
        (NOW + timedelta(seconds=1), "TIER_2K", 0, True, True),  # restricted
        (NOW, "TIER_2K", 0, False, False),  # restriction over at its expiration
    ],
)
def test_business_initiated_refusal(restricted_until, tier, reached, already, refused):
    refusal = hr.business_initiated_refusal(
        restricted_until=restricted_until, tier=tier, reached_today=reached, already_reached_today=already, now=NOW
    )
    assert (refusal is not None) is refused


@pytest.mark.parametrize(
    ("sent", "current", "mismatch"),
    [(None, "abc=", False), ("", "abc=", False), ("abc=", "abc=", False), ("old=", "abc=", True)],
)
def test_identity_mismatch(sent, current, mismatch):
    assert hr.identity_mismatch(sent_hash=sent, current_hash=current) is mismatch


def test_identity_hash_looks_like_metas():
    value = hr.identity_hash("16505551234")
    assert len(value) == 12 and value.endswith("=")
    assert value == hr.identity_hash("16505551234") != hr.identity_hash("16505551235")


# The business profile's checks


@pytest.mark.parametrize(
    ("body", "details"),
    [
        ({}, "The parameter messaging_product is required."),
        ({"messaging_product": "sms"}, "messaging_product"),
        ({"messaging_product": "whatsapp", "about": ""}, "at least 1"),
        ({"messaging_product": "whatsapp", "about": "a" * 140}, "at most 139"),
        ({"messaging_product": "whatsapp", "address": "a" * 257}, "at most 256"),
        ({"messaging_product": "whatsapp", "description": "a" * 513}, "at most 512"),
        ({"messaging_product": "whatsapp", "email": "a" * 120 + "@example.com"}, "at most 128"),
        ({"messaging_product": "whatsapp", "email": "not-an-email"}, "valid email"),
        ({"messaging_product": "whatsapp", "websites": "https://a.example"}, "array"),
        ({"messaging_product": "whatsapp", "websites": ["https://a.ex", "https://b.ex", "https://c.ex"]}, "at most 2"),
        ({"messaging_product": "whatsapp", "websites": ["ftp://a.example"]}, "http"),
        ({"messaging_product": "whatsapp", "vertical": "SPACESHIPS"}, "vertical"),
        ({"messaging_product": "whatsapp", "profile_picture_handle": ""}, "profile_picture_handle"),
        ({"messaging_product": "whatsapp", "about": 12}, "string"),
    ],
)
def test_profile_update_refusals(body, details):
    with pytest.raises(GraphError) as refused:
        profile.parse_update(body)
    assert refused.value.code == 100
    assert details in refused.value.details


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"messaging_product": "whatsapp", "about": "a"}, {"about": "a"}),
        ({"messaging_product": "whatsapp", "about": "a" * 139}, {"about": "a" * 139}),
        ({"messaging_product": "whatsapp", "description": "d" * 512}, {"description": "d" * 512}),
        ({"messaging_product": "whatsapp", "websites": []}, {"websites": []}),
        (
            {"messaging_product": "whatsapp", "websites": ["https://a.example", "http://b.example/x"]},
            {"websites": ["https://a.example", "http://b.example/x"]},
        ),
        ({"messaging_product": "whatsapp", "vertical": "RETAIL"}, {"vertical": "RETAIL"}),
        ({"messaging_product": "whatsapp", "vertical": "OTC_DRUGS"}, {"vertical": "OTC_DRUGS"}),
        ({"messaging_product": "whatsapp", "email": "ana@example.com"}, {"email": "ana@example.com"}),
        ({"messaging_product": "whatsapp", "address": ""}, {"address": ""}),
    ],
)
def test_profile_update_accepts(body, expected):
    update = profile.parse_update(body)
    assert {key: getattr(update, key) for key in expected} == expected


def test_profile_object_leaves_unset_fields_out_and_honours_fields():
    stored = {"about": "Hi", "address": "", "description": "", "email": "a@b.co", "profile_picture_url": "",
              "websites": [], "vertical": "RETAIL"}  # fmt: skip
    assert profile.profile_object(stored, fields=None) == {
        "about": "Hi",
        "email": "a@b.co",
        "vertical": "RETAIL",
        "messaging_product": "whatsapp",
    }
    assert profile.profile_object(stored, fields=["about"]) == {"about": "Hi", "messaging_product": "whatsapp"}
    with pytest.raises(GraphError):
        profile.profile_object(stored, fields=["colour"])
