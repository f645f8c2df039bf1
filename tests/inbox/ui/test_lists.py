"""The conversation list and the thread page through their keyset pages, at a constant query count."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from inbox.views import display
from tests.factories import ConversationFactory, MessageFactory
from tests.inbox.ui.samples import every_kind

pytestmark = pytest.mark.django_db


def row_ids(html: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'id="conv-row-(\d+)"', html)]


def next_page_url(html: str) -> str | None:
    match = re.search(r'class="load-more"[^>]*hx-get="([^"]+)"', html, re.S)
    return match.group(1).replace("&amp;", "&") if match else None


def test_cursor_round_trip():
    at = timezone.now()
    assert display.decode_cursor(display.encode_cursor(at, 42)) == (at, 42)
    assert display.decode_cursor("garbage") is None
    assert display.decode_cursor("") is None


def test_infinite_scroll_walks_every_conversation_once_newest_first(as_agent, channel, settings):
    now = timezone.now()
    # Ties on activity_at are common (a batch of webhooks): the id breaks them, nothing repeats or is skipped.
    made = [ConversationFactory(channel=channel, activity_at=now - timedelta(minutes=i // 3)) for i in range(60)]
    expected = [c.pk for c in sorted(made, key=lambda c: (c.activity_at, c.pk), reverse=True)]
    seen: list[int] = []
    url = reverse("inbox:conversation-rows")
    pages = 0
    while url:
        html = as_agent.get(url).content.decode()
        seen += row_ids(html)
        url = next_page_url(html)
        pages += 1
        if url:
            assert 'hx-trigger="intersect once"' in html
    assert seen == expected
    assert pages == 3  # 25 + 25 + 10


def test_the_first_page_is_in_the_full_inbox(as_agent, channel):
    for _ in range(30):
        ConversationFactory(channel=channel)
    html = as_agent.get("/").content.decode()
    assert len(row_ids(html)) == display.CONVERSATIONS_PER_PAGE
    assert "cursor=" in next_page_url(html)


def test_list_pages_cost_the_same_whatever_their_size(as_agent, channel, django_assert_num_queries):
    url = reverse("inbox:conversation-rows")
    ConversationFactory(channel=channel)
    as_agent.get(url)  # warm the session
    # session, user, the page of conversations (with contact, channel and assignee), their labels; the first
    # page also brings the tabs' counts (one grouped COUNT) and the saved views
    with django_assert_num_queries(6):
        as_agent.get(url)
    for _ in range(40):
        ConversationFactory(channel=channel)
    with django_assert_num_queries(6):
        html = as_agent.get(url).content.decode()
    with django_assert_num_queries(4):
        as_agent.get(next_page_url(html))


def test_the_inbox_page_costs_the_same_whatever_the_thread_holds(as_agent, conversation, django_assert_num_queries):
    url = reverse("inbox:conversation", args=[conversation.pk])
    every_kind(conversation)
    as_agent.get(url)  # reads the conversation: the unread count is 0 from now on
    # session, user, last live seq, conversation, can_reply, conversation list page, messages, quoted
    # messages, reactions, previous conversations; notifications read and counted, unread counts; the list's
    # labels, saved views and tab counts, the filter chips' channels, labels and people; the thread header's
    # labels, its pickers' people and teams, and may-work check; the identity panel's last acknowledgement and
    # may-edit check; why a queued message waits. Constant, whatever the thread holds.
    queries = 27
    with django_assert_num_queries(queries):
        as_agent.get(url)
    every_kind(conversation)
    for _ in range(30):
        ConversationFactory(channel=conversation.channel)
    with django_assert_num_queries(queries):
        as_agent.get(url)


def test_partials_cost_a_constant_number_of_queries(as_agent, conversation, django_assert_num_queries):
    m = every_kind(conversation)
    as_agent.get("/")
    with django_assert_num_queries(4):  # session, user, conversation (+contact, channel, assignee, team), labels
        as_agent.get(reverse("inbox:conversation-row", args=[conversation.pk]))
    # session, user, message, can_view, quoted, reactions, can_reply
    with django_assert_num_queries(7):
        as_agent.get(reverse("inbox:message-bubble", args=[m["quoted"].pk]))
    # no quote to fetch
    with django_assert_num_queries(6):
        as_agent.get(reverse("inbox:message-bubble", args=[m["reply_text"].pk]))


def test_older_messages_load_by_keyset(as_agent, conversation):
    start = timezone.now() - timedelta(days=1)
    made = [MessageFactory(conversation=conversation, timestamp=start + timedelta(seconds=i // 2)) for i in range(120)]
    html = as_agent.get(reverse("inbox:conversation", args=[conversation.pk])).content.decode()
    ids = [int(pk) for pk in re.findall(r'data-message-id="(\d+)" data-ts', html)]
    assert ids == [m.pk for m in made[-display.MESSAGES_PER_PAGE :]]
    seen = list(ids)
    while match := re.search(r'class="load-older" hx-get="([^"]+)"', html):
        html = as_agent.get(match.group(1)).content.decode()
        ids = [int(pk) for pk in re.findall(r'data-message-id="(\d+)" data-ts', html)]
        seen = ids + seen
    assert seen == [m.pk for m in made]
