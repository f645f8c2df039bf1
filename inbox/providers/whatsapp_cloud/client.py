"""The WhatsApp Cloud API client: the only code in Switchboard that talks to the Graph API.

Messages: `send` (POST /{phone_number_id}/messages), `upload_media` (POST /{phone_number_id}/media,
multipart) and `mark_read` (the read receipt, on the messages endpoint). Templates, on the WhatsApp Business
Account: `template_create`, `template_edit` and `templates_page` (§5). The number itself: `phone_number_get`,
`business_profile_get`, `business_profile_update` and `profile_photo_upload` (§6). None raises for a provider or
network failure: each returns a result carrying either what the call produced or the error, plus whether
trying again can help (HTTP 429/5xx, network trouble, and the codes `errors.describe` marks retryable).

The access token travels only in the Authorization header; nothing here logs headers or bodies.
"""

import logging
import re
import threading
from dataclasses import dataclass
from typing import IO, Any, Protocol

import httpx

from inbox.providers.whatsapp_cloud import errors, payloads
from inbox.providers.whatsapp_cloud.types import ProviderError

logger = logging.getLogger(__name__)

# Connecting must be quick; Meta answers a send in well under a second, but uploads of large documents
# take as long as the bytes take (the write timeout is per chunk, not for the whole file).
TIMEOUT = httpx.Timeout(connect=5.0, read=30.0, write=30.0, pool=10.0)
USER_AGENT = "Switchboard/1 (+https://github.com/switchboard-inbox)"


class ChannelConfig(Protocol):
    """What the client needs of a channel (an `inbox.models.Channel` has all of it)."""

    graph_api_base: str
    phone_number_id: str
    waba_id: str
    access_token: str


@dataclass(frozen=True)
class SendResult:
    """The answer to one call. `ok` when `error` is None; then `provider_message_id` holds the wamid for a
    send (empty for a read receipt). `retryable` says whether the same call may succeed later."""

    provider_message_id: str = ""
    error: ProviderError | None = None
    retryable: bool = False
    http_status: int | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True)
class UploadResult:
    """The answer to a media upload: the media id WhatsApp assigned (valid 30 days), or the error."""

    media_id: str = ""
    error: ProviderError | None = None
    retryable: bool = False
    http_status: int | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def send(channel: ChannelConfig, body: dict[str, Any]) -> SendResult:
    """Send one message (a body from `payloads.message`). A 200 means WhatsApp accepted it, not that it
    was delivered: delivery and late failures arrive as status webhooks (§2)."""
    outcome = _post(channel, f"{channel.phone_number_id}/messages", json=body)
    if isinstance(outcome, _Failure):
        return SendResult(error=outcome.error, retryable=outcome.retryable, http_status=outcome.http_status)
    messages = outcome.get("messages")
    message_id = (
        messages[0].get("id") if isinstance(messages, list) and messages and isinstance(messages[0], dict) else None
    )
    if not message_id:
        return SendResult(
            error=ProviderError(code=None, title="WhatsApp's answer named no message id."),
            retryable=False,
            http_status=200,
        )
    return SendResult(provider_message_id=str(message_id), http_status=200)


def mark_read(channel: ChannelConfig, provider_message_id: str) -> SendResult:
    """Mark an inbound message, and every earlier one, as read (blue ticks on the customer's phone)."""
    outcome = _post(channel, f"{channel.phone_number_id}/messages", json=payloads.mark_read(provider_message_id))
    if isinstance(outcome, _Failure):
        return SendResult(error=outcome.error, retryable=outcome.retryable, http_status=outcome.http_status)
    if outcome.get("success") is not True:
        return SendResult(error=ProviderError(code=None, title="WhatsApp did not confirm the read receipt."))
    return SendResult(http_status=200)


def upload_media(channel: ChannelConfig, content: bytes | IO[bytes], *, mime_type: str, filename: str) -> UploadResult:
    """Upload a file (`multipart/form-data` with `file`, `type` and `messaging_product`, §4). `filename`
    should be a plain ASCII name: it goes into a multipart header."""
    outcome = _post(
        channel,
        f"{channel.phone_number_id}/media",
        data={"messaging_product": "whatsapp", "type": mime_type},
        files={"file": (filename, content, mime_type)},
    )
    if isinstance(outcome, _Failure):
        return UploadResult(error=outcome.error, retryable=outcome.retryable, http_status=outcome.http_status)
    media_id = outcome.get("id")
    if not media_id:
        return UploadResult(error=ProviderError(code=None, title="WhatsApp's answer named no media id."))
    return UploadResult(media_id=str(media_id), http_status=200)


@dataclass(frozen=True)
class GraphResult:
    """The answer to a template call: WhatsApp's JSON document, or the error."""

    document: dict[str, Any] | None = None
    error: ProviderError | None = None
    retryable: bool = False
    http_status: int | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def _graph_result(outcome: "dict[str, Any] | _Failure") -> GraphResult:
    if isinstance(outcome, _Failure):
        return GraphResult(error=outcome.error, retryable=outcome.retryable, http_status=outcome.http_status)
    return GraphResult(document=outcome, http_status=200)


def template_create(channel: ChannelConfig, body: dict[str, Any]) -> GraphResult:
    """Submit a new template for WhatsApp's review (`POST /{waba_id}/message_templates`); the answer is
    `{"id", "status": "PENDING", "category"}`."""
    return _graph_result(_post(channel, f"{channel.waba_id}/message_templates", json=body))


def template_edit(channel: ChannelConfig, template_id: str, body: dict[str, Any]) -> GraphResult:
    """Submit new content for a template WhatsApp already has (`POST /{template_id}`) → `{"success": true}`."""
    return _graph_result(_post(channel, template_id, json=body))


def templates_page(channel: ChannelConfig, *, after: str = "", limit: int = 100) -> GraphResult:
    """One page of the WABA's templates (`GET /{waba_id}/message_templates`): `data` and `paging.cursors`."""
    params = {"limit": str(limit)}
    if after:
        params["after"] = after
    return _graph_result(_request("GET", channel, f"{channel.waba_id}/message_templates", params=params))


# --- The phone number and its business profile (§6) -------------------------------------------------------


def phone_number_get(channel: ChannelConfig, *, fields: str) -> GraphResult:
    """The number's own object (`GET /{phone_number_id}?fields=…`): quality rating, status, messaging limit,
    throughput, display number and verified name, as `number_health` asks for them."""
    return _graph_result(_request("GET", channel, channel.phone_number_id, params={"fields": fields}))


def business_profile_get(channel: ChannelConfig, *, fields: str) -> GraphResult:
    """The number's business profile (`GET /{phone_number_id}/whatsapp_business_profile?fields=…`) →
    `{"data": [{…fields, "messaging_product": "whatsapp"}]}`."""
    path = f"{channel.phone_number_id}/whatsapp_business_profile"
    return _graph_result(_request("GET", channel, path, params={"fields": fields}))


def business_profile_update(channel: ChannelConfig, body: dict[str, Any]) -> GraphResult:
    """Change the business profile (`POST /{phone_number_id}/whatsapp_business_profile`) →
    `{"success": true}`; a photo goes as `profile_picture_handle` from `profile_photo_upload`."""
    outcome = _graph_result(_post(channel, f"{channel.phone_number_id}/whatsapp_business_profile", json=body))
    if outcome.ok and outcome.document.get("success") is False:
        return GraphResult(
            error=ProviderError(code=None, title="WhatsApp did not confirm the change."), http_status=200
        )
    return outcome


def profile_photo_upload(
    channel: ChannelConfig, *, app_id: str, content: bytes, mime_type: str, file_name: str
) -> GraphResult:
    """Upload a profile photo through Meta's Resumable Upload API and answer `{"h": "<handle>"}`.

    Two calls: `POST /{app_id}/uploads?file_name=&file_length=&file_type=` opens a session
    (`{"id": "upload:<id>"}`), then `POST /upload:<id>` with the raw bytes from `file_offset: 0`. The second
    call authenticates with `OAuth <token>`, not `Bearer` (Meta's documented form for this API)."""
    params = {"file_name": file_name, "file_length": str(len(content)), "file_type": mime_type}
    session = _graph_result(_post(channel, f"{app_id}/uploads", params=params))
    if not session.ok:
        return session
    session_id = str(session.document.get("id") or "")
    if not session_id.startswith("upload:"):
        return GraphResult(error=ProviderError(code=None, title="WhatsApp's answer named no upload session."))
    outcome = _graph_result(_upload_bytes(channel, session_id, content))
    if outcome.ok and not outcome.document.get("h"):
        return GraphResult(error=ProviderError(code=None, title="WhatsApp's answer named no file handle."))
    return outcome


def _upload_bytes(channel: ChannelConfig, session_id: str, content: bytes) -> "dict[str, Any] | _Failure":
    # Meta's Resumable Upload API takes the token as `OAuth`, and where the bytes start.
    headers = {"Authorization": f"OAuth {channel.access_token}", "file_offset": "0"}
    return _request("POST", channel, session_id, headers=headers, content=content)


# --- Transport ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Failure:
    error: ProviderError
    retryable: bool
    http_status: int | None


_local = threading.local()


def _http() -> httpx.Client:
    """One connection pool per thread (TLS handshakes are the slow part of a send). Created lazily, so a
    Celery prefork child builds its own after the fork."""
    client = getattr(_local, "client", None)
    if client is None:
        client = _local.client = httpx.Client(timeout=TIMEOUT, headers={"User-Agent": USER_AGENT})
    return client


def _post(channel: ChannelConfig, path: str, **request: Any) -> dict[str, Any] | _Failure:
    return _request("POST", channel, path, **request)


def _request(
    method: str, channel: ChannelConfig, path: str, *, headers: dict[str, str] | None = None, **request: Any
) -> dict[str, Any] | _Failure:
    url = f"{channel.graph_api_base.rstrip('/')}/{path}"
    headers = {"Authorization": f"Bearer {channel.access_token}", **(headers or {})}
    try:
        response = _http().request(method, url, headers=headers, **request)
    except httpx.TimeoutException as exc:
        # A read timeout is ambiguous (WhatsApp may have accepted the message); the outbound worker's
        # biz_opaque_callback_data lets a late status webhook settle it. See services/outbound.py.
        return _Failure(
            ProviderError(code=None, title=f"No answer from WhatsApp in time ({type(exc).__name__})."), True, None
        )
    except httpx.TransportError as exc:
        return _Failure(ProviderError(code=None, title=f"Could not reach WhatsApp ({type(exc).__name__})."), True, None)
    try:
        document = response.json()
    except ValueError:
        document = None
    if response.is_success and isinstance(document, dict):
        return document
    if response.is_success:
        return _Failure(ProviderError(code=None, title="WhatsApp's answer was not JSON."), False, response.status_code)
    error = _graph_error(document, response.status_code)
    retryable = response.status_code == 429 or response.status_code >= 500 or errors.describe(error.code).retryable
    logger.info("Graph API %s answered HTTP %s, code %s", path.rsplit("/", 1)[-1], response.status_code, error.code)
    return _Failure(error, retryable, response.status_code)


_CODE_PREFIX = re.compile(r"^\(#\d+\)\s*")


def _graph_error(document: Any, http_status: int) -> ProviderError:
    """The Graph error envelope (§1) as a ProviderError: `message` is "(#code) title", the details are in
    `error_data.details` (or `error_user_msg`). A body that is not the envelope keeps the HTTP status."""
    error = document.get("error") if isinstance(document, dict) else None
    if not isinstance(error, dict):
        return ProviderError(code=None, title=f"WhatsApp answered HTTP {http_status}.")
    try:
        code = int(error.get("code"))
    except (TypeError, ValueError):
        code = None
    message = str(error.get("message") or "")
    error_data = error.get("error_data") if isinstance(error.get("error_data"), dict) else {}
    return ProviderError(
        code=code,
        title=str(error.get("error_user_title") or _CODE_PREFIX.sub("", message) or f"HTTP {http_status}"),
        message=message,
        details=str(error_data.get("details") or error.get("error_user_msg") or ""),
        href=str(error.get("href") or ""),
    )
