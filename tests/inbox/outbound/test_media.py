"""Media: `media_store` checks type and size before storing; the worker uploads the file (multipart) and
sends it by WhatsApp's media id."""

import hashlib
import json

import httpx
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.models import Role
from inbox.models import MediaFile, Message, OutboxEntry
from inbox.providers.whatsapp_cloud.limits import KB, MB
from inbox.services import outbound
from inbox.services.outbound import SendRefused
from tests.factories import ConversationFactory, UserFactory
from tests.inbox.outbound.conftest import MEDIA_URL, MESSAGES_URL, accepted, graph_error

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 200
PDF = b"%PDF-1.7\n" + b"x" * 200


def upload(content: bytes, name: str, content_type: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


def stored_files(settings) -> list:
    root = settings.MEDIA_ROOT
    return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []


def test_an_upload_is_stored_under_a_random_name(conversation, agent, settings):
    media = outbound.media_store(
        conversation=conversation,
        author=agent,
        upload=upload(PNG, "..\\<img src=x onerror=alert(1)>\x07.png", "image/png"),
    )
    media.refresh_from_db()
    assert (media.kind, media.mime_type, media.size) == ("image", "image/png", len(PNG))
    assert media.sha256 == hashlib.sha256(PNG).hexdigest()
    # Hostile text is kept to be shown escaped, without the path or control characters; never in a path.
    assert media.original_filename == "<img src=x onerror=alert(1)>.png"
    assert media.uploaded_by == agent and media.conversation == conversation and media.message is None
    assert (
        "holiday" not in media.file.name and media.file.name.startswith("uploads/") and media.file.name.endswith(".png")
    )
    assert media.file.read() == PNG


def test_a_too_large_file_is_refused_before_anything_is_stored(conversation, agent, settings):
    too_big = upload(b"\xff\xd8\xff" + b"\x00" * (5 * MB), "big.jpg", "image/jpeg")
    with pytest.raises(SendRefused) as refused:
        outbound.media_store(conversation=conversation, author=agent, upload=too_big)
    assert refused.value.code == "media_too_large"
    assert "at most 5 MB" in refused.value.detail
    assert not MediaFile.objects.exists() and stored_files(settings) == []


@pytest.mark.parametrize(
    ("content", "name", "content_type"),
    [
        (b"<svg onload=alert(1)>", "x.svg", "image/svg+xml"),
        (b"GIF89a....", "x.gif", "image/gif"),
        (b"<html>", "x.html", "text/html"),
        (b"MZ\x90\x00binary", "invoice.pdf", "application/pdf"),
        (b"<svg onload=alert(1)>", "x.png", "image/png"),
    ],
    ids=["svg", "gif", "html", "exe as pdf", "svg as png"],
)
def test_types_whatsapp_refuses_are_refused(conversation, agent, settings, content, name, content_type):
    with pytest.raises(SendRefused) as refused:
        outbound.media_store(conversation=conversation, author=agent, upload=upload(content, name, content_type))
    assert refused.value.code == "media_type_not_allowed"
    assert not MediaFile.objects.exists() and stored_files(settings) == []


def test_a_file_without_a_type_is_recognised_by_its_name_and_content(conversation, agent):
    media = outbound.media_store(
        conversation=conversation, author=agent, upload=upload(PDF, "Invoice 42.pdf", "application/octet-stream")
    )
    assert (media.kind, media.mime_type) == ("document", "application/pdf")


def test_sticker_limits_depend_on_animation(conversation, agent):
    static = b"RIFF\x00\x00\x00\x00WEBPVP8 " + b"\x00" * (150 * KB)
    animated = b"RIFF\x00\x00\x00\x00WEBPVP8X\x00\x00\x00\x00\x02" + b"\x00" * (300 * KB)
    with pytest.raises(SendRefused) as refused:
        outbound.media_store(conversation=conversation, author=agent, upload=upload(static, "s.webp", "image/webp"))
    assert "at most 100 KB" in refused.value.detail
    media = outbound.media_store(
        conversation=conversation, author=agent, upload=upload(animated, "a.webp", "image/webp")
    )
    assert media.kind == "sticker"


def test_managers_cannot_upload(conversation):
    with pytest.raises(SendRefused) as refused:
        outbound.media_store(
            conversation=conversation, author=UserFactory(role=Role.MANAGER), upload=upload(PNG, "a.png", "image/png")
        )
    assert refused.value.code == "permission_denied"


def test_a_stored_image_is_uploaded_then_sent_by_id(conversation, agent, graph, django_capture_on_commit_callbacks):
    media = outbound.media_store(
        conversation=conversation, author=agent, upload=upload(PNG, "Blue shoe.png", "image/png")
    )
    uploaded = graph.post(MEDIA_URL).mock(return_value=httpx.Response(200, json={"id": "914268667232441"}))
    sent = graph.post(MESSAGES_URL).mock(return_value=accepted())
    with django_capture_on_commit_callbacks(execute=True):
        message = outbound.message_send(
            conversation=conversation,
            author=agent,
            kind="media",
            payload={"media_file_id": media.pk, "caption": "In blue"},
        )
    assert (message.type, message.text) == ("image", "In blue")
    assert message.content == {
        "caption": "In blue",
        "media_file_id": media.pk,
        "mime_type": "image/png",
        "sha256": media.sha256,
        "file_size": len(PNG),
    }
    multipart = uploaded.calls.last.request.content
    assert b'filename="Blue_shoe.png"' in multipart and PNG in multipart
    assert json.loads(sent.calls.last.request.content)["image"] == {"id": "914268667232441", "caption": "In blue"}
    media.refresh_from_db()
    assert media.message == message and media.provider_media_id == "914268667232441"
    conversation.refresh_from_db()
    assert conversation.last_message_preview == "📷 Photo: In blue"


def test_a_document_keeps_its_file_name(conversation, agent, graph, django_capture_on_commit_callbacks):
    media = outbound.media_store(
        conversation=conversation, author=agent, upload=upload(PDF, "Invoice 42.pdf", "application/pdf")
    )
    graph.post(MEDIA_URL).mock(return_value=httpx.Response(200, json={"id": "55"}))
    sent = graph.post(MESSAGES_URL).mock(return_value=accepted())
    with django_capture_on_commit_callbacks(execute=True):
        outbound.message_send(
            conversation=conversation, author=agent, kind="document", payload={"media_file_id": media.pk}
        )
    assert json.loads(sent.calls.last.request.content)["document"] == {"id": "55", "filename": "Invoice 42.pdf"}


def test_an_uploaded_file_is_not_uploaded_again_on_retry(
    conversation, agent, graph, django_capture_on_commit_callbacks
):
    media = outbound.media_store(conversation=conversation, author=agent, upload=upload(PNG, "a.png", "image/png"))
    uploaded = graph.post(MEDIA_URL).mock(return_value=httpx.Response(200, json={"id": "77"}))
    sent = graph.post(MESSAGES_URL).mock(side_effect=[httpx.Response(503), accepted()])
    with django_capture_on_commit_callbacks(execute=True):
        outbound.message_send(
            conversation=conversation, author=agent, kind="media", payload={"media_file_id": media.pk}
        )
    assert (uploaded.call_count, sent.call_count) == (1, 2)


def test_a_failed_upload_fails_the_message_with_whatsapps_reason(
    conversation, agent, graph, django_capture_on_commit_callbacks
):
    media = outbound.media_store(conversation=conversation, author=agent, upload=upload(PNG, "a.png", "image/png"))
    graph.post(MEDIA_URL).mock(
        return_value=graph_error(131053, title="Media upload error", details="Unsupported file type")
    )
    sent = graph.post(MESSAGES_URL).mock(return_value=accepted())
    with django_capture_on_commit_callbacks(execute=True):
        message = outbound.message_send(
            conversation=conversation, author=agent, kind="media", payload={"media_file_id": media.pk}
        )
    message.refresh_from_db()
    assert sent.call_count == 0
    assert (message.status, message.error_code, message.error_details) == ("failed", 131053, "Unsupported file type")


def test_a_missing_file_fails_without_a_send(conversation, agent, graph, django_capture_on_commit_callbacks):
    media = outbound.media_store(conversation=conversation, author=agent, upload=upload(PNG, "a.png", "image/png"))
    media.file.storage.delete(media.file.name)
    sent = graph.post(MESSAGES_URL).mock(return_value=accepted())
    with django_capture_on_commit_callbacks(execute=True):
        message = outbound.message_send(
            conversation=conversation, author=agent, kind="media", payload={"media_file_id": media.pk}
        )
    message.refresh_from_db()
    assert sent.call_count == 0
    assert message.status == "failed" and message.outbox_entry.failure_reason == "media_missing"


def test_a_file_goes_out_once_and_only_in_its_conversation(
    conversation, agent, channel, graph, django_capture_on_commit_callbacks
):
    media = outbound.media_store(conversation=conversation, author=agent, upload=upload(PNG, "a.png", "image/png"))
    other = ConversationFactory(channel=channel, last_inbound_at=conversation.last_inbound_at)
    with pytest.raises(SendRefused):
        outbound.message_send(conversation=other, author=agent, kind="media", payload={"media_file_id": media.pk})
    with pytest.raises(SendRefused) as wrong_kind:
        outbound.message_send(
            conversation=conversation, author=agent, kind="video", payload={"media_file_id": media.pk}
        )
    assert wrong_kind.value.code == "media_type_not_allowed"
    with pytest.raises(SendRefused) as no_caption:
        outbound.message_send(
            conversation=conversation,
            author=agent,
            kind="media",
            payload={"media_file_id": media.pk, "caption": "c" * 1025},
        )
    assert no_caption.value.code == "invalid_message"
    graph.post(MEDIA_URL).mock(return_value=httpx.Response(200, json={"id": "1"}))
    graph.post(MESSAGES_URL).mock(return_value=accepted())
    with django_capture_on_commit_callbacks(execute=True):
        outbound.message_send(
            conversation=conversation, author=agent, kind="media", payload={"media_file_id": media.pk}
        )
    with pytest.raises(SendRefused) as again:
        outbound.message_send(
            conversation=conversation, author=agent, kind="media", payload={"media_file_id": media.pk}
        )
    assert "already sent" in again.value.detail
    assert Message.objects.filter(direction="outbound").count() == 1


def test_an_upload_that_outlasted_the_sweeper_does_not_send(
    conversation, agent, graph, django_capture_on_commit_callbacks
):
    """The sweeper took the entry back during a very long upload: the slow attempt must not send as well."""
    media = outbound.media_store(conversation=conversation, author=agent, upload=upload(PNG, "a.png", "image/png"))
    with django_capture_on_commit_callbacks():
        message = outbound.message_send(
            conversation=conversation, author=agent, kind="media", payload={"media_file_id": media.pk}
        )

    def slow_upload(request):
        OutboxEntry.objects.filter(message=message).update(state="pending")  # what the sweeper does
        return httpx.Response(200, json={"id": "88"})

    graph.post(MEDIA_URL).mock(side_effect=slow_upload)
    sent = graph.post(MESSAGES_URL).mock(return_value=accepted())
    outbound.message_deliver(message_id=message.pk)
    assert sent.call_count == 0
    assert OutboxEntry.objects.get(message=message).state == "pending"
