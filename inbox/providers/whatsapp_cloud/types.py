"""Plain values the WhatsApp Cloud API parser produces. Frozen, no Django, no I/O."""

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ProviderError:
    """One entry of a Graph `errors[]` list (on statuses, unsupported messages or `value.errors`)."""

    code: int | None
    title: str = ""
    message: str = ""
    details: str = ""
    href: str = ""


@dataclass(frozen=True)
class ContactProfile:
    """`value.contacts[]`: who wrote. Username users (2026) may have only `user_id` (a BSUID)."""

    wa_id: str | None
    user_id: str | None = None
    parent_user_id: str | None = None
    name: str = ""
    username: str = ""


@dataclass(frozen=True)
class InboundMessage:
    """One element of `value.messages[]`.

    `type` is the provider type ("text", "image", ..., "unknown" normalised to "unsupported").
    `text` is the human-readable part: body, caption, tapped button title, emoji, order text, system body.
    `content` is the type's object from the payload (e.g. the `image` dict; `{"contacts": [...]}` for
    contacts), plus every other key of the message except `from`, `from_user_id`, `id`, `timestamp` and
    `type` (e.g. `context`, `referral`, `identity`, `errors`), kept verbatim so nothing Meta sent is lost.
    `sender_user_id` is the BSUID; for a `user_changed_user_id` system message, which names no sender,
    it is the previous BSUID (the one the contact is known by).
    """

    phone_number_id: str
    waba_id: str
    provider_message_id: str
    type: str
    timestamp: int
    sender_wa_id: str | None
    sender_user_id: str | None
    profile: ContactProfile | None
    text: str = ""
    content: dict[str, Any] = field(default_factory=dict)
    reply_to_provider_id: str = ""
    # For "reaction", "edit" and "revoke": the message it acts on.
    target_provider_message_id: str = ""
    errors: tuple[ProviderError, ...] = ()


@dataclass(frozen=True)
class StatusReport:
    """One element of `value.statuses[]`: what happened to a message the business sent."""

    phone_number_id: str
    waba_id: str
    provider_message_id: str
    status: str
    timestamp: int
    recipient_id: str = ""
    recipient_user_id: str = ""
    errors: tuple[ProviderError, ...] = ()
    pricing: dict[str, Any] | None = None
    conversation: dict[str, Any] | None = None
    biz_opaque_callback_data: str = ""
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ManagementChange:
    """A change of any field other than `messages` (template/number/account updates, user_preferences),
    or the `value.errors` of a `messages` change. Routed by WABA id (`entry[].id`)."""

    waba_id: str
    field: str
    value: dict[str, Any]
    time: int | None = None


@dataclass(frozen=True)
class Delivery:
    """Everything one webhook POST carried, in payload order. Every entry and change, never only the first."""

    messages: tuple[InboundMessage, ...] = ()
    statuses: tuple[StatusReport, ...] = ()
    management: tuple[ManagementChange, ...] = ()
    # Phone number ids named in any change's `metadata`; WABA ids of every entry.
    phone_number_ids: frozenset[str] = frozenset()
    waba_ids: frozenset[str] = frozenset()


class MalformedPayload(ValueError):
    """The bytes are not a WhatsApp webhook delivery (not JSON, or not the envelope's shape)."""
