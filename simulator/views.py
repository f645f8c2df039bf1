"""The customer phone page (with its templates panel) and the control API (/simulator/api/...). Sandbox:
no login, no CSRF on the JSON API; every URL is a 404 when SIMULATOR_ENABLED is off. Views parse input,
call one service, render."""

import json
import mimetypes
from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from inbox.models import Channel
from inbox.services.sandbox import is_sandbox_channel
from simulator import health_rules, rules, selectors, services
from simulator.errors import GraphError
from simulator.models import (
    QualityScore,
    RejectionReason,
    SimulatedCustomer,
    SimulatedTemplate,
    TemplateCategory,
)
from simulator.services import ControlError, Upload
from simulator.template_review import PAUSE_TITLES

# Files a browser may show inline from the customer page; anything else downloads.
_INLINE_TYPES = frozenset({"image/jpeg", "image/png", "image/webp"})


def _enabled(view: Callable) -> Callable:
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not settings.SIMULATOR_ENABLED:
            raise Http404
        return view(request, *args, **kwargs)

    return wrapper


def control_api(*methods: str) -> Callable:
    """A control API endpoint: JSON in and out, errors as {"code", "detail"}."""

    def decorator(view: Callable) -> Callable:
        @csrf_exempt
        @_enabled
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if request.method not in methods:
                detail = f"Use {' or '.join(methods)}."
                return JsonResponse({"code": "method_not_allowed", "detail": detail}, status=405)
            try:
                return view(request, *args, **kwargs)
            except ControlError as error:
                return JsonResponse({"code": error.code, "detail": error.detail}, status=error.http_status)

        return wrapper

    return decorator


def _data(request: HttpRequest) -> dict[str, Any]:
    content_type = request.content_type or ""
    if content_type.startswith(("multipart/", "application/x-www-form-urlencoded")):
        return request.POST.dict()
    try:
        data = json.loads(request.body or b"{}")
    except ValueError:
        raise ControlError("invalid_json", "The body is not valid JSON.")
    if not isinstance(data, dict):
        raise ControlError("invalid_json", "The body must be a JSON object.")
    return data


def _field(data: dict[str, Any], key: str) -> str:
    value = data.get(key)
    if value is None or str(value).strip() == "":
        raise ControlError("missing_field", f"{key} is required.")
    return str(value).strip()


def _flag(value: Any) -> bool | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    return str(value).lower() in ("1", "true", "yes", "on")


def _positive(data: dict[str, Any], key: str, kind: type) -> Any:
    if data.get(key) is None:
        return None
    try:
        value = kind(data[key])
    except (TypeError, ValueError):
        raise ControlError("invalid_field", f"{key} must be a number.")
    if value <= 0:
        raise ControlError("invalid_field", f"{key} must be greater than zero.")
    return value


def _upload(request: HttpRequest, data: dict[str, Any]) -> Upload | None:
    file = request.FILES.get("file")
    if file is not None:
        mime_type = str(data.get("mime_type") or file.content_type or mimetypes.guess_type(file.name or "")[0] or "")
        return Upload(file=file, filename=file.name or "", mime_type=mime_type)
    if data.get("file_base64"):
        filename = str(data.get("filename") or "")
        mime_type = str(data.get("mime_type") or mimetypes.guess_type(filename)[0] or "")
        return services.upload_from_base64(data=str(data["file_base64"]), filename=filename, mime_type=mime_type)
    return None


# Control API


@control_api("POST")
def api_inbound(request: HttpRequest) -> HttpResponse:
    data = _data(request)
    channel = services.simulated_channel(_field(data, "phone_number_id"))
    message = services.inbound_message(
        channel=channel,
        wa_id=_field(data, "from"),
        name=data.get("name"),
        kind=str(data.get("type") or "text"),
        fields=data,
        upload=_upload(request, data),
    )
    return JsonResponse({"message_id": message.wamid})


@control_api("GET")
def api_outbound(request: HttpRequest) -> HttpResponse:
    channel = services.simulated_channel(_field(request.GET, "phone_number_id"))
    wa_id = rules.normalise_phone(_field(request.GET, "to")) or ""
    customer = SimulatedCustomer.objects.filter(channel=channel, wa_id=wa_id).first()
    return JsonResponse({"messages": selectors.outbound_messages(customer=customer)})


@control_api("POST")
def api_read(request: HttpRequest) -> HttpResponse:
    data = _data(request)
    channel = services.simulated_channel(_field(data, "phone_number_id"))
    count = services.customer_read(channel=channel, wa_id=_field(data, "wa_id"))
    return JsonResponse({"read": count})


@control_api("GET", "POST")
def api_customers(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        channel = services.simulated_channel(_field(request.GET, "phone_number_id"))
        customers = SimulatedCustomer.objects.filter(channel=channel).order_by("name", "wa_id")
        return JsonResponse({"customers": [selectors.customer_summary(c) for c in customers]})
    data = _data(request)
    channel = services.simulated_channel(_field(data, "phone_number_id"))
    name = data.get("name")
    customer = services.customer_upsert(
        channel=channel,
        wa_id=_field(data, "wa_id"),
        name=str(name) if name is not None else None,
        unreachable=_flag(data.get("unreachable")),
    )
    return JsonResponse(selectors.customer_summary(customer))


@control_api("POST")
def api_age(request: HttpRequest) -> HttpResponse:
    data = _data(request)
    channel = services.simulated_channel(_field(data, "phone_number_id"))
    hours = _positive(data, "hours", float)
    if hours is None:
        raise ControlError("missing_field", "hours is required.")
    customer, moved = services.conversation_age(channel=channel, wa_id=_field(data, "wa_id"), hours=hours)
    return JsonResponse({**selectors.customer_summary(customer), "conversations_moved": moved})


@control_api("GET", "POST")
def api_number_limits(request: HttpRequest, phone_number_id: str) -> HttpResponse:
    channel = services.simulated_channel(phone_number_id)
    if request.method == "POST":
        data = _data(request)
        number = services.number_limits_set(
            channel=channel,
            throughput_per_second=_positive(data, "throughput_per_second", int),
            pair_burst=_positive(data, "pair_burst", int),
            pair_refill_seconds=_positive(data, "pair_refill_seconds", float),
        )
    else:
        number = services.number_for(channel)
    return JsonResponse(
        {
            "phone_number_id": channel.phone_number_id,
            "throughput_per_second": number.throughput_per_second,
            "pair_burst": number.pair_burst,
            "pair_refill_seconds": number.pair_refill_seconds,
        }
    )


# Control API: number health and customer actions


def _number_action(channel: Channel, action: str, data: dict[str, Any]) -> tuple[str, ...]:
    """One of a person's actions on a number's health, by name (the page and the API share it). Returns
    the health events it sent."""
    if action == "review":
        return services.number_health_review(channel=channel)
    if action == "flag":
        services.number_flag(channel=channel)
        return ("FLAGGED",)
    if action == "fast_forward":
        return services.number_review_fast_forward(channel=channel)
    if action == "restrict":
        hours = _positive(data, "hours", float)
        if hours is None:
            raise ControlError("missing_field", "hours is required.")
        services.number_restrict(channel=channel, hours=hours)
        return ("ACCOUNT_RESTRICTION",)
    if action == "unrestrict":
        services.number_unrestrict(channel=channel)
        return ()
    if action == "tier":
        services.number_tier_set(channel=channel, tier=_field(data, "tier").upper())
        return ()
    if action == "throughput":
        services.number_throughput_set(channel=channel, level=_field(data, "level").upper())
        return ()
    if action == "thresholds":
        min_signals = _positive(data, "min_signals", int)
        return services.number_thresholds_set(
            channel=channel,
            yellow_percent=_positive(data, "yellow_percent", float),
            red_percent=_positive(data, "red_percent", float),
            min_signals=min_signals,
        )
    raise ControlError("unknown_action", f"There is no number action {action!r}.", 404)


def _customer_action(channel: Channel, wa_id: str, action: str, data: dict[str, Any]) -> SimulatedCustomer:
    """One of the customer's actions about the business, by name (the page and the API share it)."""
    if action in ("block", "unblock"):
        return services.customer_block(channel=channel, wa_id=wa_id, blocked=action == "block")
    if action == "report_no_human":
        return services.customer_report_no_human(channel=channel, wa_id=wa_id)
    if action in ("stop_marketing", "resume_marketing"):
        return services.customer_marketing_set(channel=channel, wa_id=wa_id, stop=action == "stop_marketing")
    if action == "change_number":
        return services.customer_change_number(channel=channel, wa_id=wa_id, new_wa_id=_field(data, "new_wa_id"))
    if action == "new_identity":
        return services.customer_identity_reset(channel=channel, wa_id=wa_id)
    raise ControlError("unknown_action", f"There is no customer action {action!r}.", 404)


@control_api("GET")
def api_number_health(request: HttpRequest, phone_number_id: str) -> HttpResponse:
    channel = services.simulated_channel(phone_number_id)
    return JsonResponse(selectors.number_health(services.number_for(channel)))


@control_api("POST")
def api_number_health_action(request: HttpRequest, phone_number_id: str, action: str) -> HttpResponse:
    channel = services.simulated_channel(phone_number_id)
    events = _number_action(channel, action, _data(request))
    return JsonResponse({**selectors.number_health(services.number_for(channel)), "events": list(events)})


@control_api("POST")
def api_customer_action(request: HttpRequest, action: str) -> HttpResponse:
    data = _data(request)
    channel = services.simulated_channel(_field(data, "phone_number_id"))
    customer = _customer_action(channel, _field(data, "wa_id"), action, data)
    return JsonResponse(selectors.customer_state(customer))


# Control API: templates


def _template_action(template: SimulatedTemplate, action: str, data: dict[str, Any]) -> SimulatedTemplate:
    """One of a person's actions on a template, by name, with its fields (the page and the API share it)."""
    if action == "approve":
        return services.template_approve(template=template)
    if action == "reject":
        return services.template_reject(template=template, reason=_field(data, "reason").upper())
    if action == "flag":
        return services.template_flag(template=template)
    if action == "pause":
        return services.template_pause(template=template, title=str(data.get("title") or "FIRST_PAUSE").upper())
    if action == "unpause":
        return services.template_unpause(template=template)
    if action == "disable":
        return services.template_disable(template=template)
    if action == "reinstate":
        return services.template_reinstate(template=template)
    if action == "quality":
        return services.template_quality_set(template=template, score=_field(data, "score").upper())
    if action == "category":
        return services.template_category_set(
            template=template, category=_field(data, "category").upper(), impending=bool(_flag(data.get("impending")))
        )
    raise ControlError("unknown_action", f"There is no template action {action!r}.", 404)


def _waba_of(source: Any) -> str:
    """The WABA a request names: `waba_id`, or the WABA of `phone_number_id`."""
    if source.get("waba_id"):
        return services.simulated_waba(str(source["waba_id"]))
    return services.simulated_channel(_field(source, "phone_number_id")).waba_id


@control_api("GET", "POST")
def api_templates(request: HttpRequest) -> HttpResponse:
    """List a WABA's templates, or put one in its registry (approved at once unless `"status":"PENDING"`)."""
    if request.method == "GET":
        waba_id = _waba_of(request.GET)
        templates = SimulatedTemplate.objects.filter(waba_id=waba_id).order_by("id")
        return JsonResponse({"waba_id": waba_id, "templates": [selectors.template_summary(t) for t in templates]})
    data = _data(request)
    waba_id = _waba_of(data)
    status = str(data.get("status") or "APPROVED").upper()
    if status not in ("APPROVED", "PENDING"):
        raise ControlError(
            "invalid_status", "status must be APPROVED (the default) or PENDING (reviewed as Meta would)."
        )
    try:
        template = services.template_create(
            waba_id=waba_id,
            name=data.get("name"),
            language=data.get("language"),
            category=data.get("category"),
            components=data.get("components"),
            parameter_format=data.get("parameter_format"),
            allow_category_change=data.get("allow_category_change"),
            approved=status == "APPROVED",
        )
    except GraphError as error:
        raise ControlError("invalid_template", error.user_msg or str(error))
    return JsonResponse(selectors.template_summary(template), status=201)


@control_api("GET")
def api_template(request: HttpRequest, template_id: str) -> HttpResponse:
    return JsonResponse(selectors.template_summary(services.template_get(template_id=template_id)))


@control_api("POST")
def api_template_action(request: HttpRequest, template_id: str, action: str) -> HttpResponse:
    template = services.template_get(template_id=template_id)
    template = _template_action(template, action, _data(request))
    return JsonResponse(selectors.template_summary(template))


# The customer phone page


def _phone_url(number: str = "", customer: str = "") -> str:
    query = urlencode({key: value for key, value in (("number", number), ("customer", customer)) if value})
    return reverse("simulator:phone") + (f"?{query}" if query else "")


def _selection(source: Any) -> tuple[Channel, SimulatedCustomer | None]:
    channel = services.simulated_channel(str(source.get("number") or ""))
    wa_id = rules.normalise_phone(str(source.get("customer") or ""))
    customer = SimulatedCustomer.objects.filter(channel=channel, wa_id=wa_id).first() if wa_id else None
    return channel, customer


def _thread_context(customer: SimulatedCustomer, error: str = "") -> dict[str, Any]:
    now = timezone.now()
    customer.refresh_from_db()
    return {
        "number": customer.channel,
        "customer": customer,
        "bubbles": selectors.thread(customer),
        "version": selectors.thread_version(customer, now=now),
        "business_typing": bool(customer.business_typing_until and customer.business_typing_until > now),
        "window_open": rules.is_service_window_open(customer.last_inbound_at, now=now),
        "error": error,
        "reaction_choices": ["👍", "❤️", "😂", "😮", "😢", "🙏"],
    }


@require_GET
@_enabled
def phone(request: HttpRequest) -> HttpResponse:
    context = _page_context(request.GET.get("number", ""), request.GET.get("customer", ""))
    return render(request, "simulator/phone.html", context)


def _page_context(
    wanted_number: str,
    wanted_customer: str,
    *,
    form_error: str = "",
    template_error: str = "",
    health_error: str = "",
    customer_error: str = "",
) -> dict[str, Any]:
    """The whole page: the numbers, the chosen number's customers and templates, the open chat, and the
    refusal a form met (new customer, template action)."""
    numbers = services.simulated_channels()
    number = next((n for n in numbers if n.phone_number_id == wanted_number), numbers[0] if numbers else None)
    customers = list(SimulatedCustomer.objects.filter(channel=number)) if number else []
    wa_id = rules.normalise_phone(wanted_customer)
    customer = next((c for c in customers if c.wa_id == wa_id), None)
    context: dict[str, Any] = {
        "numbers": numbers,
        "number": number,
        "customers": customers,
        "customer": customer,
        "form_error": form_error,
        "customer_error": customer_error,
    }
    if customer is not None:
        context.update(_thread_context(customer))
    if number is not None:
        context.update(_templates_context(number, template_error))
        context.update(_health_context(number, health_error))
    return context


def _health_context(number: Channel, error: str = "") -> dict[str, Any]:
    """The number panel: its health (reviewed first, so a due review shows), and the forms' choices."""
    services.number_health_review(channel=number)
    simulated = services.number_for(number)
    return {
        "health": selectors.number_health(simulated),
        "health_review_at": simulated.flagged_at + health_rules.FLAG_REVIEW_AFTER if simulated.flagged_at else None,
        "health_restricted_until": simulated.restricted_until,
        "health_error": error,
        "tiers": list(health_rules.TIERS),
        "throughput_levels": [str(level) for level in health_rules.ThroughputLevel],
    }


def _templates_context(number: Channel, error: str = "") -> dict[str, Any]:
    """The templates panel: the number's WABA's templates and the choices its forms offer."""
    return {
        "templates": selectors.template_rows(number.waba_id),
        "template_error": error,
        "rejection_reasons": [r for r in RejectionReason.values if r != RejectionReason.NONE],
        "pause_titles": list(PAUSE_TITLES),
        "quality_scores": QualityScore.values,
        "template_categories": TemplateCategory.values,
    }


def _open_chat_or_404(request: HttpRequest):
    """The number and customer the page's form names; a 404 when either is missing or unknown."""
    try:
        channel, customer = _selection(request.POST)
    except ControlError:
        raise Http404
    if customer is None:
        raise Http404
    return channel, customer


@require_POST
@_enabled
def phone_thread(request: HttpRequest) -> HttpResponse:
    """The chat, polled every second while the page is visible. Looking at it reads what was delivered."""
    channel, customer = _open_chat_or_404(request)
    services.customer_read(channel=channel, wa_id=customer.wa_id, delivered_only=True)
    context = _thread_context(customer)
    if request.POST.get("version") == context["version"]:
        return HttpResponse(status=204)
    return render(request, "simulator/_thread.html", context)


def _page_fields(request: HttpRequest) -> tuple[str, dict[str, Any], Upload | None]:
    """What the page's forms send, as the control API's inbound kind and fields."""
    fields = request.POST.dict()
    kind = fields.get("kind", "text")
    upload = None
    if kind == "attachment":
        file = request.FILES.get("file")
        if file is None:
            raise ControlError("missing_file", _("Choose a file to send."))
        mime_type = rules.normalise_mime_type(file.content_type or mimetypes.guess_type(file.name or "")[0] or "")
        kind = rules.media_kind(mime_type) or ""
        if not kind:
            raise ControlError("unsupported_media", _("WhatsApp cannot carry this kind of file (%s).") % mime_type)
        upload = Upload(file=file, filename=file.name or "", mime_type=mime_type)
    return kind, fields, upload


@require_POST
@_enabled
def phone_send(request: HttpRequest) -> HttpResponse:
    """The customer writes, shares, reacts or taps a button: the same path as POST /simulator/api/inbound."""
    channel, customer = _open_chat_or_404(request)
    error = ""
    try:
        kind, fields, upload = _page_fields(request)
        services.inbound_message(channel=channel, wa_id=customer.wa_id, kind=kind, fields=fields, upload=upload)
    except ControlError as exc:
        error = exc.detail
    if not request.htmx:
        return redirect(_phone_url(channel.phone_number_id, customer.wa_id))
    return render(request, "simulator/_thread.html", _thread_context(customer, error))


@require_POST
@_enabled
def phone_customer(request: HttpRequest) -> HttpResponse:
    """Create a customer (name and phone) or change one's name or reachability, then open the chat."""
    number = request.POST.get("number", "")
    try:
        channel = services.simulated_channel(number)
        customer = services.customer_upsert(
            channel=channel,
            wa_id=request.POST.get("wa_id", ""),
            name=request.POST.get("name", "").strip() or None,
            unreachable=_flag(request.POST.get("unreachable")) if "set_unreachable" in request.POST else None,
        )
    except ControlError as exc:
        context = _page_context(number, "", form_error=exc.detail)
        return render(request, "simulator/phone.html", context, status=400)
    return redirect(_phone_url(channel.phone_number_id, customer.wa_id))


@require_POST
@_enabled
def phone_age(request: HttpRequest) -> HttpResponse:
    """Fast-forward: the customer's last message moves a day into the past, so the window closes."""
    channel, customer = _open_chat_or_404(request)
    try:
        hours = float(request.POST.get("hours", "25"))
    except ValueError:
        hours = 25.0
    services.conversation_age(channel=channel, wa_id=customer.wa_id, hours=max(hours, 0.0))
    return redirect(_phone_url(channel.phone_number_id, customer.wa_id))


@require_GET
@_enabled
def phone_media(request: HttpRequest, media_id: str) -> HttpResponse:
    """A media file for the customer page's previews. Only raster images are shown inline."""
    media = services.media_lookup(media_id=media_id)
    if media is None or not is_sandbox_channel(media.channel):
        raise Http404
    inline = media.mime_type in _INLINE_TYPES
    response = FileResponse(
        media.file.open("rb"),
        content_type=media.mime_type if inline else "application/octet-stream",
        as_attachment=not inline,
        filename=media.filename or f"{media.media_id}",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@require_POST
@_enabled
def phone_template_action(request: HttpRequest, template_id: str, action: str) -> HttpResponse:
    """A person acts as Meta on a template (approve, reject, flag, pause, ...): the registry changes and the
    management webhook goes out. Back to the page, which explains a refusal."""
    number = request.POST.get("number", "")
    customer = request.POST.get("customer", "")
    try:
        template = services.template_get(template_id=template_id)
        _template_action(template, action, request.POST.dict())
    except ControlError as exc:
        context = _page_context(number, customer, template_error=exc.detail)
        return render(request, "simulator/phone.html", context, status=exc.http_status)
    return redirect(_phone_url(number, customer) + "#sim-templates")


@require_POST
@_enabled
def phone_number_action(request: HttpRequest, action: str) -> HttpResponse:
    """A person acts as Meta on the number's health (flag, restrict, fast-forward the review, ...): the
    number changes and the management webhooks go out. Back to the page, which explains a refusal."""
    number = request.POST.get("number", "")
    customer = request.POST.get("customer", "")
    try:
        _number_action(services.simulated_channel(number), action, request.POST.dict())
    except ControlError as exc:
        context = _page_context(number, customer, health_error=exc.detail)
        return render(request, "simulator/phone.html", context, status=exc.http_status)
    return redirect(_phone_url(number, customer) + "#sim-number-health")


@require_POST
@_enabled
def phone_customer_action(request: HttpRequest, action: str) -> HttpResponse:
    """The customer blocks the business, reports it, stops marketing, changes number or reinstalls
    WhatsApp. Back to the chat (at the new number after a number change)."""
    number = request.POST.get("number", "")
    wa_id = request.POST.get("customer", "")
    try:
        channel = services.simulated_channel(number)
        customer = _customer_action(channel, wa_id, action, request.POST.dict())
    except ControlError as exc:
        context = _page_context(number, wa_id, customer_error=exc.detail)
        return render(request, "simulator/phone.html", context, status=exc.http_status)
    return redirect(_phone_url(number, customer.wa_id))
