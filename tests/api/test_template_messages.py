"""Sending a template through the API: `{"type": "template", "template": {...}}`, named by id or by name and
language, 201 with what the thread shows, 422 with a stable code for what WhatsApp's rules refuse, 400 for
malformed bodies. The worker runs after commit against a mocked Graph API (respx): no network."""

import json
from datetime import timedelta

import pytest
import respx
import yaml
from django.utils import timezone

from accounts.models import Role
from inbox.models import LiveEvent, Message, OutboxEntry
from templates_app.models import MessageTemplate
from tests.api.conftest import assert_error, token_client, works_every_channel
from tests.factories import ChannelFactory, ContactFactory, ConversationFactory, UserFactory, consenting, live_template
from tests.inbox.outbound.conftest import CUSTOMER, MESSAGES_URL, PHONE_NUMBER_ID, accepted

pytestmark = pytest.mark.django_db

VALUES = {"header.1": "#77", "body.1": "Ana", "body.2": "#77"}


@pytest.fixture
def graph():
    with respx.mock(assert_all_called=False) as router:
        yield router


@pytest.fixture
def agent_api(db):
    agent = UserFactory(role=Role.AGENT)
    works_every_channel(agent)
    return token_client(agent)


@pytest.fixture
def conversation(db):
    """The customer wrote two days ago: the window is closed, only a template may go out (they opted in to
    it on the website)."""
    wrote_at = timezone.now() - timedelta(days=2)
    return ConversationFactory(
        channel=ChannelFactory(phone_number_id=PHONE_NUMBER_ID),
        contact=consenting(ContactFactory(wa_id=CUSTOMER)),
        last_inbound_at=wrote_at,
        service_window_closes_at=wrote_at + timedelta(hours=24),
    )


@pytest.fixture
def template(conversation):
    return live_template(waba_id=conversation.channel.waba_id)


def send(api, conversation, body):
    return api.post(f"/api/v1/conversations/{conversation.pk}/messages/", body, format="json")


def nothing_written() -> bool:
    return not (
        Message.objects.filter(direction="outbound").exists()
        or OutboxEntry.objects.exists()
        or LiveEvent.objects.exists()
    )


def test_a_template_is_sent_after_the_window_closed(
    agent_api, conversation, template, graph, django_capture_on_commit_callbacks
):
    route = graph.post(MESSAGES_URL).mock(return_value=accepted("wamid.T1"))
    assert_error(send(agent_api, conversation, {"type": "text", "text": "Hi"}), 422, "window_closed")
    with django_capture_on_commit_callbacks(execute=True):
        response = send(
            agent_api, conversation, {"type": "template", "template": {"id": template.pk, "values": VALUES}}
        )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["type"] == "template" and body["status"] == "queued"
    assert body["template"] == {"id": template.pk, "name": "order_update", "language": "en_US"}
    assert body["text"] == "Hi Ana, your order #77 ships today."
    assert body["content"]["rendered"]["header"] == "Order #77"
    assert body["content"]["rendered"]["buttons"] == [
        {"type": "QUICK_REPLY", "text": "Thanks"},
        {"type": "QUICK_REPLY", "text": "Help"},
    ]
    sent = json.loads(route.calls.last.request.content)
    assert sent["type"] == "template" and set(sent["template"]) == {"name", "language", "components"}
    listed = agent_api.get(f"/api/v1/conversations/{conversation.pk}/messages/").json()["results"]
    assert listed[-1]["template"] == body["template"]
    assert listed[-1]["content"]["rendered"] == body["content"]["rendered"]


def test_other_messages_have_no_template(agent_api, conversation, template):
    Message.objects.create(
        conversation=conversation,
        channel=conversation.channel,
        direction="inbound",
        type="text",
        text="Hello",
        content={"body": "Hello"},
        status="received",
        timestamp=timezone.now(),
    )
    listed = agent_api.get(f"/api/v1/conversations/{conversation.pk}/messages/").json()["results"]
    assert listed[-1]["template"] is None


@pytest.mark.parametrize("language", ["en_US", "en-us"])
def test_a_template_may_be_named_by_name_and_language(agent_api, conversation, template, graph, language):
    live_template(waba_id="999000", name="order_update", language="en_US")
    response = send(
        agent_api,
        conversation,
        {"type": "template", "template": {"name": "order_update", "language": language, "values": VALUES}},
    )
    assert response.status_code == 201, response.content
    assert response.json()["template"]["id"] == template.pk


def test_a_name_unknown_on_this_numbers_account_is_422(agent_api, conversation, template):
    live_template(waba_id="999000", name="welcome")
    response = send(agent_api, conversation, {"type": "template", "template": {"name": "welcome", "language": "en_US"}})
    assert_error(response, 422, "template_not_found")
    assert "welcome" in response.json()["detail"]
    assert nothing_written()


@pytest.mark.parametrize(
    ("status", "code", "says"),
    [
        ("PAUSED", "template_not_sendable", "paused"),
        ("DISABLED", "template_not_sendable", "disabled"),
        ("PENDING", "template_not_sendable", "has not approved"),
    ],
)
def test_a_template_whatsapp_does_not_send_now_is_422(agent_api, conversation, template, status, code, says):
    MessageTemplate.objects.filter(pk=template.pk).update(status=status)
    response = send(agent_api, conversation, {"type": "template", "template": {"id": template.pk, "values": VALUES}})
    assert_error(response, 422, code)
    assert says in response.json()["detail"] and "requires_template" not in response.json()
    assert nothing_written()


@pytest.mark.parametrize(
    ("template_body", "code", "says"),
    [
        ({"values": {**VALUES, "body.2": ""}}, "template_parameters_invalid", "Fill in Body {{2}}."),
        ({"values": {"header.1": "#77", "body.1": "Ana"}}, "template_parameters_invalid", "Fill in Body {{2}}."),
        ({"values": {**VALUES, "body.1": "Ana\tMaria"}}, "template_parameters_invalid", "tabs"),
        ({"values": {**VALUES, "buttons.0.1": "x"}}, "template_parameters_invalid", "no variable buttons.0.1"),
        (
            {"values": VALUES, "header_media_link": "https://cdn.example/a.jpg"},
            "template_parameters_invalid",
            "no image, video or document header",
        ),
    ],
)
def test_values_whatsapp_would_refuse_are_422_naming_the_variable(
    agent_api, conversation, template, template_body, code, says
):
    response = send(agent_api, conversation, {"type": "template", "template": {"id": template.pk, **template_body}})
    assert_error(response, 422, code)
    assert says in response.json()["detail"]
    assert nothing_written()


def test_an_unknown_template_id_is_422(agent_api, conversation):
    assert_error(
        send(agent_api, conversation, {"type": "template", "template": {"id": 4242}}), 422, "template_not_found"
    )


def test_a_template_of_another_account_is_403(agent_api, conversation, template):
    elsewhere = live_template(waba_id="999000", name="elsewhere")
    response = send(agent_api, conversation, {"type": "template", "template": {"id": elsewhere.pk, "values": {}}})
    assert_error(response, 403, "permission_denied")
    assert nothing_written()


def test_managers_cannot_send_templates(conversation, template):
    manager = token_client(UserFactory(role=Role.MANAGER))
    response = send(manager, conversation, {"type": "template", "template": {"id": template.pk, "values": VALUES}})
    assert response.status_code == 403
    assert nothing_written()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"type": "template"}, "template"),
        ({"type": "template", "template": "order_update"}, "template"),
        ({"type": "template", "template": {}}, "template"),
        ({"type": "template", "template": {"id": 1, "name": "order_update", "language": "en_US"}}, "template"),
        ({"type": "template", "template": {"name": "order_update"}}, "template"),
        ({"type": "template", "template": {"id": "one"}}, "template"),
        ({"type": "template", "template": {"id": 1, "colour": "red"}}, "template"),
        ({"type": "template", "template": {"id": 1, "values": ["Ana"]}}, "template"),
        ({"type": "template", "template": {"id": 1, "values": {"body.1": 5}}}, "template"),
        (
            {
                "type": "template",
                "template": {"id": 1, "header_media_file_id": 1, "header_media_link": "https://a.b/c"},
            },
            "template",
        ),
        ({"type": "template", "template": {"id": 1}, "text": "Hi"}, "text"),
        ({"type": "text", "text": "Hi", "template": {"id": 1}}, "template"),
    ],
)
def test_a_malformed_template_body_is_400_naming_the_field(agent_api, conversation, body, field):
    response = send(agent_api, conversation, body)
    assert_error(response, 400, "invalid")
    assert field in response.json()["fields"], response.json()
    assert nothing_written()


def test_the_schema_documents_template_messages(client):
    schemas = yaml.safe_load(client.get("/api/schema/").content)["components"]["schemas"]
    send_schema = schemas["MessageSend"]["properties"]
    assert send_schema["type"] == {"$ref": "#/components/schemas/MessageSendTypeEnum"}
    assert "template" in schemas["MessageSendTypeEnum"]["enum"]
    assert send_schema["template"] == {"$ref": "#/components/schemas/TemplateSend"}
    template_send = schemas["TemplateSend"]["properties"]
    assert set(template_send) == {"id", "name", "language", "values", "header_media_file_id", "header_media_link"}
    assert "template" in schemas["Message"]["properties"]
    assert "template_parameters_invalid" in schemas["SendRefusal"]["description"]
