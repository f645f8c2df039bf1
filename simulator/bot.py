"""A tiny demo bot speaking Switchboard's bot-hook contract (README, "Automations and the way to a person"),
at /simulator/bot/. It answers questions about opening hours, prices and orders in English, says it did not
understand anything else, and hands over when asked. Requests must carry Switchboard's signature made with
DEMO_BOT_SECRET. A 404 when SIMULATOR_ENABLED is off, like the rest of the simulator."""

import hashlib
import hmac
import json

from django.conf import settings
from django.http import Http404, HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from inbox.policy import normalise_keyword

# The shared secret the seeded sandbox channel uses for this bot (a sandbox, never a production secret).
DEMO_BOT_SECRET = "sandbox-bot-secret"

_MENU = [
    {"id": "demo_hours", "title": "Opening hours"},
    {"id": "demo_price", "title": "Prices"},
    {"id": "demo_order", "title": "My order"},
]
_ANSWERS = {
    "hours": "We are open Monday to Friday, 9:00 to 18:00, and Saturday 10:00 to 14:00.",
    "price": "Our plans start at 9 € a month; the full price list is at example.com/prices.",
    "order": "Orders ship within 2 working days. Send me your order number and I will look it up.",
}
_WORDS = {
    "hours": {"hours", "open", "opening", "closing", "when"},
    "price": {"price", "prices", "cost", "costs", "how much", "plan", "plans"},
    "order": {"order", "orders", "delivery", "shipping", "parcel", "tracking"},
}
_HANDOVER_WORDS = {"human", "person", "agent", "operator", "someone", "people"}


def _topic(text: str, button_id: str) -> str | None:
    if button_id.startswith("demo_") and button_id[5:] in _ANSWERS:
        return button_id[5:]
    said = f" {normalise_keyword(text)} "
    for topic, words in _WORDS.items():
        if any(f" {word} " in said for word in words):
            return topic
    return None


def answer(event: dict) -> dict:
    """The bot's answer to one event (pure: the tests call it directly)."""
    message = event.get("message") if isinstance(event.get("message"), dict) else {}
    text = str(message.get("text") or "")
    button_id = str(message.get("button_id") or "")
    words = set(normalise_keyword(text).split())
    if words & _HANDOVER_WORDS:
        return {"handover": True, "understood": True}
    topic = _topic(text, button_id)
    if topic is None:
        return {
            "reply": {
                "text": "Sorry, I did not get that. I can help with our opening hours, prices or your order.",
                "buttons": _MENU[:2],
            },
            "handover": False,
            "understood": False,
        }
    others = [button for button in _MENU if button["id"] != f"demo_{topic}"]
    return {"reply": {"text": _ANSWERS[topic], "buttons": others}, "handover": False, "understood": True}


@csrf_exempt
@require_POST
def demo_bot(request: HttpRequest) -> JsonResponse:
    if not settings.SIMULATOR_ENABLED:
        raise Http404
    expected = "sha256=" + hmac.new(DEMO_BOT_SECRET.encode(), request.body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, request.headers.get("X-Switchboard-Signature", "")):
        return JsonResponse({"code": "invalid_signature", "detail": "The signature does not match."}, status=401)
    try:
        event = json.loads(request.body)
    except ValueError:
        return JsonResponse({"code": "invalid_json", "detail": "The body is not valid JSON."}, status=400)
    if not isinstance(event, dict) or event.get("event") != "message":
        return JsonResponse({"code": "invalid_event", "detail": "Only `message` events are answered."}, status=400)
    return JsonResponse(answer(event))
