"""Number health: quality rating, status, messaging limit and throughput of each WhatsApp number, from
webhooks and the periodic sync, kept as a timeline; and the number's WhatsApp business profile.

WhatsApp tells us about a number's health in four webhooks (whatsapp-cloud-api.md §10) and in the phone
number object (§6). Each is applied here to the Channel row the pre-send guard and the pacing read
(`number_status`, `messaging_limit`, `throughput_per_second`), and every actual change is kept as a
NumberHealthEvent and told to every active admin (in the app and by e-mail). Replays change nothing: the
webhook layer stores a management change once, and a value equal to ours writes no event.

- The quality rating, a flag and a throughput change concern one number (named by its display number).
- The messaging limit is per WhatsApp account (business portfolio, §12): it goes to every number of it.
- A restriction is on the account: every number of it is restricted until the restriction expires (a beat
  job lifts it then), or until a sync reports the number connected once no expiration is pending.

Keyword-only functions; writes in one transaction with the account's channel rows locked in id order (the
same order `reach.account_lock` uses). Network calls happen outside transactions.
"""

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role, User
from accounts.services import audit_record
from inbox import access, events
from inbox.models import (
    BusinessInitiatedReach,
    Channel,
    HealthEventKind,
    ManagementEvent,
    NotificationKind,
    NumberHealthEvent,
    NumberStatus,
    QualityRating,
)
from inbox.providers.whatsapp_cloud import client, errors, health
from inbox.providers.whatsapp_cloud.types import ProviderError
from inbox.services import outbound
from inbox.services.notifications import notification_create

logger = logging.getLogger(__name__)

HEALTH_FIELDS = frozenset(
    {"phone_number_quality_update", "business_capability_update", "account_update", "account_alerts"}
)

# A flagged number has 7 days to recover its quality before WhatsApp lowers its messaging limit.
FLAG_RECOVERY = timedelta(days=7)
# The messaging limit counts customers reached in a moving 24 hours (§12).
LIMIT_WINDOW = timedelta(hours=24)
THROUGHPUT_MIN, THROUGHPUT_MAX = 1, 1000
TIMELINE_PAGE = 50


class Source:
    """Where a NumberHealthEvent came from."""

    WEBHOOK = "webhook"
    SYNC = "sync"
    ADMIN = "admin"
    EXPIRY = "expiry"


_QUALITY_WORDS = {
    QualityRating.GREEN: "high (green)",
    QualityRating.YELLOW: "medium (yellow)",
    QualityRating.RED: "low (red)",
    QualityRating.UNKNOWN: "not rated",
}


# --- Recording changes ----------------------------------------------------------------------------------


@dataclass
class _Changes:
    """The changes of one apply: timeline rows are written as they happen; the sentences are told to the
    admins once, at the end (one notification per distinct sentence)."""

    source: str
    at: datetime
    actor: User | None = None
    sentences: list[str] = field(default_factory=list)
    channels: dict[int, Channel] = field(default_factory=dict)
    recorded: int = 0

    def touch(self, channel: Channel) -> None:
        """The channel's row changed (it is saved at the end), with or without a timeline entry."""
        self.channels[channel.pk] = channel

    def record(
        self, channel: Channel, *, kind: str, previous: str, current: str, sentence: str, detail: str = ""
    ) -> None:
        NumberHealthEvent.objects.create(
            channel=channel,
            kind=kind,
            previous=str(previous)[:64],
            current=str(current)[:64],
            source=self.source,
            detail=detail,
            occurred_at=self.at,
        )
        self.recorded += 1
        self.touch(channel)
        if sentence not in self.sentences:
            self.sentences.append(sentence)


def _label(channel: Channel) -> str:
    return str(channel)


def _accounts_label(channels: list[Channel]) -> str:
    names = ", ".join(channel.name for channel in channels[:3])
    return names + (f" and {len(channels) - 3} more" if len(channels) > 3 else "")


def _when(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC" if moment is not None else "further notice"


def _quality_set(changes: _Changes, channel: Channel, quality: str | None, *, detail: str = "") -> None:
    if quality is None or quality == channel.quality_rating:
        return
    previous, channel.quality_rating = channel.quality_rating, quality
    if quality == QualityRating.RED:
        sentence = (
            f"{_label(channel)}: quality dropped to low (red). WhatsApp may flag the number and lower its "
            "messaging limit: check recent template messages and opt-ins."
        )
    elif quality == QualityRating.UNKNOWN:
        sentence = f"{_label(channel)}: WhatsApp has no quality rating for the number now."
    else:
        sentence = f"{_label(channel)}: quality is now {_QUALITY_WORDS[quality]} (was {_QUALITY_WORDS[previous]})."
    changes.record(
        channel, kind=HealthEventKind.QUALITY, previous=previous, current=quality, sentence=sentence, detail=detail
    )


def _status_set(
    changes: _Changes,
    channel: Channel,
    status: str,
    *,
    restricted_until: datetime | None = None,
    detail: str = "",
) -> None:
    """Set the number's status with what goes with it: the flag's start (kept while flagged), the end of a
    restriction. A restriction whose end moved is a change too."""
    previous = channel.number_status
    flagged_at = channel.flagged_at
    if status == NumberStatus.FLAGGED:
        flagged_at = flagged_at or changes.at
    elif status != NumberStatus.RESTRICTED:
        flagged_at = None
    until = restricted_until if status == NumberStatus.RESTRICTED else None
    if previous == status and until == channel.restricted_until and flagged_at == channel.flagged_at:
        return
    channel.number_status, channel.restricted_until, channel.flagged_at = status, until, flagged_at
    label = _label(channel)
    if status == NumberStatus.RESTRICTED:
        sentence = (
            f"{label} is restricted by WhatsApp until {_when(until)}: it may only answer customers who wrote in "
            "the last 24 hours; templates to others wait."
        )
    elif status == NumberStatus.FLAGGED:
        sentence = (
            f"{label} was flagged for low quality: unless its quality recovers by {_when(flagged_at + FLAG_RECOVERY)}, "
            "WhatsApp lowers its messaging limit."
        )
    elif status == NumberStatus.CONNECTED and previous == NumberStatus.RESTRICTED:
        sentence = f"{label}: WhatsApp's restriction ended; it may contact customers first again."
    elif status == NumberStatus.CONNECTED and previous == NumberStatus.FLAGGED:
        sentence = f"{label} is no longer flagged."
    elif status == NumberStatus.CONNECTED:
        sentence = f"{label} is connected."
    elif status == NumberStatus.OFFLINE:
        sentence = f"{label} is offline at WhatsApp: it cannot send until an admin reconnects it in Meta's manager."
    else:
        sentence = f"{label} is pending at WhatsApp (not ready to send yet)."
    if previous == status and status == NumberStatus.RESTRICTED:
        detail = detail or f"Restricted until {_when(until)}."
    changes.record(
        channel, kind=HealthEventKind.STATUS, previous=previous, current=status, sentence=sentence, detail=detail
    )


def _flag_cleared(changes: _Changes, channel: Channel, *, detail: str) -> None:
    """The flag ends (quality recovered, or the 7 days ended with a lower limit)."""
    if channel.number_status == NumberStatus.FLAGGED:
        _status_set(changes, channel, NumberStatus.CONNECTED, detail=detail)
    elif channel.flagged_at is not None:
        channel.flagged_at = None
        changes.touch(channel)


def _limit_set(changes: _Changes, channels: list[Channel], limit: health.MessagingLimit, *, detail: str = "") -> None:
    """The account's messaging limit, on every number of the account."""
    moved = [c for c in channels if (c.messaging_limit, c.messaging_limit_tier) != (limit.limit, limit.tier)]
    if not moved:
        return
    previous_limits = {c.messaging_limit for c in moved}
    was = health.limit_label(next(iter(previous_limits))) if len(previous_limits) == 1 else "different per number"
    now_label = health.limit_label(limit.limit)
    if limit.unlimited:
        sentence = f"{_accounts_label(channels)}: the messaging limit is now unlimited (was {was})."
    else:
        sentence = (
            f"{_accounts_label(channels)}: the messaging limit is now {now_label} customers contacted first in 24 "
            f"hours (was {was})."
        )
    for channel in moved:
        previous = health.limit_label(channel.messaging_limit)
        channel.messaging_limit, channel.messaging_limit_tier = limit.limit, limit.tier
        changes.record(
            channel,
            kind=HealthEventKind.MESSAGING_LIMIT,
            previous=previous,
            current=now_label,
            sentence=sentence,
            detail=detail or (f"Tier {limit.tier}." if limit.tier else ""),
        )
    if any(limit.unlimited or (was_limit is not None and limit.limit > was_limit) for was_limit in previous_limits):
        # Messages waiting for room may fit now: they go at once instead of at their announced time.
        for waba_id in sorted({channel.waba_id for channel in moved}):
            outbound.outbox_limit_raised(waba_id=waba_id)


def _admin_set_throughput(channel: Channel) -> bool:
    latest = (
        NumberHealthEvent.objects.filter(channel=channel, kind=HealthEventKind.THROUGHPUT)
        .order_by("-occurred_at", "-id")
        .values_list("source", flat=True)
        .first()
    )
    return latest == Source.ADMIN


def _throughput_set(changes: _Changes, channel: Channel, per_second: int, *, detail: str = "") -> None:
    if per_second == channel.throughput_per_second:
        return
    previous, channel.throughput_per_second = channel.throughput_per_second, per_second
    changes.record(
        channel,
        kind=HealthEventKind.THROUGHPUT,
        previous=str(previous),
        current=str(per_second),
        sentence=f"{_label(channel)}: throughput is now {per_second:,} messages a second (was {previous:,}).",
        detail=detail,
    )


def _throughput_from_provider(changes: _Changes, channel: Channel, per_second: int | None) -> None:
    """WhatsApp's level is a ceiling: an admin may pace a number below it (their value is kept), never above
    it (sends beyond it earn 130429)."""
    if per_second is None or per_second == channel.throughput_per_second:
        return
    if channel.throughput_per_second < per_second and _admin_set_throughput(channel):
        return
    _throughput_set(changes, channel, per_second, detail=f"WhatsApp's throughput level: {per_second:,}/s.")


def _account_event(changes: _Changes, channels: list[Channel], *, current: str, sentence: str, detail: str) -> None:
    for channel in channels:
        changes.record(
            channel, kind=HealthEventKind.ACCOUNT, previous="", current=current, sentence=sentence, detail=detail
        )


def _save(changes: _Changes) -> None:
    for channel in changes.channels.values():
        channel.save(
            update_fields=[
                "quality_rating",
                "number_status",
                "messaging_limit",
                "messaging_limit_tier",
                "throughput_per_second",
                "flagged_at",
                "restricted_until",
                "health_synced_at",
                "display_phone_number",
            ]
        )
        events.publish(
            channel_id=channel.pk, conversation_id=None, type="channel.health_changed", data=health_snapshot(channel)
        )


def health_snapshot(channel: Channel) -> dict:
    """The small snapshot a live event and the API carry."""
    return {
        "channel_id": channel.pk,
        "quality_rating": channel.quality_rating,
        "number_status": channel.number_status,
        "messaging_limit": channel.messaging_limit,
        "messaging_limit_tier": channel.messaging_limit_tier,
        "throughput_per_second": channel.throughput_per_second,
        "flagged_at": channel.flagged_at.isoformat() if channel.flagged_at else None,
        "restricted_until": channel.restricted_until.isoformat() if channel.restricted_until else None,
    }


def _announce(changes: _Changes) -> None:
    """Tell every active admin, in the app (one notification per sentence) and by e-mail (one mail), after
    commit. The admin who made the change is not told about it."""
    if not changes.sentences:
        return
    admins = list(User.objects.filter(role=Role.ADMIN, is_active=True).order_by("id"))
    for admin in admins:
        for sentence in changes.sentences:
            notification_create(user=admin, kind=NotificationKind.NUMBER_HEALTH, actor=changes.actor, text=sentence)
    recipients = [a.email for a in admins if a.email and (changes.actor is None or a.pk != changes.actor.pk)]
    if not recipients:
        return
    subject = f"[Switchboard] {changes.sentences[0]}"[:200]
    links = [_health_link(channel) for channel in changes.channels.values()]
    body = "\n\n".join([*changes.sentences, *(f"Number health: {link}" for link in links if link)])
    transaction.on_commit(lambda: _mail(subject=subject, body=body, to=recipients))


def _health_link(channel: Channel) -> str:
    site = getattr(settings, "SITE_URL", "")
    return f"{site.rstrip('/')}{reverse('health:page', args=[channel.pk])}" if site else ""


def _mail(*, subject: str, body: str, to: list[str]) -> None:
    try:
        send_mail(subject.replace("\n", " "), body, None, to)
    except Exception:
        # A mail server being down must not undo the change; the in-app notification is there.
        logger.exception("Could not e-mail the number health alert")


def _account_channels(waba_id: str) -> list[Channel]:
    """The account's numbers, locked in id order (as `reach.account_lock` does)."""
    return list(Channel.objects.select_for_update().filter(waba_id=waba_id).order_by("pk"))


# --- Webhooks ----------------------------------------------------------------------------------------------


def management_event_apply(*, event: ManagementEvent) -> None:
    """Apply a number/account health webhook (`phone_number_quality_update`, `business_capability_update`,
    `account_update`, `account_alerts`) to the account's numbers, keep every change in their timelines and
    tell the admins. The event is marked handled; a handled one is not applied again."""
    if event.handled or event.field not in HEALTH_FIELDS:
        return
    value = event.value if isinstance(event.value, dict) else {}
    with transaction.atomic():
        channels = _account_channels(event.waba_id)
        changes = _Changes(source=Source.WEBHOOK, at=event.occurred_at or timezone.now())
        if channels:
            if event.field == "phone_number_quality_update":
                _quality_update_apply(changes, channels, health.quality_update(value))
            elif event.field == "business_capability_update":
                limit = health.capability_limit(value)
                if limit is not None:
                    _limit_set(changes, channels, limit, detail="business_capability_update")
            elif event.field == "account_update":
                _account_update_apply(changes, channels, health.account_update(value))
            else:
                _account_alert_apply(changes, channels, health.account_alert(value))
        _save(changes)
        _announce(changes)
        ManagementEvent.objects.filter(pk=event.pk).update(handled=True)


def _numbers_named(channels: list[Channel], display_phone_number: str) -> list[Channel]:
    """The number a quality update names by its display digits; an account with one number needs no name."""
    named = [
        c for c in channels if display_phone_number and health.digits(c.display_phone_number) == display_phone_number
    ]
    if named:
        return named
    return channels if len(channels) == 1 else []


def _quality_update_apply(changes: _Changes, channels: list[Channel], update: health.QualityUpdate) -> None:
    if update.limit is not None:
        _limit_set(changes, channels, update.limit, detail=f"phone_number_quality_update {update.event}")
    numbers = _numbers_named(channels, update.display_phone_number)
    if not numbers:
        logger.warning("A quality update names %s, which no number of its account has", update.display_phone_number)
    detail = f"phone_number_quality_update {update.event}"
    for channel in numbers:
        if update.event == "FLAGGED":
            # Flagged means the quality reached low: 7 days to recover before the limit is lowered.
            _quality_set(changes, channel, QualityRating.RED, detail=detail)
            if channel.number_status == NumberStatus.RESTRICTED:
                channel.flagged_at = channel.flagged_at or changes.at
                changes.touch(channel)
            else:
                _status_set(changes, channel, NumberStatus.FLAGGED, detail=detail)
        elif update.event == "UNFLAGGED":
            # The quality is no longer low; WhatsApp does not say whether medium or high (the sync will).
            if channel.quality_rating == QualityRating.RED:
                _quality_set(changes, channel, QualityRating.YELLOW, detail=detail)
            _flag_cleared(changes, channel, detail=detail)
        elif update.event == "DOWNGRADE":
            # The 7 days ended without recovery: the limit is lower (above) and the flag is over.
            _flag_cleared(changes, channel, detail=detail)
        elif update.event == "THROUGHPUT_UPGRADE":
            _throughput_from_provider(changes, channel, health.HIGH_THROUGHPUT)
        elif update.event not in ("UPGRADE", "ONBOARDING"):
            _account_event(
                changes,
                [channel],
                current=update.event or "QUALITY_UPDATE",
                sentence=f"{_label(channel)}: WhatsApp reports {update.event or 'a quality update'}.",
                detail=detail,
            )


def _account_update_apply(changes: _Changes, channels: list[Channel], update: health.AccountUpdate) -> None:
    label = _accounts_label(channels)
    detail = f"account_update {update.summary}"
    if update.event == "ACCOUNT_RESTRICTION" and update.messaging_restrictions:
        until = update.restricted_until
        if until is not None and until <= changes.at:
            _account_event(
                changes,
                channels,
                current=update.event,
                sentence=f"{label}: WhatsApp reported a restriction that has already ended ({_when(until)}).",
                detail=detail,
            )
            return
        for channel in channels:
            _status_set(changes, channel, NumberStatus.RESTRICTED, restricted_until=until, detail=detail)
        return
    if update.event == "DISABLED_UPDATE" and update.ban_state in ("DISABLE", "REINSTATE"):
        for channel in channels:
            if update.ban_state == "DISABLE":
                _status_set(changes, channel, NumberStatus.OFFLINE, detail=detail)
            elif channel.number_status == NumberStatus.OFFLINE:
                _status_set(changes, channel, NumberStatus.CONNECTED, detail=detail)
        if update.ban_state == "DISABLE":
            return
    sentences = {
        "ACCOUNT_VIOLATION": f"{label}: WhatsApp reports a policy violation"
        + (f" ({update.violation_type})" if update.violation_type else "")
        + ". Repeated violations lead to restrictions.",
        "DISABLED_UPDATE": f"{label}: WhatsApp account ban state {update.ban_state or 'changed'}"
        + (f" (date: {update.ban_date})" if update.ban_date else "")
        + ".",
        "ACCOUNT_RESTRICTION": f"{label}: WhatsApp restricted the account ({update.summary}).",
    }
    _account_event(
        changes,
        channels,
        current=update.event or "ACCOUNT_UPDATE",
        sentence=sentences.get(update.event, f"{label}: WhatsApp account update {update.summary}."),
        detail=detail,
    )


def _account_alert_apply(changes: _Changes, channels: list[Channel], alert: health.AccountAlert) -> None:
    concerned = channels
    if alert.entity_id:
        named = [c for c in channels if alert.entity_id in (c.phone_number_id, health.digits(c.display_phone_number))]
        concerned = named or channels
    words = " — ".join(part for part in (alert.alert_type, alert.description) if part) or "an alert"
    severity = f" ({alert.severity.lower()})" if alert.severity else ""
    _account_event(
        changes,
        concerned,
        current=(alert.alert_type or "ACCOUNT_ALERT")[:64],
        sentence=f"{_accounts_label(concerned)}: WhatsApp alert{severity}: {words}"[:300],
        detail=f"account_alerts {alert.entity_type} {alert.entity_id} {alert.status}: {words}".strip(),
    )


# --- The sync --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SyncOutcome:
    ok: bool
    changes: int = 0
    error: str = ""
    retryable: bool = False


def number_health_sync(*, channel_id: int, actor: User | None = None, now: datetime | None = None) -> SyncOutcome:
    """Read the number's object from WhatsApp (`GET /{phone_number_id}`) and apply what changed: quality,
    status, the account's messaging limit, throughput. WhatsApp's answer is the truth, except that a
    restriction whose announced end is still ahead is kept (the account's restriction does not always show
    in the number's own status)."""
    channel = Channel.objects.filter(pk=channel_id).first()
    if channel is None:
        return SyncOutcome(ok=False, error="No such channel.")
    result = client.phone_number_get(channel, fields=health.PHONE_NUMBER_FIELDS)
    if not result.ok:
        return SyncOutcome(ok=False, error=provider_error_words(result.error), retryable=result.retryable)
    reading = health.phone_number_health(result.document or {})
    now = now or timezone.now()
    with transaction.atomic():
        channels = _account_channels(channel.waba_id)
        channel = next((c for c in channels if c.pk == channel_id), None)
        if channel is None:
            return SyncOutcome(ok=False, error="No such channel.")
        changes = _Changes(source=Source.SYNC, at=now, actor=actor)
        _quality_set(changes, channel, reading.quality)
        if reading.status is not None:
            restriction_ahead = (
                channel.number_status == NumberStatus.RESTRICTED
                and channel.restricted_until is not None
                and channel.restricted_until > now
            )
            if reading.status == NumberStatus.RESTRICTED:
                _status_set(changes, channel, NumberStatus.RESTRICTED, restricted_until=channel.restricted_until)
            elif not restriction_ahead:
                _status_set(changes, channel, reading.status)
        if reading.limit is not None:
            _limit_set(changes, channels, reading.limit)
        _throughput_from_provider(changes, channel, reading.throughput)
        if reading.display_phone_number and not channel.display_phone_number:
            channel.display_phone_number = reading.display_phone_number
        channel.health_synced_at = now
        changes.touch(channel)
        _save(changes)
        _announce(changes)
    return SyncOutcome(ok=True, changes=changes.recorded)


def number_health_sync_all() -> list[int]:
    """The ids of the WhatsApp numbers the hourly job syncs (each in its own task)."""
    return list(Channel.objects.filter(is_active=True).order_by("pk").values_list("pk", flat=True))


def restrictions_lift_expired(*, now: datetime | None = None) -> int:
    """End the restrictions whose expiration passed (the beat job): the number is connected again (or still
    flagged, if its 7 days are not over). Returns how many numbers were lifted."""
    now = now or timezone.now()
    wabas = sorted(
        set(
            Channel.objects.filter(number_status=NumberStatus.RESTRICTED, restricted_until__lte=now).values_list(
                "waba_id", flat=True
            )
        )
    )
    lifted = 0
    for waba_id in wabas:
        with transaction.atomic():
            changes = _Changes(source=Source.EXPIRY, at=now)
            for channel in _account_channels(waba_id):
                if channel.number_status != NumberStatus.RESTRICTED or channel.restricted_until is None:
                    continue
                if channel.restricted_until > now:
                    continue
                still_flagged = channel.flagged_at is not None and channel.flagged_at + FLAG_RECOVERY > now
                _status_set(
                    changes,
                    channel,
                    NumberStatus.FLAGGED if still_flagged else NumberStatus.CONNECTED,
                    detail=f"The restriction ended at {_when(channel.restricted_until)}.",
                )
                lifted += 1
            _save(changes)
            _announce(changes)
    return lifted


# --- What an admin does --------------------------------------------------------------------------------


class HealthRefused(Exception):
    """A refused change, with a stable code and a sentence (and the field at fault, for forms)."""

    def __init__(self, code: str, detail: str, *, field: str = "", problems: dict[str, str] | None = None):
        super().__init__(detail)
        self.code, self.detail, self.field = code, detail, field
        self.problems = problems or ({field: detail} if field else {})


def throughput_set(*, channel: Channel, actor: User, per_second: int) -> Channel:
    """An admin sets the number's throughput (1 to 1,000 messages a second; audited). A value under
    WhatsApp's level stays through syncs; the pacing reads it at the next send."""
    if not access.can_manage_number_health(actor):
        raise HealthRefused("permission_denied", "Only admins change a number's throughput.")
    if (
        isinstance(per_second, bool)
        or not isinstance(per_second, int)
        or not (THROUGHPUT_MIN <= per_second <= THROUGHPUT_MAX)
    ):
        raise HealthRefused(
            "invalid_throughput",
            "Throughput is a whole number of messages a second, from 1 to 1,000.",
            field="throughput_per_second",
        )
    with transaction.atomic():
        locked = next(c for c in _account_channels(channel.waba_id) if c.pk == channel.pk)
        changes = _Changes(source=Source.ADMIN, at=timezone.now(), actor=actor)
        previous = locked.throughput_per_second
        _throughput_set(changes, locked, per_second, detail=f"Set by {actor.name or actor.email}.")
        if changes.recorded:
            audit_record(
                actor=actor,
                action="channel.throughput_set",
                target=locked,
                details={"from": previous, "to": per_second},
            )
        _save(changes)
        _announce(changes)
    return locked


# --- Reading for the pages and the API -----------------------------------------------------------------


@dataclass(frozen=True)
class LimitUsage:
    """How much of the account's messaging limit the last 24 hours used."""

    reached: int
    limit: int | None

    @property
    def percent(self) -> int:
        if not self.limit:
            return 0
        return min(100, round(100 * self.reached / self.limit))


def limit_usage(*, channel: Channel, now: datetime | None = None) -> LimitUsage:
    now = now or timezone.now()
    reached = BusinessInitiatedReach.objects.filter(waba_id=channel.waba_id, reached_at__gt=now - LIMIT_WINDOW).count()
    return LimitUsage(reached=reached, limit=channel.messaging_limit)


def flag_recovery_ends_at(channel: Channel) -> datetime | None:
    return channel.flagged_at + FLAG_RECOVERY if channel.flagged_at else None


@dataclass(frozen=True)
class TimelinePage:
    events: list[NumberHealthEvent]
    next_key: tuple[datetime, int] | None


def timeline_page(
    *, channel: Channel, before: tuple[datetime, int] | None = None, limit: int = TIMELINE_PAGE
) -> TimelinePage:
    """The number's timeline, newest first, in keyset pages on (occurred_at, id)."""
    rows = NumberHealthEvent.objects.filter(channel=channel).order_by("-occurred_at", "-id")
    if before is not None:
        at, pk = before
        rows = rows.filter(Q(occurred_at__lt=at) | Q(occurred_at=at, id__lt=pk))
    page = list(rows[: limit + 1])
    next_key = (page[limit - 1].occurred_at, page[limit - 1].pk) if len(page) > limit else None
    return TimelinePage(events=page[:limit], next_key=next_key)


# --- The business profile ------------------------------------------------------------------------------


def provider_error_words(error: ProviderError | None) -> str:
    """A Graph error as a sentence for an admin: what it means, and WhatsApp's own details."""
    if error is None:
        return "WhatsApp did not answer as expected."
    if error.code is None:
        return error.title or "WhatsApp did not answer as expected."
    info = errors.describe(error.code)
    said = error.details or error.title
    return f"{info.reason} WhatsApp said: “{said}”" if said else f"{info.reason} {info.hint}"


@dataclass(frozen=True)
class ProfileOutcome:
    profile: health.BusinessProfile | None = None
    error: str = ""


def business_profile_read(*, channel: Channel, actor: User) -> ProfileOutcome:
    """The business profile as WhatsApp has it now (nothing is stored here: WhatsApp keeps it)."""
    if not access.can_manage_business_profile(actor):
        raise HealthRefused("permission_denied", "Only admins see and change the business profile.")
    result = client.business_profile_get(channel, fields=health.PROFILE_FIELDS)
    if not result.ok:
        return ProfileOutcome(error=provider_error_words(result.error))
    return ProfileOutcome(profile=health.business_profile(result.document or {}))


def business_profile_change(
    *,
    channel: Channel,
    actor: User,
    profile: health.BusinessProfile,
    photo: bytes | None = None,
    only: frozenset[str] = health.PROFILE_EDITABLE,
) -> None:
    """Check the profile against WhatsApp's limits, upload the photo (if any) through Meta's Resumable
    Upload API, then send the profile (the fields in `only`; WhatsApp keeps the others). Refusals name the
    field (`invalid_profile`, `no_app_id`); WhatsApp's errors are said in plain words (`provider_error`).
    Audited once WhatsApp accepted it."""
    if not access.can_manage_business_profile(actor):
        raise HealthRefused("permission_denied", "Only admins see and change the business profile.")
    problems = dict(health.profile_problems(profile, only=only).by_field)
    if photo is not None and health.photo_problem(photo):
        problems["photo"] = health.photo_problem(photo)
    if problems:
        first = next(iter(problems))
        raise HealthRefused("invalid_profile", problems[first], field=first, problems=problems)
    if photo is not None and not channel.app_id:
        raise HealthRefused(
            "no_app_id",
            "WhatsApp receives profile photos through the channel's Meta app, and this channel has no app id: "
            "enter it (Meta's App Dashboard shows it) and upload again.",
            field="photo",
        )
    handle = ""
    if photo is not None:
        mime_type = health.photo_type(photo) or "image/jpeg"
        extension = "png" if mime_type == "image/png" else "jpg"
        upload = client.profile_photo_upload(
            channel, app_id=channel.app_id, content=photo, mime_type=mime_type, file_name=f"profile.{extension}"
        )
        if not upload.ok:
            raise HealthRefused(
                "provider_error",
                f"WhatsApp did not take the photo. {provider_error_words(upload.error)}",
                field="photo",
            )
        handle = str(upload.document["h"])
    body = health.profile_update_body(profile, only=only, picture_handle=handle)
    result = client.business_profile_update(channel, body)
    if not result.ok:
        raise HealthRefused("provider_error", f"WhatsApp refused the change. {provider_error_words(result.error)}")
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="channel.business_profile_update",
            target=channel,
            details={
                **{k: v for k, v in body.items() if k not in ("messaging_product", "profile_picture_handle")},
                "photo": bool(handle),
            },
        )


def app_id_set(*, channel: Channel, actor: User, app_id: str) -> Channel:
    """An admin records the channel's Meta app id (needed for profile photo uploads); audited."""
    if not access.can_manage_business_profile(actor):
        raise HealthRefused("permission_denied", "Only admins change a channel's Meta app.")
    app_id = app_id.strip()
    if app_id and (not app_id.isdigit() or len(app_id) > 64):
        raise HealthRefused(
            "invalid_app_id", "A Meta app id is a number, as Meta's App Dashboard shows it.", field="app_id"
        )
    if app_id == channel.app_id:
        return channel
    with transaction.atomic():
        previous, channel.app_id = channel.app_id, app_id
        channel.save(update_fields=["app_id"])
        audit_record(actor=actor, action="channel.app_id_set", target=channel, details={"from": previous, "to": app_id})
    return channel
