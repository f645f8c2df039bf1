"""Messaging limits: the unique customers business-initiated messages reached in a moving 24 hours.

WhatsApp caps how many different customers a business may contact first (a template outside the
customer-service window, a campaign) in any 24 hours, per WhatsApp account (business portfolio): all its
numbers share one count, and a customer reached again within the 24 hours costs nothing (§12). We count
exactly, from our own ledger (`BusinessInitiatedReach`): the worker records a row when it hands such a message
to WhatsApp, at most one per customer and account in any 24 hours, so counting the rows of the last 24 hours
counts unique customers. The limit itself is data synced from WhatsApp (`Channel.messaging_limit`).

The worker checks and records in one transaction holding `account_lock`, so two workers cannot both take the
last free place.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection
from django.db.models import Count, Q

from inbox import policy
from inbox.models import BusinessInitiatedReach, Channel

# A customer stays in the count for 24 hours from the moment they were reached.
REACH_WINDOW = timedelta(hours=24)


@dataclass(frozen=True)
class Reach:
    """The account's count in the moving 24 hours, and whether this customer is already in it."""

    reached: int
    contact_reached: bool


def reach_in_24h(*, waba_id: str, contact_id: int | None, now: datetime) -> Reach:
    """One query: how many unique customers the account reached in the 24 hours before `now`, and whether
    `contact_id` is one of them. A reach at exactly 24:00:00 ago has left the count."""
    counts = BusinessInitiatedReach.objects.filter(waba_id=waba_id, reached_at__gt=now - REACH_WINDOW).aggregate(
        reached=Count("pk"), contact=Count("pk", filter=Q(contact_id=contact_id))
    )
    return Reach(reached=counts["reached"], contact_reached=bool(counts["contact"]))


def headroom_returns_at(*, waba_id: str, limit: int | None, now: datetime) -> datetime | None:
    """When the account may reach one more new customer: when enough of the oldest reaches have left the
    24 hours to bring the count under `limit` (a lowered limit may need several to leave). None when there
    is room now or no limit."""
    if limit is None:
        return None
    in_window = BusinessInitiatedReach.objects.filter(waba_id=waba_id, reached_at__gt=now - REACH_WINDOW)
    reached = in_window.count()
    if reached < limit:
        return None
    # The (count - limit + 1)-th oldest reach is the one whose leaving makes room. None for a limit of 0
    # with nobody counted: no reach leaving can make room.
    leaving = in_window.order_by("reached_at", "pk").values_list("reached_at", flat=True)[
        reached - limit : reached - limit + 1
    ]
    return policy.messaging_headroom_returns_at(next(iter(leaving), None))


def account_lock(*, waba_id: str) -> None:
    """Serialise the check-and-record of one WhatsApp account's reaches until the transaction ends.

    The count is shared by every number of the account, so the lock is too: the account's Channel rows,
    locked FOR UPDATE in id order (the same order everywhere, so two workers never wait on each other in a
    cycle). A second worker sending for the same account waits here until the first committed its reach,
    then counts it. Other accounts are not held up. SQLite has no row locks, but our SQLite transactions
    begin IMMEDIATE (config/settings.py): one write transaction at a time, the same guarantee."""
    if connection.vendor == "sqlite":
        return
    list(Channel.objects.select_for_update().filter(waba_id=waba_id).order_by("pk").values_list("pk", flat=True))


def reach_record(*, waba_id: str, contact_id: int, channel_id: int, message_id: int | None, now: datetime) -> bool:
    """Count the customer as reached by a business-initiated message of the account, unless they already
    are (then nothing is written). Call inside the transaction holding `account_lock`. True when a row was
    written."""
    already = BusinessInitiatedReach.objects.filter(
        waba_id=waba_id, contact_id=contact_id, reached_at__gt=now - REACH_WINDOW
    ).exists()
    if already:
        return False
    BusinessInitiatedReach.objects.create(
        waba_id=waba_id, contact_id=contact_id, channel_id=channel_id, message_id=message_id, reached_at=now
    )
    return True
