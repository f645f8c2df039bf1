"""WhatsApp's limits (§2, §4) are checked before anything is stored: a table of what passes and what is
refused, with the stable code and a sentence that names the limit."""

import pytest

from inbox.providers.whatsapp_cloud import limits, payloads
from inbox.providers.whatsapp_cloud.limits import KB, MB, ValidationRefused


def buttons(n: int) -> dict:
    return {
        "type": "button",
        "body": {"text": "Choose"},
        "action": {"buttons": [{"type": "reply", "reply": {"id": f"b{i}", "title": f"Yes {i}"}} for i in range(n)]},
    }


def button_message(*, body="Choose", title="Yes", button_id="b1", footer=None, header=None) -> dict:
    message = {
        "type": "button",
        "body": {"text": body},
        "action": {"buttons": [{"type": "reply", "reply": {"id": button_id, "title": title}}]},
    }
    if footer is not None:
        message["footer"] = {"text": footer}
    if header is not None:
        message["header"] = {"type": "text", "text": header}
    return message


def list_message(*, sections=None, button="Open", body="Pick one") -> dict:
    if sections is None:
        sections = [{"title": "All", "rows": [{"id": "r1", "title": "One"}]}]
    return {"type": "list", "body": {"text": body}, "action": {"button": button, "sections": sections}}


def rows(n: int, *, start: int = 0) -> list[dict]:
    return [{"id": f"r{start + i}", "title": f"Row {start + i}"} for i in range(n)]


ACCEPTED = [
    ("text", {"body": "x" * 4096}),
    (
        "interactive",
        button_message(title="t" * 20, button_id="i" * 256, body="b" * 1024, footer="f" * 60, header="h" * 60),
    ),
    ("interactive", buttons(3)),
    ("interactive", list_message(button="b" * 20, body="b" * 4096)),
    ("interactive", list_message(sections=[{"title": f"S{i}", "rows": rows(1, start=i)} for i in range(10)])),
    (
        "interactive",
        list_message(
            sections=[{"title": "s" * 24, "rows": [{"id": "i" * 200, "title": "t" * 24, "description": "d" * 72}]}]
        ),
    ),
    ("interactive", list_message(sections=[{"rows": rows(10)}])),
    ("location", {"latitude": -90, "longitude": 180}),
    ("reaction", {"message_id": "wamid.1", "emoji": "1️⃣"}),
    ("reaction", {"message_id": "wamid.1", "emoji": "👍🏽"}),
]


@pytest.mark.parametrize(("kind", "payload"), ACCEPTED)
def test_at_the_limit_is_accepted(kind, payload):
    payloads.content_from_payload(kind, payload)


REFUSED = [
    ("empty text", "text", {"body": "   "}, "invalid_message", "cannot be empty"),
    (
        "text over 4096",
        "text",
        {"body": "x" * 4097},
        "text_too_long",
        "4097 characters long; WhatsApp allows at most 4096",
    ),
    ("4 buttons", "interactive", buttons(4), "invalid_message", "at most 3 reply buttons"),
    ("button title 21", "interactive", button_message(title="t" * 21), "invalid_message", "at most 20"),
    ("button id 257", "interactive", button_message(button_id="i" * 257), "invalid_message", "at most 256"),
    ("button body 1025", "interactive", button_message(body="b" * 1025), "invalid_message", "at most 1024"),
    ("footer 61", "interactive", button_message(footer="f" * 61), "invalid_message", "at most 60"),
    ("header 61", "interactive", button_message(header="h" * 61), "invalid_message", "at most 60"),
    ("no buttons", "interactive", buttons(0), "invalid_message", "at least one button"),
    (
        "same titles",
        "interactive",
        {
            "type": "button",
            "body": {"text": "x"},
            "action": {
                "buttons": [
                    {"type": "reply", "reply": {"id": "a", "title": "Same"}},
                    {"type": "reply", "reply": {"id": "b", "title": "Same"}},
                ]
            },
        },
        "invalid_message",
        "must all be different",
    ),
    ("list button 21", "interactive", list_message(button="b" * 21), "invalid_message", "at most 20"),
    (
        "11 sections",
        "interactive",
        list_message(sections=[{"title": f"S{i}", "rows": rows(1, start=i)} for i in range(11)]),
        "invalid_message",
        "at most 10 sections",
    ),
    (
        "11 rows",
        "interactive",
        list_message(sections=[{"title": "A", "rows": rows(6)}, {"title": "B", "rows": rows(5, start=6)}]),
        "invalid_message",
        "at most 10 rows in all",
    ),
    (
        "row title 25",
        "interactive",
        list_message(sections=[{"rows": [{"id": "r", "title": "t" * 25}]}]),
        "invalid_message",
        "at most 24",
    ),
    (
        "row description 73",
        "interactive",
        list_message(sections=[{"rows": [{"id": "r", "title": "t", "description": "d" * 73}]}]),
        "invalid_message",
        "at most 72",
    ),
    (
        "row id 201",
        "interactive",
        list_message(sections=[{"rows": [{"id": "i" * 201, "title": "t"}]}]),
        "invalid_message",
        "at most 200",
    ),
    (
        "section title 25",
        "interactive",
        list_message(sections=[{"title": "s" * 25, "rows": rows(1)}]),
        "invalid_message",
        "at most 24",
    ),
    (
        "untitled sections",
        "interactive",
        list_message(sections=[{"rows": rows(1)}, {"rows": rows(1, start=1)}]),
        "invalid_message",
        "needs a title",
    ),
    ("list body 4097", "interactive", list_message(body="b" * 4097), "invalid_message", "at most 4096"),
    (
        "31 products",
        "interactive",
        {
            "type": "product_list",
            "header": {"type": "text", "text": "H"},
            "body": {"text": "B"},
            "action": {
                "catalog_id": "c",
                "sections": [{"title": "A", "product_items": [{"product_retailer_id": f"p{i}"} for i in range(31)]}],
            },
        },
        "invalid_message",
        "at most 30 products",
    ),
    (
        "product with header",
        "interactive",
        {
            "type": "product",
            "header": {"type": "text", "text": "H"},
            "action": {"catalog_id": "c", "product_retailer_id": "p"},
        },
        "invalid_message",
        "cannot have a header",
    ),
    (
        "image header",
        "interactive",
        {**button_message(), "header": {"type": "image", "image": {"id": "1"}}},
        "invalid_message",
        "Only text headers",
    ),
    ("flow", "interactive", {"type": "flow", "action": {}}, "invalid_message", "reply buttons, a list"),
    ("latitude 91", "location", {"latitude": 91, "longitude": 0}, "invalid_message", "between -90 and 90"),
    ("latitude text", "location", {"latitude": "north", "longitude": 0}, "invalid_message", "must be a number"),
    (
        "contact without name",
        "contacts",
        {"contacts": [{"phones": [{"phone": "+1"}]}]},
        "invalid_message",
        "needs a full name",
    ),
    (
        "contact unknown field",
        "contacts",
        {"contacts": [{"name": {"formatted_name": "A"}, "script": "x"}]},
        "invalid_message",
        "does not know",
    ),
    ("6 contacts", "contacts", {"contacts": [{"name": {"formatted_name": "A"}}] * 6}, "invalid_message", "At most 5"),
    (
        "reaction with words",
        "reaction",
        {"message_id": "wamid.1", "emoji": "nice one"},
        "invalid_message",
        "single emoji",
    ),
    ("reaction to nothing", "reaction", {"emoji": "👍"}, "invalid_message", "which message"),
    ("template here", "template", {"name": "x"}, "invalid_message", "not a kind of message"),
]


@pytest.mark.parametrize(("case", "kind", "payload", "code", "sentence"), REFUSED, ids=[r[0] for r in REFUSED])
def test_over_the_limit_is_refused_with_a_sentence(case, kind, payload, code, sentence):
    with pytest.raises(ValidationRefused) as refused:
        payloads.content_from_payload(kind, payload)
    assert refused.value.code == code
    assert sentence in refused.value.detail


def test_captions_only_where_whatsapp_shows_them():
    with pytest.raises(ValidationRefused, match="captions"):
        payloads.media("audio", media_id="1", caption="Listen")
    with pytest.raises(ValidationRefused, match="at most 1024"):
        payloads.media("image", media_id="1", caption="c" * 1025)
    assert payloads.media("image", media_id="1", filename="x.png") == {"id": "1"}


JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 60
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 56
STATIC_WEBP = b"RIFF\x00\x00\x00\x00WEBPVP8 " + b"\x00" * 48
ANIMATED_WEBP = b"RIFF\x00\x00\x00\x00WEBPVP8X" + b"\x00\x00\x00\x00" + b"\x02" + b"\x00" * 43
MP4 = b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 52
PDF = b"%PDF-1.7\n" + b"\x00" * 55
OGG = b"OggS" + b"\x00" * 60
DOCX = b"PK\x03\x04" + b"\x00" * 60


@pytest.mark.parametrize(
    ("kind", "mime", "size", "head"),
    [
        ("image", "image/jpeg", 5 * MB, JPEG),
        ("image", "image/png", 1, PNG),
        ("image", "image/jpg", 1000, JPEG),
        ("audio", "audio/ogg; codecs=opus", 16 * MB, OGG),
        ("audio", "audio/mp4", 1000, MP4),
        ("video", "video/mp4", 16 * MB, MP4),
        ("document", "application/pdf", 100 * MB, PDF),
        ("document", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", 1000, DOCX),
        ("document", "text/plain", 10, b"hello there"),
        ("sticker", "image/webp", 100 * KB, STATIC_WEBP),
        ("sticker", "image/webp", 500 * KB, ANIMATED_WEBP),
    ],
)
def test_media_within_its_types_limits_passes(kind, mime, size, head):
    limits.check_media(kind=kind, mime=mime, size=size, head=head)


@pytest.mark.parametrize(
    ("kind", "mime", "size", "head", "code", "sentence"),
    [
        (
            "image",
            "image/jpeg",
            5 * MB + 1,
            JPEG,
            "media_too_large",
            "Images can be at most 5 MB on WhatsApp; this file is 5.0 MB",
        ),
        ("audio", "audio/ogg", 16 * MB + 1, OGG, "media_too_large", "at most 16 MB"),
        (
            "video",
            "video/mp4",
            17 * MB,
            MP4,
            "media_too_large",
            "Videos can be at most 16 MB on WhatsApp; this file is 17 MB",
        ),
        ("document", "application/pdf", 100 * MB + 1, PDF, "media_too_large", "at most 100 MB"),
        ("sticker", "image/webp", 100 * KB + 1, STATIC_WEBP, "media_too_large", "at most 100 KB"),
        ("sticker", "image/webp", 500 * KB + 1, ANIMATED_WEBP, "media_too_large", "at most 500 KB"),
        ("image", "image/gif", 10, b"GIF89a", "media_type_not_allowed", "JPG, PNG"),
        ("image", "image/svg+xml", 10, b"<svg", "media_type_not_allowed", "must be one of these file types"),
        ("document", "application/zip", 10, DOCX, "media_type_not_allowed", "PDF"),
        ("image", "image/png", 100, b"<script>alert(1)</script>", "media_type_not_allowed", "does not match its type"),
        ("document", "application/pdf", 100, b"MZ\x90\x00", "media_type_not_allowed", "does not match its type"),
        ("image", "image/png", 0, PNG, "media_type_not_allowed", "empty"),
        ("gif", "image/gif", 10, b"GIF89a", "media_type_not_allowed", "cannot send a file as"),
    ],
)
def test_media_over_its_types_limits_is_refused(kind, mime, size, head, code, sentence):
    with pytest.raises(ValidationRefused) as refused:
        limits.check_media(kind=kind, mime=mime, size=size, head=head)
    assert refused.value.code == code
    assert sentence in refused.value.detail


@pytest.mark.parametrize(
    ("mime", "kind"),
    [
        ("image/jpeg", "image"),
        ("IMAGE/PNG", "image"),
        ("image/webp", "sticker"),
        ("audio/mpeg", "audio"),
        ("audio/mp3", "audio"),
        ("video/3gpp", "video"),
        ("application/pdf", "document"),
        ("image/svg+xml", None),
        ("text/html", None),
        ("", None),
    ],
)
def test_media_kind_follows_the_mime_type(mime, kind):
    assert limits.media_kind_for(mime) == kind


@pytest.mark.parametrize(
    ("size", "text"), [(5 * MB, "5 MB"), (100 * KB, "100 KB"), (5 * MB + 200 * KB, "5.2 MB"), (12, "12 bytes")]
)
def test_human_size(size, text):
    assert limits.human_size(size) == text
