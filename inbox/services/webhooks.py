"""The webhook's two halves: receive (store the raw delivery, answer fast) and process (in a worker)."""

import hmac
import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from config.task_queue import enqueue
from inbox.models import Channel, ManagementEvent, Message, StatusUpdate, WebhookEvent, WebhookEventState
from inbox.providers.whatsapp_cloud import parse as whatsapp_parse
from inbox.providers.whatsapp_cloud.signature import SignatureRejected, signature_digest, verify
from inbox.providers.whatsapp_cloud.types import Delivery, InboundMessage, MalformedPayload, StatusReport
from inbox.services import consent, ingest, number_health
from templates_app import services as templates

logger = logging.getLogger(__name__)

# A delivery that keeps failing is left for an admin after this many attempts.
MAX_PROCESSING_ATTEMPTS = 5
UNROUTABLE_REASON = "No connected channel has these phone number or WABA ids (or their app did not sign it)."
PARTLY_UNROUTABLE_REASON = "Parts of this delivery name ids no connected channel has (or their app did not sign):"


@dataclass(frozen=True)
class Receipt:
    """What the webhook view answers: an HTTP status and a short reason for people reading logs."""

    http_status: int
    detail: str
    event: WebhookEvent | None = None


def webhook_verify_subscription(*, mode: str | None, verify_token: str | None, challenge: str | None) -> bool:
    """Meta's GET handshake: subscribe mode, a challenge, and the verify token of any of our channels."""
    if mode != "subscribe" or not verify_token or not challenge:
        return False
    # Constant-time comparisons: the verify token is a shared secret.
    return any(
        hmac.compare_digest(channel.verify_token.encode(), verify_token.encode())
        for channel in Channel.objects.only("verify_token")
    )


def webhook_receive(*, raw_body: bytes, signature_header: str | None) -> Receipt:
    """Check the signature over the raw bytes, store the delivery, and queue its processing.

    The signature must match the app secret of a channel the delivery names. A delivery naming no known
    number or WABA is accepted when an app secret we hold signed it (the Meta app serves a number nobody
    connected yet): it is kept as unroutable for admins, never routed to some default inbox."""
    try:
        signature_digest(signature_header)
        try:
            document = whatsapp_parse.load(raw_body)
        except MalformedPayload as exc:
            verify(signature_header, raw_body, _all_app_secrets())
            event = WebhookEvent.objects.create(
                raw_body=raw_body, signature=signature_header, state=WebhookEventState.MALFORMED, error=str(exc)
            )
            return Receipt(400, str(exc), event)
        phone_number_ids, waba_ids = whatsapp_parse.routing_ids(document)
        named = list(
            Channel.objects.filter(Q(phone_number_id__in=phone_number_ids) | Q(waba_id__in=waba_ids)).only(
                "phone_number_id", "waba_id", "app_secret"
            )
        )
        verify(signature_header, raw_body, [c.app_secret for c in named] if named else _all_app_secrets())
    except SignatureRejected as exc:
        return Receipt(401, str(exc))
    event = WebhookEvent(
        raw_body=raw_body,
        signature=signature_header,
        routing_ids=sorted(phone_number_ids | waba_ids),
        state=WebhookEventState.PENDING if named else WebhookEventState.UNROUTABLE,
        error="" if named else UNROUTABLE_REASON,
    )
    with transaction.atomic():
        event.save()
        if event.state == WebhookEventState.PENDING:
            enqueue(_process_task(), event.pk)
    return Receipt(200, "stored", event)


def _all_app_secrets() -> list[str]:
    return sorted({channel.app_secret for channel in Channel.objects.only("app_secret")})


def _process_task():
    from inbox.tasks import process_webhook_event

    return process_webhook_event


def webhook_event_process(*, event_id: int) -> WebhookEvent:
    """Turn a stored delivery into contacts, conversations, messages, statuses and management events.

    All of it commits together or not at all; a failure is recorded on the event and retried by the
    sweeper. Running it twice for the same event does nothing the second time."""
    try:
        with transaction.atomic():
            event = WebhookEvent.objects.select_for_update().get(pk=event_id)
            if event.state not in (WebhookEventState.PENDING, WebhookEventState.FAILED):
                return event
            event.attempts += 1
            try:
                delivery = whatsapp_parse.parse(bytes(event.raw_body))
            except MalformedPayload as exc:
                event.state, event.error = WebhookEventState.MALFORMED, str(exc)
                event.processed_at = timezone.now()
                event.save(update_fields=["state", "error", "attempts", "processed_at"])
                return event
            routed, not_routed = _apply_delivery(delivery=delivery, event=event)
            if not_routed and not routed:
                event.state, event.error = WebhookEventState.UNROUTABLE, UNROUTABLE_REASON
            elif not_routed:
                event.state = WebhookEventState.PROCESSED
                event.error = f"{PARTLY_UNROUTABLE_REASON} {', '.join(sorted(not_routed))}"
            else:
                event.state, event.error = WebhookEventState.PROCESSED, ""
            event.processed_at = timezone.now()
            event.save(update_fields=["state", "error", "attempts", "processed_at"])
            return event
    except Exception as exc:
        logger.exception("Webhook event %s failed to process", event_id)
        WebhookEvent.objects.filter(pk=event_id).update(
            state=WebhookEventState.FAILED, attempts=F("attempts") + 1, error=f"{type(exc).__name__}: {exc}"
        )
        raise


def _apply_delivery(*, delivery: Delivery, event: WebhookEvent) -> tuple[int, set[str]]:
    """Apply every message, status and management change. Returns how many were routed to a channel and
    the ids (phone number or WABA) that were not.

    A part goes only to a channel whose own app secret signed the delivery. The view accepted it because
    some secret we hold signed it, but one Meta app must not be able to write into a number served by
    another app (a delivery may name several numbers)."""
    signed_by = _SignatureCheck(signature=event.signature, raw_body=bytes(event.raw_body))
    channels = {
        channel.phone_number_id: channel
        for channel in Channel.objects.filter(phone_number_id__in=delivery.phone_number_ids)
        if signed_by(channel.app_secret)
    }
    known_wabas = {
        channel.waba_id
        for channel in Channel.objects.filter(waba_id__in=delivery.waba_ids)
        if signed_by(channel.app_secret)
    }
    not_routed: set[str] = set()
    routed = 0
    # Workers lock rows (new contacts, conversations, messages) in the order they meet them. Two batches
    # naming the same people in different orders would deadlock on PostgreSQL; one order for everyone
    # (by person, then by message) avoids it. Results do not depend on order: every write is idempotent
    # and compares Meta's timestamps.
    for inbound in sorted(delivery.messages, key=_message_lock_order):
        channel = channels.get(inbound.phone_number_id)
        if channel is None:
            not_routed.add(inbound.phone_number_id)
            continue
        ingest.message_receive(channel=channel, inbound=inbound)
        routed += 1
    for report in sorted(delivery.statuses, key=_status_lock_order):
        channel = channels.get(report.phone_number_id)
        if channel is None:
            not_routed.add(report.phone_number_id)
            continue
        ingest.status_receive(channel=channel, report=report)
        routed += 1
    for change in delivery.management:
        if change.waba_id not in known_wabas:
            not_routed.add(f"WABA {change.waba_id}")
            continue
        row, created = ingest.management_event_record(change=change, webhook_event=event)
        if created:
            _management_event_apply(row)
        routed += 1
    return routed, not_routed


def _management_event_apply(row: ManagementEvent) -> None:
    """Hand a new account-level change to the module it concerns: templates, number health, consent."""
    if row.field in templates.TEMPLATE_FIELDS:
        templates.template_management_apply(event=row)
    elif row.field in number_health.HEALTH_FIELDS:
        number_health.management_event_apply(event=row)
    elif row.field == "user_preferences":
        consent.user_preferences_apply(event=row)


def _message_lock_order(inbound: InboundMessage) -> tuple:
    profile = inbound.profile
    return (
        inbound.phone_number_id,
        inbound.sender_wa_id or (profile.wa_id if profile else None) or "",
        inbound.sender_user_id or (profile.user_id if profile else None) or "",
        inbound.timestamp,
        inbound.provider_message_id,
    )


def _status_lock_order(report: StatusReport) -> tuple:
    return (report.phone_number_id, report.provider_message_id, report.timestamp, report.status)


class _SignatureCheck:
    """Does this app secret sign the delivery? Each secret is hashed over the (up to 3 MB) body once."""

    def __init__(self, *, signature: str, raw_body: bytes) -> None:
        self._signature = signature
        self._raw_body = raw_body
        self._answers: dict[str, bool] = {}

    def __call__(self, app_secret: str) -> bool:
        if app_secret not in self._answers:
            try:
                verify(self._signature, self._raw_body, [app_secret])
            except SignatureRejected:
                self._answers[app_secret] = False
            else:
                self._answers[app_secret] = True
        return self._answers[app_secret]


def webhook_events_requeue_stale() -> int:
    """Hand deliveries that were never processed (a lost task, a crashed worker) to a worker again, and
    apply statuses whose message became known after they arrived. Returns how many events were requeued."""
    cutoff = timezone.now() - settings.WEBHOOK_REQUEUE_AFTER
    stale = list(
        WebhookEvent.objects.filter(
            Q(state=WebhookEventState.PENDING)
            | Q(state=WebhookEventState.FAILED, attempts__lt=MAX_PROCESSING_ATTEMPTS),
            received_at__lt=cutoff,
        )
        .order_by("received_at")
        .values_list("pk", flat=True)[:1000]
    )
    for event_id in stale:
        enqueue(_process_task(), event_id)
    _apply_waiting_statuses()
    return len(stale)


def _apply_waiting_statuses() -> None:
    """A status and the provider id of its message can be committed by two workers at the same moment, each
    not seeing the other's row; this catches those. Only statuses whose message now exists are read, so the
    statuses of messages sent by other tools (never known here) are not scanned over and over."""
    message_known = Message.objects.filter(
        channel_id=OuterRef("channel_id"), provider_message_id=OuterRef("provider_message_id")
    )
    waiting = (
        StatusUpdate.objects.filter(Exists(message_known), applied=False)
        .values_list("channel_id", "provider_message_id")
        .distinct()[:1000]
    )
    for channel_id, provider_message_id in waiting:
        message = Message.objects.filter(channel_id=channel_id, provider_message_id=provider_message_id).first()
        if message is not None:
            ingest.status_updates_apply_waiting(message=message)
