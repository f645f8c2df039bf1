"""`GET|POST /webhooks/whatsapp`: one URL for every number, exactly as Meta calls it.

Kept lean: no parsing beyond routing, one insert, answer. The work happens in a worker."""

from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from inbox.services.webhooks import webhook_receive, webhook_verify_subscription


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
    receipt = webhook_receive(raw_body=request.body, signature_header=request.headers.get("X-Hub-Signature-256"))
    codes = {200: "stored", 400: "malformed_payload", 401: "invalid_signature"}
    return JsonResponse({"code": codes[receipt.http_status], "detail": receipt.detail}, status=receipt.http_status)
