"""What follows a customer's new message, after it is stored (a task, so the webhook's processing stays
lean): identity changes first (they hold everything), then consent commands (STOP/START, an ad's referral),
then automations (a request for a person, welcome, away and keyword replies, the bot)."""

from inbox.models import Direction, Message
from inbox.services import automations, consent, identity


def inbound_message_follow_up(*, message_id: int) -> None:
    message = (
        Message.objects.select_related("conversation__contact", "channel")
        .filter(pk=message_id, direction=Direction.INBOUND)
        .first()
    )
    if message is None:
        return
    identity.inbound_message_apply(message=message)
    if consent.inbound_message_apply(message=message):
        return
    automations.inbound_message_apply(message=message)
