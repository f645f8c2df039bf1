"""`/media/<message_id>/`: a message's file, fetched from the provider for people who may see the message."""

import httpx
import pytest
from django.test import Client
from django.urls import reverse

from tests.factories import MessageFactory, UserFactory
from tests.inbox.ui.conftest import GRAPH

pytestmark = pytest.mark.django_db

JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 100
LOOKASIDE = "https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=1479537139650973&ext=1&hash=abc"


def image_message(conversation, **content):
    return MessageFactory(
        conversation=conversation,
        type="image",
        text="",
        content={"id": "1479537139650973", "mime_type": "image/jpeg", "sha256": "x", **content},
    )


def test_inbound_media_is_fetched_from_the_provider_with_the_channel_token(as_agent, conversation, graph):
    lookup = graph.get(f"{GRAPH}/1479537139650973").mock(
        return_value=httpx.Response(200, json={"url": LOOKASIDE, "mime_type": "image/jpeg", "id": "1479537139650973"})
    )
    download = graph.get(LOOKASIDE).mock(
        return_value=httpx.Response(200, content=JPEG, headers={"content-type": "image/jpeg"})
    )
    message = image_message(conversation)
    response = as_agent.get(reverse("inbox:media", args=[message.pk]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == JPEG
    assert response["Content-Type"] == "image/jpeg"
    assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert "inline" in response["Content-Disposition"]
    for route in (lookup, download):
        assert route.calls.last.request.headers["Authorization"] == "Bearer test-access-token"


def test_anything_not_playable_downloads_as_an_attachment(as_agent, conversation, graph):
    graph.get(f"{GRAPH}/77").mock(return_value=httpx.Response(200, json={"url": LOOKASIDE}))
    graph.get(LOOKASIDE).mock(
        return_value=httpx.Response(200, content=b"<svg onload=alert(1)>", headers={"content-type": "image/svg+xml"})
    )
    message = MessageFactory(
        conversation=conversation, type="document", content={"id": "77", "filename": "../../evil.svg"}
    )
    response = as_agent.get(reverse("inbox:media", args=[message.pk]))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    assert "/" not in response["Content-Disposition"].split("filename=")[1]
    assert response["X-Content-Type-Options"] == "nosniff"


def test_a_media_url_off_the_provider_hosts_is_not_fetched(as_agent, conversation, graph):
    graph.get(f"{GRAPH}/1479537139650973").mock(
        return_value=httpx.Response(200, json={"url": "http://169.254.169.254/latest/meta-data"})
    )
    message = image_message(conversation)
    response = as_agent.get(reverse("inbox:media", args=[message.pk]))
    assert response.status_code == 502
    assert "no longer available" in response.content.decode()


def test_expired_media_says_so(as_agent, conversation, graph):
    graph.get(f"{GRAPH}/1479537139650973").mock(
        return_value=httpx.Response(404, json={"error": {"code": 100, "message": "Unsupported get request."}})
    )
    response = as_agent.get(reverse("inbox:media", args=[image_message(conversation).pk]))
    assert response.status_code == 502


def test_media_needs_the_right_to_see_the_message(conversation, graph):
    message = image_message(conversation)
    url = reverse("inbox:media", args=[message.pk])
    assert Client().get(url).status_code == 302
    deactivated = Client()
    deactivated.force_login(UserFactory(is_active=False))
    assert deactivated.get(url).status_code == 302
    assert not graph.calls


def test_a_message_without_media(as_agent, conversation):
    message = MessageFactory(conversation=conversation)
    assert as_agent.get(reverse("inbox:media", args=[message.pk])).status_code == 404
