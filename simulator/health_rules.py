"""A simulated number's health as pure functions: quality rating, status, messaging-limit tier and the
refusals they cause. No ORM, no I/O, `now` passed in. Table-tested in tests/simulator/test_health_rules.py.

They mirror the rules Meta's guides describe (shared/DESIGN.md §4, whatsapp-cloud-api.md §6, §10-§12):
quality drops when customers block the business or report that a bot left them no way to reach a person; a
number at RED quality is FLAGGED, and after 7 days either recovers (CONNECTED, same limit) or is
reconnected one tier lower; a number that used half its limit in the last 7 days with good quality moves up
a tier; a RESTRICTED number may not start conversations, and no number may start more of them in a moving
24 hours than its tier allows (both refused with 131048).
"""

import base64
import hashlib
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

# The window quality and tier upgrades look at, and how long a flagged number has to recover.
QUALITY_WINDOW = timedelta(days=7)
UPGRADE_WINDOW = timedelta(days=7)
FLAG_REVIEW_AFTER = timedelta(days=7)
# The messaging limit counts unique customers reached by business-initiated messages in a moving 24 hours.
MESSAGING_LIMIT_WINDOW = timedelta(hours=24)

# Default quality thresholds: negative signals (blocks, "no way to reach a person" reports) per unique
# customer the number started a conversation with in the last 7 days. Below `min_signals` negative signals
# the rating stays GREEN: one unhappy customer of three is noise, not a pattern.
DEFAULT_YELLOW_PERCENT = 2.0
DEFAULT_RED_PERCENT = 5.0
DEFAULT_MIN_SIGNALS = 2

# Error code of both refusals (§11: "spam-rate restriction on number").
RESTRICTED_ERROR = 131048


class Quality(StrEnum):
    GREEN = "GREEN"
    YELLOW = "YELLOW"
    RED = "RED"


class NumberStatus(StrEnum):
    CONNECTED = "CONNECTED"
    FLAGGED = "FLAGGED"
    RESTRICTED = "RESTRICTED"


class Tier(StrEnum):
    """Meta's current ladder (§12): 250 → 2K → 10K → 100K → unlimited (the old 1K tier is gone)."""

    TIER_250 = "TIER_250"
    TIER_2K = "TIER_2K"
    TIER_10K = "TIER_10K"
    TIER_100K = "TIER_100K"
    TIER_UNLIMITED = "TIER_UNLIMITED"


TIERS = tuple(Tier)
# Unique customers per moving 24 hours; None is unlimited (-1 on the wire).
TIER_LIMITS: dict[str, int | None] = {
    Tier.TIER_250: 250,
    Tier.TIER_2K: 2000,
    Tier.TIER_10K: 10000,
    Tier.TIER_100K: 100000,
    Tier.TIER_UNLIMITED: None,
}


class ThroughputLevel(StrEnum):
    """Meta's two throughput levels (§12): 80 messages per second by default, 1000 after the upgrade."""

    STANDARD = "STANDARD"
    HIGH = "HIGH"


THROUGHPUT_PER_LEVEL = {ThroughputLevel.STANDARD: 80, ThroughputLevel.HIGH: 1000}


class HealthEvent(StrEnum):
    """The `event` of `phone_number_quality_update` (§10, legacy values Meta still documents in examples)."""

    FLAGGED = "FLAGGED"
    UNFLAGGED = "UNFLAGGED"
    UPGRADE = "UPGRADE"
    DOWNGRADE = "DOWNGRADE"


def throughput_level(throughput_per_second: int) -> ThroughputLevel:
    """The level a number's configured throughput amounts to: HIGH from 1000 messages per second."""
    if throughput_per_second >= THROUGHPUT_PER_LEVEL[ThroughputLevel.HIGH]:
        return ThroughputLevel.HIGH
    return ThroughputLevel.STANDARD


def tier_limit(tier: str) -> int | None:
    return TIER_LIMITS.get(tier, TIER_LIMITS[Tier.TIER_250])


def tier_limit_wire(tier: str) -> int:
    """`max_daily_conversations_per_business`: the limit as an integer, -1 for unlimited (§10)."""
    limit = tier_limit(tier)
    return -1 if limit is None else limit


def next_tier(tier: str) -> str:
    index = TIERS.index(Tier(tier))
    return TIERS[min(index + 1, len(TIERS) - 1)]


def lower_tier(tier: str) -> str:
    index = TIERS.index(Tier(tier))
    return TIERS[max(index - 1, 0)]


@dataclass(frozen=True)
class QualityThresholds:
    yellow_percent: float = DEFAULT_YELLOW_PERCENT
    red_percent: float = DEFAULT_RED_PERCENT
    min_signals: int = DEFAULT_MIN_SIGNALS


def quality_rating(*, negative_signals: int, recipients: int, thresholds: QualityThresholds) -> Quality:
    """The rating from the last 7 days: negative signals per unique business-initiated recipient.

    Customers who block or report without ever having received a business-initiated message still count:
    the base is at least the number of signals, so the rate never exceeds 100 %."""
    if negative_signals < max(thresholds.min_signals, 1):
        return Quality.GREEN
    rate = 100.0 * negative_signals / max(recipients, negative_signals)
    if rate >= thresholds.red_percent:
        return Quality.RED
    if rate >= thresholds.yellow_percent:
        return Quality.YELLOW
    return Quality.GREEN


@dataclass(frozen=True)
class NumberHealth:
    quality: str
    status: str
    tier: str
    flagged_at: datetime | None
    restricted_until: datetime | None


@dataclass(frozen=True)
class HealthFacts:
    """What the review looks at, counted over the last 7 days."""

    negative_signals: int
    recipients: int


def status_for(*, flagged_at: datetime | None, restricted_until: datetime | None, now: datetime) -> NumberStatus:
    """A restriction outranks a flag (both may hold at once); neither is CONNECTED."""
    if restricted_until is not None and now < restricted_until:
        return NumberStatus.RESTRICTED
    if flagged_at is not None:
        return NumberStatus.FLAGGED
    return NumberStatus.CONNECTED


def flag_review_due(flagged_at: datetime | None, *, now: datetime) -> bool:
    """A flagged number is reviewed 7 days after it was flagged (00:00:00 into day 8, not a second before)."""
    return flagged_at is not None and now >= flagged_at + FLAG_REVIEW_AFTER


def upgrade_due(*, tier: str, recipients: int, quality: str, flagged: bool) -> bool:
    """Meta moves a number up when it reached at least half its limit of unique customers within 7 days
    and its quality is not low. A flagged number (or one at RED) waits; unlimited is the top."""
    limit = tier_limit(tier)
    if limit is None or flagged or quality == Quality.RED:
        return False
    return 2 * recipients >= limit


def health_review(
    state: NumberHealth, facts: HealthFacts, *, now: datetime, thresholds: QualityThresholds
) -> tuple[NumberHealth, tuple[HealthEvent, ...]]:
    """One review of a number: the new quality, then flag (RED), the 7-day verdict on a flag (recovered:
    UNFLAGGED, same tier; not recovered: DOWNGRADE, one tier lower, flag lifted), then an upgrade. Returns
    the new state and the events to report, in order (at most one tier change per review)."""
    quality = quality_rating(
        negative_signals=facts.negative_signals, recipients=facts.recipients, thresholds=thresholds
    )
    flagged_at, tier = state.flagged_at, state.tier
    events: list[HealthEvent] = []
    if flagged_at is None and quality == Quality.RED:
        flagged_at = now
        events.append(HealthEvent.FLAGGED)
    elif flag_review_due(flagged_at, now=now):
        flagged_at = None
        if quality == Quality.RED:
            tier = lower_tier(tier)
            events.append(HealthEvent.DOWNGRADE)
        else:
            events.append(HealthEvent.UNFLAGGED)
    if not events and upgrade_due(
        tier=tier, recipients=facts.recipients, quality=quality, flagged=flagged_at is not None
    ):
        tier = next_tier(tier)
        events.append(HealthEvent.UPGRADE)
    new_state = replace(
        state,
        quality=quality,
        tier=tier,
        flagged_at=flagged_at,
        status=status_for(flagged_at=flagged_at, restricted_until=state.restricted_until, now=now),
    )
    return new_state, tuple(events)


def business_initiated(*, message_type: str, window_open: bool) -> bool:
    """A message that starts a conversation: a template to a customer whose 24-hour window is closed.
    Inside the window everything is a reply, and outside it only templates go out (§13)."""
    return message_type == "template" and not window_open


def business_initiated_refusal(
    *,
    restricted_until: datetime | None,
    tier: str,
    reached_today: int,
    already_reached_today: bool,
    now: datetime,
) -> str | None:
    """Why a business-initiated send is refused with 131048 (None: it may go).

    A RESTRICTED number may not start conversations until the restriction expires; replies inside an open
    window still go (the caller only asks for business-initiated sends). Otherwise a customer already
    reached in the moving 24 hours never counts twice, and a new one beyond the tier's limit is refused."""
    if restricted_until is not None and now < restricted_until:
        return (
            "This phone number is restricted from starting conversations until "
            f"{restricted_until.strftime('%Y-%m-%d %H:%M UTC')}: business-initiated messages are blocked."
        )
    limit = tier_limit(tier)
    if limit is not None and not already_reached_today and reached_today >= limit:
        return (
            f"The messaging limit of {tier} ({limit} unique customers in a moving 24 hours) is reached: "
            "business-initiated messages to new customers are blocked."
        )
    return None


def identity_mismatch(*, sent_hash: str | None, current_hash: str) -> bool:
    """A send carrying `recipient_identity_key_hash` is delivered only while the customer's identity still
    has that hash (137000 otherwise). A send without it is not checked."""
    return bool(sent_hash) and sent_hash != current_hash


def identity_hash(seed: str) -> str:
    """An identity key hash shaped like Meta's (`Sjvjlx8G6Z0=`: base64 of 8 bytes)."""
    return base64.b64encode(hashlib.sha256(seed.encode()).digest()[:8]).decode()
