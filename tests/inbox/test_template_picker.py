"""The composer's template picker: which templates it offers (only sendable ones, the contact's language
first), one template's form (variables, prefills, the header file), sending it through the view, the
refusals said where the person tried, who may use it, and the template bubble in the thread (escaped)."""

import itertools
import re
from datetime import timedelta

import httpx
import pytest
import respx
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from inbox.models import MediaFile, Message, MessageStatus
from tests.factories import (
    ChannelFactory,
    ContactFactory,
    ConversationFactory,
    UserFactory,
    consenting,
    live_template,
    worked_by,
)

pytestmark = pytest.mark.django_db

GRAPH = "https://graph.facebook.com/v23.0"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
HOSTILE = '<script>alert("x")</script>'

IMAGE_HEADER_COMPONENTS = [
    {"type": "HEADER", "format": "IMAGE", "example": {"header_handle": ["4::aW1hZ2U="]}},
    {"type": "BODY", "text": "Your receipt, {{1}}.", "example": {"body_text": [["Ana"]]}},
]
LINK_COMPONENTS = [
    {"type": "BODY", "text": "Track your parcel, {{1}}.", "example": {"body_text": [["Ana"]]}},
    {
        "type": "BUTTONS",
        "buttons": [
            {
                "type": "URL",
                "text": "Track",
                "url": "https://shop.example/t/{{1}}",
                "example": ["https://shop.example/t/A1"],
            },
            {"type": "PHONE_NUMBER", "text": "Call us", "phone_number": "+15550001111"},
        ],
    },
]


@pytest.fixture(autouse=True)
def graph():
    """Meta's Graph API, should a send run (sends are queued on commit; tests that run them get wamids)."""
    wamids = (f"wamid.TPL{n}" for n in itertools.count(1))
    with respx.mock(assert_all_called=False) as router:
        router.post(url__regex=rf"{GRAPH}/\d+/messages").mock(
            side_effect=lambda request: httpx.Response(200, json={"messages": [{"id": next(wamids)}]})
        )
        router.post(url__regex=rf"{GRAPH}/\d+/media").mock(return_value=httpx.Response(200, json={"id": "9001"}))
        yield router


@pytest.fixture
def channel():
    return ChannelFactory()


@pytest.fixture
def conversation(channel):
    """The customer wrote two days ago: the window is closed, only a template may go out (they opted in
    to it on the website)."""
    wrote_at = timezone.now() - timedelta(days=2)
    return ConversationFactory(
        channel=channel,
        contact=consenting(ContactFactory(profile_name="Ana Sousa", wa_id="351912345678", language="pt_BR")),
        last_inbound_at=wrote_at,
        service_window_closes_at=wrote_at + timedelta(hours=24),
    )


@pytest.fixture
def agent(channel):
    person = UserFactory(role=Role.AGENT)
    worked_by(person, channel)
    return person


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def as_agent(agent) -> Client:
    return client_for(agent)


def picker_url(conversation) -> str:
    return reverse("inbox:template-picker", args=[conversation.pk])


def form_url(conversation, template) -> str:
    return reverse("inbox:template-form", args=[conversation.pk, template.pk])


def send(client, conversation, template, values: dict, **extra):
    data = {"template_id": template.pk, **{f"var:{key}": value for key, value in values.items()}, **extra}
    return client.post(reverse("inbox:template-send", args=[conversation.pk]), data, HTTP_X_REQUESTED_WITH="fetch")


# The composer offers it


def test_the_template_button_is_always_there_and_primary_when_the_window_is_closed(as_agent, conversation):
    html = as_agent.get(reverse("inbox:composer", args=[conversation.pk])).content.decode()
    button = re.search(r"<button[^>]*data-template-picker[^>]*>", html).group(0)
    assert "btn-primary" in button and "disabled" not in button
    assert 'aria-keyshortcuts="t"' in button
    assert picker_url(conversation) in button

    conversation.service_window_closes_at = timezone.now() + timedelta(hours=10)
    conversation.save()
    html = as_agent.get(reverse("inbox:composer", args=[conversation.pk])).content.decode()
    button = re.search(r"<button[^>]*data-template-picker[^>]*>", html).group(0)
    assert "btn-quiet" in button and "disabled" not in button
    assert 'id="composer-body"' in html


def test_managers_get_no_template_button(conversation):
    html = client_for(UserFactory(role=Role.MANAGER)).get(reverse("inbox:composer", args=[conversation.pk]))
    assert "data-template-picker" not in html.content.decode()


# The list


def test_the_picker_lists_only_sendable_templates_the_contacts_language_first(as_agent, conversation, channel):
    live_template(name="order_update", language="en_US")
    live_template(name="pedido_enviado", language="pt_BR")
    live_template(name="pedido_pt", language="pt_PT")
    live_template(name="paused_one", status="PAUSED")
    live_template(name="waiting_one", status="PENDING")
    live_template(name="elsewhere", waba_id="999999")

    html = as_agent.get(picker_url(conversation), HTTP_X_REQUESTED_WITH="fetch").content.decode()

    names = re.findall(r'<span class="tpl-name">([^<]+)</span>', html)
    assert names == ["pedido_enviado", "pedido_pt", "order_update"]
    assert "paused_one" not in html and "waiting_one" not in html and "elsewhere" not in html
    # The contact's own language is marked, and the filter box has the words to match.
    assert 'class="chip chip-on" dir="ltr"' in html
    assert 'data-search="order_update en_us utility hi {{1}}, your order {{2}} ships today."' in html
    assert 'id="tpl-filter"' in html and 'role="listbox"' in html


@pytest.mark.parametrize(
    ("role", "can_author", "teaches"),
    [
        (Role.ADMIN, False, "Write a template"),
        (Role.AGENT, False, "Ask an admin"),
        (Role.AGENT, True, "Write a template"),
    ],
)
def test_with_no_sendable_template_an_empty_state_says_why(conversation, channel, role, can_author, teaches):
    person = UserFactory(role=role, can_author_templates=can_author)
    worked_by(person, channel)
    html = client_for(person).get(picker_url(conversation)).content.decode()
    assert "This number has no templates yet." in html
    assert teaches in html
    if teaches == "Write a template":
        assert 'href="/templates/new"' in html

    live_template(name="paused_one", status="PAUSED")
    html = client_for(person).get(picker_url(conversation)).content.decode()
    assert "No template can be sent from this number right now." in html


# The form


def test_the_form_has_one_input_per_variable_prefilled_from_the_contact(as_agent, conversation):
    template = live_template()
    template.live_revision.variable_fields = {"body.1": "contact.first_name"}
    template.live_revision.save()

    html = as_agent.get(form_url(conversation, template)).content.decode()

    assert re.search(r'name="var:body\.1" value="Ana" placeholder="Ana"', html)
    assert re.search(r'name="var:body\.2" value="" placeholder="#1042"', html)
    assert re.search(r'name="var:header\.1" value="" placeholder="#1042"', html)
    assert "Prefilled from: The contact&#x27;s first name" in html
    # The preview starts with the prefill, samples standing in for the blanks, and the buttons.
    assert "Hi Ana, your order #1042 ships today." in html
    assert "Reply STOP to opt out" in html and 'class="tpl-buttons"' in html
    assert 'id="tpl-shape"' in html and "Hi {{1}}, your order {{2}} ships today." in html
    assert 'type="file"' not in html


def test_a_media_header_asks_for_its_file_of_the_right_kind(as_agent, conversation):
    template = live_template(name="receipt", components=IMAGE_HEADER_COMPONENTS)
    html = as_agent.get(form_url(conversation, template)).content.decode()
    assert 'type="file" name="header_media" accept="image/jpeg,image/png" required' in html
    assert 'data-kind="image"' in html and 'data-max-bytes="5242880"' in html
    assert "JPEG or PNG, up to 5 MB." in html


def test_a_template_that_may_not_be_sent_has_no_form(as_agent, conversation):
    paused = live_template(name="paused_one", status="PAUSED")
    assert as_agent.get(form_url(conversation, paused)).status_code == 404


# Sending


def test_sending_queues_a_template_message_with_its_rendered_content(
    as_agent, agent, conversation, django_capture_on_commit_callbacks
):
    template = live_template()
    with django_capture_on_commit_callbacks(execute=True):
        response = send(as_agent, conversation, template, {"header.1": "#77", "body.1": "Ana", "body.2": "#77"})

    assert response.status_code == 201
    message = Message.objects.get(conversation=conversation, type="template")
    assert message.template == template
    assert message.author == agent
    assert message.content["name"] == "order_update"
    assert message.content["rendered"]["body"] == "Hi Ana, your order #77 ships today."
    html = response.content.decode()
    assert f'id="msg-{message.pk}"' in html and "kind-template" in html
    assert "Template · <bdi>order_update</bdi>" in html
    assert '<p class="tpl-header" dir="auto">Order #77</p>' in html
    assert "Hi Ana, your order #77 ships today." in html
    assert "Thanks" in html and "Help" in html
    message.refresh_from_db()
    assert message.status in (MessageStatus.QUEUED, MessageStatus.SENT)


def test_sending_with_a_header_image_stores_it_and_shows_it(as_agent, conversation):
    template = live_template(name="receipt", components=IMAGE_HEADER_COMPONENTS)
    upload = SimpleUploadedFile("receipt.png", PNG, content_type="image/png")
    response = send(as_agent, conversation, template, {"body.1": "Ana"}, header_media=upload)
    assert response.status_code == 201, response.content
    message = Message.objects.get(conversation=conversation, type="template")
    assert MediaFile.objects.filter(conversation=conversation).count() == 1
    assert f'src="/media/{message.pk}/"' in response.content.decode()


def test_a_header_file_of_the_wrong_kind_is_refused_and_nothing_is_kept(as_agent, conversation):
    template = live_template(name="receipt", components=IMAGE_HEADER_COMPONENTS)
    upload = SimpleUploadedFile("notes.pdf", b"%PDF-1.4\n" + b"0" * 64, content_type="application/pdf")
    response = send(as_agent, conversation, template, {"body.1": "Ana"}, header_media=upload)
    assert response.status_code == 409
    assert response.json()["code"] == "template_parameters_invalid"
    assert not Message.objects.filter(conversation=conversation).exists()
    assert not MediaFile.objects.exists()


@pytest.mark.parametrize(
    ("status", "values", "code"),
    [
        ("APPROVED", {"header.1": "#77", "body.1": "Ana", "body.2": ""}, "template_parameters_invalid"),
        ("APPROVED", {"header.1": "#77", "body.1": "Ana\nSousa", "body.2": "#77"}, "template_parameters_invalid"),
        ("PAUSED", {"header.1": "#77", "body.1": "Ana", "body.2": "#77"}, "template_not_sendable"),
    ],
)
def test_refusals_answer_the_code_and_one_sentence(as_agent, conversation, status, values, code):
    template = live_template(status=status)
    response = send(as_agent, conversation, template, values)
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == code
    assert body["detail"] and "\n" not in body["detail"]
    assert not Message.objects.filter(conversation=conversation).exists()


# Who may


def test_a_manager_may_not_pick_or_send(conversation):
    template = live_template()
    manager = client_for(UserFactory(role=Role.MANAGER))
    assert manager.get(picker_url(conversation)).status_code == 403
    assert manager.get(form_url(conversation, template)).status_code == 403
    response = send(manager, conversation, template, {"header.1": "#1", "body.1": "Ana", "body.2": "#1"})
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert not Message.objects.exists()


def test_an_agent_who_does_not_see_the_conversation_gets_404(conversation):
    template = live_template()
    outsider = UserFactory(role=Role.AGENT)
    worked_by(outsider, ChannelFactory())
    client = client_for(outsider)
    assert client.get(picker_url(conversation)).status_code == 404
    assert client.get(form_url(conversation, template)).status_code == 404
    response = send(client, conversation, template, {"header.1": "#1", "body.1": "Ana", "body.2": "#1"})
    assert response.status_code == 404
    assert not Message.objects.exists()


def test_signed_out_scripts_are_sent_to_log_in(conversation):
    response = Client().get(picker_url(conversation), HTTP_X_REQUESTED_WITH="fetch")
    assert response.status_code == 401
    assert response["HX-Redirect"].startswith("/login/")


# The bubble


def test_hostile_values_and_names_are_escaped_in_the_thread(as_agent, conversation):
    conversation.contact.profile_name = HOSTILE
    conversation.contact.save()
    template = live_template(name="tracking", components=LINK_COMPONENTS)
    response = send(as_agent, conversation, template, {"body.1": HOSTILE, "buttons.0.1": "A1"})
    assert response.status_code == 201, response.content
    message = Message.objects.get(conversation=conversation, type="template")

    html = as_agent.get(reverse("inbox:message-bubble", args=[message.pk])).content.decode()

    assert HOSTILE not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    # The link button opens the page it names, safely; the call button shows its number.
    assert '<a class="tpl-button" href="https://shop.example/t/A1" target="_blank" rel="noopener noreferrer"' in html
    assert 'title="+15550001111"' in html and "Call us" in html
    page = as_agent.get(reverse("inbox:conversation", args=[conversation.pk])).content.decode()
    assert HOSTILE not in page


def test_a_link_button_that_is_not_http_is_never_a_link(as_agent, conversation):
    components = [
        {"type": "BODY", "text": "Hello"},
        {"type": "BUTTONS", "buttons": [{"type": "URL", "text": "Open", "url": "javascript:alert(1)"}]},
    ]
    message = Message.objects.create(
        conversation=conversation,
        channel=conversation.channel,
        direction="outbound",
        type="template",
        text="Hello",
        content={
            "name": "odd",
            "language": {"code": "en"},
            "rendered": {
                "header": None,
                "header_format": None,
                "body": "Hello",
                "footer": None,
                "buttons": [{"type": "URL", "text": "Open", "url": components[1]["buttons"][0]["url"]}],
            },
        },
        status=MessageStatus.QUEUED,
        timestamp=timezone.now(),
    )
    html = as_agent.get(reverse("inbox:message-bubble", args=[message.pk])).content.decode()
    assert "javascript:" not in html
    assert '<span class="tpl-button">' in html
