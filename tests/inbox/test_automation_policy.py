"""The automation rules as tables, no database: business hours (time zones, overnight ranges), the
escalation clock's due times, the escalation route and the way to a person."""

from datetime import UTC, datetime, timedelta

import pytest

from inbox import policy
from inbox.policy import EscalationRoute, EscalationStep

WEEKDAYS_9_TO_5 = {day: [["09:00", "17:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}
# 2026-03-06 is a Friday.
FRIDAY = datetime(2026, 3, 6, tzinfo=UTC)


def at(day_offset: int, clock: str) -> datetime:
    hours, minutes = map(int, clock.split(":"))
    return FRIDAY + timedelta(days=day_offset, hours=hours, minutes=minutes)


@pytest.mark.parametrize(
    ("hours", "local_now", "open_"),
    [
        ({}, at(0, "03:00"), True),  # no hours at all: open around the clock
        (WEEKDAYS_9_TO_5, at(0, "08:59"), False),
        (WEEKDAYS_9_TO_5, at(0, "09:00"), True),
        (WEEKDAYS_9_TO_5, at(0, "16:59"), True),
        (WEEKDAYS_9_TO_5, at(0, "17:00"), False),  # the end is exclusive
        (WEEKDAYS_9_TO_5, at(1, "12:00"), False),  # Saturday: no ranges, closed
        ({"fri": [["09:00", "12:00"], ["14:00", "18:00"]]}, at(0, "13:00"), False),
        ({"fri": [["09:00", "12:00"], ["14:00", "18:00"]]}, at(0, "14:30"), True),
        ({"fri": [["22:00", "02:00"]]}, at(0, "23:30"), True),  # overnight, same evening
        ({"fri": [["22:00", "02:00"]]}, at(1, "01:59"), True),  # overnight, into Saturday
        ({"fri": [["22:00", "02:00"]]}, at(1, "02:00"), False),
        ({"fri": [["22:00", "02:00"]]}, at(0, "01:00"), False),  # Friday 01:00 belongs to Thursday's night
        ({"sun": [["20:00", "06:00"]]}, at(3, "05:00"), True),  # Sunday night runs into Monday
        ({"fri": [["00:00", "24:00"]]}, at(0, "23:59"), True),
    ],
)
def test_business_hours(hours, local_now, open_):
    assert policy.is_within_business_hours(hours, local_now=local_now) is open_


@pytest.mark.parametrize(
    ("time_zone", "utc_now", "open_"),
    [
        ("Europe/Rome", datetime(2026, 3, 6, 8, 30, tzinfo=UTC), True),  # 09:30 in Rome
        ("Europe/Rome", datetime(2026, 3, 6, 16, 0, tzinfo=UTC), False),  # 17:00 in Rome
        ("America/New_York", datetime(2026, 3, 6, 13, 30, tzinfo=UTC), False),  # 08:30 in New York (EST)
        ("America/New_York", datetime(2026, 3, 6, 14, 30, tzinfo=UTC), True),  # 09:30 in New York
        ("America/New_York", datetime(2026, 3, 6, 22, 30, tzinfo=UTC), False),  # 17:30 in New York
        ("Asia/Tokyo", datetime(2026, 3, 6, 1, 0, tzinfo=UTC), True),  # 10:00 Friday in Tokyo
        ("Asia/Tokyo", datetime(2026, 3, 6, 23, 0, tzinfo=UTC), False),  # 08:00 Saturday in Tokyo
        ("Not/AZone", datetime(2026, 3, 6, 10, 0, tzinfo=UTC), True),  # unknown zone: read as UTC
    ],
)
def test_business_hours_in_the_channels_time_zone(time_zone, utc_now, open_):
    assert policy.is_open_at(WEEKDAYS_9_TO_5, time_zone=time_zone, now=utc_now) is open_


@pytest.mark.parametrize(
    ("hours", "valid"),
    [
        ({}, True),
        (WEEKDAYS_9_TO_5, True),
        ({"fri": [["22:00", "02:00"]]}, True),
        ({"fri": [["09:00", "24:00"]]}, True),
        ({"friday": [["09:00", "17:00"]]}, False),
        ({"fri": [["9", "17"]]}, False),
        ({"fri": [["09:00", "25:00"]]}, False),
        ({"fri": [["09:60", "17:00"]]}, False),
        ({"fri": [["09:00", "09:00"]]}, False),
        ({"fri": [["24:00", "02:00"]]}, False),
        ({"fri": "09:00-17:00"}, False),
        ([], False),
    ],
)
def test_business_hours_validation(hours, valid):
    assert (policy.business_hours_errors(hours) == []) is valid


HANDOVER = datetime(2026, 3, 6, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("level", "answered", "minutes_later", "step"),
    [
        (0, None, 9.99, None),
        (0, None, 10, EscalationStep.NOTIFY),  # due exactly at the minute
        (0, None, 45, EscalationStep.NOTIFY),  # late runs still take the first step first
        (1, None, 29.99, None),
        (1, None, 30, EscalationStep.FALLBACK),
        (2, None, 600, None),  # nothing left to do
        (0, HANDOVER + timedelta(minutes=3), 45, None),  # a person answered: the clock stopped
    ],
)
def test_escalation_next_step(level, answered, minutes_later, step):
    assert (
        policy.escalation_next_step(
            handover_at=HANDOVER,
            human_answered_at=answered,
            level=level,
            answer_within_minutes=10,
            fallback_after_minutes=30,
            now=HANDOVER + timedelta(minutes=minutes_later),
        )
        == step
    )


def test_no_handover_no_clock():
    step = policy.escalation_next_step(
        handover_at=None,
        human_answered_at=None,
        level=0,
        answer_within_minutes=10,
        fallback_after_minutes=30,
        now=HANDOVER,
    )
    assert step is None


@pytest.mark.parametrize(
    ("level", "due"),
    [(0, HANDOVER + timedelta(minutes=10)), (1, HANDOVER + timedelta(minutes=30)), (2, None)],
)
def test_escalation_due_at(level, due):
    assert policy.escalation_due_at(HANDOVER, level=level, answer_within_minutes=10, fallback_after_minutes=30) == due


COMPLETE = EscalationRoute(
    has_team=True, answer_within_minutes=10, fallback_after_minutes=30, fallback_kind="phone", fallback_text="Call us"
)


@pytest.mark.parametrize(
    ("route", "complete"),
    [
        (COMPLETE, True),
        (EscalationRoute(False, 10, 30, "phone", "Call us"), False),
        (EscalationRoute(True, 0, 30, "phone", "Call us"), False),
        (EscalationRoute(True, 30, 10, "phone", "Call us"), False),  # fallback before people had their time
        (EscalationRoute(True, 10, 10, "phone", "Call us"), True),
        (EscalationRoute(True, 10, 30, "", "Call us"), False),
        (EscalationRoute(True, 10, 30, "email", "   "), False),
    ],
)
def test_escalation_route(route, complete):
    assert policy.has_escalation_route(route) is complete
    assert bool(policy.escalation_route_gaps(route)) is not complete


@pytest.mark.parametrize(
    ("human_route", "text", "keywords", "offers"),
    [
        ("button", "Hello!", policy.HUMAN_KEYWORDS, True),
        ("keywords", "Hello! Reply AGENT to talk to one of us.", policy.HUMAN_KEYWORDS, True),
        ("keywords", "Ciao! Scrivi «operatore» per parlare con noi.", policy.HUMAN_KEYWORDS, True),
        ("keywords", "Hello! We answer soon.", policy.HUMAN_KEYWORDS, False),
        ("keywords", "Reply AGENTS for a list", policy.HUMAN_KEYWORDS, False),  # whole words only
        ("keywords", "Write ZEBRA for a person", ("zebra",), True),  # the channel's own list
        ("keywords", "Write AGENT for a person", ("zebra",), False),
        ("nothing", "Reply AGENT", policy.HUMAN_KEYWORDS, False),
    ],
)
def test_offers_human_route(human_route, text, keywords, offers):
    assert policy.offers_human_route(human_route=human_route, text=text, human_keywords=keywords) is offers


@pytest.mark.parametrize(
    ("buttons", "expected"),
    [
        ([], [("switchboard_human", "Talk to a person")]),
        ([("a", "A")], [("a", "A"), ("switchboard_human", "Talk to a person")]),
        ([("a", "A"), ("b", "B")], [("a", "A"), ("b", "B"), ("switchboard_human", "Talk to a person")]),
        # WhatsApp allows three: the bot's third gives way to the route to a person.
        ([("a", "A"), ("b", "B"), ("c", "C")], [("a", "A"), ("b", "B"), ("switchboard_human", "Talk to a person")]),
        ([("x", "Talk to a person"), ("a", "A")], [("a", "A"), ("switchboard_human", "Talk to a person")]),
    ],
)
def test_with_human_button(buttons, expected):
    assert policy.with_human_button(buttons, title="Talk to a person") == expected


def test_button_titles_fit_whatsapps_limit():
    assert all(len(title) <= 20 for title in policy.HUMAN_BUTTON_TITLES.values())
    assert set(policy.HUMAN_BUTTON_TITLES) == set(policy.HUMAN_KEYWORDS) == set(policy.HANDOVER_TEXTS)


@pytest.mark.parametrize(
    ("last", "minutes_later", "due"),
    [(None, 0, True), (HANDOVER, 60, False), (HANDOVER, 12 * 60 - 1, False), (HANDOVER, 12 * 60, True)],
)
def test_away_reply_interval(last, minutes_later, due):
    assert policy.away_reply_due(last, now=HANDOVER + timedelta(minutes=minutes_later)) is due


@pytest.mark.parametrize(
    ("candidates", "language"),
    [(("it",), "it"), (("", "pt_BR"), "pt"), (("", ""), "en"), (("zz", "de-AT"), "de"), (("xx",), "en")],
)
def test_customer_language(candidates, language):
    assert policy.customer_language(*candidates) == language
