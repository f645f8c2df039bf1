"""Media of a message, served to the people who may see the message.

An inbound attachment lives at the provider: its id resolves to a short-lived URL (`GET {graph}/{media_id}`
with the channel's Bearer token, valid 5 minutes), which is downloaded with the same token
(whatsapp-cloud-api.md §4). Nothing is cached yet; every view fetches again.

Customer files are hostile: only image, audio and video types the browser plays are served inline, under a
sandboxing Content-Security-Policy; everything else (SVG and HTML included) downloads as an attachment.
"""

import logging
import tempfile
from dataclasses import dataclass
from typing import IO
from urllib.parse import urlsplit

import httpx
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from inbox import access
from inbox.models import Channel, MediaFile, Message

logger = logging.getLogger(__name__)

# Inbound files above 100 MB never reach us (WhatsApp reports error 131052); stop reading past that.
MAX_MEDIA_BYTES = 100 * 1024 * 1024 + 1024
_INLINE_TYPES = {
    "image/jpeg",
    "image/png",
    "image/webp",
    "image/gif",
    "audio/aac",
    "audio/amr",
    "audio/mpeg",
    "audio/mp4",
    "audio/ogg",
    "video/mp4",
    "video/3gpp",
}
# Where Meta serves media from; the channel's own Graph host (the simulator, in the embedded mode) too.
_PROVIDER_MEDIA_HOSTS = (".fbsbx.com", ".fbcdn.net", ".whatsapp.net", ".facebook.com")


class MediaUnavailable(Exception):
    """The provider does not have the file (any more) or refused to give it."""


@dataclass
class MediaDownload:
    file: IO[bytes]
    content_type: str


def _allowed_download_url(channel: Channel, url: str) -> bool:
    """Outbound HTTP goes only to the provider: the channel's Graph host or Meta's media hosts."""
    parts = urlsplit(url)
    graph_host = urlsplit(channel.graph_api_base).hostname
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("https", "http") or not host:
        return False
    if host == graph_host:
        return True
    return parts.scheme == "https" and any(host.endswith(suffix) for suffix in _PROVIDER_MEDIA_HOSTS)


def fetch_provider_media(*, channel: Channel, media_id: str) -> MediaDownload:
    """Download one media object from the channel's provider into a temporary file."""
    headers = {"Authorization": f"Bearer {channel.access_token}"}
    base = channel.graph_api_base.rstrip("/")
    with httpx.Client(timeout=httpx.Timeout(60.0, connect=10.0), follow_redirects=False) as client:
        try:
            meta = client.get(
                f"{base}/{media_id}", headers=headers, params={"phone_number_id": channel.phone_number_id}
            )
        except httpx.HTTPError as exc:
            raise MediaUnavailable(str(exc)) from exc
        if meta.status_code != 200:
            raise MediaUnavailable(f"media lookup answered {meta.status_code}")
        try:
            info = meta.json()
        except ValueError as exc:
            raise MediaUnavailable("media lookup did not answer JSON") from exc
        url = str(info.get("url") or "")
        if not _allowed_download_url(channel, url):
            raise MediaUnavailable("media URL is not on the provider's hosts")
        spool = tempfile.SpooledTemporaryFile(max_size=5 * 1024 * 1024)  # noqa: SIM115 - handed to FileResponse
        try:
            with client.stream("GET", url, headers=headers) as download:
                if download.status_code != 200:
                    raise MediaUnavailable(f"media download answered {download.status_code}")
                size = 0
                for chunk in download.iter_bytes(64 * 1024):
                    size += len(chunk)
                    if size > MAX_MEDIA_BYTES:
                        raise MediaUnavailable("media is larger than WhatsApp allows")
                    spool.write(chunk)
                content_type = download.headers.get("content-type") or str(info.get("mime_type") or "")
        except httpx.HTTPError as exc:
            spool.close()
            raise MediaUnavailable(str(exc)) from exc
        except MediaUnavailable:
            spool.close()
            raise
    spool.seek(0)
    return MediaDownload(spool, content_type.split(";")[0].strip().lower() or "application/octet-stream")


def _filename(message: Message, stored: "MediaFile | None" = None) -> str:
    if stored is not None and stored.original_filename:
        name = stored.original_filename
    else:
        name = str(message.content.get("filename") or "") if isinstance(message.content, dict) else ""
    return name.replace("/", "_").replace("\\", "_")[:200] or f"{message.type}-{message.pk}"


def _stored_file(message: Message) -> MediaFile | None:
    """The file an agent uploaded for an outbound message, kept by the outbound service."""
    media_file = MediaFile.objects.filter(message=message).first()
    if media_file is None and isinstance(message.content, dict) and message.content.get("media_file_id"):
        media_file = MediaFile.objects.filter(
            pk=message.content["media_file_id"], conversation_id=message.conversation_id
        ).first()
    return media_file


@login_required
@require_GET
def message_media(request: HttpRequest, message_id: int) -> HttpResponse:
    """`/media/<message_id>/`: the message's attachment, if the person may see the message."""
    message = Message.objects.select_related("channel").filter(pk=message_id).first()
    if message is None or not access.can_view_message(request.user, message):
        raise Http404(_("No such media."))
    stored = _stored_file(message)
    if stored is not None:
        download = MediaDownload(stored.file.open("rb"), stored.mime_type)
    else:
        media_id = str(message.content.get("id") or "") if isinstance(message.content, dict) else ""
        if not media_id:
            raise Http404(_("This message has no media."))
        try:
            download = fetch_provider_media(channel=message.channel, media_id=media_id)
        except MediaUnavailable as exc:
            logger.warning("Media of message %s unavailable: %s", message.pk, exc)
            return HttpResponse(
                _("The file is no longer available from WhatsApp."), status=502, content_type="text/plain"
            )
    inline = download.content_type in _INLINE_TYPES
    response = FileResponse(
        download.file,
        content_type=download.content_type,
        as_attachment=not inline,
        filename=_filename(message, stored),
    )
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, max-age=300"
    return response
