"""The consent ledger: who agreed to receive which kind of message, from where, and who withdrew.

Append-only (ConsentEvent rows are never updated nor deleted); the latest event per purpose is the contact's
state. Every write goes through `consent_record` (a person's entry, an import) or the automatic paths below,
which share `_append`:

- `inbound_message_apply`: the customer's STOP / START keyword (seven languages, or the channel's own list)
  withdraws or restores marketing and utility messages and is confirmed once; a click-to-WhatsApp ad's
  referral and a customer's first message record a utility opt-in (never a marketing one: marketing needs
  an explicit opt-in).
- `user_preferences_apply`: WhatsApp's own marketing stop/resume (`user_preferences` webhook), and
  `marketing_stop_from_failure`: a send WhatsApp refused with 131050 ("user stopped marketing messages").

Automatic entries are written only when they change the state, so a replayed webhook or a retried task
never writes twice and a second STOP is not confirmed twice. Writes lock the contact's row, so two messages
of the same customer processed at once see each other's entries.
"""

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.services import audit_record
from inbox import access, events, policy
from inbox.models import (
    Channel,
    ChannelAutomation,
    ConsentAction,
    ConsentEvent,
    ConsentPurpose,
    ConsentSource,
    Contact,
    Conversation,
    Direction,
    ManagementEvent,
    Message,
)

logger = logging.getLogger(__name__)

EVIDENCE_MAX = 2000
REASON_MAX = 1000
QUOTE_MAX = 120
# What WhatsApp answers when the customer stopped marketing messages in WhatsApp itself (§11).
MARKETING_STOPPED_ERROR = 131050

# Sources only WhatsApp or the customer's own words produce: a person cannot claim them.
AUTOMATIC_SOURCES = frozenset({ConsentSource.KEYWORD, ConsentSource.USER_PREFERENCES})


class ConsentRefused(Exception):
    """The entry may not be recorded. `code` is stable (`permission_denied`, `invalid_purpose`,
    `invalid_action`, `invalid_source`, `reason_required`, `reason_too_long`, `evidence_too_long`,
    `invalid_time`); `detail` is the sentence shown where the person tried; `field` names the field at
    fault when there is one."""

    def __init__(self, code: str, detail: str, *, field: str = ""):
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.field = field


@dataclass(frozen=True)
class ConsentState:
    """The purposes a contact is currently opted in to and opted out of (neither: never asked)."""

    opted_in: frozenset[str]
    opted_out: frozenset[str]


def consent_state(*, contact_id: int) -> ConsentState:
    """The latest ledger entry of each purpose decides it."""
    latest: dict[str, str] = {}
    for purpose, action in (
        ConsentEvent.objects.filter(contact_id=contact_id)
        .order_by("purpose", "-occurred_at", "-id")
        .values_list("purpose", "action")
    ):
        latest.setdefault(purpose, action)
    return ConsentState(
        opted_in=frozenset(p for p, a in latest.items() if a == ConsentAction.OPT_IN),
        opted_out=frozenset(p for p, a in latest.items() if a == ConsentAction.OPT_OUT),
    )


def latest_events(*, contact_id: int) -> dict[str, ConsentEvent]:
    """The entry that decides each purpose (purposes never recorded are missing)."""
    latest: dict[str, ConsentEvent] = {}
    for event in ConsentEvent.objects.filter(contact_id=contact_id).order_by("purpose", "-occurred_at", "-id"):
        latest.setdefault(event.purpose, event)
    return latest


def contact_ledger(*, contact_id: int):
    """Every entry of the contact, newest first, with who recorded it."""
    return (
        ConsentEvent.objects.filter(contact_id=contact_id)
        .select_related("actor", "channel")
        .order_by("-occurred_at", "-id")
    )


# --- A person's (or an import's) entry ---------------------------------------------------------------------


def consent_record(
    *,
    contact: Contact,
    purpose: str,
    action: str,
    source: str,
    actor: User | None = None,
    evidence: str = "",
    reason: str = "",
    channel: Channel | None = None,
    message: Message | None = None,
    occurred_at: datetime | None = None,
) -> ConsentEvent:
    """Append one opt-in or opt-out. A person's entry (`actor` given) needs a reason (why they record it:
    "she asked on the phone"), may not claim a source only WhatsApp produces (a keyword, WhatsApp's
    preference) and is audited. Raises ConsentRefused; never changes an earlier entry."""
    now = timezone.now()
    evidence, reason = (evidence or "").strip(), (reason or "").strip()
    if actor is not None and not access.can_record_consent(actor, contact):
        raise ConsentRefused("permission_denied", _("Managers read consent; agents and admins record it."))
    if purpose not in ConsentPurpose.values:
        raise ConsentRefused(
            "invalid_purpose", _("Choose what they agree to: marketing, utility or authentication."), field="purpose"
        )
    if action not in ConsentAction.values:
        raise ConsentRefused("invalid_action", _("Choose whether they opted in or out."), field="action")
    if source not in ConsentSource.values or (actor is not None and source in AUTOMATIC_SOURCES):
        raise ConsentRefused(
            "invalid_source",
            _(
                "Choose where the customer agreed: a phone call, a website form, an ad, a link or QR code, their "
                "message, an import or their word to you."
            ),
            field="source",
        )
    if actor is not None and not reason:
        raise ConsentRefused(
            "reason_required", _("Say why you record this (for example “she asked on the phone”)."), field="reason"
        )
    if len(reason) > REASON_MAX:
        raise ConsentRefused(
            "reason_too_long", _("Keep the reason under %(max)s characters.") % {"max": REASON_MAX}, field="reason"
        )
    if len(evidence) > EVIDENCE_MAX:
        raise ConsentRefused(
            "evidence_too_long",
            _("Keep the evidence under %(max)s characters.") % {"max": EVIDENCE_MAX},
            field="evidence",
        )
    if occurred_at is not None and occurred_at > now + timedelta(minutes=5):
        raise ConsentRefused("invalid_time", _("Consent cannot be recorded in the future."), field="occurred_at")
    with transaction.atomic():
        _lock(contact)
        event = _append(
            contact=contact,
            purpose=purpose,
            action=action,
            source=source,
            actor=actor,
            evidence=evidence,
            reason=reason,
            channel=channel,
            message=message,
            occurred_at=occurred_at or now,
        )
        if actor is not None:
            audit_record(
                actor=actor,
                action="consent.recorded",
                target=contact,
                details={"event": event.pk, "purpose": purpose, "action": action, "source": source, "reason": reason},
            )
    return event


def _lock(contact: Contact) -> None:
    """Serialise consent writes per contact (the state read before a write stays true until commit)."""
    Contact.objects.select_for_update().filter(pk=contact.pk).values_list("pk", flat=True).first()


def _append(
    *,
    contact: Contact,
    purpose: str,
    action: str,
    source: str,
    occurred_at: datetime,
    actor: User | None = None,
    evidence: str = "",
    reason: str = "",
    channel: Channel | None = None,
    message: Message | None = None,
) -> ConsentEvent:
    """The one INSERT of the ledger; open contact panels redraw once it commits."""
    event = ConsentEvent.objects.create(
        contact=contact,
        purpose=purpose,
        action=action,
        source=source,
        actor=actor,
        evidence=evidence[:EVIDENCE_MAX],
        reason=reason[:REASON_MAX],
        channel=channel,
        message=message,
        occurred_at=occurred_at,
    )
    _publish_changed(contact_id=contact.pk, purpose=purpose, action=action)
    return event


def _publish_changed(*, contact_id: int, purpose: str, action: str) -> None:
    """`consent.changed`: open consent panels of the contact redraw."""
    events.publish_contact_change(
        contact_id=contact_id, type="consent.changed", data={"purpose": purpose, "action": action}
    )


# --- The customer's own messages --------------------------------------------------------------------------

# The confirmation of a STOP / START, in the language of the keyword (or the contact's). `%(start)s` and
# `%(stop)s` name the keyword that undoes it (the channel's own first one when it has a list).
STOP_CONFIRMATIONS: dict[str, str] = {
    "en": "You will no longer get marketing or update messages from us. Reply %(start)s to get them again.",
    "it": (
        "Non riceverai più messaggi promozionali o di aggiornamento da noi. Rispondi %(start)s per riceverli di nuovo."
    ),
    "fr": (
        "Vous ne recevrez plus nos messages promotionnels ni nos actualités. "
        "Répondez %(start)s pour les recevoir à nouveau."
    ),
    "es": (
        "Ya no recibirás mensajes promocionales ni de novedades de nuestra parte. "
        "Responde %(start)s para volver a recibirlos."
    ),
    "pt": (
        "Você não receberá mais mensagens promocionais ou de atualização da nossa parte. "
        "Responda %(start)s para voltar a recebê-las."
    ),
    "de": (
        "Sie erhalten keine Werbe- oder Update-Nachrichten mehr von uns. "
        "Antworten Sie %(start)s, um sie wieder zu erhalten."
    ),
    "ru": (
        "Вы больше не будете получать от нас рекламные и информационные сообщения. "
        "Ответьте %(start)s, чтобы снова их получать."
    ),
}
START_CONFIRMATIONS: dict[str, str] = {
    "en": "You will get our marketing and update messages again. Reply %(stop)s to stop them.",
    "it": "Riceverai di nuovo i nostri messaggi promozionali e di aggiornamento. Rispondi %(stop)s per interromperli.",
    "fr": "Vous recevrez à nouveau nos messages promotionnels et nos actualités. Répondez %(stop)s pour les arrêter.",
    "es": (
        "Volverás a recibir nuestros mensajes promocionales y de novedades. Responde %(stop)s para dejar de recibirlos."
    ),
    "pt": "Você voltará a receber nossas mensagens promocionais e de atualização. Responda %(stop)s para pará-las.",
    "de": "Sie erhalten wieder unsere Werbe- und Update-Nachrichten. Antworten Sie %(stop)s, um sie abzubestellen.",
    "ru": "Вы снова будете получать наши рекламные и информационные сообщения. Ответьте %(stop)s, чтобы отписаться.",
}
# WhatsApp's own marketing preference covers marketing only.
MARKETING_STOP_CONFIRMATIONS: dict[str, str] = {
    "en": "You will no longer get marketing messages from us.",
    "it": "Non riceverai più messaggi promozionali da noi.",
    "fr": "Vous ne recevrez plus nos messages promotionnels.",
    "es": "Ya no recibirás mensajes promocionales de nuestra parte.",
    "pt": "Você não receberá mais mensagens promocionais da nossa parte.",
    "de": "Sie erhalten keine Werbenachrichten mehr von uns.",
    "ru": "Вы больше не будете получать от нас рекламные сообщения.",
}
MARKETING_RESUME_CONFIRMATIONS: dict[str, str] = {
    "en": "You will get our marketing messages again.",
    "it": "Riceverai di nuovo i nostri messaggi promozionali.",
    "fr": "Vous recevrez à nouveau nos messages promotionnels.",
    "es": "Volverás a recibir nuestros mensajes promocionales.",
    "pt": "Você voltará a receber nossas mensagens promocionais.",
    "de": "Sie erhalten wieder unsere Werbenachrichten.",
    "ru": "Вы снова будете получать наши рекламные сообщения.",
}


def inbound_message_apply(*, message: Message) -> bool:
    """What a new customer message says about consent. True when it was a STOP or START command (then
    nothing else answers it); False otherwise, after recording an ad's referral or a first contact.

    Only messages that are the customer writing count (`policy.counts_as_reply`): not WhatsApp's notices,
    edits and deletions, nor merely opening the chat."""
    if message.direction != Direction.INBOUND or not policy.counts_as_reply(message.type):
        return False
    conversation = message.conversation
    contact = conversation.contact
    stop, start = _keywords(channel_id=message.channel_id)
    intent = policy.keyword_intent(message.text or "", stop=stop, start=start, human=())
    if intent is not None and intent[0] in (policy.Intent.STOP, policy.Intent.START):
        _keyword_apply(message=message, intent=intent[0], language=intent[1], stop=stop, start=start)
        return True
    referral = message.content.get("referral") if isinstance(message.content, dict) else None
    with transaction.atomic():
        _lock(contact)
        state = consent_state(contact_id=contact.pk)
        if isinstance(referral, dict):
            # The customer clicked our ad and wrote: they asked to hear from us about it (not marketing).
            # A customer who withdrew stays withdrawn: only START or an explicit opt-in restores.
            if ConsentPurpose.UTILITY not in state.opted_out:
                _append(
                    contact=contact,
                    purpose=ConsentPurpose.UTILITY,
                    action=ConsentAction.OPT_IN,
                    source=ConsentSource.CLICK_TO_WHATSAPP_AD,
                    evidence=_referral_evidence(referral),
                    channel=message.channel,
                    message=message,
                    occurred_at=_meta_time(message.timestamp),
                )
        elif not ConsentEvent.objects.filter(contact_id=contact.pk, purpose=ConsentPurpose.UTILITY).exists():
            _append(
                contact=contact,
                purpose=ConsentPurpose.UTILITY,
                action=ConsentAction.OPT_IN,
                source=ConsentSource.CUSTOMER_INITIATED,
                evidence=_first_contact_evidence(message),
                channel=message.channel,
                message=message,
                occurred_at=_meta_time(message.timestamp),
            )
    return False


def _meta_time(at: datetime) -> datetime:
    """When the customer acted, for the ledger's order. Meta's timestamps are whole seconds: the customer
    acted somewhere in that second, so the entry takes its last microsecond. An agent's entry recorded in
    the same second (before the customer's message reached us) must not outrank the customer's own words."""
    return at.replace(microsecond=999_999) if at.microsecond == 0 else at


def _keywords(*, channel_id: int) -> tuple[dict | tuple, dict | tuple]:
    """The channel's own STOP and START lists, each replacing the built-in table when not empty."""
    row = ChannelAutomation.objects.filter(channel_id=channel_id).values("stop_keywords", "start_keywords").first()
    own_stop = tuple(str(w) for w in (row or {}).get("stop_keywords") or () if str(w).strip())
    own_start = tuple(str(w) for w in (row or {}).get("start_keywords") or () if str(w).strip())
    return own_stop or policy.STOP_KEYWORDS, own_start or policy.START_KEYWORDS


def _keyword_apply(
    *, message: Message, intent: policy.Intent, language: str, stop: dict | tuple, start: dict | tuple
) -> None:
    """STOP withdraws marketing and utility messages, START restores them; confirmed only when something
    changed (a second STOP is not answered again)."""
    contact = message.conversation.contact
    action = ConsentAction.OPT_OUT if intent == policy.Intent.STOP else ConsentAction.OPT_IN
    with transaction.atomic():
        _lock(contact)
        changed = [
            purpose
            for purpose in policy.STOP_PURPOSES
            if _changes(contact=contact, purpose=purpose, action=action, at=_meta_time(message.timestamp))
        ]
        for purpose in changed:
            _append(
                contact=contact,
                purpose=purpose,
                action=action,
                source=ConsentSource.KEYWORD,
                evidence=_quote(message.text),
                channel=message.channel,
                message=message,
                occurred_at=_meta_time(message.timestamp),
            )
    if not changed:
        return
    language = _reply_language(message.text, matched=language, contact=contact, intent=intent)
    if intent == policy.Intent.STOP:
        body = STOP_CONFIRMATIONS[language] % {"start": _first_keyword(start, language).upper()}
    else:
        body = START_CONFIRMATIONS[language] % {"stop": _first_keyword(stop, language).upper()}
    _confirm(conversation=message.conversation, body=body)


def _reply_language(text: str, *, matched: str, contact: Contact, intent: policy.Intent) -> str:
    """The keyword's language; when the word is also the contact's language's ("stop" is English, Italian
    and German), theirs. For a channel's own list, the contact's language."""
    preferred = policy.customer_language(contact.language) if contact.language else ""
    if preferred and preferred != matched:
        table = policy.STOP_KEYWORDS if intent == policy.Intent.STOP else policy.START_KEYWORDS
        said = policy.normalise_keyword(text)
        if said in {policy.normalise_keyword(word) for word in table.get(preferred, ())}:
            return preferred
    return policy.customer_language(matched, contact.language)


def _first_keyword(table: dict | tuple, language: str) -> str:
    if isinstance(table, dict):
        return (table.get(language) or table["en"])[0]
    return table[0]


def _confirm(*, conversation: Conversation, body: str) -> None:
    """Tell the customer, as an automated message. A refusal (an identity hold, the window closed) is
    logged: the consent change stands either way."""
    from inbox.services.outbound import SendRefused, message_send_automated

    try:
        message_send_automated(conversation=conversation, kind="text", payload={"body": body})
    except SendRefused as refused:
        logger.info("Consent confirmation to conversation %s not sent: %s", conversation.pk, refused.code)


def _quote(text: str) -> str:
    text = " ".join((text or "").split())
    return f"“{text[:QUOTE_MAX]}{'…' if len(text) > QUOTE_MAX else ''}”"


def _referral_evidence(referral: dict) -> str:
    parts = []
    for key, label in (
        ("headline", "Ad headline"),
        ("source_type", "Source type"),
        ("source_url", "Link"),
        ("source_id", "Ad id"),
        ("ctwa_clid", "Click id"),
    ):
        value = referral.get(key)
        if value not in (None, ""):
            parts.append(f"{label}: {str(value)[:400]}")
    return "\n".join(parts) or "Click-to-WhatsApp referral"


def _first_contact_evidence(message: Message) -> str:
    channel = message.channel
    number = channel.display_phone_number or channel.phone_number_id
    at = message.timestamp.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    quote = _quote(message.text) if message.text else f"({message.type})"
    return f"Wrote first to {channel.name} ({number}) at {at}: {quote}"


# --- WhatsApp's own marketing preference -------------------------------------------------------------------


def user_preferences_apply(*, event: ManagementEvent) -> None:
    """Meta's `user_preferences` webhook (§10): the customer stopped or resumed marketing messages in
    WhatsApp itself. Recorded as a marketing opt-out / opt-in when it changes the state, confirmed when their
    window is open; an unknown customer creates nothing. The event is marked handled."""
    value = event.value if isinstance(event.value, dict) else {}
    # The number the customer changed it for (`metadata.phone_number_id`); else any of the account's.
    metadata = value.get("metadata") if isinstance(value.get("metadata"), dict) else {}
    channels = Channel.objects.filter(waba_id=event.waba_id)
    number = channels.filter(phone_number_id=str(metadata.get("phone_number_id") or ""))
    if number.exists():
        channels = number
    preferences = value.get("user_preferences")
    for preference in preferences if isinstance(preferences, list) else ():
        if isinstance(preference, dict):
            _preference_apply(event=event, preference=preference, channels=channels)
    ManagementEvent.objects.filter(pk=event.pk).update(handled=True)


def _preference_apply(*, event: ManagementEvent, preference: dict, channels) -> None:
    if str(preference.get("category") or "") != "marketing_messages":
        return
    choice = str(preference.get("value") or "").lower()
    if choice not in ("stop", "resume"):
        return
    contact = _contact_for(wa_id=preference.get("wa_id"), user_id=preference.get("user_id"))
    if contact is None:
        return
    action = ConsentAction.OPT_OUT if choice == "stop" else ConsentAction.OPT_IN
    at = _meta_time(_unix_time(preference.get("timestamp")) or event.occurred_at or timezone.now())
    with transaction.atomic():
        _lock(contact)
        if not _changes(contact=contact, purpose=ConsentPurpose.MARKETING, action=action, at=at):
            return
        latest = (
            Conversation.objects.filter(contact=contact, channel__in=channels)
            .select_related("channel", "contact")
            .order_by("-last_inbound_at", "-id")
            .first()
        )
        _append(
            contact=contact,
            purpose=ConsentPurpose.MARKETING,
            action=action,
            source=ConsentSource.USER_PREFERENCES,
            evidence=str(preference.get("detail") or "")[:EVIDENCE_MAX],
            channel=latest.channel if latest is not None else None,
            occurred_at=at,
        )
    if latest is not None and policy.is_service_window_open(latest.last_inbound_at, now=timezone.now()):
        texts = MARKETING_STOP_CONFIRMATIONS if choice == "stop" else MARKETING_RESUME_CONFIRMATIONS
        _confirm(conversation=latest, body=texts[policy.customer_language(contact.language)])


def _changes(*, contact: Contact, purpose: str, action: str, at: datetime) -> bool:
    """Would an automatic entry at `at` change the purpose's state? Not when the latest entry already says
    so, nor when a newer entry (recorded after the customer's message was written) decides it."""
    latest = ConsentEvent.objects.filter(contact=contact, purpose=purpose).order_by("-occurred_at", "-id").first()
    return latest is None or (latest.action != action and latest.occurred_at <= at)


def _contact_for(*, wa_id: object, user_id: object) -> Contact | None:
    if wa_id:
        found = Contact.objects.filter(wa_id=str(wa_id).lstrip("+")).first()
        if found is not None:
            return found
    if user_id:
        return Contact.objects.filter(bsuid=str(user_id)).first()
    return None


def _unix_time(value: object) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(value), tz=UTC)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def marketing_stop_from_failure(*, message: Message) -> bool:
    """WhatsApp refused a send with 131050 ("this customer stopped marketing messages"): their marketing
    opt-out, recorded once (ingest calls it when a failed status carries that error). Returns whether the
    ledger changed."""
    if message.error_code != MARKETING_STOPPED_ERROR or message.direction != Direction.OUTBOUND:
        return False
    contact = message.conversation.contact
    failed_at = message.status_at or timezone.now()
    with transaction.atomic():
        _lock(contact)
        # Already withdrawn, or the customer opted in again after this failure: nothing to record.
        if not _changes(contact=contact, purpose=ConsentPurpose.MARKETING, action=ConsentAction.OPT_OUT, at=failed_at):
            return False
        _append(
            contact=contact,
            purpose=ConsentPurpose.MARKETING,
            action=ConsentAction.OPT_OUT,
            source=ConsentSource.USER_PREFERENCES,
            evidence=f"WhatsApp refused a message with error {MARKETING_STOPPED_ERROR}: "
            "the customer stopped marketing messages in WhatsApp.",
            channel=message.channel,
            message=message,
            occurred_at=failed_at,
        )
    return True
