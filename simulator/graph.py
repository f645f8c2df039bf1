"""The simulated Graph API under /simulator/graph/<version>/: Meta's paths, bodies, errors and headers
(shared/whatsapp-cloud-api.md §1-§5), for channels whose graph_api_base points here.

Every call is kept in the GraphRequest ledger. Views authenticate, call one service and shape the answer.
"""

import hmac
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode

from django.conf import settings
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, QueryDict
from django.urls import reverse
from django.utils.crypto import salted_hmac
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET

from inbox.models import Channel
from inbox.services.sandbox import is_sandbox_channel
from simulator import health_rules, profile, rules, selectors, services
from simulator.errors import GraphError, bad_token, fbtrace_id, invalid_parameter, invalid_template, unknown_object
from simulator.models import GraphRequest, MediaOwner, SimulatedMedia, SimulatedTemplate
from simulator.template_validation import parse_edit
from simulator.validation import ReadRequest, parse_send

# Media download URLs are valid for five minutes (§4).
MEDIA_URL_LIFETIME_SECONDS = 300
LEDGER_BODY_LIMIT = 100_000
# `GET /{waba_id}/message_templates` pages: Graph's default page size, and the most it serves at once.
TEMPLATES_PAGE_DEFAULT = 25
TEMPLATES_PAGE_MAX = 1000


@dataclass
class _Call:
    """What one request turned out to be about, for the headers and the ledger."""

    version: str = ""
    channel: Channel | None = None
    authorized: bool = False
    # X-Business-Use-Case-Usage's `type`: messaging calls, or the management API (templates).
    usage_type: str = "whatsapp"


Handler = Callable[[HttpRequest, str, _Call], dict | HttpResponse]


def _serve(request: HttpRequest, object_id: str, handler: Handler, version: str = "") -> HttpResponse:
    if not settings.SIMULATOR_ENABLED:
        raise Http404
    call = _Call(version=version)
    try:
        result = handler(request, object_id, call)
    except GraphError as error:
        result = _json_response(error.envelope(), error.http_status, call)
        result["WWW-Authenticate"] = f'OAuth "Facebook Platform" "invalid_request" "{error}"'
        error_code = error.code
    else:
        error_code = None
        if isinstance(result, dict):
            result = _json_response(result, 200, call)
    _record(request, call, result, error_code)
    return result


def _json_response(document: dict, status: int, call: _Call) -> HttpResponse:
    response = HttpResponse(services.meta_json(document), status=status, content_type="application/json; charset=UTF-8")
    response["X-Fb-Trace-Id"] = fbtrace_id()[:11]
    if call.version:
        served = rules.served_version(call.version)
        response["Facebook-Api-Version"] = served
        if served != call.version:
            response["X-Ad-Api-Version-Warning"] = (
                f"The call has been auto-upgraded to {served} as {call.version} will be deprecated."
            )
    if call.channel is not None:
        usage = {
            "type": call.usage_type,
            "call_count": 1,
            "total_cputime": 1,
            "total_time": 1,
            "estimated_time_to_regain_access": 0,
        }
        response["X-Business-Use-Case-Usage"] = json.dumps({call.channel.waba_id: [usage]}, separators=(",", ":"))
    return response


def _record(request: HttpRequest, call: _Call, response: HttpResponse, error_code: int | None) -> None:
    content_type = request.content_type or ""
    if content_type.startswith("multipart/"):
        files = {
            name: {"name": f.name, "size": f.size, "content_type": f.content_type} for name, f in request.FILES.items()
        }
        body = json.dumps({"fields": request.POST.dict(), "files": files})
    elif "/upload:" in request.path:
        # A Resumable Upload piece is a file's raw bytes.
        body = f"<{len(request.body)} bytes>"
    else:
        body = request.body[:LEDGER_BODY_LIMIT].decode("utf-8", errors="replace")
    if isinstance(response, FileResponse):
        response_body = f"<{response.get('Content-Length', '?')} bytes>"
    else:
        response_body = response.content[:LEDGER_BODY_LIMIT].decode("utf-8", errors="replace")
    GraphRequest.objects.create(
        channel=call.channel,
        method=request.method or "",
        path=request.path[:500],
        query=request.META.get("QUERY_STRING", ""),
        api_version=call.version,
        content_type=content_type[:200],
        body=body,
        authorized=call.authorized,
        response_status=response.status_code,
        response_body=response_body,
        error_code=error_code,
    )


def _token(request: HttpRequest) -> str:
    """`Authorization: Bearer <token>`, or `OAuth <token>` (what Resumable Upload's examples use), or the
    `access_token` query parameter."""
    header = request.headers.get("Authorization", "")
    for scheme in ("bearer ", "oauth "):
        if header[: len(scheme)].lower() == scheme:
            return header[len(scheme) :].strip()
    return request.GET.get("access_token", "")


def _authorise(request: HttpRequest, channel: Channel, call: _Call) -> None:
    """The Bearer token must be the channel's access token (190 otherwise, as for an invalid token)."""
    call.channel = channel
    token = _token(request)
    if not token or not hmac.compare_digest(token.encode(), channel.access_token.encode()):
        raise bad_token()
    call.authorized = True


def _number(object_id: str, request: HttpRequest, call: _Call) -> Channel:
    """The simulated number named in the path; unknown or real numbers do not exist for this Graph."""
    channel = Channel.objects.filter(phone_number_id=object_id).first()
    if channel is None or not is_sandbox_channel(channel):
        if not _token(request):
            raise bad_token()
        raise unknown_object(object_id, (request.method or "get").lower())
    _authorise(request, channel, call)
    return channel


def _waba(waba_id: str, request: HttpRequest, call: _Call) -> str:
    """A simulated WABA named in the path: the token must be the access token of one of its channels."""
    call.usage_type = "whatsapp_business_management"
    channels = services.simulated_waba_channels(waba_id)
    token = _token(request)
    if not channels:
        if not token:
            raise bad_token()
        raise unknown_object(waba_id, (request.method or "get").lower())
    match = next((c for c in channels if token and hmac.compare_digest(token.encode(), c.access_token.encode())), None)
    call.channel = match or channels[0]
    if match is None:
        raise bad_token()
    call.authorized = True
    return waba_id


def _body(request: HttpRequest) -> object:
    """JSON, or Graph's form encoding where nested objects arrive as JSON strings."""
    if (request.content_type or "").startswith("application/x-www-form-urlencoded"):
        return {key: _maybe_json(value) for key, value in QueryDict(request.body).items()}
    try:
        return json.loads(request.body or b"null")
    except ValueError:
        raise invalid_parameter("The request body is not valid JSON.")


def _maybe_json(value: str) -> object:
    if value[:1] in ("{", "["):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


# /{phone_number_id}/messages


@csrf_exempt
def messages(request: HttpRequest, version: str, object_id: str) -> HttpResponse:
    return _serve(request, object_id, _messages, version)


def _messages(request: HttpRequest, object_id: str, call: _Call) -> dict:
    channel = _number(object_id, request, call)
    if request.method != "POST":
        raise unknown_object(object_id, (request.method or "get").lower())
    parsed = parse_send(_body(request))
    if isinstance(parsed, ReadRequest):
        services.message_mark_read(channel=channel, request=parsed)
        return {"success": True}
    message = services.message_send(channel=channel, request=parsed, api_version=call.version)
    sent: dict = {"id": message.wamid}
    if parsed.type == "template":
        sent["message_status"] = "accepted"
    return {
        "messaging_product": "whatsapp",
        "contacts": [{"input": parsed.to_input, "wa_id": parsed.wa_id}],
        "messages": [sent],
    }


# /{phone_number_id}/media


@csrf_exempt
def media_upload(request: HttpRequest, version: str, object_id: str) -> HttpResponse:
    return _serve(request, object_id, _media_upload, version)


def _media_upload(request: HttpRequest, object_id: str, call: _Call) -> dict:
    channel = _number(object_id, request, call)
    if request.method != "POST":
        raise unknown_object(object_id, (request.method or "get").lower())
    product = request.POST.get("messaging_product")
    if product is None:
        raise invalid_parameter("The parameter messaging_product is required.")
    if product != "whatsapp":
        raise invalid_parameter(f'Param messaging_product must be one of {{WHATSAPP}} - got "{product}".')
    upload = request.FILES.get("file")
    if upload is None:
        raise invalid_parameter("The parameter file is required.")
    mime_type = rules.normalise_mime_type(request.POST.get("type") or upload.content_type or "")
    if rules.media_kind(mime_type) is None:
        allowed = ", ".join(rules.supported_mime_types())
        raise invalid_parameter(
            f"Param file must be a file with one of the following types: {allowed}. Received {mime_type}."
        )
    try:
        media = services.media_store(
            channel=channel,
            upload=services.Upload(file=upload, filename=upload.name or "", mime_type=mime_type),
            owner=MediaOwner.BUSINESS,
        )
    except services.MediaRefused as exc:
        raise GraphError(code=131053, details=str(exc))
    return {"id": media.media_id}


# /{waba_id}/message_templates


@csrf_exempt
def message_templates(request: HttpRequest, version: str, object_id: str) -> HttpResponse:
    return _serve(request, object_id, _message_templates, version)


def _message_templates(request: HttpRequest, object_id: str, call: _Call) -> dict:
    waba_id = _waba(object_id, request, call)
    if request.method == "GET":
        return _templates_page(request, waba_id)
    if request.method == "POST":
        body = _body(request)
        if not isinstance(body, dict):
            raise invalid_template("Invalid request", "The request body must be a JSON object.")
        template = services.template_create(
            waba_id=waba_id,
            name=body.get("name"),
            language=body.get("language"),
            category=body.get("category"),
            components=body.get("components"),
            parameter_format=body.get("parameter_format"),
            allow_category_change=body.get("allow_category_change"),
        )
        return {"id": template.template_id, "status": template.status, "category": template.category}
    if request.method == "DELETE":
        # Meta's clients put name and hsm_id in the query string; some send them in the body.
        params = request.GET if request.GET.get("name") or not request.body else _body(request)
        if not isinstance(params, dict):
            raise invalid_template("Invalid request", "The request body must be a JSON object.")
        services.template_delete(waba_id=waba_id, name=params.get("name"), hsm_id=params.get("hsm_id"))
        return {"success": True}
    raise unknown_object(object_id, (request.method or "get").lower())


def _templates_page(request: HttpRequest, waba_id: str) -> dict:
    """One page of the WABA's templates, oldest first, with Graph's cursors (`{"data":[]}` when empty).
    Filters: `name` (a part of the name), `language`, `status`, `category`; `fields` picks the fields."""
    try:
        limit = int(request.GET.get("limit") or TEMPLATES_PAGE_DEFAULT)
    except ValueError:
        raise invalid_parameter("Param limit must be an integer.")
    limit = max(1, min(limit, TEMPLATES_PAGE_MAX))
    templates = SimulatedTemplate.objects.filter(waba_id=waba_id).order_by("id")
    if request.GET.get("name"):
        templates = templates.filter(name__icontains=request.GET["name"])
    if request.GET.get("language"):
        templates = templates.filter(language=request.GET["language"])
    if request.GET.get("status"):
        templates = templates.filter(status=request.GET["status"].upper())
    if request.GET.get("category"):
        templates = templates.filter(category=request.GET["category"].upper())
    rows = list(templates)
    start = 0
    if request.GET.get("after"):
        start = _cursor(request.GET["after"]) + 1
    elif request.GET.get("before"):
        start = max(0, _cursor(request.GET["before"]) - limit)
    page = rows[start : start + limit]
    if not page:
        return {"data": []}
    fields = _fields(request)
    end = start + len(page) - 1
    paging: dict = {"cursors": {"before": rules.graph_cursor(start), "after": rules.graph_cursor(end)}}
    if end + 1 < len(rows):
        paging["next"] = _page_url(request, after=rules.graph_cursor(end))
    if start > 0:
        paging["previous"] = _page_url(request, before=rules.graph_cursor(start))
    return {"data": [selectors.template_object(t, fields=fields) for t in page], "paging": paging}


def _cursor(cursor: str) -> int:
    position = rules.graph_cursor_position(cursor)
    if position is None:
        raise invalid_parameter("Param after/before is not a valid cursor.")
    return position


def _page_url(request: HttpRequest, **cursor: str) -> str:
    query = {key: value for key, value in request.GET.items() if key not in ("after", "before", "access_token")}
    return request.build_absolute_uri(request.path) + "?" + urlencode({**query, **cursor})


def _fields(request: HttpRequest) -> list[str] | None:
    fields = [field.strip() for field in request.GET.get("fields", "").split(",") if field.strip()]
    return fields or None


# /{media_id}, /{template_id} and /{phone_number_id}


@csrf_exempt
def node(request: HttpRequest, version: str, object_id: str) -> HttpResponse:
    return _serve(request, object_id, _node, version)


def _node(request: HttpRequest, object_id: str, call: _Call) -> dict:
    method = (request.method or "get").lower()
    media = services.media_lookup(media_id=object_id)
    if media is not None and is_sandbox_channel(media.channel):
        _authorise(request, media.channel, call)
        wanted_number = request.GET.get("phone_number_id")
        if wanted_number and wanted_number != media.channel.phone_number_id:
            raise unknown_object(object_id, method)
        if method == "get":
            return _media_info(request, media)
        if method == "delete":
            services.media_delete(media=media)
            return {"success": True}
        raise unknown_object(object_id, method)
    template = services.template_lookup(template_id=object_id)
    if template is not None and services.simulated_waba_channels(template.waba_id):
        return _template_node(request, template, call)
    if object_id.startswith("upload:"):
        return _upload_node(request, object_id, call)
    channel = _number(object_id, request, call)
    if method != "get":
        raise unknown_object(object_id, method)
    return _phone_number_object(channel, fields=_fields(request))


# The phone number object's fields (§6) and the ones answered when `fields` is absent.
PHONE_NUMBER_DEFAULT_FIELDS = (
    "verified_name",
    "code_verification_status",
    "display_phone_number",
    "quality_rating",
    "platform_type",
    "throughput",
    "id",
)


def _phone_number_object(channel: Channel, *, fields: list[str] | None) -> dict:
    """`GET /{phone_number_id}[?fields=…]`: the number as Meta describes it, its health reviewed first so
    an expired restriction or a due flag review shows at once. Graph always adds `id`."""
    services.number_health_review(channel=channel)
    number = services.number_for(channel)
    values = {
        "verified_name": channel.name,
        "code_verification_status": "VERIFIED",
        "display_phone_number": channel.display_phone_number,
        "quality_rating": number.quality_rating,
        "platform_type": "CLOUD_API",
        "throughput": {"level": str(health_rules.throughput_level(number.throughput_per_second))},
        "status": number.status,
        "messaging_limit_tier": number.messaging_limit_tier,
        "whatsapp_business_manager_messaging_limit": number.messaging_limit_tier,
        "name_status": "APPROVED",
        "new_name_status": "NONE",
        "account_mode": "LIVE",
        "is_official_business_account": False,
        "is_pin_enabled": True,
        "search_visibility": "VISIBLE",
        "id": channel.phone_number_id,
    }
    wanted = fields or list(PHONE_NUMBER_DEFAULT_FIELDS)
    unknown = [name for name in wanted if name not in values]
    if unknown:
        raise GraphError(
            code=100,
            message=f"(#100) Tried accessing nonexisting field ({unknown[0]}) on node type "
            "(WhatsAppBusinessPhoneNumber)",
        )
    answer = {name: values[name] for name in values if name in wanted and name != "id"}
    answer["id"] = values["id"]
    return answer


# /{phone_number_id}/whatsapp_business_profile


@csrf_exempt
def business_profile(request: HttpRequest, version: str, object_id: str) -> HttpResponse:
    return _serve(request, object_id, _business_profile, version)


def _business_profile(request: HttpRequest, object_id: str, call: _Call) -> dict:
    """GET: `{"data":[profile]}` (the requested `fields` that are set); POST: a checked update."""
    channel = _number(object_id, request, call)
    call.usage_type = "whatsapp_business_management"
    if request.method == "GET":
        number = services.number_for(channel)
        picture_url = ""
        if number.profile_picture_id:
            url = reverse("simulator:profile-picture", args=[channel.phone_number_id])
            picture_url = request.build_absolute_uri(url) + f"?v={number.profile_picture_id}"
        stored = services.profile_stored(number, picture_url=picture_url)
        return {"data": [profile.profile_object(stored, fields=_fields(request))]}
    if request.method == "POST":
        services.profile_update(channel=channel, update=profile.parse_update(_body(request)))
        return {"success": True}
    raise unknown_object(object_id, (request.method or "get").lower())


# Resumable Upload: /{app_id}/uploads and /upload:<id>


def _token_channel(request: HttpRequest, call: _Call) -> Channel:
    """The simulated channel whose access token the request carries (any app id is accepted)."""
    token = _token(request)
    channel = next(
        (
            c
            for c in services.simulated_channels()
            if token and hmac.compare_digest(token.encode(), c.access_token.encode())
        ),
        None,
    )
    if channel is None:
        raise bad_token()
    call.channel, call.authorized = channel, True
    return channel


@csrf_exempt
def uploads(request: HttpRequest, version: str, object_id: str) -> HttpResponse:
    return _serve(request, object_id, _uploads, version)


def _uploads(request: HttpRequest, app_id: str, call: _Call) -> dict:
    """`POST /{app_id}/uploads?file_name=&file_length=&file_type=` -> `{"id":"upload:<id>"}`."""
    channel = _token_channel(request, call)
    call.usage_type = "whatsapp_business_management"
    if request.method != "POST":
        raise unknown_object(app_id, (request.method or "get").lower())
    upload = services.upload_session_create(
        channel=channel,
        app_id=app_id,
        file_name=request.GET.get("file_name"),
        file_length=request.GET.get("file_length"),
        file_type=request.GET.get("file_type"),
    )
    return {"id": upload.upload_id}


def _upload_node(request: HttpRequest, upload_id: str, call: _Call) -> dict:
    """`POST /upload:<id>` (header `file_offset`, raw bytes) -> `{"h":"<handle>"}` once complete;
    `GET /upload:<id>` -> `{"id","file_offset"}` to resume an interrupted upload."""
    channel = _token_channel(request, call)
    call.usage_type = "whatsapp_business_management"
    method = (request.method or "get").lower()
    upload = services.upload_lookup(upload_id=upload_id)
    if upload is None or upload.channel_id != channel.pk:
        raise unknown_object(upload_id, method)
    if method == "get":
        return {"id": upload.upload_id, "file_offset": upload.file_offset}
    if method != "post":
        raise unknown_object(upload_id, method)
    upload = services.upload_append(
        upload=upload, file_offset=request.headers.get("file_offset", "0"), content=request.body
    )
    if upload.handle:
        return {"h": upload.handle}
    return {"id": upload.upload_id, "file_offset": upload.file_offset}


# The profile picture's public URL (Meta's pps.whatsapp.net stand-in)


@require_GET
def profile_picture(request: HttpRequest, phone_number_id: str) -> HttpResponse:
    """The number's profile picture, public as Meta's CDN URLs are (the `?v=` in the URL changes with it)."""
    if not settings.SIMULATOR_ENABLED:
        raise Http404
    channel = Channel.objects.filter(phone_number_id=phone_number_id).first()
    if channel is None or not is_sandbox_channel(channel):
        raise Http404
    number = services.number_for(channel)
    picture = number.profile_picture
    if picture is None or not picture.file:
        raise Http404
    response = FileResponse(picture.file.open("rb"), content_type=picture.file_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


def _template_node(request: HttpRequest, template: SimulatedTemplate, call: _Call) -> dict:
    """`GET /{template_id}` (the template object) and `POST /{template_id}` (an edit, §5)."""
    _waba(template.waba_id, request, call)
    method = (request.method or "get").lower()
    if method == "get":
        return selectors.template_object(template, fields=_fields(request))
    if method == "post":
        edit = parse_edit(
            _body(request),
            name=template.name,
            language=template.language,
            category=template.category,
            parameter_format=template.parameter_format,
        )
        services.template_edit(template=template, components=edit.components, category=edit.category)
        return {"success": True}
    raise unknown_object(template.template_id, method)


def _media_info(request: HttpRequest, media: SimulatedMedia) -> dict:
    expires = int(time.time()) + MEDIA_URL_LIFETIME_SECONDS
    query = urlencode({"mid": media.media_id, "ext": expires, "hash": _download_hash(media.media_id, expires)})
    return {
        "url": request.build_absolute_uri(reverse("simulator:media-download")) + "?" + query,
        "mime_type": media.mime_type,
        "sha256": media.sha256,
        "file_size": media.file_size,
        "id": media.media_id,
        "messaging_product": "whatsapp",
    }


def _download_hash(media_id: str, expires: int) -> str:
    return salted_hmac("simulator.media-download", f"{media_id}:{expires}").hexdigest()


# The download URL (Meta's lookaside.fbsbx.com stand-in)


@csrf_exempt
def media_download(request: HttpRequest) -> HttpResponse:
    return _serve(request, request.GET.get("mid", ""), _media_download)


def _media_download(request: HttpRequest, media_id: str, call: _Call) -> HttpResponse:
    try:
        expires = int(request.GET.get("ext", ""))
    except ValueError:
        raise Http404
    signature = request.GET.get("hash", "")
    media = services.media_lookup(media_id=media_id)
    # An expired or forged URL is a 404, as on Meta's CDN: fetch a fresh URL with GET /{media_id}.
    if (
        media is None
        or expires < time.time()
        or not hmac.compare_digest(signature, _download_hash(media_id, expires))
        or not is_sandbox_channel(media.channel)
    ):
        raise Http404
    _authorise(request, media.channel, call)
    response = FileResponse(media.file.open("rb"), content_type=media.mime_type)
    response["Content-Length"] = str(media.file_size)
    return response
