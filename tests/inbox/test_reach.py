"""Messaging-limit tracking (inbox/services/reach.py): unique customers reached by business-initiated messages
in a moving 24 hours, per WhatsApp account, counted exactly from the ledger in one query."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from inbox.models import BusinessInitiatedReach
from inbox.services import reach
from tests.factories import ChannelFactory, ContactFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
WABA = "419561257915477"


def reached(channel, contact, *, ago: timedelta):
    return BusinessInitiatedReach.objects.create(
        waba_id=channel.waba_id, contact=contact, channel=channel, reached_at=NOW - ago
    )


@pytest.fixture
def numbers(db):
    return ChannelFactory(waba_id=WABA), ChannelFactory(waba_id=WABA), ChannelFactory(waba_id="999")


def test_the_count_covers_every_number_of_the_account_in_the_last_24_hours(numbers):
    first, second, other = numbers
    ana, bruno, carla = ContactFactory(), ContactFactory(), ContactFactory()
    reached(first, ana, ago=timedelta(hours=1))
    reached(second, bruno, ago=timedelta(hours=23, minutes=59, seconds=59))
    reached(second, carla, ago=timedelta(hours=24))  # exactly 24:00:00 ago: out
    reached(other, carla, ago=timedelta(hours=1))  # another account
    with CaptureQueriesContext(connection) as queries:
        count = reach.reach_in_24h(waba_id=WABA, contact_id=ana.pk, now=NOW)
    assert len(queries) == 1
    assert count == reach.Reach(reached=2, contact_reached=True)
    assert reach.reach_in_24h(waba_id=WABA, contact_id=carla.pk, now=NOW) == reach.Reach(2, False)
    assert reach.reach_in_24h(waba_id="999", contact_id=carla.pk, now=NOW) == reach.Reach(1, True)


def test_a_customer_is_recorded_once_per_24_hours_whichever_number_reached_them(numbers):
    first, second, _other = numbers
    ana = ContactFactory()
    assert reach.reach_record(waba_id=WABA, contact_id=ana.pk, channel_id=first.pk, message_id=None, now=NOW)
    later = NOW + timedelta(hours=5)
    assert not reach.reach_record(waba_id=WABA, contact_id=ana.pk, channel_id=second.pk, message_id=None, now=later)
    assert reach.reach_in_24h(waba_id=WABA, contact_id=ana.pk, now=later) == reach.Reach(1, True)
    # Once the first reach has left the 24 hours, reaching them again counts again.
    next_day = NOW + timedelta(hours=24)
    assert reach.reach_record(waba_id=WABA, contact_id=ana.pk, channel_id=second.pk, message_id=None, now=next_day)
    assert BusinessInitiatedReach.objects.filter(contact=ana).count() == 2
    assert reach.reach_in_24h(waba_id=WABA, contact_id=ana.pk, now=next_day) == reach.Reach(1, True)


@pytest.mark.parametrize(
    ("limit", "ages_in_hours", "returns_after_hours"),
    [
        (None, [1, 2], None),  # unlimited
        (3, [1, 2], None),  # room now
        (2, [23, 2], 1),  # at the limit: when the oldest leaves
        (2, [2, 23, 5], 19),  # a lowered limit: the two oldest must leave, the second one's time decides
        (1, [20], 4),
        (0, [], None),  # a limit of 0: no reach leaving can make room
        (0, [3], None),
    ],
)
def test_when_room_returns(numbers, limit, ages_in_hours, returns_after_hours):
    first = numbers[0]
    for hours in ages_in_hours:
        reached(first, ContactFactory(), ago=timedelta(hours=hours))
    returns_at = reach.headroom_returns_at(waba_id=WABA, limit=limit, now=NOW)
    expected = None if returns_after_hours is None else NOW + timedelta(hours=returns_after_hours)
    assert returns_at == expected


def test_the_account_lock_runs_inside_a_transaction(numbers):
    # SQLite serialises write transactions itself (they begin IMMEDIATE); PostgreSQL locks the rows.
    from django.db import transaction

    with transaction.atomic():
        reach.account_lock(waba_id=WABA)
        assert reach.reach_record(
            waba_id=WABA, contact_id=ContactFactory().pk, channel_id=numbers[0].pk, message_id=None, now=NOW
        )
