"""`GET|POST /webhooks/whatsapp`: one URL for every number, exactly as Meta calls it.

Kept lean: no parsing beyond routing, one insert, answer. The work happens in a worker."""

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from inbox.services.webhooks import webhook_receive, webhook_verify_subscription

_CODES = {200: "stored", 400: "malformed_payload", 401: "invalid_signature"}


@csrf_exempt
def whatsapp_webhook(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        challenge = request.GET.get("hub.challenge")
        if webhook_verify_subscription(
            mode=request.GET.get("hub.mode"), verify_token=request.GET.get("hub.verify_token"), challenge=challenge
        ):
            return HttpResponse(challenge, content_type="text/plain")
        return JsonResponse({"code": "verification_failed", "detail": "Wrong mode or verify token."}, status=403)
    if request.method != "POST":
        return HttpResponseNotAllowed(["GET", "POST"])
    raw_body = _raw_body(request)
    if raw_body is None:
        return JsonResponse(
            {"code": "payload_too_large", "detail": "Meta never sends more than 3 MB in one delivery."}, status=413
        )
    receipt = webhook_receive(raw_body=raw_body, signature_header=request.headers.get("X-Hub-Signature-256"))
    return JsonResponse({"code": _CODES[receipt.http_status], "detail": receipt.detail}, status=receipt.http_status)


def _raw_body(request: HttpRequest) -> bytes | None:
    """The body exactly as sent (the signature covers these bytes), or None when it is larger than Meta's
    3 MB (plus a little slack, `DATA_UPLOAD_MAX_MEMORY_SIZE`). Read with a bound rather than through
    `request.body`, which trusts Content-Length and would read a chunked upload of any size."""
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        return None
    raw_body = request.read(limit + 1)
    return None if len(raw_body) > limit else raw_body
