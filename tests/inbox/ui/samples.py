"""Messages of every kind, with `content` shaped as the webhook parser stores WhatsApp's payload objects
(whatsapp-cloud-api.md §8): the type's own object, plus `context`, `referral` and `errors` where Meta
sends them. Used by the rendering tests and to fill a development inbox for screenshots."""

from datetime import datetime, timedelta

from django.utils import timezone

from inbox.models import Conversation, Direction, Message, MessageStatus
from tests.factories import MessageFactory


def every_kind(conversation: Conversation, *, start: datetime | None = None) -> dict[str, Message]:
    """One thread holding every kind of message, a minute apart, keyed by a short name."""
    clock = iter(range(1000))
    start = start or timezone.now() - timedelta(hours=3)

    def at() -> datetime:
        return start + timedelta(minutes=next(clock))

    def inbound(type: str, content: dict, text: str = "", **extra) -> Message:
        return MessageFactory(conversation=conversation, type=type, content=content, text=text, timestamp=at(), **extra)

    def outbound(type: str, content: dict, text: str, status: str, **extra) -> Message:
        return MessageFactory(
            conversation=conversation,
            direction=Direction.OUTBOUND,
            type=type,
            content=content,
            text=text,
            status=status,
            timestamp=at(),
            **extra,
        )

    m: dict[str, Message] = {}
    m["welcome"] = inbound("request_welcome", {})
    m["ad"] = inbound(
        "text",
        {
            "body": "Hi! I saw your ad, is the blue one still available?",
            "referral": {
                "source_url": "https://fb.me/3cr4Wqqkv",
                "source_id": "120214488",
                "source_type": "ad",
                "headline": "Summer sale: 20% off every jacket",
                "body": "Only this week in our Lisbon store.",
                "media_type": "image",
                "image_url": "https://scontent.example/ad.jpg",
                "ctwa_clid": "ARAkLkA8rmlFeiCktEJQ",
            },
        },
        "Hi! I saw your ad, is the blue one still available?",
    )
    m["reply_text"] = outbound(
        "text", {"body": "Hello! Yes, in M and L."}, "Hello! Yes, in M and L.", MessageStatus.READ
    )
    m["image"] = inbound(
        "image",
        {"id": "1479537139650973", "mime_type": "image/jpeg", "sha256": "Ml5XFHHwMq", "caption": "This one?"},
        "This one?",
    )
    m["quoted"] = inbound(
        "text",
        {"body": "And in red?", "context": {"from": "15550783881", "id": m["reply_text"].provider_message_id}},
        "And in red?",
        reply_to_provider_id=m["reply_text"].provider_message_id,
    )
    m["forwarded"] = inbound(
        "text",
        {"body": "My friend sent me this", "context": {"forwarded": True}},
        "My friend sent me this",
    )
    m["sticker"] = inbound("sticker", {"id": "2211", "mime_type": "image/webp", "animated": False})
    m["video"] = inbound("video", {"id": "3311", "mime_type": "video/mp4", "caption": "Unboxing"}, "Unboxing")
    m["voice"] = inbound("audio", {"id": "4411", "mime_type": "audio/ogg; codecs=opus", "voice": True})
    m["document"] = inbound(
        "document",
        {"id": "5511", "mime_type": "application/pdf", "filename": "invoice-2291.pdf", "caption": "My invoice"},
        "My invoice",
    )
    m["location"] = inbound(
        "location",
        {"latitude": 38.7075, "longitude": -9.1364, "name": "Praça do Comércio", "address": "1100-148 Lisboa"},
        "Praça do Comércio",
    )
    m["contacts"] = inbound(
        "contacts",
        {
            "contacts": [
                {
                    "name": {"formatted_name": "Maria Silva", "first_name": "Maria", "last_name": "Silva"},
                    "phones": [{"phone": "+351 912 345 678", "wa_id": "351912345678", "type": "CELL"}],
                    "emails": [{"email": "maria@example.com", "type": "WORK"}],
                    "org": {"company": "Acme Lda", "title": "Buyer"},
                }
            ]
        },
        "Maria Silva",
    )
    m["buttons_sent"] = outbound(
        "interactive",
        {
            "type": "button",
            "body": {"text": "Shall we reserve it for you?"},
            "action": {"buttons": [{"type": "reply", "reply": {"id": "yes", "title": "Yes please"}}]},
        },
        "Shall we reserve it for you?",
        MessageStatus.DELIVERED,
    )
    m["button_reply"] = inbound(
        "interactive",
        {
            "type": "button_reply",
            "button_reply": {"id": "yes", "title": "Yes please"},
            "context": {"from": "15550783881", "id": m["buttons_sent"].provider_message_id},
        },
        "Yes please",
        reply_to_provider_id=m["buttons_sent"].provider_message_id,
    )
    m["list_reply"] = inbound(
        "interactive",
        {"type": "list_reply", "list_reply": {"id": "slot-2", "title": "Tomorrow 10:00", "description": "Morning"}},
        "Tomorrow 10:00",
    )
    m["template_button"] = inbound("button", {"payload": "STOP_PROMOS", "text": "Stop promotions"}, "Stop promotions")
    m["order"] = inbound(
        "order",
        {
            "catalog_id": "1043892",
            "text": "Please gift-wrap",
            "product_items": [
                {"product_retailer_id": "JACKET-BLUE-M", "quantity": 1, "item_price": 79.9, "currency": "EUR"},
                {"product_retailer_id": "SCARF-RED", "quantity": 2, "item_price": 15, "currency": "EUR"},
            ],
        },
        "Please gift-wrap",
    )
    m["reaction"] = inbound("reaction", {"message_id": m["reply_text"].provider_message_id, "emoji": "❤️"})
    m["edited"] = inbound(
        "text",
        {"body": "See you at 10:30", "previous_texts": ["See you at 10"]},
        "See you at 10:30",
        edited_at=timezone.now(),
    )
    m["edit"] = inbound(
        "edit",
        {
            "original_message_id": m["edited"].provider_message_id,
            "message": {"type": "text", "text": {"body": "See you at 10:30"}},
        },
        "See you at 10:30",
    )
    m["revoked"] = inbound("text", {"body": "oops wrong chat"}, "oops wrong chat", revoked_at=timezone.now())
    m["revoke"] = inbound("revoke", {"original_message_id": m["revoked"].provider_message_id})
    m["system"] = inbound(
        "system",
        {"type": "user_changed_number", "body": "User A changed from 15550001 to 15550002", "wa_id": "15550002"},
        "User A changed from 15550001 to 15550002",
    )
    m["unsupported"] = inbound(
        "unsupported",
        {
            "unsupported": {"type": "poll"},
            "errors": [
                {
                    "code": 131051,
                    "title": "Message type unknown",
                    "message": "Message type unknown",
                    "error_data": {"details": "Message type is currently not supported."},
                }
            ],
        },
        "Message type unknown",
        error_code=131051,
        error_title="Message type unknown",
        error_details="Message type is currently not supported.",
    )
    m["template"] = outbound(
        "template",
        {"name": "order_update", "language": {"code": "en_US"}},
        "Your order 2291 has shipped.",
        MessageStatus.DELIVERED,
    )
    m["sent"] = outbound("text", {"body": "We will ship today."}, "We will ship today.", MessageStatus.SENT)
    m["queued"] = outbound(
        "text", {"body": "Anything else?"}, "Anything else?", MessageStatus.QUEUED, provider_message_id=None
    )
    m["failed"] = outbound(
        "text",
        {"body": "Are you still there?"},
        "Are you still there?",
        MessageStatus.FAILED,
        error_code=131047,
        error_title="Re-engagement message",
        error_details="Message failed to send because more than 24 hours have passed since the customer last replied.",
    )
    return m
