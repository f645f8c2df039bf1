"""The Cloud API client against a mocked Graph API (respx): what it sends, and how it reads every answer
into a result with `retryable` (HTTP 429/5xx, network trouble and the codes errors.describe marks)."""

import json
import logging
from dataclasses import dataclass

import httpx
import pytest

from inbox.providers.whatsapp_cloud import client, payloads
from tests.inbox.outbound.conftest import (
    CUSTOMER,
    GRAPH,
    MEDIA_URL,
    MESSAGES_URL,
    PHONE_NUMBER_ID,
    accepted,
    graph_error,
)

TOKEN = "EAAG-secret-token"


@dataclass
class Channel:
    graph_api_base: str = GRAPH
    phone_number_id: str = PHONE_NUMBER_ID
    access_token: str = TOKEN


BODY = payloads.message(type="text", content=payloads.text("Hi"), to=CUSTOMER)


def test_send_posts_the_body_with_the_bearer_token_and_returns_the_wamid(graph):
    route = graph.post(MESSAGES_URL).mock(return_value=accepted("wamid.HBgLMTY1"))
    result = client.send(Channel(), BODY)
    assert result.ok and result.provider_message_id == "wamid.HBgLMTY1" and result.error is None
    request = route.calls.last.request
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert request.headers["Content-Type"] == "application/json"
    assert json.loads(request.content) == BODY


def test_a_trailing_slash_on_the_base_url_is_harmless(graph):
    route = graph.post(MESSAGES_URL).mock(return_value=accepted())
    assert client.send(Channel(graph_api_base=f"{GRAPH}/"), BODY).ok
    assert route.called


def test_a_graph_error_envelope_is_final_with_code_title_and_details(graph):
    details = "Message failed to send because more than 24 hours have passed since the customer last replied."
    graph.post(MESSAGES_URL).mock(return_value=graph_error(131047, title="Re-engagement message", details=details))
    result = client.send(Channel(), BODY)
    assert not result.ok and not result.retryable
    assert result.http_status == 400
    assert (result.error.code, result.error.title, result.error.details) == (131047, "Re-engagement message", details)
    assert result.error.message == "(#131047) Re-engagement message"


def test_a_bad_parameter_is_a_bug_not_retried(graph):
    graph.post(MESSAGES_URL).mock(return_value=graph_error(100, details="Unexpected key"))
    result = client.send(Channel(), BODY)
    assert (result.error.code, result.error.title, result.error.details, result.retryable) == (
        100,
        "Invalid parameter",
        "Unexpected key",
        False,
    )


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(429, json={"error": {"message": "(#4) Application request limit reached", "code": 4}}),
        graph_error(130429, title="Rate limit hit"),
        graph_error(131000, title="Something went wrong"),
        graph_error(131016, title="Service unavailable"),
        graph_error(131057, title="Account in maintenance mode"),
        graph_error(135000, title="Generic user error"),
        graph_error(80007, title="Rate limit issues"),
        httpx.Response(500, json={"error": {"message": "An unknown error occurred", "code": 1}}),
        httpx.Response(502, text="<html>Bad gateway</html>"),
        httpx.Response(503),
    ],
    ids=["429", "130429", "131000", "131016", "131057", "135000", "80007", "500", "502 html", "503 empty"],
)
def test_rate_limits_and_server_trouble_are_retryable(graph, response):
    graph.post(MESSAGES_URL).mock(return_value=response)
    result = client.send(Channel(), BODY)
    assert not result.ok and result.retryable


def test_a_non_envelope_error_keeps_the_http_status(graph):
    graph.post(MESSAGES_URL).mock(return_value=httpx.Response(502, text="<html>Bad gateway</html>"))
    result = client.send(Channel(), BODY)
    assert result.error.code is None and result.error.title == "WhatsApp answered HTTP 502."


@pytest.mark.parametrize(
    "exception", [httpx.ReadTimeout("slow"), httpx.ConnectTimeout("slow"), httpx.ConnectError("refused")]
)
def test_timeouts_and_network_errors_are_retryable(graph, exception):
    graph.post(MESSAGES_URL).mock(side_effect=exception)
    result = client.send(Channel(), BODY)
    assert not result.ok and result.retryable and result.http_status is None
    assert "WhatsApp" in result.error.title


def test_an_answer_without_a_message_id_is_an_error(graph):
    graph.post(MESSAGES_URL).mock(return_value=httpx.Response(200, json={"messaging_product": "whatsapp"}))
    result = client.send(Channel(), BODY)
    assert not result.ok and not result.retryable


def test_mark_read_posts_the_read_receipt(graph):
    route = graph.post(MESSAGES_URL).mock(return_value=httpx.Response(200, json={"success": True}))
    assert client.mark_read(Channel(), "wamid.IN1").ok
    assert json.loads(route.calls.last.request.content) == {
        "messaging_product": "whatsapp",
        "status": "read",
        "message_id": "wamid.IN1",
    }


def test_mark_read_of_an_outgoing_id_is_refused(graph):
    details = "Message supplied to mark message as read API with message ID: wamid.X is outgoing."
    graph.post(MESSAGES_URL).mock(return_value=graph_error(100, details=details))
    result = client.mark_read(Channel(), "wamid.X")
    assert not result.ok and not result.retryable and result.error.details == details


def test_upload_media_is_multipart_with_file_type_and_product(graph):
    route = graph.post(MEDIA_URL).mock(return_value=httpx.Response(200, json={"id": "914268667232441"}))
    result = client.upload_media(Channel(), b"\x89PNG\r\n\x1a\nDATA", mime_type="image/png", filename="photo.png")
    assert result.ok and result.media_id == "914268667232441"
    request = route.calls.last.request
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert request.headers["Content-Type"].startswith("multipart/form-data; boundary=")
    body = request.content
    assert b'name="messaging_product"\r\n\r\nwhatsapp' in body
    assert b'name="type"\r\n\r\nimage/png' in body
    assert b'name="file"; filename="photo.png"\r\nContent-Type: image/png\r\n\r\n\x89PNG\r\n\x1a\nDATA' in body


def test_upload_media_error_is_mapped(graph):
    graph.post(MEDIA_URL).mock(return_value=graph_error(131053, title="Media upload error", details="Unsupported type"))
    result = client.upload_media(Channel(), b"x", mime_type="image/png", filename="a.png")
    assert not result.ok and not result.retryable and result.error.code == 131053
    graph.post(MEDIA_URL).mock(side_effect=httpx.ConnectError("down"))
    assert client.upload_media(Channel(), b"x", mime_type="image/png", filename="a.png").retryable


def test_the_token_is_never_logged(graph, caplog):
    caplog.set_level(logging.DEBUG)
    graph.post(MESSAGES_URL).mock(return_value=graph_error(190, status=401, title="Access token has expired"))
    client.send(Channel(), BODY)
    graph.post(MESSAGES_URL).mock(side_effect=httpx.ConnectError("down"))
    client.send(Channel(), BODY)
    assert caplog.records
    assert TOKEN not in caplog.text
