"""The customer phone page and the simulator's on/off switch."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from inbox.models import Message
from simulator.models import SimulatedCustomer, SimulatedMedia
from tests.factories import ChannelFactory
from tests.simulator.conftest import approved_template, components_for, text_body

pytestmark = pytest.mark.django_db
CUSTOMER = "16505551234"
HTMX = {"HX-Request": "true"}


def test_without_a_simulated_number_the_page_explains_how_to_connect_one(client, db):
    ChannelFactory(graph_api_base="https://graph.facebook.com/v23.0")
    response = client.get("/simulator/")
    assert response.status_code == 200
    assert b'data-testid="no-numbers"' in response.content
    assert b"/simulator/graph/v23.0" in response.content


def test_without_a_customer_the_page_teaches_what_to_do(client, channel):
    response = client.get("/simulator/")
    assert response.status_code == 200
    content = response.content.decode()
    assert 'data-testid="empty-state"' in content
    assert 'data-testid="new-customer-form"' in content
    assert 'href="/"' in content
    assert "htmx" in content and "cdn" not in content.lower()


def test_create_a_customer_and_open_the_chat(client, channel):
    response = client.post(
        "/simulator/phone/customers", {"number": channel.phone_number_id, "name": "Ana", "wa_id": "+1 650 555 1234"}
    )
    assert response.status_code == 302
    assert response["Location"] == f"/simulator/?number={channel.phone_number_id}&customer={CUSTOMER}"
    page = client.get(response["Location"]).content.decode()
    for testid in ("customer-picker", "message-input", "send-button", "message-list", "empty-chat"):
        assert f'data-testid="{testid}"' in page
    assert SimulatedCustomer.objects.get().name == "Ana"


def test_a_bad_phone_number_is_explained(client, channel):
    response = client.post("/simulator/phone/customers", {"number": channel.phone_number_id, "wa_id": "call me"})
    assert response.status_code == 400
    assert b'role="alert"' in response.content


def _customer(channel, **fields):
    return SimulatedCustomer.objects.create(channel=channel, wa_id=CUSTOMER, name="Ana", **fields)


def test_sending_text_from_the_page_reaches_the_inbox(client, channel, django_capture_on_commit_callbacks):
    _customer(channel)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/simulator/phone/send",
            {
                "number": channel.phone_number_id,
                "customer": CUSTOMER,
                "kind": "text",
                "text": "<script>alert(1)</script>",
            },
            headers=HTMX,
        )
    assert response.status_code == 200
    content = response.content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in content
    assert "<script>alert" not in content
    assert 'data-testid="message-bubble"' in content and 'dir="auto"' in content
    message = Message.objects.get()
    assert (message.type, message.text) == ("text", "<script>alert(1)</script>")


def test_without_htmx_the_page_redirects_back(client, channel, django_capture_on_commit_callbacks):
    _customer(channel)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/simulator/phone/send",
            {"number": channel.phone_number_id, "customer": CUSTOMER, "kind": "text", "text": "hi"},
        )
    assert response.status_code == 302
    assert Message.objects.count() == 1


def test_attachments_and_locations(client, channel, django_capture_on_commit_callbacks):
    _customer(channel)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            "/simulator/phone/send",
            {
                "number": channel.phone_number_id,
                "customer": CUSTOMER,
                "kind": "attachment",
                "caption": "look",
                "file": SimpleUploadedFile("a.png", b"\x89PNG....", content_type="image/png"),
            },
            headers=HTMX,
        )
        client.post(
            "/simulator/phone/send",
            {
                "number": channel.phone_number_id,
                "customer": CUSTOMER,
                "kind": "location",
                "latitude": "38.7",
                "longitude": "-9.1",
                "name": "Baixa",
            },
            headers=HTMX,
        )
        refused = client.post(
            "/simulator/phone/send",
            {
                "number": channel.phone_number_id,
                "customer": CUSTOMER,
                "kind": "attachment",
                "file": SimpleUploadedFile("a.svg", b"<svg/>", content_type="image/svg+xml"),
            },
            headers=HTMX,
        )
    assert [(m.type, m.text) for m in Message.objects.order_by("id")] == [("image", "look"), ("location", "Baixa")]
    assert b'data-testid="send-error"' in refused.content


def _business(graph, body):
    response = graph.send(body)
    assert response.status_code == 200, response.content
    return response.json()["messages"][0]["id"]


def test_business_messages_render_and_can_be_answered(client, graph, channel, django_capture_on_commit_callbacks):
    _customer(channel, last_inbound_at=None)
    sent_template = {
        "name": "order_update",
        "language": {"code": "en_US"},
        "components": [
            {"type": "body", "parameters": [{"type": "text", "text": "Ana"}]},
            {
                "type": "button",
                "sub_type": "quick_reply",
                "index": "0",
                "parameters": [{"type": "payload", "payload": "track"}],
            },
        ],
    }
    approved_template(channel, name="order_update", components=components_for(sent_template))
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            "/simulator/phone/send",
            {"number": channel.phone_number_id, "customer": CUSTOMER, "kind": "text", "text": "Hi"},
            headers=HTMX,
        )
        media_id = graph.upload(b"\xff\xd8\xff" + b"1" * 20).json()["id"]
        _business(graph, text_body(body="Hello <b>Ana</b>"))
        _business(graph, {"messaging_product": "whatsapp", "to": CUSTOMER, "type": "image", "image": {"id": media_id}})
        _business(
            graph,
            {
                "messaging_product": "whatsapp",
                "to": CUSTOMER,
                "type": "image",
                "image": {"link": "javascript:alert(1)"},
            },
        )
        buttons = _business(
            graph,
            {
                "messaging_product": "whatsapp",
                "to": CUSTOMER,
                "type": "interactive",
                "interactive": {
                    "type": "button",
                    "body": {"text": "Ship today?"},
                    "action": {"buttons": [{"type": "reply", "reply": {"id": "yes", "title": "Yes please"}}]},
                },
            },
        )
        _business(
            graph,
            {
                "messaging_product": "whatsapp",
                "to": CUSTOMER,
                "type": "interactive",
                "interactive": {
                    "type": "list",
                    "body": {"text": "Slot?"},
                    "action": {
                        "button": "Slots",
                        "sections": [{"title": "Morning", "rows": [{"id": "m1", "title": "8-10"}]}],
                    },
                },
            },
        )
        _business(
            graph,
            {
                "messaging_product": "whatsapp",
                "to": CUSTOMER,
                "type": "location",
                "location": {"latitude": 1.5, "longitude": 2.5, "name": "Shop"},
            },
        )
        _business(
            graph,
            {
                "messaging_product": "whatsapp",
                "to": CUSTOMER,
                "type": "template",
                "template": sent_template,
            },
        )
    page = client.get(f"/simulator/?number={channel.phone_number_id}&customer={CUSTOMER}").content.decode()
    assert "Hello &lt;b&gt;Ana&lt;/b&gt;" in page
    assert f'src="/simulator/phone/media/{media_id}"' in page
    assert "javascript:" not in page
    assert page.count('data-testid="reply-button"') == 2  # "Yes please" and the template's quick reply
    assert 'data-testid="list-row"' in page
    assert "openstreetmap.org/?mlat=1.5&amp;mlon=2.5" in page
    assert "order_update" in page

    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            "/simulator/phone/send",
            {
                "number": channel.phone_number_id,
                "customer": CUSTOMER,
                "kind": "button_reply",
                "reply_id": "yes",
                "title": "Yes please",
                "context_message_id": buttons,
            },
            headers=HTMX,
        )
        client.post(
            "/simulator/phone/send",
            {
                "number": channel.phone_number_id,
                "customer": CUSTOMER,
                "kind": "reaction",
                "message_id": buttons,
                "emoji": "❤️",
            },
            headers=HTMX,
        )
    reply = Message.objects.get(type="interactive")
    assert (reply.text, reply.reply_to_provider_id) == ("Yes please", buttons)
    assert Message.objects.get(type="reaction").text == "❤️"


def test_looking_at_the_chat_reads_delivered_messages(client, graph, channel, django_capture_on_commit_callbacks):
    _customer(channel)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            "/simulator/phone/send",
            {"number": channel.phone_number_id, "customer": CUSTOMER, "kind": "text", "text": "Hi"},
            headers=HTMX,
        )
        wamid = _business(graph, text_body())
    form = {"number": channel.phone_number_id, "customer": CUSTOMER, "version": ""}
    with django_capture_on_commit_callbacks(execute=True):
        first = client.post("/simulator/phone/thread", form, headers=HTMX)
    assert first.status_code == 200
    outbound = client.get("/simulator/api/outbound", {"phone_number_id": channel.phone_number_id, "to": CUSTOMER})
    assert outbound.json()["messages"][0]["status"] == "read"
    assert wamid in first.content.decode()
    # The read statuses changed the chat after the first answer; once it is stable, polls answer 204.
    second = client.post("/simulator/phone/thread", form, headers=HTMX)
    version = second.content.decode().split('name="version" value="')[1].split('"')[0]
    assert client.post("/simulator/phone/thread", {**form, "version": version}, headers=HTMX).status_code == 204


def test_sandbox_tricks_on_the_page(client, channel, django_capture_on_commit_callbacks):
    _customer(channel)
    client.post(
        "/simulator/phone/customers",
        {"number": channel.phone_number_id, "wa_id": CUSTOMER, "set_unreachable": "1", "unreachable": "1"},
    )
    assert SimulatedCustomer.objects.get().unreachable is True
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            "/simulator/phone/send",
            {"number": channel.phone_number_id, "customer": CUSTOMER, "kind": "text", "text": "Hi"},
            headers=HTMX,
        )
        response = client.post(
            "/simulator/phone/age", {"number": channel.phone_number_id, "customer": CUSTOMER, "hours": "25"}
        )
    assert response.status_code == 302
    assert Message.objects.get().conversation.service_window_closes_at is not None
    page = client.get(response["Location"]).content.decode()
    assert "window is closed" in page


def test_media_previews_only_show_raster_images_inline(client, graph, channel):
    image = graph.upload(b"\xff\xd8\xff" + b"1" * 20).json()["id"]
    document = graph.upload(b"%PDF-1.4", mime_type="application/pdf", name="a.pdf").json()["id"]
    inline = client.get(f"/simulator/phone/media/{image}")
    assert inline["Content-Type"] == "image/jpeg"
    assert "attachment" not in inline.get("Content-Disposition", "")
    attached = client.get(f"/simulator/phone/media/{document}")
    assert attached["Content-Type"] == "application/octet-stream"
    assert attached["Content-Disposition"].startswith("attachment")
    assert attached["X-Content-Type-Options"] == "nosniff"
    assert client.get("/simulator/phone/media/404").status_code == 404
    assert SimulatedMedia.objects.count() == 2


def test_disabled_simulator_is_404_everywhere(client, channel, settings, graph):
    media_id = graph.upload(b"\xff\xd8\xff" + b"1" * 20).json()["id"]
    settings.SIMULATOR_ENABLED = False
    pnid = channel.phone_number_id
    for method, path in [
        ("get", "/simulator/"),
        ("post", "/simulator/phone/thread"),
        ("post", "/simulator/phone/send"),
        ("post", "/simulator/phone/customers"),
        ("post", "/simulator/phone/age"),
        ("get", f"/simulator/phone/media/{media_id}"),
        ("post", "/simulator/api/inbound"),
        ("get", "/simulator/api/outbound"),
        ("post", "/simulator/api/read"),
        ("get", "/simulator/api/customers"),
        ("post", "/simulator/api/age"),
        ("post", f"/simulator/api/numbers/{pnid}/limits"),
        ("post", f"/simulator/graph/v23.0/{pnid}/messages"),
        ("post", f"/simulator/graph/v23.0/{pnid}/media"),
        ("get", f"/simulator/graph/v23.0/{media_id}"),
        ("get", "/simulator/lookaside/whatsapp_business/attachments/"),
    ]:
        response = getattr(client, method)(path, headers={"Authorization": "Bearer test-access-token"})
        assert response.status_code == 404, path


def test_pages_need_no_login(client, channel):
    _customer(channel)
    assert client.get(f"/simulator/?number={channel.phone_number_id}&customer={CUSTOMER}").status_code == 200
    assert json.loads(client.get("/simulator/api/customers", {"phone_number_id": channel.phone_number_id}).content)
