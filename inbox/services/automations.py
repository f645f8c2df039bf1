"""Automations: welcome, away and keyword replies, the bot hook, and the human escalation path."""

from datetime import datetime

from inbox.models import Conversation, Message


def inbound_message_apply(*, message: Message) -> None:
    """Answer a customer's message automatically when an automation applies. (To be built.)"""


def person_replied(*, conversation: Conversation, at: datetime) -> None:
    """A person wrote to the customer: people handle the conversation from now on and the escalation clock
    stops. (To be built.)"""
