"""Every kind of WhatsApp message renders in the thread as an agent expects to read it."""

import pytest
from django.urls import reverse

from tests.inbox.ui.samples import every_kind

pytestmark = pytest.mark.django_db


@pytest.fixture
def thread(as_agent, conversation):
    messages = every_kind(conversation)
    html = as_agent.get(reverse("inbox:conversation", args=[conversation.pk])).content.decode()
    return messages, html


def bubble(html: str, message) -> str:
    """The `<li>` of one message in the page (up to the next message, separator or the list's end)."""
    marker = f'id="msg-{message.pk}"'
    assert marker in html, f"no bubble for message {message.pk} ({message.type})"
    start = html.rfind("<li", 0, html.index(marker))
    ends = [
        html.find(tail, start + 1)
        for tail in ('\n<li class="msg', '\n<li class="activity', '\n<li class="day-sep', "</ol>")
    ]
    return html[start : min(end for end in ends if end != -1)]


def test_customer_left_business_right(thread):
    m, html = thread
    assert 'class="msg msg-in' in bubble(html, m["ad"])
    assert 'class="msg msg-out' in bubble(html, m["reply_text"])


def test_text_with_ad_referral(thread):
    m, html = thread
    b = bubble(html, m["ad"])
    assert "From an ad" in b
    assert "Summer sale: 20% off every jacket" in b
    assert 'href="https://fb.me/3cr4Wqqkv"' in b
    assert 'rel="noopener noreferrer nofollow"' in b
    assert "is the blue one still available?" in b


def test_reply_quote_shows_the_quoted_message(thread):
    m, html = thread
    b = bubble(html, m["quoted"])
    assert 'class="quote"' in b
    assert f'href="#msg-{m["reply_text"].pk}"' in b
    assert "Hello! Yes, in M and L." in b
    assert ">You<" in b


def test_forwarded_flag(thread):
    m, html = thread
    assert "Forwarded" in bubble(html, m["forwarded"])


def test_media_previews_go_through_the_access_checked_media_view(thread):
    m, html = thread
    for name, tag in (("image", "<img"), ("sticker", "<img"), ("video", "<video"), ("voice", "<audio")):
        b = bubble(html, m[name])
        assert tag in b, name
        assert f'src="{reverse("inbox:media", args=[m[name].pk])}"' in b, name
    assert "This one?" in bubble(html, m["image"])  # caption
    assert "Voice message" in bubble(html, m["voice"])
    assert "sticker" in bubble(html, m["sticker"])


def test_document_download(thread):
    m, html = thread
    b = bubble(html, m["document"])
    assert f'href="{reverse("inbox:media", args=[m["document"].pk])}"' in b
    assert "download" in b
    assert "invoice-2291.pdf" in b
    assert "My invoice" in b


def test_location_card_with_map_link(thread):
    m, html = thread
    b = bubble(html, m["location"])
    assert "Praça do Comércio" in b
    assert "1100-148 Lisboa" in b
    assert "https://www.openstreetmap.org/?mlat=38.707500&amp;mlon=-9.136400" in b


def test_contacts_card(thread):
    m, html = thread
    b = bubble(html, m["contacts"])
    assert "Maria Silva" in b
    assert "+351 912 345 678" in b
    assert "maria@example.com" in b
    assert "Acme Lda" in b


def test_interactive_replies_show_the_option_tapped(thread):
    m, html = thread
    b = bubble(html, m["button_reply"])
    assert "Tapped" in b and "Yes please" in b
    assert "Shall we reserve it for you?" in b  # quotes the message that carried the buttons
    b = bubble(html, m["list_reply"])
    assert "Tomorrow 10:00" in b and "Morning" in b
    b = bubble(html, m["template_button"])
    assert "Tapped a template button" in b and "Stop promotions" in b


def test_order(thread):
    m, html = thread
    b = bubble(html, m["order"])
    assert "Order" in b and "Please gift-wrap" in b
    assert "JACKET-BLUE-M" in b and "79.9 EUR" in b
    assert "SCARF-RED" in b


def test_reactions_sit_under_their_target_and_are_not_bubbles(thread):
    m, html = thread
    b = bubble(html, m["reply_text"])
    assert 'class="reactions"' in b
    assert "❤️" in b
    assert f'id="msg-{m["reaction"].pk}"' not in html


def test_a_removed_or_replaced_reaction(as_agent, conversation):
    m = every_kind(conversation)
    from tests.factories import MessageFactory

    target = m["reply_text"].provider_message_id
    MessageFactory(conversation=conversation, type="reaction", text="", content={"message_id": target, "emoji": "👍"})
    html = as_agent.get(reverse("inbox:conversation", args=[conversation.pk])).content.decode()
    b = bubble(html, m["reply_text"])
    assert "👍" in b and "❤️" not in b
    MessageFactory(conversation=conversation, type="reaction", text="", content={"message_id": target, "emoji": ""})
    html = as_agent.get(reverse("inbox:conversation", args=[conversation.pk])).content.decode()
    assert 'class="reactions"' not in bubble(html, m["reply_text"])


def test_edited_and_revoked(thread):
    m, html = thread
    b = bubble(html, m["edited"])
    assert "See you at 10:30" in b and ">edited<" in b
    b = bubble(html, m["revoked"])
    assert "This message was deleted" in b
    assert "oops wrong chat" not in b
    # The edit and the deletion themselves are not bubbles.
    assert f'id="msg-{m["edit"].pk}"' not in html
    assert f'id="msg-{m["revoke"].pk}"' not in html


def test_activity_lines(thread):
    m, html = thread
    assert 'class="activity"' in bubble(html, m["system"])
    assert "User A changed from 15550001 to 15550002" in bubble(html, m["system"])
    assert 'class="activity"' in bubble(html, m["welcome"])
    assert "opened the chat" in bubble(html, m["welcome"])


def test_unsupported_is_a_clear_placeholder_with_the_error(thread):
    m, html = thread
    b = bubble(html, m["unsupported"])
    assert "can’t be shown here" in b
    assert "Message type unknown (131051)" in b
    assert "Message type is currently not supported." in b
    assert "poll" in b


def test_template_message(thread):
    m, html = thread
    b = bubble(html, m["template"])
    assert "order_update" in b and "Your order 2291 has shipped." in b


@pytest.mark.parametrize(
    ("name", "css", "label"),
    [
        ("queued", "ticks-queued", "Queued: not sent yet"),
        ("sent", "ticks-sent", "Sent"),
        ("buttons_sent", "ticks-delivered", "Delivered"),
        ("reply_text", "ticks-read", "Read"),
        ("failed", "ticks-failed", "Failed"),
    ],
)
def test_whatsapp_ticks(thread, name, css, label):
    m, html = thread
    b = bubble(html, m[name])
    assert f'class="ticks {css}"' in b
    assert f'aria-label="{label}"' in b


def test_failed_shows_the_plain_reason_and_retry(thread):
    m, html = thread
    b = bubble(html, m["failed"])
    assert "Not delivered." in b
    assert "More than 24 hours since the customer wrote: send a template." in b
    assert f'hx-post="{reverse("inbox:message-retry", args=[m["failed"].pk])}"' in b
    assert "Retry" in b


def test_day_separators(as_agent, conversation):
    from datetime import timedelta

    from django.utils import timezone

    from tests.factories import MessageFactory

    now = timezone.now()
    MessageFactory(conversation=conversation, timestamp=now - timedelta(days=3))
    MessageFactory(conversation=conversation, timestamp=now - timedelta(days=3, minutes=-1))
    MessageFactory(conversation=conversation, timestamp=now)
    html = as_agent.get(reverse("inbox:conversation", args=[conversation.pk])).content.decode()
    assert html.count('class="day-sep"') == 2
    assert ">Today<" in html


def test_the_bubble_partial_for_a_reaction_is_its_target(as_agent, conversation):
    m = every_kind(conversation)
    html = as_agent.get(reverse("inbox:message-bubble", args=[m["reaction"].pk])).content.decode()
    assert f'id="msg-{m["reply_text"].pk}"' in html
    assert "❤️" in html
    html = as_agent.get(reverse("inbox:message-bubble", args=[m["revoke"].pk])).content.decode()
    assert f'id="msg-{m["revoked"].pk}"' in html
    assert "This message was deleted" in html


def test_a_reply_button_only_on_messages_whatsapp_knows(as_agent, as_manager, conversation):
    m = every_kind(conversation)
    html = as_agent.get(reverse("inbox:conversation", args=[conversation.pk])).content.decode()
    assert 'data-action="reply"' in bubble(html, m["ad"])
    assert 'data-action="reply"' not in bubble(html, m["queued"])  # no wamid yet
    assert 'data-action="reply"' not in bubble(html, m["revoked"])
    html = as_manager.get(reverse("inbox:conversation", args=[conversation.pk])).content.decode()
    assert 'data-action="reply"' not in html
    assert "Retry" not in bubble(html, m["failed"])
