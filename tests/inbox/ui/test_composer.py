"""The composer: what it offers in each window state, and what sending answers (a bubble, or the reason)."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from inbox.models import Direction, MediaFile, Message, MessageStatus
from tests.factories import ConversationFactory, MessageFactory

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def composer_html(client, conversation) -> str:
    return client.get(reverse("inbox:composer", args=[conversation.pk])).content.decode()


def test_open_window_offers_the_text_box_and_the_countdown(as_agent, conversation):
    html = composer_html(as_agent, conversation)
    assert 'id="composer-body"' in html
    assert 'data-window="open"' in html
    assert "Free-form replies allowed for" in html
    assert "Send a template" in html and "data-template-picker" in html  # always there
    assert 'class="emoji"' in html
    assert 'type="file"' in html and "image/jpeg" in html


def test_a_window_closing_soon_shows_a_quiet_countdown(as_agent, conversation):
    conversation.service_window_closes_at = timezone.now() + timedelta(minutes=45)
    conversation.save()
    html = composer_html(as_agent, conversation)
    assert 'data-window="closing"' in html
    assert "Window closes in" in html
    assert "44 min" in html or "45 min" in html


@pytest.mark.parametrize(
    ("closes_at", "sentence"),
    [
        (timedelta(minutes=-1), "The 24-hour customer-service window has closed"),
        (None, "This customer has not written to this number yet"),
    ],
)
def test_a_closed_window_replaces_the_text_box_with_the_reason(as_agent, conversation, closes_at, sentence):
    conversation.service_window_closes_at = timezone.now() + closes_at if closes_at is not None else None
    conversation.save()
    html = composer_html(as_agent, conversation)
    # No reply box: only the private-note box, hidden until the Note tab is chosen, may follow the reason.
    assert 'id="composer-body"' not in html.split("data-note-pane")[0]
    assert sentence in html
    assert 'class="btn btn-primary tpl-open" data-template-picker' in html and "Send a template" in html


def test_sending_text_answers_the_bubble(as_agent, conversation, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = as_agent.post(
            reverse("inbox:message-send", args=[conversation.pk]),
            {"body": "  On its way!  "},
            HTTP_X_REQUESTED_WITH="fetch",
        )
    assert response.status_code == 201
    message = Message.objects.get(conversation=conversation, direction=Direction.OUTBOUND)
    assert message.text == "On its way!"
    html = response.content.decode()
    assert f'id="msg-{message.pk}"' in html
    assert "On its way!" in html
    assert "msg-out" in html
    # After commit, the (eager) task handed it to the mocked WhatsApp.
    message.refresh_from_db()
    assert message.provider_message_id.startswith("wamid.SENT")


def test_a_reply_quotes_the_message(as_agent, conversation):
    quoted = MessageFactory(conversation=conversation, text="Where is it?", content={"body": "Where is it?"})
    response = as_agent.post(
        reverse("inbox:message-send", args=[conversation.pk]), {"body": "Here", "reply_to": str(quoted.pk)}
    )
    assert response.status_code == 201
    sent = Message.objects.get(conversation=conversation, direction=Direction.OUTBOUND)
    assert sent.reply_to_provider_id == quoted.provider_message_id
    assert "Where is it?" in response.content.decode()


def test_a_closed_window_refuses_with_the_reason_and_the_closed_composer(as_agent, conversation):
    conversation.last_inbound_at = timezone.now() - timedelta(hours=25)
    conversation.service_window_closes_at = conversation.last_inbound_at + timedelta(hours=24)
    conversation.save()
    response = as_agent.post(reverse("inbox:message-send", args=[conversation.pk]), {"body": "Hello?"})
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "window_closed"
    assert "24 hours" in body["detail"]
    assert 'id="composer-body"' not in body["composer"].split("data-note-pane")[0]
    assert "Send a template" in body["composer"]
    assert not Message.objects.filter(direction=Direction.OUTBOUND).exists()


def test_nothing_to_send(as_agent, conversation):
    response = as_agent.post(reverse("inbox:message-send", args=[conversation.pk]), {"body": "   "})
    assert response.status_code == 400
    assert response.json()["code"] == "empty"


def test_managers_cannot_send(as_manager, conversation):
    response = as_manager.post(reverse("inbox:message-send", args=[conversation.pk]), {"body": "Hi"})
    assert response.status_code == 403
    assert not Message.objects.exists()


def test_an_attachment_goes_as_media_with_its_caption(as_agent, conversation, graph):
    upload = SimpleUploadedFile("box.png", PNG, content_type="image/png")
    response = as_agent.post(
        reverse("inbox:message-send", args=[conversation.pk]), {"body": "Your parcel", "attachment": upload}
    )
    assert response.status_code == 201, response.content
    message = Message.objects.get(conversation=conversation, direction=Direction.OUTBOUND)
    assert message.type == "image"
    assert message.content["caption"] == "Your parcel"
    assert MediaFile.objects.get(message=message).mime_type == "image/png"
    html = response.content.decode()
    assert f'src="{reverse("inbox:media", args=[message.pk])}"' in html
    # The stored file is served to people who may see the message.
    media = as_agent.get(reverse("inbox:media", args=[message.pk]))
    assert media.status_code == 200
    assert media["Content-Type"] == "image/png"
    assert b"".join(media.streaming_content) == PNG


def test_an_oversized_attachment_is_refused_with_the_limit(as_agent, conversation):
    upload = SimpleUploadedFile("big.png", PNG + b"\x00" * (5 * 1024 * 1024), content_type="image/png")
    response = as_agent.post(reverse("inbox:message-send", args=[conversation.pk]), {"attachment": upload})
    assert response.status_code == 413
    assert response.json()["code"] == "media_too_large"
    assert not Message.objects.exists()
    assert not MediaFile.objects.exists()


def test_a_file_type_whatsapp_does_not_take_is_refused(as_agent, conversation):
    upload = SimpleUploadedFile("evil.svg", b"<svg onload=alert(1)>", content_type="image/svg+xml")
    response = as_agent.post(reverse("inbox:message-send", args=[conversation.pk]), {"attachment": upload})
    assert response.status_code == 409
    assert response.json()["code"] == "media_type_not_allowed"


def test_retry_sends_a_failed_message_again(as_agent, conversation):
    failed = MessageFactory(
        conversation=conversation,
        direction=Direction.OUTBOUND,
        status=MessageStatus.FAILED,
        error_code=131026,
        text="Hello",
        content={"body": "Hello"},
    )
    response = as_agent.post(reverse("inbox:message-retry", args=[failed.pk]), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    failed.refresh_from_db()
    assert failed.status != MessageStatus.FAILED
    assert f'id="msg-{failed.pk}"' in response.content.decode()
    assert "Not delivered." not in response.content.decode()


def test_retry_refused_says_why(as_agent, conversation):
    not_failed = MessageFactory(conversation=conversation, direction=Direction.OUTBOUND, status=MessageStatus.SENT)
    response = as_agent.post(reverse("inbox:message-retry", args=[not_failed.pk]))
    assert response.status_code == 409
    assert response.json()["code"] == "not_retryable"


def test_reading_a_new_message_in_the_open_thread(as_agent, as_manager, conversation):
    url = reverse("inbox:conversation-read", args=[conversation.pk])
    MessageFactory(conversation=conversation)
    assert as_manager.post(url).status_code == 204
    conversation.refresh_from_db()
    assert conversation.unread_count == 2  # a manager's look changes nothing
    assert as_agent.post(url).status_code == 204
    conversation.refresh_from_db()
    assert conversation.unread_count == 0


def test_someone_elses_conversation_is_not_found(as_agent):
    # Every active person sees every channel today; an id that does not exist is simply 404.
    ConversationFactory()
    assert as_agent.post(reverse("inbox:message-send", args=[987654]), {"body": "x"}).status_code == 404


def test_outbound_bubbles_name_their_author(as_agent, conversation):
    response = as_agent.post(reverse("inbox:message-send", args=[conversation.pk]), {"body": "Signed"})
    message = Message.objects.get(direction=Direction.OUTBOUND)
    assert f'<span class="author">{escape(message.author.name)}</span>' in response.content.decode()
