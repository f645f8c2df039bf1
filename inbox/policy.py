"""WhatsApp's rules as pure functions over plain values. No ORM, no I/O; `now` is always passed in.

Each rule says which WhatsApp rule it mirrors. Tests are tables with no database (tests/inbox/test_policy.py).
"""

from datetime import datetime, timedelta

# Customer-service window: free-form replies are allowed for 24 hours after the customer's last message
# (whatsapp-cloud-api.md §13). Our own outgoing messages never extend it.
SERVICE_WINDOW = timedelta(hours=24)

# Messages that are not the customer writing to us: WhatsApp's own system notices, and the customer
# editing or deleting an earlier message (those change an old message; they do not start a new exchange).
_NOT_CUSTOMER_MESSAGES = frozenset({"system", "edit", "revoke"})

# Statuses only move forward: sent < delivered < read < played. Meta does not guarantee order and may
# skip "delivered" (§9), so an older status arriving late must not undo a newer one. "failed" ranks above
# "sent" (a late "sent" must not hide the failure) and below "delivered" (a delivery proves it arrived).
_STATUS_RANK = {"received": 0, "queued": 0, "sent": 1, "failed": 2, "delivered": 3, "read": 4, "played": 5}


def opens_service_window(message_type: str) -> bool:
    """Does an inbound message of this type (re)open the 24-hour customer-service window?"""
    return message_type not in _NOT_CUSTOMER_MESSAGES


def service_window_closes_at(last_customer_message_at: datetime | None) -> datetime | None:
    """When free-form replies stop being allowed; None when the customer never wrote."""
    if last_customer_message_at is None:
        return None
    return last_customer_message_at + SERVICE_WINDOW


def is_service_window_open(last_customer_message_at: datetime | None, *, now: datetime) -> bool:
    """True strictly before the 24-hour mark: at exactly 24:00:00 the window has closed."""
    closes_at = service_window_closes_at(last_customer_message_at)
    return closes_at is not None and now < closes_at


def status_moves_forward(current: str, new: str) -> bool:
    """May a message whose status is `current` take the status `new`? Unknown statuses never apply."""
    if new not in _STATUS_RANK or current not in _STATUS_RANK:
        return False
    return _STATUS_RANK[new] > _STATUS_RANK[current]


def counts_as_unread(message_type: str) -> bool:
    """Edits and deletions change an old message; they are not something new to read."""
    return message_type not in ("edit", "revoke")
