"""The simulated Cloud API's rules as pure functions over plain values: no ORM, no I/O, `now` passed in.

Each one mirrors a rule Meta enforces (shared/whatsapp-cloud-api.md §12-§13) closely enough that
Switchboard's pacing and policy code meet the same refusals here as they would against graph.facebook.com.
Table-tested in tests/simulator/test_rules.py.
"""

import base64
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

# Customer-service window: free-form messages may go out for 24 hours after the customer's last message
# (§13). Outside it only templates are delivered; anything else fails with 131047.
SERVICE_WINDOW = timedelta(hours=24)

# Meta's defaults (§12): 80 messages per second per number; to one user 1 message per 6 s sustained,
# with bursts of up to 45 borrowed against that budget.
DEFAULT_THROUGHPUT_PER_SECOND = 80
DEFAULT_PAIR_BURST = 45
DEFAULT_PAIR_REFILL_SECONDS = 6.0

# Customer messages that change an old message instead of writing a new one do not reopen the window.
_NOT_NEW_CUSTOMER_MESSAGES = frozenset({"edit", "revoke", "system"})

# Graph versions older than this are served by the latest one, as Meta does for retired versions (§1).
OLDEST_SERVED_VERSION = (21, 0)
LATEST_VERSION = "v24.0"

_VERSION = re.compile(r"^v(\d+)\.(\d+)$")


def served_version(requested: str) -> str:
    """The `Facebook-Api-Version` Meta answers with: the requested one, or the latest for a retired one."""
    match = _VERSION.match(requested)
    if not match:
        return LATEST_VERSION
    if (int(match.group(1)), int(match.group(2))) < OLDEST_SERVED_VERSION:
        return LATEST_VERSION
    return requested


def sends_conversation_object(api_version: str) -> bool:
    """Statuses carry `conversation` only up to v23 (§9: omitted from v24.0 outside free entry points)."""
    match = _VERSION.match(api_version)
    return bool(match) and int(match.group(1)) < 24


def opens_service_window(message_type: str) -> bool:
    """Does a customer message of this type (re)start the 24-hour window?"""
    return message_type not in _NOT_NEW_CUSTOMER_MESSAGES


def is_service_window_open(last_inbound_at: datetime | None, *, now: datetime) -> bool:
    """True strictly before 24:00:00 after the customer's last message; never when they never wrote."""
    return last_inbound_at is not None and now < last_inbound_at + SERVICE_WINDOW


@dataclass(frozen=True)
class ThroughputWindow:
    """Messages accepted in the current one-second window of a number."""

    second: int
    count: int


def throughput_take(window: ThroughputWindow, *, now: float, limit: int) -> tuple[bool, ThroughputWindow]:
    """May one more message go out in this second (130429 if not)? Returns the decision and the new window.

    A fixed one-second window: the simplest reading of "messages per second" that a test can trip."""
    second = int(now)
    count = window.count if window.second == second else 0
    if count >= limit:
        return False, ThroughputWindow(second, count)
    return True, ThroughputWindow(second, count + 1)


@dataclass(frozen=True)
class PairBucket:
    """The token bucket of one business-number/customer pair. `tokens` None means full (never used)."""

    tokens: float | None
    updated_at: float | None


def pair_take(bucket: PairBucket, *, now: float, burst: int, refill_seconds: float) -> tuple[bool, PairBucket]:
    """May one more message go to this customer now (131056 if not)? Returns the decision and the new bucket.

    The bucket holds `burst` tokens and regains one every `refill_seconds`: a burst of 45 borrows against
    the 1-per-6-s budget and then the pair must slow down to that pace (§12)."""
    if bucket.tokens is None or bucket.updated_at is None:
        tokens = float(burst)
    else:
        elapsed = max(0.0, now - bucket.updated_at)
        refill = elapsed / refill_seconds if refill_seconds > 0 else float(burst)
        tokens = min(float(burst), bucket.tokens + refill)
    if tokens < 1:
        return False, PairBucket(tokens, now)
    return True, PairBucket(tokens - 1, now)


@dataclass(frozen=True)
class Pricing:
    """The `pricing` object of sent/delivered statuses under per-message pricing (from July 2025)."""

    type: str
    category: str
    billable: bool

    def as_payload(self) -> dict:
        return {"billable": self.billable, "pricing_model": "PMP", "type": self.type, "category": self.category}


def pricing_for(*, message_type: str, window_open: bool, template_category: str | None = None) -> Pricing:
    """How Meta prices a delivered message under per-message pricing (§13), by the template's category.

    Free-form (service) replies are free and only ever delivered inside the window. Utility templates are
    free inside an open window and charged outside it; marketing and authentication templates are always
    charged."""
    if message_type != "template":
        return Pricing(type="free_customer_service", category="service", billable=False)
    category = (template_category or "utility").lower()
    if category == "utility" and window_open:
        return Pricing(type="free_customer_service", category="utility", billable=False)
    return Pricing(type="regular", category=category, billable=True)


# Delivery statuses of a business message as the phone sees them; "failed" is final.
_OUTBOUND_STATUS_RANK = {"accepted": 0, "sent": 1, "delivered": 2, "read": 3}


def status_moves_forward(current: str, new: str) -> bool:
    """Statuses only move forward, and nothing follows a failure."""
    if current == "failed":
        return False
    if new == "failed":
        return True
    return _OUTBOUND_STATUS_RANK.get(new, -1) > _OUTBOUND_STATUS_RANK.get(current, 99)


# Meta's media limits (§4): by MIME type, the kind and the largest size in bytes.
MB = 1024 * 1024
_MEDIA_LIMITS = {
    "audio/aac": ("audio", 16 * MB),
    "audio/amr": ("audio", 16 * MB),
    "audio/mpeg": ("audio", 16 * MB),
    "audio/mp4": ("audio", 16 * MB),
    "audio/ogg": ("audio", 16 * MB),
    "video/mp4": ("video", 16 * MB),
    "video/3gpp": ("video", 16 * MB),
    "image/jpeg": ("image", 5 * MB),
    "image/png": ("image", 5 * MB),
    # Stickers: 100 KB static, 500 KB animated; the simulator cannot tell them apart, so the larger.
    "image/webp": ("sticker", 500 * 1024),
    "text/plain": ("document", 100 * MB),
    "application/pdf": ("document", 100 * MB),
    "application/vnd.ms-powerpoint": ("document", 100 * MB),
    "application/msword": ("document", 100 * MB),
    "application/vnd.ms-excel": ("document", 100 * MB),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ("document", 100 * MB),
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": ("document", 100 * MB),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ("document", 100 * MB),
}


def normalise_mime_type(mime_type: str) -> str:
    """`audio/ogg; codecs=opus` -> `audio/ogg`; lower case."""
    return mime_type.split(";", 1)[0].strip().lower()


def media_kind(mime_type: str) -> str | None:
    """The message kind a MIME type travels as (image, audio, video, sticker, document), None if unsupported."""
    limit = _MEDIA_LIMITS.get(normalise_mime_type(mime_type))
    return limit[0] if limit else None


def media_size_limit(mime_type: str) -> int | None:
    limit = _MEDIA_LIMITS.get(normalise_mime_type(mime_type))
    return limit[1] if limit else None


def supported_mime_types() -> list[str]:
    return sorted(_MEDIA_LIMITS)


_NOT_DIGITS = re.compile(r"[\s+\-().]")


def normalise_phone(value: str) -> str | None:
    """A recipient as Meta accepts it (`+1 (650) 555-1234`, `16505551234`) -> digits; None if not a phone."""
    digits = _NOT_DIGITS.sub("", value)
    if not digits.isdigit() or not 6 <= len(digits) <= 15:
        return None
    return digits


def graph_cursor(position: int) -> str:
    """A paging cursor the way Graph writes them: base64 of the position with `=` spelled `ZD`
    (RB:templates/get_templates answers `"before":"MAZDZD"` for position 0)."""
    return base64.b64encode(str(position).encode()).decode().replace("=", "ZD")


def graph_cursor_position(cursor: str) -> int | None:
    """The position a cursor names, None when it is not one of ours. (`Z` never occurs in the base64 of
    ASCII digits, so `ZD` can only be padding.)"""
    try:
        position = int(base64.b64decode(cursor.replace("ZD", "="), validate=True).decode())
    except (ValueError, UnicodeDecodeError):
        return None
    return position if position >= 0 else None
