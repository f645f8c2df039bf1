"""Everything a customer sends is hostile: names, texts, captions, file names, links. It renders escaped,
wrapped for right-to-left text, and never as a live link unless it is http(s)."""

import pytest
from django.urls import reverse

from tests.factories import ContactFactory, ConversationFactory, MessageFactory

pytestmark = pytest.mark.django_db

SCRIPT_NAME = "<script>alert(1)</script>"
IMG_BODY = '<img src=x onerror="alert(2)">'


@pytest.fixture
def hostile(channel):
    conversation = ConversationFactory(
        channel=channel,
        contact=ContactFactory(profile_name=SCRIPT_NAME, username="<b>bold</b>"),
        last_message_preview=IMG_BODY,
    )
    quoted = MessageFactory(conversation=conversation, text=IMG_BODY, content={"body": IMG_BODY})
    MessageFactory(
        conversation=conversation,
        text="reply",
        content={"body": "reply", "context": {"id": quoted.provider_message_id}},
        reply_to_provider_id=quoted.provider_message_id,
    )
    MessageFactory(
        conversation=conversation,
        type="document",
        text="<i>caption</i>",
        content={
            "id": "1",
            "mime_type": "application/pdf",
            "filename": '"><svg onload=alert(3)>.pdf',
            "caption": "<i>caption</i>",
        },
    )
    MessageFactory(
        conversation=conversation,
        type="text",
        text="ad",
        content={
            "body": "ad",
            "referral": {"source_url": "javascript:alert(4)", "headline": "<u>head</u>", "source_type": "ad"},
        },
    )
    MessageFactory(
        conversation=conversation,
        type="location",
        text="x",
        content={
            "latitude": '1" onmouseover="alert(5)',
            "longitude": 2,
            "name": "<b>place</b>",
            "url": "javascript:alert(6)",
        },
    )
    MessageFactory(
        conversation=conversation,
        type="contacts",
        text="x",
        content={
            "contacts": [{"name": {"formatted_name": "<script>alert(7)</script>"}, "phones": [{"phone": "<b>1</b>"}]}]
        },
    )
    MessageFactory(
        conversation=conversation,
        type="reaction",
        text="",
        content={"message_id": quoted.provider_message_id, "emoji": "<b>"},
    )
    return conversation


RAW = [
    "<script>alert(1)</script>",
    "<img src=x",
    "<svg onload",
    "<i>caption</i>",
    "<u>head</u>",
    "<b>place</b>",
    "<b>bold</b>",
    "<script>alert(7)",
    "javascript:",
    'onmouseover="alert',
]


def assert_escaped(html: str) -> None:
    for raw in RAW:
        assert raw not in html, raw


def test_the_full_page_escapes_customer_data(as_agent, hostile):
    html = as_agent.get(reverse("inbox:conversation", args=[hostile.pk])).content.decode()
    assert_escaped(html)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=&quot;alert(2)&quot;&gt;" in html
    assert "<bdi>&lt;script&gt;alert(1)&lt;/script&gt;</bdi>" in html


def test_partials_escape_customer_data(as_agent, hostile):
    for url in (
        reverse("inbox:conversation-rows"),
        reverse("inbox:conversation-row", args=[hostile.pk]),
        reverse("inbox:conversation-messages", args=[hostile.pk]),
    ):
        assert_escaped(as_agent.get(url).content.decode())
    for message in hostile.messages.all():
        assert_escaped(as_agent.get(reverse("inbox:message-bubble", args=[message.pk])).content.decode())


def test_search_terms_are_escaped(as_agent, hostile):
    html = as_agent.get(reverse("inbox:conversation-rows"), {"q": "<script>x</script>zz"}).content.decode()
    assert "<script>x" not in html
    assert "&lt;script&gt;x&lt;/script&gt;zz" in html


def test_customer_text_is_marked_for_bidirectional_display(as_agent, channel):
    conversation = ConversationFactory(channel=channel, contact=ContactFactory(profile_name="محمد علي"))
    MessageFactory(conversation=conversation, text="مرحبا", content={"body": "مرحبا"})
    html = as_agent.get(reverse("inbox:conversation", args=[conversation.pk])).content.decode()
    assert "<bdi>محمد علي</bdi>" in html
    assert '<p class="text" dir="auto">مرحبا</p>' in html
