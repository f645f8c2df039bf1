"""Outbound writes: an agent's message to a customer, from the composer to WhatsApp, through an outbox.

`message_send` asks the policy, then stores the message (`queued`) and its outbox entry in one
transaction; after commit a worker task runs `message_deliver`, which asks the policy again, uploads media,
calls the provider and records the outcome. Status webhooks then move the message to sent, delivered, read
or failed (ingest.py). Live events are published only from here and only after commit.

No double send — how a message goes out once even when its task runs twice or a worker dies:

1. Claim. In its own transaction the worker locks the outbox entry (SELECT … FOR UPDATE) and goes on
   only if it is `pending`; it sets `sending`, counts the attempt and commits *before* any network call.
   A duplicate task (Celery redelivers with acks_late; the sweeper may re-enqueue a slow task) finds
   `sending` or `sent` and returns. No database lock is held during the network call.
2. Send. Every attempt carries `biz_opaque_callback_data = "sb:<entry id>:<attempt>"`; WhatsApp echoes it
   in the status webhooks of the message it accepted.
3. Settle. In a second transaction the worker records the outcome, if the entry still belongs to its
   attempt: success → entry `sent`, provider id stored (statuses that arrived first are applied; the
   message stays `queued` until the `sent` webhook: clock, then one grey tick); retryable error → back
   to `pending` with a backoff (`policy.retry_delay`) and a delayed task, up to SEND_ATTEMPTS; anything
   else → entry and message `failed` with WhatsApp's code, title and details.
4. Crash between claim and settle. The entry stays `sending`: we cannot know whether WhatsApp got the
   request. The sweeper waits SENDING_TIMEOUT (far longer than any live attempt's HTTP timeouts; a long
   media upload heartbeats, and an attempt overtaken by the sweeper does not send), then looks for a
   status webhook carrying that attempt's callback data: if WhatsApp accepted the message, its `sent`
   webhook has arrived by then and names the wamid, so the entry is settled as sent with no second send.
   Only when no such status exists is the entry put back to `pending` and tried again.
5. Ambiguous answers. A read timeout or a 5xx may hide a message WhatsApp accepted. Such errors are
   retried after a backoff, and every retry's claim first looks for a status webhook of an earlier
   attempt: if one came, the entry is settled from it instead of sending again.
The remaining risk of a duplicate: WhatsApp accepted an attempt whose answer we lost, and its status
webhook arrives only after the retry was sent (seconds of backoff, or SENDING_TIMEOUT after a crash).
Meta offers no idempotency key to close it. A retry's task may also arrive before its time (a duplicate
delivery of an earlier task): it then sends early, which costs the backoff but never sends twice, because
the claim decides.

The guard — every rule of `policy.may_send` (identity, window, template, opt-out, consent, restriction,
messaging limit), asked with `_facts` before queueing (a refusal is SendRefused: the composer's sentence, the
API's 422) and again in the claim, with the facts as they are then:
- a refusal fails the message with the reason code in `failure_reason` and the sentence in `error_title`,
  without a provider call (the bubble and the API say why);
- the messaging limit is temporary: the entry stays `pending` with `waiting_reason` and `next_attempt_at` =
  when room returns, and a delayed task; the bubble says it waits and until when;
- a business-initiated message that may go is counted against the account's limit in the claim's
  transaction, under the account's lock (`reach.account_lock`), so two workers cannot take the last place.
Right before the provider call the worker takes its turn from the shared limiter (`inbox.limiter`: the
number's throughput and the customer's pair rate): a short wait is slept, a longer one gives the claim back
and the entry waits (`waiting_reason` "paced"). A waiting entry's task that arrives early does nothing (the
paced) or looks again without queueing another (the limit: a raised limit lets it go).
"""

import hashlib
import logging
import mimetypes
import random
import re
import time
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import F, Max, Q
from django.db.models.functions import Greatest
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User
from config.task_queue import enqueue
from inbox import access, events, limiter, policy
from inbox.models import (
    Channel,
    Conversation,
    Direction,
    Initiator,
    MediaFile,
    Message,
    MessageStatus,
    OutboxEntry,
    OutboxState,
    StatusUpdate,
)
from inbox.providers.whatsapp_cloud import client, errors, limits, payloads
from inbox.providers.whatsapp_cloud.limits import ValidationRefused
from inbox.providers.whatsapp_cloud.types import ProviderError
from inbox.services import automations, consent, ingest, reach
from templates_app import access as template_access
from templates_app import sending
from templates_app.models import MessageTemplate

logger = logging.getLogger(__name__)

# Attempts at sending one message before it fails for good (retryable errors only).
SEND_ATTEMPTS = 6
# A pending entry whose attempt was due this long ago has lost its task (broker restart, thread runner
# restarted with a timer pending): the sweeper queues it again.
PENDING_GRACE = timedelta(minutes=2)
# A send claimed this long ago without an outcome belongs to a worker that died (see the module docstring).
SENDING_TIMEOUT = timedelta(minutes=10)
# WhatsApp keeps uploaded media for 30 days; upload again a day early.
MEDIA_ID_LIFETIME = timedelta(days=29)
READ_RECEIPT_ATTEMPTS = 3
# Inbound messages that cannot be marked read: WhatsApp's notices and changes to earlier messages.
_NOT_READABLE = ("system", "edit", "revoke")

_rng = random.Random()  # noqa: S311 - jitter, not security


class SendRefused(Exception):
    """The message may not go out. `code` is stable (`permission_denied`, `invalid_message`,
    `text_too_long`, `media_too_large`, `media_type_not_allowed`, `not_retryable`, `template_not_found`,
    `template_parameters_invalid`, `template_not_supported`, or a `policy.Reason`: `window_closed`,
    `template_not_sendable`, `identity_unconfirmed`, `opted_out`, `no_consent`, `number_restricted`,
    `messaging_limit_reached`); `detail` is the sentence shown to the person; `requires_template` tells
    the composer to switch to the template picker."""

    def __init__(self, code: str, detail: str, *, requires_template: bool = False):
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.requires_template = requires_template


# --- Sending ----------------------------------------------------------------------------------------------


def message_send(
    *,
    conversation: Conversation,
    author: User,
    kind: str,
    payload: dict,
    reply_to: Message | None = None,
    now: datetime | None = None,
) -> Message:
    """Queue a message from `author` to the conversation's customer. Raises SendRefused when the person
    may not reply here, the message breaks WhatsApp's limits, or WhatsApp's rules forbid it now.

    `kind` and `payload` (payload shaped like WhatsApp's object for the type, see
    `payloads.content_from_payload`): text, location, contacts, reaction (`{"emoji"}` with `reply_to` the
    message reacted to, or `{"message_id", "emoji"}`), interactive (button, list, product, product_list),
    and media: `"media"` (or the file's own kind: image, audio, video, document, sticker) with
    `{"media_file_id": <MediaFile id from media_store>, "caption"?, "filename"?}`.
    `reply_to` quotes an earlier message of the conversation.

    A template (allowed outside the 24-hour window): `"template"` with `{"template_id", "values":
    {"body.1": "Ana", …} (keys as `templates_app.sending.template_variables` names them),
    "header_media_file_id"? (a stored file for a media header), "header_media_link"? (or an https:// link)}`.
    It is built from the revision WhatsApp approved; the message stores WhatsApp's template object plus
    `rendered` (what the thread shows) and `revision_id`, and the worker sends only WhatsApp's keys."""
    if not access.can_reply(author, conversation):
        raise SendRefused("permission_denied", "You may not reply in this conversation.")
    return _message_queue(
        conversation=conversation,
        author=author,
        initiator=Initiator.AGENT,
        kind=kind,
        payload=payload,
        reply_to=reply_to,
        now=now or timezone.now(),
    )


def message_send_automated(
    *, conversation: Conversation, kind: str, payload: dict, now: datetime | None = None
) -> Message:
    """Queue an automation's message (an auto-reply, a bot's answer, an opt-out confirmation, the escalation
    fallback): no author, `initiator` automation, the same checks, rules, outbox and worker as a person's
    message (`message_send` documents `kind` and `payload`). Like a person's reply, an answer inside the
    24-hour window needs no consent; a template outside it needs the customer's consent for its category
    and room under the messaging limit. Raises SendRefused like it."""
    return _message_queue(
        conversation=conversation,
        author=None,
        initiator=Initiator.AUTOMATION,
        kind=kind,
        payload=payload,
        reply_to=None,
        now=now or timezone.now(),
    )


def _message_queue(
    *,
    conversation: Conversation,
    author: User | None,
    initiator: str,
    kind: str,
    payload: dict,
    reply_to: Message | None,
    now: datetime,
) -> Message:
    """Check, store and queue one outbound message (the caller checked who may send it)."""
    if reply_to is not None and (reply_to.conversation_id != conversation.pk or not reply_to.provider_message_id):
        raise SendRefused("invalid_message", "Only a message of this conversation that reached WhatsApp can be quoted.")
    template = None
    if kind == policy.TEMPLATE:
        template = _template_for(conversation=conversation, author=author, payload=payload)
        # Whether the template may go out decides before its values do: a paused template is not fixed
        # by filling it in, nor a customer who opted out.
        _policy_check(
            _facts(conversation=conversation, message_type=kind, initiator=initiator, template=template, now=now),
            conversation=conversation,
            now=now,
        )
        message_type = kind
        content, media_file = _template_content(conversation=conversation, template=template, payload=payload)
    else:
        message_type, content, media_file = _checked_content(
            conversation=conversation, kind=kind, payload=payload, reply_to=reply_to
        )
        _policy_check(
            _facts(conversation=conversation, message_type=message_type, initiator=initiator, now=now),
            conversation=conversation,
            now=now,
        )
    if message_type == "reaction":
        # A reaction names its message in `reaction.message_id`, never in `context` (as ingest does for
        # the customer's reactions, the column keeps the target so the thread can attach it).
        reply_to_provider_id = content["message_id"]
    else:
        reply_to_provider_id = reply_to.provider_message_id if reply_to is not None else ""
    with transaction.atomic():
        message = Message.objects.create(
            conversation=conversation,
            channel_id=conversation.channel_id,
            direction=Direction.OUTBOUND,
            type=message_type,
            text=payloads.readable_text(message_type, content),
            content=content,
            reply_to_provider_id=reply_to_provider_id,
            status=MessageStatus.QUEUED,
            status_at=now,
            timestamp=now,
            author=author,
            template=template,
            initiator=initiator,
        )
        if media_file is not None and not MediaFile.objects.filter(pk=media_file.pk, message__isnull=True).update(
            message=message
        ):
            raise SendRefused("invalid_message", "This file was already sent; upload it again to send it again.")
        OutboxEntry.objects.create(message=message, next_attempt_at=now, created_at=now, updated_at=now)
        _conversation_record_outbound(conversation=conversation, message=message)
        enqueue(_deliver_task(), message.pk)
        events.publish_message(message, "message.created")
        events.publish_conversation(conversation.pk)
    if author is not None:
        # A person answered: the bot stops answering and the escalation clock stops.
        automations.person_replied(conversation=conversation, at=now)
    return message


def _checked_content(
    *, conversation: Conversation, kind: str, payload: dict, reply_to: Message | None
) -> tuple[str, dict, MediaFile | None]:
    """(message type, content to store and send, the file for media) or SendRefused."""
    if not isinstance(payload, dict):
        raise SendRefused("invalid_message", "The message is not in the expected shape.")
    try:
        if kind == "media" or kind in limits.MEDIA_KINDS:
            media_file = _media_file_for(conversation=conversation, kind=kind, payload=payload)
            checked = payloads.media(
                media_file.kind,
                media_id=str(media_file.pk),
                caption=payload.get("caption", ""),
                filename=payload.get("filename") or media_file.original_filename,
            )
            # Stored without WhatsApp's media id (the worker uploads the file and keeps the id on it).
            content = {key: value for key, value in checked.items() if key != "id"}
            content.update(
                media_file_id=media_file.pk,
                mime_type=media_file.mime_type,
                sha256=media_file.sha256,
                file_size=media_file.size,
            )
            return media_file.kind, content, media_file
        if kind == "reaction" and reply_to is not None and not payload.get("message_id"):
            payload = {**payload, "message_id": reply_to.provider_message_id}
        content = payloads.content_from_payload(kind, payload)
    except ValidationRefused as refusal:
        raise SendRefused(refusal.code, refusal.detail)
    if (
        kind == "reaction"
        and not Message.objects.filter(conversation=conversation, provider_message_id=content["message_id"]).exists()
    ):
        raise SendRefused("invalid_message", "A reaction must be to a message of this conversation.")
    return kind, content, None


def _media_file_for(*, conversation: Conversation, kind: str, payload: dict) -> MediaFile:
    media_file = MediaFile.objects.filter(
        pk=_int_or_none(payload.get("media_file_id")), conversation=conversation
    ).first()
    if media_file is None:
        raise SendRefused("invalid_message", "Upload the file to this conversation first.")
    if media_file.message_id is not None:
        raise SendRefused("invalid_message", "This file was already sent; upload it again to send it again.")
    if kind != "media" and kind != media_file.kind:
        raise SendRefused(
            "media_type_not_allowed", f"This file can only be sent as {media_file.get_kind_display().lower()}."
        )
    return media_file


# What a template message's payload may carry (see `message_send`).
_TEMPLATE_PAYLOAD_KEYS = frozenset({"template_id", "values", "header_media_file_id", "header_media_link"})


def _template_for(*, conversation: Conversation, author: User | None, payload: dict) -> MessageTemplate:
    """The template a template message names, if the author (None: an automation) may send it here."""
    if not isinstance(payload, dict):
        raise SendRefused("invalid_message", "The message is not in the expected shape.")
    unknown = sorted(str(key) for key in set(payload) - _TEMPLATE_PAYLOAD_KEYS)
    if unknown:
        raise SendRefused("invalid_message", f"A template message does not take `{unknown[0]}`.")
    template_id = _int_or_none(payload.get("template_id"))
    template = MessageTemplate.objects.select_related("live_revision").filter(pk=template_id).first()
    if template is None:
        raise SendRefused("template_not_found", "No such template.")
    if author is None and template.waba_id != conversation.channel.waba_id:
        raise SendRefused("permission_denied", "This template belongs to another WhatsApp account.")
    if author is not None and not template_access.can_send_template(author, conversation, template):
        raise SendRefused("permission_denied", "This template belongs to another WhatsApp account.")
    return template


def _template_content(
    *, conversation: Conversation, template: MessageTemplate, payload: dict
) -> tuple[dict, MediaFile | None]:
    """(content to store, the header's file) for a template WhatsApp approved, its values filled in."""
    revision = template.live_revision
    assert revision is not None  # the policy check refused templates without approved content
    file_id, link = payload.get("header_media_file_id"), payload.get("header_media_link")
    media_file = None
    header_media: dict | None = None
    if file_id is not None:
        media_file = _media_file_for(conversation=conversation, kind="media", payload={"media_file_id": file_id})
        header_media = {"kind": media_file.kind, "media_file_id": media_file.pk}
        if media_file.original_filename:
            header_media["filename"] = payloads.safe_filename(media_file.original_filename)
    if link is not None:
        header_media = {**(header_media or {}), "link": link}
    try:
        built = sending.build_template_message(
            template=template, revision=revision, values=payload.get("values", {}), header_media=header_media
        )
    except sending.TemplateParametersRefused as refused:
        raise SendRefused(refused.code, refused.detail)
    content = {**built.payload, "rendered": built.rendered, "revision_id": revision.pk}
    if media_file is not None:
        content["header_media_file_id"] = media_file.pk
    return content, media_file


def _int_or_none(value: object) -> int | None:
    try:
        return int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def _policy_check(facts: policy.OutboundFacts, *, conversation: Conversation, now: datetime) -> None:
    decision = policy.may_send(facts, now=now)
    if not decision.allowed:
        assert decision.reason is not None
        raise SendRefused(
            decision.reason.value,
            refusal_sentence(decision, channel=conversation.channel, now=now),
            requires_template=decision.requires_template,
        )


def refusal_sentence(decision: policy.Decision, *, channel: Channel, now: datetime) -> str:
    """The sentence for a refusal, where the room under the messaging limit says when it returns."""
    sentence = policy.explain_decision(decision)
    if decision.reason != policy.Reason.MESSAGING_LIMIT_REACHED:
        return sentence
    returns_at = reach.headroom_returns_at(waba_id=channel.waba_id, limit=channel.messaging_limit, now=now)
    if returns_at is None:
        return sentence
    return _("%(sentence)s Room for a new customer returns around %(time)s.") % {
        "sentence": sentence,
        "time": clock_time(returns_at, now=now),
    }


def clock_time(at: datetime, *, now: datetime) -> str:
    """`14:05`, or `14:05 on 23 Nov` when not today (in the active time zone)."""
    local, today = timezone.localtime(at), timezone.localtime(now).date()
    time_of_day = date_format(local, "H:i")
    if local.date() == today:
        return time_of_day
    return _("%(time)s on %(day)s") % {"time": time_of_day, "day": date_format(local, "j M")}


def _facts(
    *,
    conversation: Conversation,
    message_type: str,
    initiator: str,
    now: datetime,
    template: MessageTemplate | None = None,
    revision_id: int | None = None,
    with_reach: bool = True,
) -> policy.OutboundFacts:
    """Everything `policy.may_send` needs about one message, in a few queries.

    The window runs from the contact's last message on this number, whichever of their conversations
    on the channel (an older, resolved one included) it landed in. A template message's facts are its
    template's (its category as WhatsApp has it now: a re-categorised template needs the new category's
    consent), and whether `revision_id` (the content it was built from) is still the one WhatsApp sends; a
    message whose template was deleted has none. Consent is read only for templates and campaigns (the only
    messages it decides), the account's reach only for business-initiated messages with a limit
    (`with_reach=False` leaves it to the caller: the worker reads it under the account's lock)."""
    last_inbound = Conversation.objects.filter(
        channel_id=conversation.channel_id, contact_id=conversation.contact_id
    ).aggregate(at=Max("last_inbound_at"))["at"]
    contact, channel = conversation.contact, conversation.channel
    template_fields: dict = {}
    if message_type == policy.TEMPLATE:
        live_revision_id = template.live_revision_id if template is not None else None
        template_fields = {
            "template_status": template.status if template is not None else "",
            "template_has_live_revision": live_revision_id is not None,
            "template_revision_current": revision_id is None or revision_id == live_revision_id,
            "template_category": template.category if template is not None else "",
        }
    consent_fields: dict = {}
    if (message_type == policy.TEMPLATE or initiator == policy.CAMPAIGN) and contact.pk is not None:
        state = consent.consent_state(contact_id=contact.pk)
        consent_fields = {"opted_in": state.opted_in, "opted_out": state.opted_out}
    facts = policy.OutboundFacts(
        message_type=message_type,
        last_customer_message_at=last_inbound,
        initiator=initiator,
        identity_held=contact.identity_held_since is not None,
        number_status=channel.number_status,
        messaging_limit=channel.messaging_limit,
        **template_fields,
        **consent_fields,
    )
    return _with_reach(facts, channel=channel, contact_id=contact.pk, now=now) if with_reach else facts


def _with_reach(
    facts: policy.OutboundFacts, *, channel: Channel, contact_id: int | None, now: datetime
) -> policy.OutboundFacts:
    """The facts with the account's messaging-limit count, when the limit decides this message."""
    if facts.messaging_limit is None or not policy.is_business_initiated(facts, now=now):
        return facts
    count = reach.reach_in_24h(waba_id=channel.waba_id, contact_id=contact_id, now=now)
    return replace(facts, reached_in_24h=count.reached, contact_reached_in_24h=count.contact_reached)


def _message_facts(
    message: Message, *, template: MessageTemplate | None, now: datetime, with_reach: bool = True
) -> policy.OutboundFacts:
    """The facts for a message already written (the worker, a retry): a template message is checked
    against the content it was built from, with its template as the database has it now, and the
    message's own initiator."""
    conversation = message.conversation
    if conversation.channel_id == message.channel_id:
        conversation.channel = message.channel  # already loaded by the worker's claim
    return _facts(
        conversation=conversation,
        message_type=message.type,
        initiator=message.initiator,
        now=now,
        template=template,
        revision_id=message.content.get("revision_id") if message.type == policy.TEMPLATE else None,
        with_reach=with_reach,
    )


@dataclass(frozen=True)
class Refusal:
    """Why a message may not go out, shown before anyone writes it: the stable code and the sentence."""

    code: str
    detail: str


def conversation_refusal(*, conversation: Conversation, now: datetime | None = None) -> Refusal | None:
    """What stops every message to this conversation's customer now (their identity changed and nobody has
    acknowledged it), for the composer to say before the agent types. The closed window, which stops only
    free-form messages, is the composer's own state."""
    # Identity is the policy's first rule: the window does not matter to it, so the conversation's own
    # last inbound time does (no query; the page has the conversation and its contact already).
    facts = policy.OutboundFacts(
        message_type="text",
        last_customer_message_at=conversation.last_inbound_at,
        identity_held=conversation.contact.identity_held_since is not None,
    )
    decision = policy.may_send(facts, now=now or timezone.now())
    if decision.reason != policy.Reason.IDENTITY_UNCONFIRMED:
        return None
    return Refusal(decision.reason.value, policy.explain_decision(decision))


def template_refusals(
    *, conversation: Conversation, templates: list[MessageTemplate], now: datetime | None = None
) -> dict[int, Refusal]:
    """Why each of `templates` cannot go to this customer now, by template id (absent: it can): the
    customer opted out of its category or never agreed to it (outside the window), the number is
    restricted, the messaging limit is reached, the identity is held. The picker shows these instead of
    letting the agent fill the template in. A constant number of queries, whatever the number of templates."""
    now = now or timezone.now()
    if not templates:
        return {}
    # Everything but the template is the same for all of them (whether a template is business-initiated
    # depends on the window, not on the template).
    shared = _facts(conversation=conversation, message_type=policy.TEMPLATE, initiator=policy.AGENT, now=now)
    sentences: dict[tuple[str, str], str] = {}
    refusals = {}
    for template in templates:
        facts = replace(
            shared,
            template_status=template.status,
            template_has_live_revision=template.live_revision_id is not None,
            template_category=template.category,
        )
        decision = policy.may_send(facts, now=now)
        if decision.allowed:
            continue
        assert decision.reason is not None
        key = (decision.reason.value, decision.detail)
        if key not in sentences:
            sentences[key] = refusal_sentence(decision, channel=conversation.channel, now=now)
        refusals[template.pk] = Refusal(decision.reason.value, sentences[key])
    return refusals


def _conversation_record_outbound(*, conversation: Conversation, message: Message) -> None:
    """The list's columns, with the same concurrency-safe single UPDATEs as inbound. The window is not
    touched: the business's own messages never extend it."""
    at = message.timestamp
    Conversation.objects.filter(pk=conversation.pk).update(activity_at=Greatest(F("activity_at"), at))
    Conversation.objects.filter(
        Q(last_message_at__isnull=True) | Q(last_message_at__lte=at), pk=conversation.pk
    ).update(
        last_message_at=at,
        last_message_preview=ingest.message_preview(message),
        last_message_direction=Direction.OUTBOUND,
    )


def message_retry(*, message: Message, author: User, now: datetime | None = None) -> Message:
    """Send a failed outbound message again, with a fresh outbox entry: a new attempt, a new provider id.
    The same rules apply as for a new message (e.g. a closed window refuses it)."""
    now = now or timezone.now()
    conversation = message.conversation
    if not access.can_reply(author, conversation):
        raise SendRefused("permission_denied", "You may not reply in this conversation.")
    if message.direction != Direction.OUTBOUND or message.status != MessageStatus.FAILED:
        raise SendRefused("not_retryable", "Only a message that failed to send can be sent again.")
    template = MessageTemplate.objects.filter(pk=message.template_id).first() if message.template_id else None
    _policy_check(_message_facts(message, template=template, now=now), conversation=conversation, now=now)
    with transaction.atomic():
        locked = Message.objects.select_for_update().get(pk=message.pk)
        if locked.status != MessageStatus.FAILED:
            raise SendRefused("not_retryable", "This message is already being sent again.")
        OutboxEntry.objects.filter(message=locked).delete()
        locked.status = MessageStatus.QUEUED
        locked.status_at = now
        locked.provider_message_id = None
        locked.error_code = None
        locked.error_title = ""
        locked.error_details = ""
        locked.save(
            update_fields=["status", "status_at", "provider_message_id", "error_code", "error_title", "error_details"]
        )
        OutboxEntry.objects.create(message=locked, next_attempt_at=now, created_at=now, updated_at=now)
        enqueue(_deliver_task(), locked.pk)
        events.publish_message(locked, "message.updated")
    return locked


# --- The worker ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Attempt:
    entry_id: int
    number: int
    message: Message

    @property
    def callback_data(self) -> str:
        return callback_data(self.entry_id, self.number)


def callback_data(entry_id: int, attempt: int) -> str:
    """What one attempt sends as `biz_opaque_callback_data` (echoed in its status webhooks)."""
    return f"sb:{entry_id}:{attempt}"


def message_deliver(*, message_id: int) -> None:
    """Deliver one queued message (the outbound task). Safe to run any number of times: only the run that
    claims the pending entry sends. See the module docstring."""
    attempt = _attempt_claim(message_id=message_id)
    if attempt is None:
        return
    try:
        body = _send_body(attempt)
    except _Superseded:
        logger.warning("Attempt %s of outbox entry %s was superseded before sending", attempt.number, attempt.entry_id)
        return
    except _NotSent as not_sent:
        _attempt_settle(attempt, not_sent.result, failure_reason=not_sent.failure_reason)
        return
    except Exception:
        logger.exception("Could not prepare message %s for sending", message_id)
        _attempt_settle(
            attempt,
            client.SendResult(error=ProviderError(code=None, title="Switchboard could not prepare the message.")),
        )
        return
    if not _paced(attempt, body):
        return
    _attempt_settle(attempt, client.send(attempt.message.channel, body))


# A delayed task may reach a worker a little before its time (clocks of different machines): within this,
# a waiting entry counts as due.
DUE_TOLERANCE = timedelta(seconds=1)
# When the limit is 0 (or the count cannot say when room returns), look again after this long.
LIMIT_RECHECK = timedelta(hours=1)
# `OutboxEntry.waiting_reason` of a message held back by the pacing (the policy's reasons are the others).
PACED = "paced"


def _attempt_claim(*, message_id: int) -> _Attempt | None:
    """pending → sending, committed before the network call; a temporary refusal (the messaging limit)
    leaves the entry pending until room returns; any other refusal is recorded as the message's failure."""
    now = timezone.now()
    with transaction.atomic():
        entry = (
            OutboxEntry.objects.select_for_update(of=("self",))
            .select_related("message__channel", "message__conversation__contact", "message__template")
            .filter(message_id=message_id)
            .first()
        )
        if entry is None or entry.state != OutboxState.PENDING:
            return None
        message = entry.message
        if message.direction != Direction.OUTBOUND:
            # Private notes and activity lines are never sent to the customer, whatever queued them.
            entry.state = OutboxState.CANCELLED
            entry.failure_reason = "not_outbound"
            entry.updated_at = now
            entry.save(update_fields=["state", "failure_reason", "updated_at"])
            return None
        # A task for a waiting entry that comes before its time is a duplicate (the entry's own delayed task
        # or the sweeper comes when it is due). A paced entry just waits; one waiting for the messaging limit
        # is looked at again (a raised limit lets it go now), but not re-queued.
        early = bool(entry.waiting_reason) and entry.next_attempt_at > now + DUE_TOLERANCE
        if early and entry.waiting_reason == PACED:
            return None
        if entry.attempts and (accepted := _accepted_status(entry=entry, channel_id=message.channel_id)):
            # An earlier attempt's answer was lost, but WhatsApp reported the message: do not send again.
            _succeed(entry=entry, message=message, provider_message_id=accepted.provider_message_id, now=now)
            return None
        # Facts may have changed while the message waited (the window closed, WhatsApp paused the template
        # or approved a new version of it, the customer opted out, the number was restricted): ask again.
        facts = _message_facts(message, template=message.template, now=now, with_reach=False)
        business_initiated = policy.is_business_initiated(facts, now=now)
        if business_initiated:
            # Count and record under the account's lock: two workers cannot both take the last place.
            reach.account_lock(waba_id=message.channel.waba_id)
            facts = _with_reach(facts, channel=message.channel, contact_id=message.conversation.contact_id, now=now)
        decision = policy.may_send(facts, now=now)
        if not decision.allowed:
            assert decision.reason is not None
            if decision.waits:
                if not early:
                    _entry_wait(
                        entry=entry, message=message, reason=decision.reason.value, until=_room_at(message, now)
                    )
                return None
            _fail(
                entry=entry,
                message=message,
                failure_reason=decision.reason.value,
                error=ProviderError(code=None, title=refusal_sentence(decision, channel=message.channel, now=now)),
                now=now,
            )
            return None
        if business_initiated:
            # Counted when handed to WhatsApp. A send that then fails still counts: the count may be a little
            # high, never above what WhatsApp allows.
            reach.reach_record(
                waba_id=message.channel.waba_id,
                contact_id=message.conversation.contact_id,
                channel_id=message.channel_id,
                message_id=message.pk,
                now=now,
            )
        was_waiting = bool(entry.waiting_reason)
        entry.state = OutboxState.SENDING
        entry.attempts += 1
        entry.waiting_reason = ""
        entry.updated_at = now
        entry.save(update_fields=["state", "attempts", "waiting_reason", "updated_at"])
        if was_waiting:
            events.publish_message(message, "message.updated")
    return _Attempt(entry_id=entry.pk, number=entry.attempts, message=message)


# What the bubble of a waiting message says, after "Waiting:".
WAITING_SENTENCES = {
    policy.Reason.MESSAGING_LIMIT_REACHED.value: gettext_lazy(
        "this WhatsApp account has reached its limit of customers contacted first in 24 hours"
    ),
    PACED: gettext_lazy("sending at the pace WhatsApp allows for this number and this customer"),
}


@dataclass(frozen=True)
class Waiting:
    """A queued message held back on purpose: why (`reason`, a stable code), the sentence, and when it is
    due to go out."""

    reason: str
    sentence: str
    until: datetime


def dress_waiting(messages: list[Message]) -> None:
    """Set `message.waiting` (a Waiting, or None) on each message: one query, and none when no message of
    the list is an outbound message still queued."""
    for message in messages:
        message.waiting = None
    queued = {m.pk: m for m in messages if m.direction == Direction.OUTBOUND and m.status == MessageStatus.QUEUED}
    if not queued:
        return
    rows = (
        OutboxEntry.objects.filter(message_id__in=queued, state=OutboxState.PENDING)
        .exclude(waiting_reason="")
        .values_list("message_id", "waiting_reason", "next_attempt_at")
    )
    for message_id, reason, until in rows:
        sentence = WAITING_SENTENCES.get(reason, reason.replace("_", " "))
        queued[message_id].waiting = Waiting(reason, str(sentence), until)


def _room_at(message: Message, now: datetime) -> datetime:
    channel = message.channel
    returns_at = reach.headroom_returns_at(waba_id=channel.waba_id, limit=channel.messaging_limit, now=now)
    return returns_at if returns_at is not None and returns_at > now else now + LIMIT_RECHECK


def _entry_wait(*, entry: OutboxEntry, message: Message, reason: str, until: datetime) -> None:
    """Keep the entry pending until `until`, saying why (the bubble shows it), with a task for then. The
    sweeper leaves it alone until then: it only re-queues entries whose `next_attempt_at` is long past."""
    now = timezone.now()
    entry.state = OutboxState.PENDING
    entry.waiting_reason = reason
    entry.next_attempt_at = until
    entry.updated_at = now
    entry.save(update_fields=["state", "waiting_reason", "next_attempt_at", "updated_at"])
    enqueue(_deliver_task(), message.pk, countdown=max(0.0, (until - now).total_seconds()))
    events.publish_message(message, "message.updated")


def _paced(attempt: _Attempt, body: dict) -> bool:
    """Wait for the number's throughput and the customer's pair rate (inbox.limiter) right before the send.
    A short wait is slept here; a longer one gives the claim back (nothing was sent) and the entry waits,
    pending, for its turn. False when the message was put back."""
    enabled = settings.PACING_ENABLED
    if enabled is None:
        # Eager tasks run at once in the caller and ignore delays (tests): a message put back would not come
        # back, so pacing is on only where tasks can wait, unless a setting forces it.
        enabled = settings.TASK_RUNNER != "eager"
    if not enabled:
        return True
    channel = attempt.message.channel
    recipient = str(body.get("to") or body.get("recipient") or "")
    pace = limiter.get().reserve(
        limiter.send_rates(
            phone_number_id=channel.phone_number_id, recipient=recipient, throughput=channel.throughput_per_second
        ),
        max_wait=settings.PACING_MAX_SLEEP_SECONDS,
    )
    if pace.reserved:
        if pace.wait > 0:
            time.sleep(pace.wait)
        return True
    _attempt_release(attempt, wait_seconds=pace.wait)
    return False


def _attempt_release(attempt: _Attempt, *, wait_seconds: float) -> None:
    """Give an attempt that did not send back: the entry waits, pending, `wait_seconds` for its pace. The
    attempt is not counted (nothing went to WhatsApp under its number)."""
    now = timezone.now()
    with transaction.atomic():
        entry = OutboxEntry.objects.select_for_update().filter(pk=attempt.entry_id).first()
        if entry is None or entry.state != OutboxState.SENDING or entry.attempts != attempt.number:
            return
        entry.attempts -= 1
        entry.save(update_fields=["attempts"])
        _entry_wait(
            entry=entry,
            message=Message.objects.get(pk=attempt.message.pk),
            reason=PACED,
            until=now + timedelta(seconds=wait_seconds),
        )


class _Superseded(Exception):
    """The sweeper gave this attempt's entry to a newer attempt while it was still preparing."""


class _NotSent(Exception):
    """Preparing the send failed before anything went to /messages (the media upload, a missing file)."""

    def __init__(self, result: client.SendResult, failure_reason: str = ""):
        super().__init__(result.error.title if result.error else "")
        self.result = result
        self.failure_reason = failure_reason


def _send_body(attempt: _Attempt) -> dict:
    message = attempt.message
    contact = message.conversation.contact
    content: dict | list = message.content
    if message.type in limits.MEDIA_KINDS:
        content = payloads.media(
            message.type,
            media_id=_provider_media_id(attempt),
            caption=message.content.get("caption", ""),
            filename=message.content.get("filename", ""),
        )
    elif message.type == "contacts":
        content = message.content["contacts"]
    elif message.type == policy.TEMPLATE:
        # Only WhatsApp's keys go out; a header file is uploaded like any media file, its id put in.
        needs_id = payloads.template_needs_media_id(message.content)
        content = payloads.template(message.content, header_media_id=_provider_media_id(attempt) if needs_id else "")
    body = payloads.message(
        type=message.type,
        content=content,
        to=contact.wa_id or "",
        recipient="" if contact.wa_id else (contact.bsuid or ""),
        reply_to="" if message.type == "reaction" else message.reply_to_provider_id,
        callback_data=attempt.callback_data,
    )
    if contact.identity_key_hash:
        # WhatsApp delivers the message only if the customer's identity still has this hash (§2, 2026): a
        # change we have not seen yet stops it there too.
        body["recipient_identity_key_hash"] = contact.identity_key_hash
    return body


def _provider_media_id(attempt: _Attempt) -> str:
    """The file's WhatsApp media id, uploading it first when it has none or it is about to expire."""
    message = attempt.message
    media_file = MediaFile.objects.filter(message=message).first()
    if media_file is None or not media_file.file or not media_file.file.storage.exists(media_file.file.name):
        raise _NotSent(
            client.SendResult(error=ProviderError(code=None, title="The file of this message is missing.")),
            failure_reason="media_missing",
        )
    now = timezone.now()
    fresh = media_file.provider_media_uploaded_at and media_file.provider_media_uploaded_at > now - MEDIA_ID_LIFETIME
    if media_file.provider_media_id and fresh:
        return media_file.provider_media_id
    with media_file.file.open("rb") as stream:
        uploaded = client.upload_media(
            message.channel, stream, mime_type=media_file.mime_type, filename=_upload_filename(media_file)
        )
    if not uploaded.ok:
        raise _NotSent(client.SendResult(error=uploaded.error, retryable=uploaded.retryable))
    MediaFile.objects.filter(pk=media_file.pk).update(
        provider_media_id=uploaded.media_id, provider_media_uploaded_at=now
    )
    # A heartbeat before the send. If the upload outlasted SENDING_TIMEOUT the sweeper has handed the entry
    # to a new attempt: this one must not send too.
    still_ours = OutboxEntry.objects.filter(
        pk=attempt.entry_id, state=OutboxState.SENDING, attempts=attempt.number
    ).update(updated_at=timezone.now())
    if not still_ours:
        raise _Superseded
    return uploaded.media_id


def _upload_filename(media_file: MediaFile) -> str:
    """A plain ASCII name for the multipart header (the real name goes in the document's `filename`)."""
    stem = re.sub(r"[^A-Za-z0-9_-]+", "_", media_file.original_filename.rsplit(".", 1)[0])[:60].strip("_")
    return f"{stem or 'file'}{limits.EXTENSIONS.get(media_file.mime_type, '')}"


def _attempt_settle(attempt: _Attempt, result: client.SendResult, *, failure_reason: str = "") -> None:
    """Record one attempt's outcome, if the entry is still this attempt's (see the module docstring)."""
    now = timezone.now()
    with transaction.atomic():
        entry = OutboxEntry.objects.select_for_update().filter(pk=attempt.entry_id).first()
        if (
            entry is None
            or entry.attempts != attempt.number
            or entry.state not in (OutboxState.SENDING, OutboxState.PENDING)
        ):
            logger.warning("Outcome of attempt %s of outbox entry %s came too late", attempt.number, attempt.entry_id)
            return
        message = Message.objects.select_for_update().get(pk=attempt.message.pk)
        if result.ok:
            _succeed(entry=entry, message=message, provider_message_id=result.provider_message_id, now=now)
            return
        error = result.error or ProviderError(code=None, title="Unknown error.")
        if result.retryable and entry.attempts < SEND_ATTEMPTS:
            delay = policy.retry_delay(entry.attempts, rng=_rng)
            entry.state = OutboxState.PENDING
            entry.next_attempt_at = now + timedelta(seconds=delay)
            entry.last_error = _error_line(error)
            entry.updated_at = now
            entry.save(update_fields=["state", "next_attempt_at", "last_error", "updated_at"])
            enqueue(_deliver_task(), message.pk, countdown=delay)
            return
        if not failure_reason:
            failure_reason = "retries_exhausted" if result.retryable else "provider_error"
        _fail(entry=entry, message=message, failure_reason=failure_reason, error=error, now=now)


def _succeed(*, entry: OutboxEntry, message: Message, provider_message_id: str, now: datetime) -> None:
    entry.state = OutboxState.SENT
    entry.last_error = ""
    entry.updated_at = now
    entry.save(update_fields=["state", "last_error", "updated_at"])
    # Stays `queued` until WhatsApp's `sent` webhook; statuses that came before this answer apply now.
    ingest.message_provider_id_record(message=message, provider_message_id=provider_message_id)
    events.publish_message(message, "message.updated")


def _fail(*, entry: OutboxEntry, message: Message, failure_reason: str, error: ProviderError, now: datetime) -> None:
    entry.state = OutboxState.FAILED
    entry.failure_reason = failure_reason
    entry.last_error = _error_line(error)
    entry.updated_at = now
    entry.save(update_fields=["state", "failure_reason", "last_error", "updated_at"])
    message.status = MessageStatus.FAILED
    message.status_at = now
    message.error_code = error.code
    message.error_title = error.title[: Message._meta.get_field("error_title").max_length]
    message.error_details = error.details
    message.save(update_fields=["status", "status_at", "error_code", "error_title", "error_details"])
    events.publish_message(message, "message.updated")


def _error_line(error: ProviderError) -> str:
    return f"{error.title} (code {error.code})" if error.code is not None else error.title


def message_failure_reason(message: Message) -> str:
    """The plain-language sentence for a failed message."""
    return errors.failure_reason(message.error_code, message.error_title)


# --- The outbox sweeper -------------------------------------------------------------------------------------


def outbox_requeue_stale(*, now: datetime | None = None) -> int:
    """Hand lost deliveries to a worker again (periodic task). Pending entries whose attempt was due more
    than PENDING_GRACE ago lost their task; entries `sending` for longer than SENDING_TIMEOUT belong to a
    dead worker and are settled from the status webhooks or tried again. Returns how many were queued."""
    now = now or timezone.now()
    lost = list(
        OutboxEntry.objects.filter(state=OutboxState.PENDING, next_attempt_at__lt=now - PENDING_GRACE)
        .order_by("next_attempt_at")
        .values_list("message_id", flat=True)[:1000]
    )
    for message_id in lost:
        enqueue(_deliver_task(), message_id)
    stuck = list(
        OutboxEntry.objects.filter(state=OutboxState.SENDING, updated_at__lt=now - SENDING_TIMEOUT)
        .order_by("updated_at")
        .values_list("pk", flat=True)[:1000]
    )
    requeued = sum(_stuck_entry_recover(entry_id=entry_id, now=now) for entry_id in stuck)
    return len(lost) + requeued


def outbox_limit_raised(*, waba_id: str) -> int:
    """The account's messaging limit went up (a new tier synced from WhatsApp): look again at its messages
    waiting for room. Those that fit now go at once; the others keep waiting for their time (no task is
    added for them). Returns how many were looked at."""
    waiting = list(
        OutboxEntry.objects.filter(
            state=OutboxState.PENDING,
            waiting_reason=policy.Reason.MESSAGING_LIMIT_REACHED.value,
            message__channel__waba_id=waba_id,
        )
        .order_by("next_attempt_at", "pk")
        .values_list("message_id", flat=True)[:1000]
    )
    for message_id in waiting:
        enqueue(_deliver_task(), message_id)
    return len(waiting)


def _accepted_status(*, entry: OutboxEntry, channel_id: int) -> StatusUpdate | None:
    """A status webhook WhatsApp sent for one of this entry's attempts (found by its callback data)."""
    return (
        StatusUpdate.objects.filter(
            channel_id=channel_id,
            payload__biz_opaque_callback_data__in=[
                callback_data(entry.pk, number) for number in range(1, entry.attempts + 1)
            ],
        )
        .order_by("timestamp", "id")
        .first()
    )


def _stuck_entry_recover(*, entry_id: int, now: datetime) -> int:
    with transaction.atomic():
        entry = OutboxEntry.objects.select_for_update().filter(pk=entry_id).first()
        if entry is None or entry.state != OutboxState.SENDING or entry.updated_at >= now - SENDING_TIMEOUT:
            return 0
        message = Message.objects.select_for_update().get(pk=entry.message_id)
        accepted = _accepted_status(entry=entry, channel_id=message.channel_id)
        if accepted is not None:
            # WhatsApp took the message before the worker died: record it, do not send it again.
            _succeed(entry=entry, message=message, provider_message_id=accepted.provider_message_id, now=now)
            return 0
        interrupted = ProviderError(
            code=None, title="The worker stopped while sending, and WhatsApp has not reported the message."
        )
        if entry.attempts >= SEND_ATTEMPTS:
            _fail(entry=entry, message=message, failure_reason="retries_exhausted", error=interrupted, now=now)
            return 0
        entry.state = OutboxState.PENDING
        entry.next_attempt_at = now
        entry.last_error = interrupted.title
        entry.updated_at = now
        entry.save(update_fields=["state", "next_attempt_at", "last_error", "updated_at"])
        enqueue(_deliver_task(), message.pk)
        return 1


# --- Media uploads ---------------------------------------------------------------------------------------------


def media_store(*, conversation: Conversation, author: User, upload: UploadedFile) -> MediaFile:
    """Keep a file an agent wants to send, after checking it against WhatsApp's type and size limits
    (before anything is stored). Send it with `message_send(kind="media", payload={"media_file_id": …})`.
    Raises SendRefused (`permission_denied`, `media_type_not_allowed`, `media_too_large`)."""
    if not access.can_reply(author, conversation):
        raise SendRefused("permission_denied", "You may not reply in this conversation.")
    mime = limits.normalise_mime(upload.content_type or "")
    if mime in ("", "application/octet-stream"):
        # Some browsers send no type for files they do not know; the name's extension is a hint only,
        # the content check below decides.
        mime = limits.normalise_mime(mimetypes.guess_type(upload.name or "")[0] or "")
    kind = limits.media_kind_for(mime)
    if kind is None:
        raise SendRefused(
            "media_type_not_allowed",
            "WhatsApp does not take this type of file: send a JPEG or PNG image, an MP4 or 3GP video, an "
            "audio file (AAC, AMR, MP3, M4A, OGG), a WebP sticker, a PDF, a text file or an Office document.",
        )
    upload.seek(0)
    head = upload.read(limits.SNIFF_BYTES)
    upload.seek(0)
    try:
        limits.check_media(kind=kind, mime=mime, size=upload.size or 0, head=head)
    except ValidationRefused as refusal:
        raise SendRefused(refusal.code, refusal.detail)
    digest = _sha256(upload)
    media_file = MediaFile(
        conversation=conversation,
        uploaded_by=author,
        kind=kind,
        mime_type=mime,
        size=upload.size,
        sha256=digest,
        original_filename=payloads.safe_filename(upload.name or "")[:255],
    )
    media_file.file.save("upload", upload, save=False)
    try:
        media_file.save()
    except Exception:
        media_file.file.delete(save=False)
        raise
    return media_file


def _sha256(upload: UploadedFile) -> str:
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    return digest.hexdigest()


# --- Read receipts ----------------------------------------------------------------------------------------------


def conversation_mark_read(*, conversation: Conversation, user: User) -> None:
    """The agent has read the conversation: its unread count goes to zero for the team, and WhatsApp is
    told (blue ticks) for the latest customer message. Managers only watch: their reading changes nothing.
    Raises PermissionDenied for people who may not reply here."""
    if not access.can_reply(user, conversation):
        raise PermissionDenied("You may not reply in this conversation.")
    with transaction.atomic():
        locked = Conversation.objects.select_for_update().get(pk=conversation.pk)
        if locked.unread_count == 0:
            return
        locked.unread_count = 0
        locked.save(update_fields=["unread_count"])
        conversation.unread_count = 0
        latest = (
            Message.objects.filter(conversation=locked, direction=Direction.INBOUND, provider_message_id__isnull=False)
            .exclude(type__in=_NOT_READABLE)
            .order_by("-timestamp", "-id")
            .first()
        )
        if latest is not None:
            enqueue(_read_task(), latest.pk)
        events.publish_conversation(locked.pk)


def message_read_receipt_send(*, message_id: int, attempt: int = 1) -> None:
    """Tell WhatsApp an inbound message (and every earlier one) was read. Best effort: a few retries for
    temporary errors, then it is only logged (a missing blue tick is not worth an agent's attention)."""
    message = Message.objects.select_related("channel").filter(pk=message_id, direction=Direction.INBOUND).first()
    if message is None or not message.provider_message_id:
        return
    result = client.mark_read(message.channel, message.provider_message_id)
    if result.ok:
        return
    if result.retryable and attempt < READ_RECEIPT_ATTEMPTS:
        enqueue(_read_task(), message_id, attempt + 1, countdown=policy.retry_delay(attempt, rng=_rng))
        return
    logger.warning(
        "WhatsApp refused the read receipt for message %s: %s",
        message_id,
        _error_line(result.error) if result.error else "",
    )


# --- Events and tasks ---------------------------------------------------------------------------------------------


def _deliver_task():
    from inbox.tasks import deliver_message

    return deliver_message


def _read_task():
    from inbox.tasks import mark_conversation_read

    return mark_conversation_read
