"""Send-body validation as Meta answers it: pure, no database."""

import pytest

from simulator.errors import GraphError
from simulator.validation import ReadRequest, SendRequest, parse_send


def body(**overrides):
    base = {"messaging_product": "whatsapp", "to": "16505551234", "type": "text", "text": {"body": "hi"}}
    base.update(overrides)
    return {key: value for key, value in base.items() if value is not None}


def buttons(count, title="Yes"):
    return [{"type": "reply", "reply": {"id": f"b{i}", "title": f"{title}{i}"}} for i in range(count)]


def interactive_button(**changes):
    interactive = {"type": "button", "body": {"text": "Pick one"}, "action": {"buttons": buttons(2)}}
    interactive.update(changes)
    interactive = {key: value for key, value in interactive.items() if value is not None}
    return body(type="interactive", text=None, interactive=interactive)


def interactive_list(rows=2, sections=1, **changes):
    action = {
        "button": "Options",
        "sections": [
            {"title": f"S{s}", "rows": [{"id": f"r{s}-{r}", "title": f"Row {r}"} for r in range(rows)]}
            for s in range(sections)
        ],
    }
    action.update(changes)
    return body(
        type="interactive", text=None, interactive={"type": "list", "body": {"text": "Choose"}, "action": action}
    )


@pytest.mark.parametrize(
    ("request_body", "code", "details"),
    [
        ("not an object", 100, "JSON object"),
        (body(messaging_product=None), 100, "The parameter messaging_product is required."),
        (body(messaging_product="sms"), 100, "messaging_product must be one of {WHATSAPP}"),
        (body(to=None), 100, "The parameter to is required."),
        (body(to=True), 100, "Param to must be a string."),
        (body(to="call me"), 100, "not a valid phone number"),
        (body(type="fax"), 100, "Param type must be one of"),
        (body(text=None), 100, "The parameter text is required."),
        (body(text={"body": ""}), 100, "text['body'] must be non-empty"),
        (body(text={"body": "x" * 4097}), 100, "text['body'] must be at most 4096 characters long."),
        (body(text={"body": "hi", "preview_url": "yes"}), 100, "preview_url"),
        (body(type="image", text=None, image={}), 100, "exactly one of image['id'] or image['link']"),
        (body(type="image", text=None, image={"id": "1", "link": "https://x"}), 100, "exactly one of"),
        (body(type="audio", text=None, audio={"id": "1", "caption": "no"}), 100, "audio['caption']"),
        (body(type="location", text=None, location={"latitude": 91, "longitude": 0}), 100, "latitude"),
        (body(type="location", text=None, location={"longitude": 0}), 100, "location['latitude'] is required"),
        (body(type="contacts", text=None, contacts=[]), 100, "non-empty array"),
        (body(type="contacts", text=None, contacts=[{"phones": []}]), 100, "contacts[0]['name'] is required"),
        (body(type="reaction", text=None, reaction={"emoji": "x"}), 100, "reaction['message_id'] is required"),
        (
            body(type="interactive", text=None, interactive={"type": "carousel", "action": {}}),
            100,
            "interactive['type']",
        ),
        (interactive_button(body=None), 100, "interactive['body'] is required"),
        (interactive_button(action={"buttons": buttons(4)}), 131009, "Buttons count is invalid. Min: 1, Max: 3"),
        (interactive_button(action={"buttons": []}), 131009, "Buttons count is invalid"),
        (
            interactive_button(action={"buttons": [{"type": "reply", "reply": {"id": "a", "title": "x" * 21}}]}),
            131009,
            "Button title length invalid. Min length: 1, Max length: 20",
        ),
        (
            interactive_button(action={"buttons": [{"type": "reply", "reply": {"id": "a" * 257, "title": "x"}}]}),
            131009,
            "Button id length invalid",
        ),
        (interactive_button(body={"text": "x" * 1025}), 131009, "Body text length invalid"),
        (interactive_button(footer={"text": "x" * 61}), 131009, "Footer text length invalid"),
        (interactive_button(header={"type": "text", "text": "x" * 61}), 131009, "Header text length invalid"),
        (interactive_list(rows=11), 131009, "Rows count is invalid. Min: 1, Max: 10"),
        (interactive_list(rows=6, sections=2), 131009, "Rows count is invalid"),
        (interactive_list(sections=11, rows=1), 131009, "Sections count is invalid"),
        (interactive_list(button="x" * 21), 131009, "Button label length invalid"),
        (
            body(
                type="interactive",
                text=None,
                interactive={
                    "type": "product_list",
                    "body": {"text": "b"},
                    "action": {"catalog_id": "1", "sections": [{"title": "t", "product_items": [{}]}]},
                },
            ),
            100,
            "interactive['header'] is required",
        ),
        (body(type="template", text=None, template={"name": "x"}), 100, "template['language'] is required"),
        (body(type="template", text=None, template={"language": {"code": "en"}}), 100, "template['name'] is required"),
        ({"messaging_product": "whatsapp", "status": "delivered", "message_id": "wamid.x"}, 100, "READ"),
        ({"messaging_product": "whatsapp", "status": "read"}, 100, "The parameter message_id is required."),
        (body(recipient_type="group"), 100, "recipient_type"),
    ],
)
def test_invalid_bodies_are_refused_like_meta(request_body, code, details):
    with pytest.raises(GraphError) as caught:
        parse_send(request_body)
    assert caught.value.code == code
    assert details in caught.value.details
    envelope = caught.value.envelope()["error"]
    assert envelope["message"] in ("(#100) Invalid parameter", "(#131009) Parameter value is not valid")
    assert envelope["error_data"]["messaging_product"] == "whatsapp"


@pytest.mark.parametrize(
    ("request_body", "to_input", "wa_id", "message_type"),
    [
        (body(), "16505551234", "16505551234", "text"),
        (body(to=13437772910), "13437772910", "13437772910", "text"),
        (body(to="+1 (650) 555-1234"), "+1 (650) 555-1234", "16505551234", "text"),
        (body(type=None), "16505551234", "16505551234", "text"),
        (body(text={"body": "x" * 4096}), "16505551234", "16505551234", "text"),
        (interactive_list(rows=5, sections=2), "16505551234", "16505551234", "interactive"),
        (interactive_button(action={"buttons": buttons(3)}), "16505551234", "16505551234", "interactive"),
    ],
)
def test_valid_bodies(request_body, to_input, wa_id, message_type):
    parsed = parse_send(request_body)
    assert isinstance(parsed, SendRequest)
    assert (parsed.to_input, parsed.wa_id, parsed.type) == (to_input, wa_id, message_type)


def test_template_is_lenient_about_case_and_index_types():
    template = {
        "name": "order_update",
        "language": {"code": "en_US"},
        "components": [
            {"type": "BODY", "parameters": [{"type": "TEXT", "text": "Ana"}]},
            {
                "type": "button",
                "sub_type": "QUICK_REPLY",
                "index": 0,
                "parameters": [{"type": "payload", "payload": "p"}],
            },
            {"type": "button", "sub_type": "quick_reply", "index": "1", "parameters": [{"type": "text", "text": True}]},
        ],
    }
    assert parse_send(body(type="template", text=None, template=template)).type == "template"


def test_read_with_typing_indicator():
    parsed = parse_send(
        {
            "messaging_product": "whatsapp",
            "status": "read",
            "message_id": "wamid.A",
            "typing_indicator": {"type": "text"},
        }
    )
    assert parsed == ReadRequest(message_id="wamid.A", typing_indicator=True)


def test_media_by_id_and_by_link():
    by_id = parse_send(body(type="document", text=None, document={"id": "123", "filename": "a.pdf"}))
    by_link = parse_send(body(type="image", text=None, image={"link": "https://example.com/a.jpg", "caption": "c"}))
    assert (by_id.media_id, by_id.media_link) == ("123", "")
    assert (by_link.media_id, by_link.media_link) == ("", "https://example.com/a.jpg")
