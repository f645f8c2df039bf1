"""WhatsApp's rules for templates as pure functions over plain values (no ORM, `now` passed in).

Table-tested in tests/templates_app/test_policy.py.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

# A template may go out while WhatsApp has it approved. FLAGGED templates still send (their quality is low
# and WhatsApp disables them if it does not recover), REINSTATED ones were approved again after an appeal
# (whatsapp-cloud-api.md §5). Everything else answers 132001/132015/132016 at WhatsApp.
SENDABLE_STATUSES = frozenset({"APPROVED", "FLAGGED", "REINSTATED", "UNARCHIVED"})

# WhatsApp lets a business edit only approved, rejected and paused templates (§5).
EDITABLE_STATUSES = frozenset({"", "APPROVED", "REJECTED", "PAUSED", "REINSTATED"})

# A flagged template that does not recover is disabled 7 days later (DESIGN.md §3).
FLAGGED_GRACE = timedelta(days=7)

# Statuses and changes admins are told about in-app and by e-mail.
ALARMING_STATUSES = frozenset({"REJECTED", "PAUSED", "FLAGGED", "DISABLED"})

# Revision states in which the author may still change the text before asking for approval.
WRITABLE_REVISION_STATES = frozenset({"draft", "changes_requested"})
# Revision states still on their way: while one exists, no other revision can be started.
OPEN_REVISION_STATES = frozenset({"draft", "changes_requested", "in_review", "approved", "submitted"})


@dataclass(frozen=True)
class Sendability:
    """May this template be sent now, and if not, the sentence that says why."""

    sendable: bool
    why_not: str = ""


def sendability(*, status: str, has_live_revision: bool) -> Sendability:
    """Only a template WhatsApp approved (and whose approved content we hold) may go out."""
    if status == "DISABLED":
        return Sendability(False, "WhatsApp disabled this template for low quality: pick another template.")
    if status == "PAUSED":
        return Sendability(False, "WhatsApp paused this template for low quality: pick another template for now.")
    if not has_live_revision or status not in SENDABLE_STATUSES:
        return Sendability(False, "WhatsApp has not approved this template: only approved templates can be sent.")
    return Sendability(True)


def may_edit(*, status: str, open_revision_state: str | None) -> tuple[bool, str]:
    """Can the template get new content now? (allowed, why not). A disabled template is frozen; WhatsApp
    refuses edits outside APPROVED/REJECTED/PAUSED; one revision at a time is on its way."""
    if status == "DISABLED":
        return False, "A disabled template can no longer be edited: create a new template instead."
    if status not in EDITABLE_STATUSES:
        return False, "WhatsApp only allows editing approved, rejected or paused templates."
    if open_revision_state is not None and open_revision_state not in WRITABLE_REVISION_STATES:
        return False, "A revision of this template is already being reviewed: wait for its decision."
    return True, ""


def may_review(*, reviewer_id: int, reviewer_is_admin: bool, author_id: int | None) -> tuple[bool, str]:
    """Four eyes: an admin other than the author approves or rejects."""
    if not reviewer_is_admin:
        return False, "Only admins approve templates."
    if author_id is not None and reviewer_id == author_id:
        return False, "Another admin must review this template: nobody approves their own."
    return True, ""


def disabled_by(*, flagged_at: datetime | None, disable_at: datetime | None) -> datetime | None:
    """When a flagged template will be disabled: WhatsApp's date if it gave one, else 7 days after the flag."""
    if disable_at is not None:
        return disable_at
    if flagged_at is not None:
        return flagged_at + FLAGGED_GRACE
    return None


def time_left(deadline: datetime | None, *, now: datetime) -> timedelta | None:
    """What remains before a deadline (never negative); None without one."""
    if deadline is None:
        return None
    return max(deadline - now, timedelta(0))


def is_newer(occurred_at: datetime | None, *, last_applied_at: datetime | None) -> bool:
    """Template webhooks may arrive late or twice: apply a status only when it is not older than the one
    already applied (a change without a time always applies)."""
    return occurred_at is None or last_applied_at is None or occurred_at >= last_applied_at
