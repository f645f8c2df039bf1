"""Automations: welcome, away and keyword replies, the bot hook, and the human escalation path."""

from inbox.models import Message


def inbound_message_apply(*, message: Message) -> None:
    """Answer a customer's message automatically when an automation applies. (To be built.)"""
