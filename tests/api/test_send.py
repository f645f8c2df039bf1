"""The API's outbound endpoints: sending every kind of message (JSON in WhatsApp's own shapes, or a file as
multipart), WhatsApp's refusals as 422 with a stable code, retrying a failed message and marking a
conversation read. The worker runs after commit against a mocked Graph API (respx): no network."""

import json
from datetime import timedelta

import httpx
import pytest
import respx
import yaml
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from accounts.models import Role
from inbox.models import Conversation, LiveEvent, MediaFile, Message, OutboxEntry
from inbox.providers.whatsapp_cloud.limits import MB
from inbox.services import outbound
from tests.api.conftest import assert_error, token_client, works_every_channel
from tests.factories import ChannelFactory, ContactFactory, ConversationFactory, MessageFactory, UserFactory
from tests.inbox.outbound.conftest import CUSTOMER, MEDIA_URL, MESSAGES_URL, PHONE_NUMBER_ID, accepted, graph_error

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 200
PDF = b"%PDF-1.7\n" + b"x" * 200


@pytest.fixture
def graph():
    """Every request to the Graph API is mocked; an unmocked one fails the test."""
    with respx.mock(assert_all_called=False) as router:
        yield router


@pytest.fixture
def agent(db):
    agent = UserFactory(role=Role.AGENT)
    works_every_channel(agent)
    return agent


@pytest.fixture
def agent_api(agent):
    """The API as `agent`, by token."""
    return token_client(agent)


@pytest.fixture
def conversation(db):
    """The customer wrote an hour ago: the 24-hour window is open."""
    wrote_at = timezone.now() - timedelta(hours=1)
    return ConversationFactory(
        channel=ChannelFactory(phone_number_id=PHONE_NUMBER_ID),
        contact=ContactFactory(wa_id=CUSTOMER),
        last_inbound_at=wrote_at,
        service_window_closes_at=wrote_at + timedelta(hours=24),
    )


@pytest.fixture
def closed(conversation):
    """The same conversation a day and a minute after the customer's last message."""
    wrote_at = timezone.now() - timedelta(hours=24, minutes=1)
    Conversation.objects.filter(pk=conversation.pk).update(
        last_inbound_at=wrote_at, service_window_closes_at=wrote_at + timedelta(hours=24)
    )
    return conversation


@pytest.fixture
def inbound(conversation):
    """The customer's message in the conversation, to quote or react to."""
    return MessageFactory(conversation=conversation, provider_message_id="wamid.IN1", text="Blue?")


def send_url(conversation) -> str:
    return f"/api/v1/conversations/{conversation.pk}/messages/"


def send(api, conversation, body):
    return api.post(send_url(conversation), body, format="json")


def upload(api, conversation, content: bytes, name: str, content_type: str, **fields):
    file = SimpleUploadedFile(name, content, content_type=content_type)
    return api.post(send_url(conversation), {"file": file, **fields}, format="multipart")


def nothing_written() -> bool:
    return not (
        Message.objects.filter(direction="outbound").exists()
        or OutboxEntry.objects.exists()
        or LiveEvent.objects.exists()
        or MediaFile.objects.exists()
    )


def stored_files(settings) -> list:
    root = settings.MEDIA_ROOT
    return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []


def wire(route) -> dict:
    return json.loads(route.calls.last.request.content)


# --- Text: the public contract ---------------------------------------------------------------------------


def test_a_text_is_queued_then_sent_by_the_worker(agent_api, conversation, graph, django_capture_on_commit_callbacks):
    route = graph.post(MESSAGES_URL).mock(return_value=accepted("wamid.OUT1"))

    with django_capture_on_commit_callbacks(execute=True):
        response = send(agent_api, conversation, {"type": "text", "text": "Yes, in blue too."})
        listed = agent_api.get(send_url(conversation)).json()["results"]
        # Stored with its outbox entry; nothing has gone out before the commit.
        entry = OutboxEntry.objects.get()
        assert entry.state == "pending" and route.call_count == 0

    assert response.status_code == 201, response.content
    assert "Location" not in response.headers
    body = response.json()
    assert body == listed[-1]
    assert {key: body[key] for key in ("direction", "type", "text", "content", "status", "provider_message_id")} == {
        "direction": "outbound",
        "type": "text",
        "text": "Yes, in blue too.",
        "content": {"body": "Yes, in blue too."},
        "status": "queued",
        "provider_message_id": None,
    }
    # After the commit the worker sent it.
    assert route.call_count == 1
    assert wire(route) == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": CUSTOMER,
        "type": "text",
        "text": {"body": "Yes, in blue too."},
        "biz_opaque_callback_data": f"sb:{entry.pk}:1",
    }
    entry.refresh_from_db()
    assert entry.state == "sent"
    assert Message.objects.get(pk=body["id"]).provider_message_id == "wamid.OUT1"


def test_preview_url_is_passed_on(agent_api, conversation):
    response = send(agent_api, conversation, {"type": "text", "text": "https://example.com", "preview_url": True})
    assert response.status_code == 201
    assert response.json()["content"] == {"body": "https://example.com", "preview_url": True}


@pytest.mark.parametrize("who", ["agent", "admin"])
def test_agents_and_admins_send(make_client, conversation, who):
    response = send(make_client(who), conversation, {"type": "text", "text": "Hi"})
    assert response.status_code == 201
    assert Message.objects.get(pk=response.json()["id"]).author.role == who


@pytest.mark.parametrize(
    ("who", "status_code", "code"),
    [
        ("manager", 403, "permission_denied"),
        ("anonymous", 401, "not_authenticated"),
        ("inactive", 401, "authentication_failed"),
    ],
)
def test_managers_and_strangers_do_not_send(make_client, conversation, who, status_code, code):
    response = send(make_client(who), conversation, {"type": "text", "text": "Hi"})
    assert_error(response, status_code, code)
    assert nothing_written()


def test_a_conversation_that_does_not_exist_is_not_found(agent_api, make_client):
    assert_error(send(agent_api, Conversation(pk=987654), {"type": "text", "text": "Hi"}), 404, "not_found")
    # 404 before 403: a manager learns nothing more than anyone else.
    assert_error(send(make_client("manager"), Conversation(pk=987654), {"type": "text"}), 404, "not_found")


# --- WhatsApp's rules and limits: 422 with the service's code, nothing written ----------------------------


def test_a_closed_window_refuses_free_form_and_writes_nothing(
    agent_api, closed, graph, django_capture_on_commit_callbacks
):
    route = graph.post(MESSAGES_URL)
    with django_capture_on_commit_callbacks(execute=True):
        response = send(agent_api, closed, {"type": "text", "text": "Are you still there?"})
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "window_closed" and body["detail"] and body["requires_template"] is True
    assert nothing_written() and route.call_count == 0


def test_a_customer_who_never_wrote_cannot_get_free_form(agent_api):
    conversation = ConversationFactory(last_inbound_at=None)
    assert_error(send(agent_api, conversation, {"type": "text", "text": "Hello"}), 422, "window_closed")
    assert nothing_written()


def test_a_text_over_whatsapps_limit_is_refused(agent_api, conversation):
    response = send(agent_api, conversation, {"type": "text", "text": "x" * 4097})
    assert_error(response, 422, "text_too_long")
    assert set(response.json()) == {"code", "detail"}
    assert nothing_written()


def test_a_text_at_whatsapps_limit_is_sent(agent_api, conversation):
    assert send(agent_api, conversation, {"type": "text", "text": "x" * 4096}).status_code == 201


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"type": "text", "text": "   "}, "invalid_message"),
        ({"type": "location", "location": {"latitude": 91, "longitude": 0}}, "invalid_message"),
        ({"type": "contacts", "contacts": [{"name": {"first_name": "Ana"}}]}, "invalid_message"),
        ({"type": "reaction", "reaction": {"message_id": "wamid.ELSEWHERE", "emoji": "👍"}}, "invalid_message"),
        ({"type": "reaction", "reaction": {"message_id": "wamid.IN1", "emoji": "ok"}}, "invalid_message"),
        ({"type": "interactive", "interactive": {"type": "carousel", "action": {}}}, "invalid_message"),
        (
            {
                "type": "interactive",
                "interactive": {
                    "type": "button",
                    "body": {"text": "Pick one"},
                    "action": {
                        "buttons": [{"type": "reply", "reply": {"id": f"b{n}", "title": f"B{n}"}} for n in range(4)]
                    },
                },
            },
            "invalid_message",
        ),
        ({"type": "image", "media_file_id": 987654}, "invalid_message"),
    ],
    ids=["blank", "latitude", "card-without-name", "foreign-wamid", "not-an-emoji", "carousel", "4-buttons", "no-file"],
)
def test_content_whatsapp_would_refuse_is_422(agent_api, conversation, inbound, body, code):
    assert_error(send(agent_api, conversation, body), 422, code)
    assert nothing_written()


# --- Malformed requests: 400 invalid ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"text": "Hi"}, "type"),
        ({"type": "fax", "text": "Hi"}, "type"),
        ({"type": "template", "text": "Hi"}, "text"),
        ({"type": "text", "text": 42}, "text"),
        ({"type": "text", "text": None}, "text"),
        ({"type": "text", "text": ["Hi"]}, "text"),
        ({"type": "text"}, "text"),
        ({"type": "text", "txt": "Hi"}, "txt"),
        ({"type": "text", "text": "Hi", "location": {"latitude": 1, "longitude": 2}}, "location"),
        ({"type": "location", "location": "Lisbon"}, "location"),
        ({"type": "location", "location": {"latitude": "north", "longitude": 2}}, "location"),
        ({"type": "contacts", "contacts": {"name": {"formatted_name": "Ana"}}}, "contacts"),
        ({"type": "reaction", "reaction": {"message_id": "wamid.IN1"}}, "reaction"),
        ({"type": "reaction", "reaction": {"message_id": "wamid.IN1", "emoji": "👍", "extra": 1}}, "reaction"),
        ({"type": "interactive", "interactive": ["button"]}, "interactive"),
        ({"type": "image"}, "media_file_id"),
        ({"type": "image", "media_file_id": "abc"}, "media_file_id"),
        ({"type": "text", "text": "Hi", "reply_to": "first"}, "reply_to"),
    ],
)
def test_a_malformed_body_is_400_naming_the_field(agent_api, conversation, inbound, body, field):
    response = send(agent_api, conversation, body)
    assert_error(response, 400, "invalid")
    assert field in response.json()["fields"]
    assert nothing_written()


def test_a_body_that_is_not_an_object_is_400(agent_api, conversation):
    assert_error(send(agent_api, conversation, ["text", "Hi"]), 400, "invalid")
    response = agent_api.post(send_url(conversation), "{not json", content_type="application/json")
    assert_error(response, 400, "malformed_request")
    response = agent_api.post(
        send_url(conversation), "type=text&text=Hi", content_type="application/x-www-form-urlencoded"
    )
    assert_error(response, 415, "unsupported_media_type")
    assert nothing_written()


# --- Other kinds, in WhatsApp's own shapes --------------------------------------------------------------

LIST = {
    "type": "list",
    "header": {"type": "text", "text": "Sizes"},
    "body": {"text": "Which size?"},
    "footer": {"text": "Free returns"},
    "action": {
        "button": "Choose",
        "sections": [{"title": "Shoes", "rows": [{"id": "s38", "title": "38"}, {"id": "s39", "title": "39"}]}],
    },
}
BUTTONS = {
    "type": "button",
    "body": {"text": "Keep the order?"},
    "action": {
        "buttons": [
            {"type": "reply", "reply": {"id": "yes", "title": "Yes"}},
            {"type": "reply", "reply": {"id": "no", "title": "No"}},
        ]
    },
}
PRODUCT = {
    "type": "product",
    "body": {"text": "This one"},
    "action": {"catalog_id": "367025965434465", "product_retailer_id": "SKU-1"},
}
PRODUCT_LIST = {
    "type": "product_list",
    "header": {"type": "text", "text": "Our picks"},
    "body": {"text": "For you"},
    "action": {
        "catalog_id": "367025965434465",
        "sections": [
            {"title": "Shoes", "product_items": [{"product_retailer_id": "SKU-1"}, {"product_retailer_id": "SKU-2"}]}
        ],
    },
}
LOCATION = {"latitude": 38.7223, "longitude": -9.1393, "name": "Shop", "address": "Rua Augusta 1, Lisboa"}
CARD = {
    "name": {"formatted_name": "Ana Lima", "first_name": "Ana"},
    "phones": [{"phone": "+351 912 345 678", "type": "CELL"}],
}


@pytest.mark.parametrize(
    ("body", "text", "sent"),
    [
        ({"type": "location", "location": LOCATION}, "Shop", LOCATION),
        ({"type": "contacts", "contacts": [CARD]}, "Ana Lima", [CARD]),
        ({"type": "interactive", "interactive": BUTTONS}, "Keep the order?", BUTTONS),
        ({"type": "interactive", "interactive": LIST}, "Which size?", LIST),
        ({"type": "interactive", "interactive": PRODUCT}, "This one", PRODUCT),
        ({"type": "interactive", "interactive": PRODUCT_LIST}, "For you", PRODUCT_LIST),
    ],
    ids=["location", "contacts", "buttons", "list", "product", "product_list"],
)
def test_every_other_kind_is_sent_in_whatsapps_shape(
    agent_api, conversation, graph, django_capture_on_commit_callbacks, body, text, sent
):
    route = graph.post(MESSAGES_URL).mock(return_value=accepted())
    with django_capture_on_commit_callbacks(execute=True):
        response = send(agent_api, conversation, body)
    assert response.status_code == 201, response.content
    assert (response.json()["type"], response.json()["text"], response.json()["status"]) == (
        body["type"],
        text,
        "queued",
    )
    on_the_wire = wire(route)
    assert on_the_wire["type"] == body["type"]
    assert on_the_wire[body["type"]] == sent


def test_a_reply_quotes_a_message_of_the_conversation(
    agent_api, conversation, inbound, graph, django_capture_on_commit_callbacks
):
    route = graph.post(MESSAGES_URL).mock(return_value=accepted())
    with django_capture_on_commit_callbacks(execute=True):
        response = send(agent_api, conversation, {"type": "text", "text": "Yes, blue.", "reply_to": inbound.pk})
    assert response.status_code == 201
    assert response.json()["reply_to_provider_id"] == "wamid.IN1"
    assert wire(route)["context"] == {"message_id": "wamid.IN1"}


def test_reply_to_must_be_a_message_of_this_conversation(agent_api, conversation):
    elsewhere = MessageFactory(provider_message_id="wamid.OTHER")
    for reply_to in (elsewhere.pk, 987654):
        response = send(agent_api, conversation, {"type": "text", "text": "Hi", "reply_to": reply_to})
        assert_error(response, 400, "invalid")
        assert "reply_to" in response.json()["fields"]
    assert nothing_written()


def test_a_reaction_to_the_quoted_message(agent_api, conversation, inbound, graph, django_capture_on_commit_callbacks):
    route = graph.post(MESSAGES_URL).mock(return_value=accepted())
    with django_capture_on_commit_callbacks(execute=True):
        response = send(
            agent_api, conversation, {"type": "reaction", "reaction": {"emoji": "👍"}, "reply_to": inbound.pk}
        )
    assert response.status_code == 201, response.content
    assert response.json()["content"] == {"message_id": "wamid.IN1", "emoji": "👍"}
    # A reaction names its message in the reaction object, never in `context`.
    assert wire(route)["reaction"] == {"message_id": "wamid.IN1", "emoji": "👍"} and "context" not in wire(route)


@pytest.mark.parametrize("emoji", ["❤️", ""], ids=["react", "remove"])
def test_a_reaction_by_whatsapps_message_id(agent_api, conversation, inbound, emoji):
    response = send(
        agent_api, conversation, {"type": "reaction", "reaction": {"message_id": "wamid.IN1", "emoji": emoji}}
    )
    assert response.status_code == 201, response.content
    assert response.json()["content"] == {"message_id": "wamid.IN1", "emoji": emoji}


def test_a_reaction_without_a_message_is_refused(agent_api, conversation):
    assert_error(
        send(agent_api, conversation, {"type": "reaction", "reaction": {"emoji": "👍"}}), 422, "invalid_message"
    )
    assert nothing_written()


# --- Files --------------------------------------------------------------------------------------------------


def test_an_uploaded_image_is_stored_and_sent_with_its_caption(
    agent_api, conversation, graph, django_capture_on_commit_callbacks
):
    uploaded = graph.post(MEDIA_URL).mock(return_value=httpx.Response(200, json={"id": "914268667232441"}))
    sent = graph.post(MESSAGES_URL).mock(return_value=accepted())
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(agent_api, conversation, PNG, "shoe.png", "image/png", type="image", caption="In blue")
    assert response.status_code == 201, response.content
    body = response.json()
    media = MediaFile.objects.get()
    assert (body["type"], body["text"], body["status"]) == ("image", "In blue", "queued")
    assert body["content"]["media_file_id"] == media.pk and body["content"]["caption"] == "In blue"
    assert media.message_id == body["id"] and media.file.read() == PNG
    assert uploaded.call_count == 1
    assert wire(sent)["image"] == {"id": "914268667232441", "caption": "In blue"}


def test_an_uploaded_document_keeps_the_name_it_was_given(
    agent_api, conversation, graph, django_capture_on_commit_callbacks
):
    graph.post(MEDIA_URL).mock(return_value=httpx.Response(200, json={"id": "55"}))
    sent = graph.post(MESSAGES_URL).mock(return_value=accepted())
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(
            agent_api, conversation, PDF, "scan0001.pdf", "application/pdf", type="document", filename="Invoice 42.pdf"
        )
    assert response.status_code == 201, response.content
    assert wire(sent)["document"] == {"id": "55", "filename": "Invoice 42.pdf"}


def test_a_file_stored_earlier_is_sent_by_its_id(agent_api, agent, conversation):
    media = outbound.media_store(
        conversation=conversation, author=agent, upload=SimpleUploadedFile("a.png", PNG, content_type="image/png")
    )
    response = send(agent_api, conversation, {"type": "image", "media_file_id": media.pk, "caption": "This one"})
    assert response.status_code == 201, response.content
    assert response.json()["content"]["media_file_id"] == media.pk
    # Once sent, it cannot be sent a second time.
    again = send(agent_api, conversation, {"type": "image", "media_file_id": media.pk})
    assert_error(again, 422, "invalid_message")


def test_an_oversized_image_is_refused_before_anything_is_stored_or_sent(agent_api, conversation, graph, settings):
    route = graph.post(MESSAGES_URL)
    too_big = b"\xff\xd8\xff" + b"\x00" * (5 * MB)
    response = upload(agent_api, conversation, too_big, "big.jpg", "image/jpeg", type="image")
    assert_error(response, 422, "media_too_large")
    assert nothing_written() and stored_files(settings) == [] and route.call_count == 0


@pytest.mark.parametrize(
    ("content", "name", "content_type", "kind", "code"),
    [
        (PDF, "invoice.pdf", "application/pdf", "image", "media_type_not_allowed"),
        (b"<svg onload=alert(1)>", "x.svg", "image/svg+xml", "image", "media_type_not_allowed"),
        (PNG, "a.png", "image/png", "sticker", "media_type_not_allowed"),
    ],
    ids=["pdf-as-image", "svg", "png-as-sticker"],
)
def test_a_file_of_the_wrong_type_is_refused_and_nothing_is_kept(
    agent_api, conversation, settings, content, name, content_type, kind, code
):
    response = upload(agent_api, conversation, content, name, content_type, type=kind)
    assert_error(response, 422, code)
    assert nothing_written() and stored_files(settings) == []


def test_an_upload_to_a_closed_window_keeps_nothing(agent_api, closed, settings):
    response = upload(agent_api, closed, PNG, "a.png", "image/png", type="image")
    assert_error(response, 422, "window_closed")
    assert response.json()["requires_template"] is True
    assert nothing_written() and stored_files(settings) == []


@pytest.mark.parametrize(
    ("fields", "field"),
    [({"type": "text"}, "type"), ({}, "type"), ({"type": "image", "text": "Hi"}, "text")],
)
def test_a_malformed_upload_is_400(agent_api, conversation, settings, fields, field):
    response = upload(agent_api, conversation, PNG, "a.png", "image/png", **fields)
    assert_error(response, 400, "invalid")
    assert field in response.json()["fields"]
    assert nothing_written() and stored_files(settings) == []


def test_an_upload_without_a_file_is_400(agent_api, conversation):
    response = agent_api.post(send_url(conversation), {"type": "image"}, format="multipart")
    assert_error(response, 400, "invalid")
    assert "file" in response.json()["fields"]


def test_managers_upload_nothing(make_client, conversation, settings):
    response = upload(make_client("manager"), conversation, PNG, "a.png", "image/png", type="image")
    assert_error(response, 403, "permission_denied")
    assert nothing_written() and stored_files(settings) == []


# --- Retry ------------------------------------------------------------------------------------------------


def retry_url(message) -> str:
    return f"/api/v1/messages/{message.pk}/retry/"


@pytest.fixture
def failed(agent_api, conversation, graph, django_capture_on_commit_callbacks):
    """A text WhatsApp refused for good; `graph` answers the next send with wamid.SECOND."""
    route = graph.post(MESSAGES_URL).mock(
        side_effect=[graph_error(131009, title="Parameter value is not valid"), accepted("wamid.SECOND")]
    )
    with django_capture_on_commit_callbacks(execute=True):
        message_id = send(agent_api, conversation, {"type": "text", "text": "Hi"}).json()["id"]
    message = Message.objects.get(pk=message_id)
    assert message.status == "failed" and route.call_count == 1
    return message, route


def test_a_failed_message_is_really_sent_again(agent_api, failed, django_capture_on_commit_callbacks):
    message, route = failed
    with django_capture_on_commit_callbacks(execute=True):
        response = agent_api.post(retry_url(message))
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["id"], body["status"], body["error"], body["provider_message_id"]) == (
        message.pk,
        "queued",
        None,
        None,
    )
    assert route.call_count == 2
    message.refresh_from_db()
    assert message.provider_message_id == "wamid.SECOND"
    assert wire(route)["biz_opaque_callback_data"] == f"sb:{message.outbox_entry.pk}:1"


def test_only_a_failed_message_is_retried(agent_api, inbound, conversation):
    assert_error(agent_api.post(retry_url(inbound)), 422, "not_retryable")
    queued = send(agent_api, conversation, {"type": "text", "text": "Hi"}).json()
    assert_error(agent_api.post(f"/api/v1/messages/{queued['id']}/retry/"), 422, "not_retryable")


def test_a_retry_obeys_the_window(agent_api, failed):
    message, route = failed
    Conversation.objects.filter(pk=message.conversation_id).update(last_inbound_at=timezone.now() - timedelta(days=2))
    response = agent_api.post(retry_url(message))
    assert_error(response, 422, "window_closed")
    assert response.json()["requires_template"] is True
    message.refresh_from_db()
    assert message.status == "failed" and route.call_count == 1


@pytest.mark.parametrize(("who", "status_code"), [("manager", 403), ("anonymous", 401)])
def test_managers_and_strangers_do_not_retry(make_client, failed, who, status_code):
    message, route = failed
    assert make_client(who).post(retry_url(message)).status_code == status_code
    message.refresh_from_db()
    assert message.status == "failed" and route.call_count == 1


def test_retrying_a_message_that_does_not_exist_is_not_found(agent_api):
    assert_error(agent_api.post("/api/v1/messages/987654/retry/"), 404, "not_found")


# --- Read --------------------------------------------------------------------------------------------------


def read_url(conversation) -> str:
    return f"/api/v1/conversations/{conversation.pk}/read/"


@pytest.fixture
def unread(conversation, inbound):
    Conversation.objects.filter(pk=conversation.pk).update(unread_count=2)
    return conversation


def test_reading_clears_the_count_and_tells_whatsapp(agent_api, unread, graph, django_capture_on_commit_callbacks):
    route = graph.post(MESSAGES_URL).mock(return_value=httpx.Response(200, json={"success": True}))
    with django_capture_on_commit_callbacks(execute=True):
        response = agent_api.post(read_url(unread))
    assert response.status_code == 204 and response.content == b""
    assert Conversation.objects.get(pk=unread.pk).unread_count == 0
    assert wire(route) == {"messaging_product": "whatsapp", "status": "read", "message_id": "wamid.IN1"}


@pytest.mark.parametrize(("who", "status_code"), [("manager", 403), ("anonymous", 401)])
def test_managers_and_strangers_do_not_mark_read(make_client, unread, who, status_code):
    assert make_client(who).post(read_url(unread)).status_code == status_code
    assert Conversation.objects.get(pk=unread.pk).unread_count == 2


def test_reading_a_conversation_that_does_not_exist_is_not_found(agent_api):
    assert_error(agent_api.post("/api/v1/conversations/987654/read/"), 404, "not_found")


# --- Schema ---------------------------------------------------------------------------------------------------


def test_the_schema_documents_the_outbound_endpoints(api_client):
    paths = yaml.safe_load(api_client.get("/api/schema/").content)["paths"]
    create = paths["/api/v1/conversations/{conversation_id}/messages/"]["post"]
    assert set(create["requestBody"]["content"]) == {"application/json", "multipart/form-data"}
    assert {"201", "400", "401", "403", "404", "422"} <= set(create["responses"])
    assert {"200", "422"} <= set(paths["/api/v1/messages/{message_id}/retry/"]["post"]["responses"])
    assert "204" in paths["/api/v1/conversations/{conversation_id}/read/"]["post"]["responses"]
