"""Number health and the business profile on the wire: WhatsApp's values read into ours, and the business
profile's rules checked before anything is sent. Pure functions (no database, no network), table-tested.

WhatsApp is inconsistent about these values (whatsapp-cloud-api.md §6, §10, §14.7): messaging limits come
as tier names (`TIER_2K`), integers (`2000`, `-1` for unlimited) or numeric strings; quality as `NA` or
`UNKNOWN` when there is none; a restriction's expiration as a unix integer or a string. Everything here
accepts every form and answers None for a value it cannot read, so the caller keeps what it had rather
than writing a guess.
"""

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

# --- Messaging limits -----------------------------------------------------------------------------------

TIER_UNLIMITED = "TIER_UNLIMITED"
TIER_NOT_SET = "TIER_NOT_SET"
# The ladder, old and new (250 → 1K was replaced by 250 → 2K, §12); TIER_50 is the unverified start.
TIERS: dict[str, int | None] = {
    "TIER_50": 50,
    "TIER_250": 250,
    "TIER_1K": 1_000,
    "TIER_2K": 2_000,
    "TIER_10K": 10_000,
    "TIER_100K": 100_000,
    TIER_UNLIMITED: None,
}
_TIER_BY_LIMIT = {limit: name for name, limit in TIERS.items() if limit is not None}
_TIER_PATTERN = re.compile(r"^TIER_(\d+)([KM]?)$")


@dataclass(frozen=True)
class MessagingLimit:
    """Unique customers business-initiated messages may reach in a moving 24 hours. `limit` None means
    unlimited; `tier` is WhatsApp's name for it (empty for a number off the ladder)."""

    limit: int | None
    tier: str

    @property
    def unlimited(self) -> bool:
        return self.limit is None


UNLIMITED = MessagingLimit(limit=None, tier=TIER_UNLIMITED)


def messaging_limit(value: Any) -> MessagingLimit | None:
    """A messaging limit in any of WhatsApp's forms, or None when there is none to read (absent, TIER_NOT_SET,
    zero, garbage): the caller then keeps the limit it has."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str):
        text = value.strip().upper()
        if not text or text == TIER_NOT_SET:
            return None
        if text in TIERS:
            return MessagingLimit(limit=TIERS[text], tier=text)
        match = _TIER_PATTERN.match(text)
        if match:
            number = int(match.group(1)) * {"": 1, "K": 1_000, "M": 1_000_000}[match.group(2)]
            return MessagingLimit(limit=number, tier=text) if number > 0 else None
        if re.fullmatch(r"-?\d+", text):
            value = int(text)
        else:
            return None
    if isinstance(value, int):
        if value == -1:
            return UNLIMITED
        if value <= 0:
            return None
        return MessagingLimit(limit=value, tier=_TIER_BY_LIMIT.get(value, ""))
    return None


def limit_label(limit: int | None) -> str:
    """ "2,000" or "unlimited", for sentences."""
    return "unlimited" if limit is None else f"{limit:,}"


# --- Quality, status, throughput --------------------------------------------------------------------------

# Our values are inbox.models.QualityRating / NumberStatus; this module does not import models.
_QUALITY = {
    "GREEN": "green",
    "HIGH": "green",
    "YELLOW": "yellow",
    "MEDIUM": "yellow",
    "RED": "red",
    "LOW": "red",
    "NA": "unknown",
    "UNKNOWN": "unknown",
}


def quality_rating(value: Any) -> str | None:
    """GREEN/YELLOW/RED, and NA or UNKNOWN for a number not rated yet (both appear, §6). None if unreadable."""
    return _QUALITY.get(str(value).strip().upper()) if isinstance(value, str) else None


_STATUS = {
    "CONNECTED": "connected",
    # A number that is not registered, or whose verification lapsed, cannot send: offline for us.
    "DISCONNECTED": "offline",
    "UNVERIFIED": "offline",
    "BANNED": "offline",
    "DELETED": "offline",
    "PENDING": "pending",
    "FLAGGED": "flagged",
    "RESTRICTED": "restricted",
}


def number_status(value: Any) -> str | None:
    """The phone number object's `status` (§6) as our NumberStatus; None for one we do not know."""
    return _STATUS.get(str(value).strip().upper()) if isinstance(value, str) else None


# Messages per second a number may send (§12): 80 by default, 1,000 after WhatsApp's upgrade.
STANDARD_THROUGHPUT = 80
HIGH_THROUGHPUT = 1_000
_THROUGHPUT = {"STANDARD": STANDARD_THROUGHPUT, "HIGH": HIGH_THROUGHPUT}


def throughput(value: Any) -> int | None:
    """`throughput: {"level": "STANDARD" | "HIGH" | "NOT_APPLICABLE"}` (or the bare level) as messages per
    second; None for NOT_APPLICABLE or anything else (an admin-set value is kept then)."""
    if isinstance(value, dict):
        value = value.get("level")
    return _THROUGHPUT.get(value.strip().upper()) if isinstance(value, str) else None


def unix_time(value: Any) -> datetime | None:
    """A restriction's `expiration` (an integer in pywa's samples, a string in others, §10), or an ISO
    date-time; None for placeholders such as "<TIMESTAMP>"."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str):
        text = value.strip()
        if re.fullmatch(r"\d+(\.\d+)?", text):
            seconds = float(text)
        else:
            try:
                parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
            except ValueError:
                return None
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    else:
        return None
    if seconds > 10**11:  # milliseconds
        seconds /= 1000
    try:
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


def digits(value: Any) -> str:
    """A phone number's digits ("+1 555-093-4873" → "15550934873"): management webhooks name the number by
    `display_phone_number` digits only (§7)."""
    return re.sub(r"\D", "", str(value or ""))


# --- Webhook values ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class QualityUpdate:
    """`phone_number_quality_update`: an event (FLAGGED, UNFLAGGED, UPGRADE, DOWNGRADE, ONBOARDING,
    THROUGHPUT_UPGRADE, ...) for one number, with the account's limit when WhatsApp names it."""

    display_phone_number: str
    event: str
    limit: MessagingLimit | None
    previous_limit: MessagingLimit | None


def quality_update(value: dict[str, Any]) -> QualityUpdate:
    # The portfolio-wide limit is the current model; `current_limit` is the older per-number field (removed
    # Feb 2026, §10). Prefer the new one when both are there.
    limit = messaging_limit(value.get("max_daily_conversations_per_business")) or messaging_limit(
        value.get("current_limit")
    )
    return QualityUpdate(
        display_phone_number=digits(value.get("display_phone_number")),
        event=str(value.get("event") or "").strip().upper(),
        limit=limit,
        previous_limit=messaging_limit(value.get("old_limit")),
    )


def capability_limit(value: dict[str, Any]) -> MessagingLimit | None:
    """`business_capability_update`: `max_daily_conversations_per_business` (int or TIER_ string), or the
    old `max_daily_conversation_per_phone` (-1 = unlimited)."""
    return messaging_limit(value.get("max_daily_conversations_per_business")) or messaging_limit(
        value.get("max_daily_conversation_per_phone")
    )


@dataclass(frozen=True)
class Restriction:
    restriction_type: str
    expiration: datetime | None

    @property
    def limits_messaging(self) -> bool:
        """RESTRICTED_BIZ_INITIATED_MESSAGING / RESTRICTED_CUSTOMER_INITIATED_MESSAGING stop sends; a
        restriction on adding phone numbers does not. An unnamed one is taken as limiting, to be safe."""
        return "MESSAG" in self.restriction_type or not self.restriction_type


@dataclass(frozen=True)
class AccountUpdate:
    """`account_update`: the event, and what each kind carries (restrictions, the ban, the violation)."""

    event: str
    restrictions: tuple[Restriction, ...] = ()
    ban_state: str = ""
    ban_date: str = ""
    violation_type: str = ""
    summary: str = ""

    @property
    def messaging_restrictions(self) -> tuple[Restriction, ...]:
        return tuple(r for r in self.restrictions if r.limits_messaging)

    @property
    def restricted_until(self) -> datetime | None:
        """When the messaging restrictions end: the latest expiration (None if one has none)."""
        expirations = [r.expiration for r in self.messaging_restrictions]
        if not expirations or any(e is None for e in expirations):
            return None
        return max(e for e in expirations if e is not None)


def account_update(value: dict[str, Any]) -> AccountUpdate:
    event = str(value.get("event") or "").strip().upper()
    restrictions = tuple(
        Restriction(
            restriction_type=str(item.get("restriction_type") or "").strip().upper(),
            expiration=unix_time(item.get("expiration")),
        )
        for item in _list(value.get("restriction_info"))
        if isinstance(item, dict)
    )
    ban = value.get("ban_info") if isinstance(value.get("ban_info"), dict) else {}
    violation = value.get("violation_info") if isinstance(value.get("violation_info"), dict) else {}
    ban_state = str(ban.get("waba_ban_state") or "").strip().upper()
    ban_date = str(ban.get("waba_ban_date") or "").strip()
    violation_type = str(violation.get("violation_type") or "").strip()
    parts = []
    if restrictions:
        parts.append(", ".join(r.restriction_type or "RESTRICTED" for r in restrictions))
    if ban_state:
        parts.append(f"{ban_state}{f' on {ban_date}' if ban_date else ''}")
    if violation_type:
        parts.append(violation_type)
    return AccountUpdate(
        event=event,
        restrictions=restrictions,
        ban_state=ban_state,
        ban_date=ban_date,
        violation_type=violation_type,
        summary=(event or "UNKNOWN") + (f": {' · '.join(parts)}" if parts else ""),
    )


@dataclass(frozen=True)
class AccountAlert:
    """`account_alerts`: an alert about the account or one of its numbers."""

    entity_type: str
    entity_id: str
    severity: str
    status: str
    alert_type: str
    description: str


def account_alert(value: dict[str, Any]) -> AccountAlert:
    info = value.get("alert_info") if isinstance(value.get("alert_info"), dict) else {}
    return AccountAlert(
        entity_type=str(value.get("entity_type") or "").strip().upper(),
        entity_id=str(value.get("entity_id") or "").strip(),
        severity=str(info.get("alert_severity") or "").strip().upper(),
        status=str(info.get("alert_status") or "").strip().upper(),
        alert_type=str(info.get("alert_type") or "").strip(),
        description=str(info.get("alert_description") or "").strip(),
    )


# --- The phone number object (the sync) -----------------------------------------------------------------

PHONE_NUMBER_FIELDS = (
    "quality_rating,status,messaging_limit_tier,whatsapp_business_manager_messaging_limit,throughput,"
    "display_phone_number,verified_name"
)


@dataclass(frozen=True)
class PhoneNumberHealth:
    """What `GET /{phone_number_id}` says about the number's health; None where it said nothing readable."""

    quality: str | None
    status: str | None
    limit: MessagingLimit | None
    throughput: int | None
    display_phone_number: str = ""
    verified_name: str = ""


def phone_number_health(document: dict[str, Any]) -> PhoneNumberHealth:
    # `messaging_limit_tier` is deprecated in favour of `whatsapp_business_manager_messaging_limit` (§6);
    # the latter has been seen both as a bare tier and as an object holding it.
    manager_limit = document.get("whatsapp_business_manager_messaging_limit")
    if isinstance(manager_limit, dict):
        manager_limit = next(
            (
                manager_limit[key]
                for key in ("current_limit", "messaging_limit", "tier", "limit")
                if key in manager_limit
            ),
            None,
        )
    return PhoneNumberHealth(
        quality=quality_rating(document.get("quality_rating")),
        status=number_status(document.get("status")),
        limit=messaging_limit(manager_limit) or messaging_limit(document.get("messaging_limit_tier")),
        throughput=throughput(document.get("throughput")),
        display_phone_number=str(document.get("display_phone_number") or "").strip()[:32],
        verified_name=str(document.get("verified_name") or "").strip(),
    )


# --- The business profile -----------------------------------------------------------------------------

PROFILE_FIELDS = "about,address,description,email,profile_picture_url,websites,vertical"
# The industries WhatsApp offers (Meta's OpenAPI `WhatsAppBusinessVertical`).
VERTICALS = (
    "OTHER",
    "AUTO",
    "BEAUTY",
    "APPAREL",
    "EDU",
    "ENTERTAIN",
    "EVENT_PLAN",
    "FINANCE",
    "GROCERY",
    "GOVT",
    "HOTEL",
    "HEALTH",
    "NONPROFIT",
    "PROF_SERVICES",
    "RETAIL",
    "TRAVEL",
    "RESTAURANT",
    "ALCOHOL",
    "ONLINE_GAMBLING",
    "PHYSICAL_GAMBLING",
    "OTC_DRUGS",
)
ABOUT_MAX = 139
DESCRIPTION_MAX = 512
ADDRESS_MAX = 256
EMAIL_MAX = 128
WEBSITES_MAX = 2
WEBSITE_MAX = 256
PHOTO_MAX_BYTES = 5 * 1024 * 1024
PHOTO_TYPES = ("image/jpeg", "image/png")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_WEBSITE = re.compile(r"^https?://[^\s/$.?#][^\s]*$", re.IGNORECASE)


@dataclass(frozen=True)
class BusinessProfile:
    about: str = ""
    address: str = ""
    description: str = ""
    email: str = ""
    websites: tuple[str, ...] = ()
    vertical: str = ""
    profile_picture_url: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "about": self.about,
            "address": self.address,
            "description": self.description,
            "email": self.email,
            "websites": list(self.websites),
            "vertical": self.vertical,
            "profile_picture_url": self.profile_picture_url,
        }


def business_profile(document: dict[str, Any]) -> BusinessProfile:
    """`{"data": [{...fields}]}`, or the OpenAPI example's `{"data": [{"business_profile": {...}}]}`."""
    data = document.get("data")
    item = data[0] if isinstance(data, list) and data and isinstance(data[0], dict) else document
    if isinstance(item.get("business_profile"), dict):
        item = item["business_profile"]
    websites = item.get("websites")
    vertical = str(item.get("vertical") or "").strip().upper()
    return BusinessProfile(
        about=_text(item.get("about")),
        address=_text(item.get("address")),
        description=_text(item.get("description")),
        email=_text(item.get("email")),
        websites=tuple(_text(w) for w in _list(websites) if _text(w)),
        vertical="" if vertical == "UNDEFINED" else vertical,
        profile_picture_url=_text(item.get("profile_picture_url")),
    )


@dataclass(frozen=True)
class ProfileProblems:
    """What is wrong with a profile change, per field, in sentences a person understands."""

    by_field: dict[str, str] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.by_field)


PROFILE_EDITABLE = frozenset({"about", "address", "description", "email", "websites", "vertical"})


def profile_problems(profile: BusinessProfile, *, only: frozenset[str] = PROFILE_EDITABLE) -> ProfileProblems:
    """WhatsApp's limits for the business profile (Meta's OpenAPI and docs), checked before sending so the
    admin learns what to fix from us rather than from a code-100 answer. `only`: the fields being changed
    (a partial change leaves the others as WhatsApp has them)."""
    problems = _profile_problems(profile)
    return ProfileProblems({name: problem for name, problem in problems.items() if name in only})


def _profile_problems(profile: BusinessProfile) -> dict[str, str]:
    problems: dict[str, str] = {}
    if not profile.about:
        problems["about"] = "Write an About text (1 to 139 characters): WhatsApp shows it under the name."
    elif len(profile.about) > ABOUT_MAX:
        problems["about"] = f"The About text may have at most {ABOUT_MAX} characters ({len(profile.about)} now)."
    if len(profile.description) > DESCRIPTION_MAX:
        problems["description"] = (
            f"The description may have at most {DESCRIPTION_MAX} characters ({len(profile.description)} now)."
        )
    if len(profile.address) > ADDRESS_MAX:
        problems["address"] = f"The address may have at most {ADDRESS_MAX} characters ({len(profile.address)} now)."
    if profile.email:
        if len(profile.email) > EMAIL_MAX:
            problems["email"] = f"The e-mail address may have at most {EMAIL_MAX} characters."
        elif not _EMAIL.match(profile.email):
            problems["email"] = "This is not an e-mail address (like help@example.com)."
    if len(profile.websites) > WEBSITES_MAX:
        problems["websites"] = f"WhatsApp shows at most {WEBSITES_MAX} websites."
    else:
        for website in profile.websites:
            if len(website) > WEBSITE_MAX:
                problems["websites"] = f"A website address may have at most {WEBSITE_MAX} characters."
                break
            if not _WEBSITE.match(website):
                problems["websites"] = f"“{website[:60]}” is not a web address starting with http:// or https://."
                break
    if profile.vertical and profile.vertical not in VERTICALS:
        problems["vertical"] = "Choose the industry from WhatsApp's list."
    return problems


def profile_update_body(
    profile: BusinessProfile, *, only: frozenset[str] = PROFILE_EDITABLE, picture_handle: str = ""
) -> dict[str, Any]:
    """The body of `POST /{phone_number_id}/whatsapp_business_profile`: the fields in `only` (WhatsApp keeps
    the others). Empty texts are sent as "" so an admin can clear them; an unset industry is left out."""
    values = {
        "about": profile.about,
        "address": profile.address,
        "description": profile.description,
        "email": profile.email,
        "websites": list(profile.websites),
        "vertical": profile.vertical,
    }
    body: dict[str, Any] = {"messaging_product": "whatsapp"}
    body.update({name: value for name, value in values.items() if name in only})
    if not body.get("vertical", True):
        del body["vertical"]
    if picture_handle:
        body["profile_picture_handle"] = picture_handle
    return body


def photo_type(content: bytes) -> str | None:
    """The photo's type from its first bytes (never from the uploader's name or header): JPEG or PNG only."""
    if content.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    return None


def photo_problem(content: bytes) -> str | None:
    """Why a profile photo cannot be used (WhatsApp takes JPEG or PNG up to 5 MB), or None."""
    if not content:
        return "The photo is empty."
    if len(content) > PHOTO_MAX_BYTES:
        return f"The photo is {len(content) / 1024 / 1024:.1f} MB; WhatsApp takes at most 5 MB."
    if photo_type(content) is None:
        return "The photo must be a JPEG or PNG image."
    return None


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _list(value: Any) -> list:
    return value if isinstance(value, list) else []
