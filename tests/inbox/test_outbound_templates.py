"""Template messages through the outbox: `message_send(kind="template")` refuses what WhatsApp would refuse
before anything is written, stores WhatsApp's template object with what the thread shows, and the worker
sends only WhatsApp's keys, after asking again whether the template may still go out. Graph API mocked
with respx: no network."""

import json
from datetime import timedelta

import httpx
import pytest
import respx
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from accounts.models import Role
from inbox.models import MediaFile, Message, OutboxEntry
from inbox.providers.whatsapp_cloud import payloads
from inbox.services import outbound
from inbox.services.outbound import SendRefused
from templates_app.models import MessageTemplate, RevisionState, TemplateRevision
from tests.factories import (
    ChannelFactory,
    ContactFactory,
    ConversationFactory,
    UserFactory,
    consenting,
    live_template,
    worked_by,
)
from tests.inbox.outbound.conftest import CUSTOMER, MEDIA_URL, MESSAGES_URL, PHONE_NUMBER_ID, accepted

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 200
VALUES = {"header.1": "#77", "body.1": "Ana", "body.2": "#77"}
IMAGE_COMPONENTS = [
    {"type": "HEADER", "format": "IMAGE", "example": {"header_handle": ["4::aW1hZ2U="]}},
    {"type": "BODY", "text": "Hi {{1}}, here is your receipt.", "example": {"body_text": [["Ana"]]}},
]


@pytest.fixture
def graph():
    with respx.mock(assert_all_called=False) as router:
        yield router


@pytest.fixture
def channel(db):
    return ChannelFactory(phone_number_id=PHONE_NUMBER_ID)


@pytest.fixture
def agent(channel):
    agent = UserFactory(role=Role.AGENT)
    worked_by(agent, channel)
    return agent


@pytest.fixture
def conversation(channel):
    """The customer wrote two days ago: the 24-hour window is closed, only a template may go out (they
    opted in to it on the website)."""
    wrote_at = timezone.now() - timedelta(days=2)
    return ConversationFactory(
        channel=channel,
        contact=consenting(ContactFactory(wa_id=CUSTOMER)),
        last_inbound_at=wrote_at,
        service_window_closes_at=wrote_at + timedelta(hours=24),
    )


@pytest.fixture
def template(channel):
    return live_template(waba_id=channel.waba_id)


def send(conversation, author, payload) -> Message:
    return outbound.message_send(conversation=conversation, author=author, kind="template", payload=payload)


def nothing_written() -> bool:
    return not Message.objects.exists() and not OutboxEntry.objects.exists()


def test_a_template_goes_out_after_the_window_closed_with_only_whatsapps_keys(
    conversation, agent, template, graph, django_capture_on_commit_callbacks
):
    route = graph.post(MESSAGES_URL).mock(return_value=accepted("wamid.T1"))
    with django_capture_on_commit_callbacks(execute=True):
        message = send(conversation, agent, {"template_id": template.pk, "values": VALUES})
    message.refresh_from_db()
    assert (message.type, message.template, message.text) == (
        "template",
        template,
        "Hi Ana, your order #77 ships today.",
    )
    wire = {
        "name": "order_update",
        "language": {"code": "en_US"},
        "components": [
            {"type": "header", "parameters": [{"type": "text", "text": "#77"}]},
            {"type": "body", "parameters": [{"type": "text", "text": "Ana"}, {"type": "text", "text": "#77"}]},
            {
                "type": "button",
                "sub_type": "quick_reply",
                "index": "0",
                "parameters": [{"type": "payload", "payload": "Thanks"}],
            },
            {
                "type": "button",
                "sub_type": "quick_reply",
                "index": "1",
                "parameters": [{"type": "payload", "payload": "Help"}],
            },
        ],
    }
    assert message.content == {
        **wire,
        "rendered": {
            "header": "Order #77",
            "header_format": "TEXT",
            "header_media": None,
            "body": "Hi Ana, your order #77 ships today.",
            "footer": "Reply STOP to opt out",
            "buttons": [{"type": "QUICK_REPLY", "text": "Thanks"}, {"type": "QUICK_REPLY", "text": "Help"}],
        },
        "revision_id": template.live_revision_id,
    }
    body = json.loads(route.calls.last.request.content)
    assert body == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": CUSTOMER,
        "type": "template",
        "template": wire,
        "biz_opaque_callback_data": f"sb:{message.outbox_entry.pk}:1",
    }
    assert message.provider_message_id == "wamid.T1"
    conversation.refresh_from_db()
    assert conversation.last_message_preview == "Hi Ana, your order #77 ships today."


def test_a_template_may_be_named_by_another_conversation_of_the_number(conversation, agent, template, graph):
    # The customer never wrote: templates are the only way to start.
    fresh = ConversationFactory(channel=conversation.channel, contact=consenting(ContactFactory()))
    message = send(fresh, agent, {"template_id": str(template.pk), "values": VALUES})
    assert message.status == "queued"


@pytest.mark.parametrize(
    ("status", "says"),
    [
        ("PAUSED", "paused this template"),
        ("DISABLED", "disabled this template"),
        ("PENDING", "has not approved"),
        ("REJECTED", "has not approved"),
    ],
)
def test_a_template_whatsapp_does_not_send_now_is_refused_before_anything_is_written(
    conversation, agent, template, status, says
):
    MessageTemplate.objects.filter(pk=template.pk).update(status=status)
    with pytest.raises(SendRefused) as refused:
        # Missing values too: the template's state is what the person needs to hear first.
        send(conversation, agent, {"template_id": template.pk, "values": {}})
    assert refused.value.code == "template_not_sendable" and says in refused.value.detail
    assert not refused.value.requires_template
    assert nothing_written()


def test_a_template_without_approved_content_is_refused(conversation, agent, template):
    MessageTemplate.objects.filter(pk=template.pk).update(live_revision=None)
    with pytest.raises(SendRefused) as refused:
        send(conversation, agent, {"template_id": template.pk, "values": VALUES})
    assert refused.value.code == "template_not_sendable"


@pytest.mark.parametrize(
    ("payload", "code", "says"),
    [
        ({"template_id": 1, "values": {**VALUES, "body.2": ""}}, "template_parameters_invalid", "Fill in Body {{2}}."),
        (
            {"template_id": 1, "values": {**VALUES, "body.1": "Ana\nMaria"}},
            "template_parameters_invalid",
            "line breaks",
        ),
        ({"template_id": 1, "values": {**VALUES, "body.9": "x"}}, "template_parameters_invalid", "body.9"),
        ({"template_id": 1, "values": VALUES, "colour": "red"}, "invalid_message", "`colour`"),
        (
            {"template_id": 1, "values": VALUES, "header_media_link": "https://a.example/a.png"},
            "template_parameters_invalid",
            "no image",
        ),
        ({"template_id": 999_999, "values": VALUES}, "template_not_found", "No such template."),
        ({"values": VALUES}, "template_not_found", "No such template."),
        ("order_update", "invalid_message", "expected shape"),
    ],
)
def test_values_whatsapp_would_refuse_are_refused_before_anything_is_written(
    conversation, agent, template, payload, code, says
):
    if isinstance(payload, dict) and payload.get("template_id") == 1:
        payload = {**payload, "template_id": template.pk}
    with pytest.raises(SendRefused) as refused:
        send(conversation, agent, payload)
    assert refused.value.code == code and says in refused.value.detail
    assert nothing_written()


def test_only_people_who_may_reply_send_templates_and_only_their_numbers_account(conversation, agent, template):
    with pytest.raises(SendRefused) as refused:
        send(conversation, UserFactory(role=Role.MANAGER), {"template_id": template.pk, "values": VALUES})
    assert refused.value.code == "permission_denied"
    elsewhere = live_template(waba_id="999000", name="order_update")
    with pytest.raises(SendRefused) as refused:
        send(conversation, agent, {"template_id": elsewhere.pk, "values": VALUES})
    assert refused.value.code == "permission_denied"
    assert nothing_written()


# --- The worker asks again ----------------------------------------------------------------------------------------


@pytest.fixture
def queued(conversation, agent, template, django_capture_on_commit_callbacks):
    """A template message stored and queued, its task held back: `run(callbacks)` lets it go."""
    with django_capture_on_commit_callbacks() as callbacks:
        message = send(conversation, agent, {"template_id": template.pk, "values": VALUES})
    return message, callbacks


@pytest.fixture
def run(django_capture_on_commit_callbacks):
    def run_callbacks(callbacks):
        with django_capture_on_commit_callbacks(execute=True):
            for callback in callbacks:
                callback()

    return run_callbacks


@pytest.mark.parametrize(("status", "says"), [("PAUSED", "paused"), ("DISABLED", "disabled")])
def test_a_template_paused_after_queueing_fails_without_a_call(queued, template, graph, run, status, says):
    message, callbacks = queued
    route = graph.post(MESSAGES_URL).mock(return_value=accepted())
    MessageTemplate.objects.filter(pk=template.pk).update(status=status)
    run(callbacks)
    assert route.call_count == 0
    message.refresh_from_db()
    entry = message.outbox_entry
    assert (entry.state, entry.failure_reason, entry.attempts) == ("failed", "template_not_sendable", 0)
    assert message.status == "failed" and message.error_code is None
    assert says in message.error_title and "pick another template" in message.error_title


def test_a_template_whose_approved_content_changed_after_queueing_fails_without_a_call(queued, template, graph, run):
    message, callbacks = queued
    route = graph.post(MESSAGES_URL).mock(return_value=accepted())
    newer = TemplateRevision.objects.create(
        template=template,
        number=2,
        state=RevisionState.LIVE,
        category="UTILITY",
        components=[{"type": "BODY", "text": "Hello {{1}}"}],
    )
    MessageTemplate.objects.filter(pk=template.pk).update(live_revision=newer)
    run(callbacks)
    assert route.call_count == 0
    message.refresh_from_db()
    assert message.outbox_entry.failure_reason == "template_not_sendable"
    assert "changed after this message was written" in message.error_title


def test_a_template_deleted_after_queueing_fails_without_a_call(queued, template, graph, run):
    message, callbacks = queued
    route = graph.post(MESSAGES_URL).mock(return_value=accepted())
    template.delete()
    run(callbacks)
    assert route.call_count == 0
    message.refresh_from_db()
    assert (message.status, message.outbox_entry.failure_reason) == ("failed", "template_not_sendable")


def test_a_retry_asks_again(queued, template, agent, graph, run, django_capture_on_commit_callbacks):
    message, callbacks = queued
    route = graph.post(MESSAGES_URL).mock(return_value=accepted("wamid.RETRY"))
    MessageTemplate.objects.filter(pk=template.pk).update(status="PAUSED")
    run(callbacks)
    message.refresh_from_db()
    with pytest.raises(SendRefused) as refused:
        outbound.message_retry(message=message, author=agent)
    assert refused.value.code == "template_not_sendable" and "paused" in refused.value.detail
    # WhatsApp lifts the pause (it happens when quality recovers): the same message may go again.
    MessageTemplate.objects.filter(pk=template.pk).update(status="APPROVED")
    with django_capture_on_commit_callbacks(execute=True):
        outbound.message_retry(message=message, author=agent)
    assert route.call_count == 1
    message.refresh_from_db()
    assert message.provider_message_id == "wamid.RETRY"


def test_a_retry_of_a_message_written_from_older_content_is_refused(queued, template, agent, graph, run):
    message, callbacks = queued
    graph.post(MESSAGES_URL).mock(return_value=accepted())
    MessageTemplate.objects.filter(pk=template.pk).update(status="PAUSED")
    run(callbacks)
    newer = TemplateRevision.objects.create(
        template=template, number=2, state=RevisionState.LIVE, category="UTILITY", components=[]
    )
    MessageTemplate.objects.filter(pk=template.pk).update(live_revision=newer, status="APPROVED")
    message.refresh_from_db()
    with pytest.raises(SendRefused) as refused:
        outbound.message_retry(message=message, author=agent)
    assert refused.value.code == "template_not_sendable" and "write it again" in refused.value.detail


# --- Media headers ----------------------------------------------------------------------------------------------


@pytest.fixture
def image_template(channel):
    return live_template(waba_id=channel.waba_id, name="receipt", components=IMAGE_COMPONENTS)


def test_a_stored_header_image_is_uploaded_by_the_worker_and_sent_by_id(
    conversation, agent, image_template, graph, django_capture_on_commit_callbacks
):
    media = outbound.media_store(
        conversation=conversation,
        author=agent,
        upload=SimpleUploadedFile("receipt.png", PNG, content_type="image/png"),
    )
    uploaded = graph.post(MEDIA_URL).mock(return_value=httpx.Response(200, json={"id": "914268667232441"}))
    sent = graph.post(MESSAGES_URL).mock(return_value=accepted())
    with django_capture_on_commit_callbacks(execute=True):
        message = send(
            conversation,
            agent,
            {"template_id": image_template.pk, "values": {"body.1": "Ana"}, "header_media_file_id": media.pk},
        )
    assert uploaded.call_count == 1
    template_object = json.loads(sent.calls.last.request.content)["template"]
    assert set(template_object) == {"name", "language", "components"}
    assert template_object["components"][0] == {
        "type": "header",
        "parameters": [{"type": "image", "image": {"id": "914268667232441"}}],
    }
    message.refresh_from_db()
    # The stored message keeps no WhatsApp media id (it expires): the file keeps it.
    assert message.content["components"][0] == {"type": "header", "parameters": [{"type": "image", "image": {}}]}
    assert message.content["header_media_file_id"] == media.pk
    assert message.content["rendered"]["header_media"] == {"kind": "image", "media_file_id": media.pk}
    media.refresh_from_db()
    assert media.message == message and media.provider_media_id == "914268667232441"


def test_a_header_image_by_link_is_not_uploaded(
    conversation, agent, image_template, graph, django_capture_on_commit_callbacks
):
    uploaded = graph.post(MEDIA_URL).mock(return_value=httpx.Response(200, json={"id": "1"}))
    sent = graph.post(MESSAGES_URL).mock(return_value=accepted())
    link = "https://cdn.example.com/receipt.jpg"
    with django_capture_on_commit_callbacks(execute=True):
        send(
            conversation,
            agent,
            {"template_id": image_template.pk, "values": {"body.1": "Ana"}, "header_media_link": link},
        )
    assert uploaded.call_count == 0
    header = json.loads(sent.calls.last.request.content)["template"]["components"][0]
    assert header == {"type": "header", "parameters": [{"type": "image", "image": {"link": link}}]}


def test_a_header_file_must_be_an_unsent_file_of_this_conversation_of_the_right_kind(
    conversation, agent, image_template
):
    other = ConversationFactory(channel=conversation.channel, contact=ContactFactory())
    elsewhere = outbound.media_store(
        conversation=other, author=agent, upload=SimpleUploadedFile("a.png", PNG, content_type="image/png")
    )
    pdf = outbound.media_store(
        conversation=conversation,
        author=agent,
        upload=SimpleUploadedFile("a.pdf", b"%PDF-1.7\n" + b"x" * 100, content_type="application/pdf"),
    )
    payload = {"template_id": image_template.pk, "values": {"body.1": "Ana"}}
    for file_id, code in [(elsewhere.pk, "invalid_message"), (pdf.pk, "template_parameters_invalid")]:
        with pytest.raises(SendRefused) as refused:
            send(conversation, agent, {**payload, "header_media_file_id": file_id})
        assert refused.value.code == code
    with pytest.raises(SendRefused) as refused:
        send(conversation, agent, payload)
    assert refused.value.code == "template_parameters_invalid" and "Add an image" in refused.value.detail
    assert nothing_written() and not MediaFile.objects.filter(message__isnull=False).exists()


def test_the_wire_object_keeps_only_whatsapps_keys_and_needs_the_header_files_id():
    stored = {
        "name": "receipt",
        "language": {"code": "en_US"},
        "components": [{"type": "header", "parameters": [{"type": "image", "image": {}}]}],
        "rendered": {"body": "Hi"},
        "revision_id": 3,
        "header_media_file_id": 9,
    }
    assert payloads.template_needs_media_id(stored)
    assert payloads.template(stored, header_media_id="55") == {
        "name": "receipt",
        "language": {"code": "en_US"},
        "components": [{"type": "header", "parameters": [{"type": "image", "image": {"id": "55"}}]}],
    }
    # The stored message is left as it was (the id expires; the file keeps it).
    assert stored["components"][0]["parameters"][0]["image"] == {}
    with pytest.raises(ValueError):
        payloads.template(stored)
    by_link = {
        **stored,
        "components": [
            {"type": "header", "parameters": [{"type": "image", "image": {"link": "https://a.example/a.jpg"}}]}
        ],
    }
    assert not payloads.template_needs_media_id(by_link)
    with pytest.raises(ValueError):
        payloads.template(by_link, header_media_id="55")
    assert payloads.readable_text("template", stored) == "Hi"
