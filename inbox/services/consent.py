"""The consent ledger: who agreed to receive which kind of message, from where, and who withdrew.

Append-only (ConsentEvent rows are never updated); the latest event per purpose is the contact's state.
"""

from dataclasses import dataclass

from inbox.models import ConsentAction, ConsentEvent, ManagementEvent, Message


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


def inbound_message_apply(*, message: Message) -> bool:
    """STOP/START keywords, the ad referral, a first message. True when the message was a consent command
    (nothing else should answer it). (To be built.)"""
    return False


def user_preferences_apply(*, event: ManagementEvent) -> None:
    """Meta's `user_preferences` marketing stop/resume. (To be built.)"""
