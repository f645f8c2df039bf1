"""Identity changes: a customer's new number or WhatsApp identity holds outbound messages until an agent
acknowledges it."""

from inbox.models import Message


def inbound_message_apply(*, message: Message) -> None:
    """A `system` message about a changed number or identity puts the contact on hold. (To be built.)"""
