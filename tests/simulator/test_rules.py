"""The simulator's rules as tables: no database."""

from datetime import UTC, datetime, timedelta

import pytest

from simulator import rules

NOON = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("last_inbound_at", "now", "open_"),
    [
        (None, NOON, False),
        (NOON, NOON, True),
        (NOON, NOON + timedelta(hours=23, minutes=59, seconds=59), True),
        (NOON, NOON + timedelta(hours=24), False),
        (NOON, NOON + timedelta(days=3), False),
    ],
)
def test_service_window(last_inbound_at, now, open_):
    assert rules.is_service_window_open(last_inbound_at, now=now) is open_


@pytest.mark.parametrize(
    ("window", "now", "limit", "allowed", "after"),
    [
        (rules.ThroughputWindow(0, 0), 100.2, 2, True, rules.ThroughputWindow(100, 1)),
        (rules.ThroughputWindow(100, 1), 100.9, 2, True, rules.ThroughputWindow(100, 2)),
        (rules.ThroughputWindow(100, 2), 100.95, 2, False, rules.ThroughputWindow(100, 2)),
        # A new second starts a new window.
        (rules.ThroughputWindow(100, 2), 101.0, 2, True, rules.ThroughputWindow(101, 1)),
        (rules.ThroughputWindow(100, 79), 100.5, 80, True, rules.ThroughputWindow(100, 80)),
        (rules.ThroughputWindow(100, 80), 100.5, 80, False, rules.ThroughputWindow(100, 80)),
    ],
)
def test_throughput_window(window, now, limit, allowed, after):
    assert rules.throughput_take(window, now=now, limit=limit) == (allowed, after)


def _drain(count, *, burst=45, refill=6.0, start=1000.0, step=0.0):
    bucket, results = rules.PairBucket(None, None), []
    for index in range(count):
        allowed, bucket = rules.pair_take(bucket, now=start + index * step, burst=burst, refill_seconds=refill)
        results.append(allowed)
    return results, bucket


def test_pair_rate_allows_a_burst_of_45_then_refuses():
    results, _ = _drain(46)
    assert results == [True] * 45 + [False]


def test_pair_rate_refills_one_message_per_six_seconds():
    _, bucket = _drain(45)
    assert rules.pair_take(bucket, now=1003.0, burst=45, refill_seconds=6)[0] is False
    allowed, after = rules.pair_take(bucket, now=1006.0, burst=45, refill_seconds=6)
    assert allowed is True
    assert after.tokens == pytest.approx(0.0)


def test_pair_rate_sustained_pace_of_one_per_six_seconds_never_trips():
    results, _ = _drain(200, burst=1, step=6.0)
    assert all(results)


def test_pair_bucket_never_exceeds_its_burst():
    _, bucket = _drain(2, burst=3)
    allowed, after = rules.pair_take(bucket, now=10_000.0, burst=3, refill_seconds=6)
    assert allowed and after.tokens == 2.0


@pytest.mark.parametrize(
    ("message_type", "window_open", "expected"),
    [
        (
            "text",
            True,
            {"billable": False, "pricing_model": "PMP", "type": "free_customer_service", "category": "service"},
        ),
        (
            "image",
            True,
            {"billable": False, "pricing_model": "PMP", "type": "free_customer_service", "category": "service"},
        ),
        (
            "template",
            True,
            {"billable": False, "pricing_model": "PMP", "type": "free_customer_service", "category": "utility"},
        ),
        ("template", False, {"billable": True, "pricing_model": "PMP", "type": "regular", "category": "utility"}),
    ],
)
def test_pricing(message_type, window_open, expected):
    assert rules.pricing_for(message_type=message_type, window_open=window_open).as_payload() == expected


@pytest.mark.parametrize(
    ("category", "window_open", "type_", "billable"),
    [
        ("UTILITY", True, "free_customer_service", False),
        ("UTILITY", False, "regular", True),
        # Marketing and authentication templates are charged inside the window too (§13).
        ("MARKETING", True, "regular", True),
        ("MARKETING", False, "regular", True),
        ("AUTHENTICATION", True, "regular", True),
    ],
)
def test_template_pricing_follows_the_category(category, window_open, type_, billable):
    pricing = rules.pricing_for(message_type="template", window_open=window_open, template_category=category)
    assert pricing.as_payload() == {
        "billable": billable,
        "pricing_model": "PMP",
        "type": type_,
        "category": category.lower(),
    }


@pytest.mark.parametrize("position", [0, 1, 9, 10, 99, 250, 12345])
def test_graph_cursors_round_trip(position):
    cursor = rules.graph_cursor(position)
    assert "=" not in cursor
    assert rules.graph_cursor_position(cursor) == position


def test_graph_cursor_is_metas_spelling():
    # RB:templates/get_templates: {"before":"MAZDZD","after":"OTkZD"}.
    assert (rules.graph_cursor(0), rules.graph_cursor(99)) == ("MAZDZD", "OTkZD")
    assert rules.graph_cursor_position("not a cursor") is None


@pytest.mark.parametrize(
    ("current", "new", "moves"),
    [
        ("accepted", "sent", True),
        ("sent", "delivered", True),
        ("delivered", "read", True),
        ("sent", "read", True),
        ("read", "delivered", False),
        ("delivered", "sent", False),
        ("accepted", "failed", True),
        ("failed", "sent", False),
        ("failed", "read", False),
    ],
)
def test_status_moves_forward(current, new, moves):
    assert rules.status_moves_forward(current, new) is moves


@pytest.mark.parametrize(
    ("requested", "served"),
    [("v23.0", "v23.0"), ("v24.0", "v24.0"), ("v19.0", "v24.0"), ("v20.0", "v24.0"), ("v21.0", "v21.0")],
)
def test_retired_versions_are_served_by_the_latest(requested, served):
    assert rules.served_version(requested) == served


@pytest.mark.parametrize(
    ("mime_type", "kind", "limit"),
    [
        ("image/jpeg", "image", 5 * rules.MB),
        ("image/png", "image", 5 * rules.MB),
        ("audio/ogg; codecs=opus", "audio", 16 * rules.MB),
        ("video/mp4", "video", 16 * rules.MB),
        ("image/webp", "sticker", 500 * 1024),
        ("application/pdf", "document", 100 * rules.MB),
        ("image/svg+xml", None, None),
        ("application/x-msdownload", None, None),
    ],
)
def test_media_limits(mime_type, kind, limit):
    assert rules.media_kind(mime_type) == kind
    assert rules.media_size_limit(mime_type) == limit


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("16505551234", "16505551234"),
        ("+1 (650) 555-1234", "16505551234"),
        ("+55 11 91234-5678", "5511912345678"),
        ("12345", None),
        ("1234567890123456", None),
        ("hello", None),
        ("", None),
    ],
)
def test_normalise_phone(value, expected):
    assert rules.normalise_phone(value) == expected


@pytest.mark.parametrize(
    ("message_type", "opens"), [("text", True), ("reaction", True), ("edit", False), ("revoke", False)]
)
def test_which_customer_messages_open_the_window(message_type, opens):
    assert rules.opens_service_window(message_type) is opens
