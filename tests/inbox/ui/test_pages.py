"""The inbox pages and partials: who reaches them, what each role sees, and the login page."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import Role
from inbox.models import Conversation, LiveEvent
from tests.factories import ConversationFactory, MessageFactory, UserFactory, worked_by

pytestmark = pytest.mark.django_db


def partial_urls(conversation, message) -> list[str]:
    return [
        reverse("inbox:conversation-rows"),
        reverse("inbox:conversation-row", args=[conversation.pk]),
        reverse("inbox:conversation-messages", args=[conversation.pk]),
        reverse("inbox:composer", args=[conversation.pk]),
        reverse("inbox:message-bubble", args=[message.pk]),
    ]


def test_anonymous_pages_redirect_to_login(client, conversation):
    message = MessageFactory(conversation=conversation)
    for url in ["/", reverse("inbox:conversation", args=[conversation.pk]), *partial_urls(conversation, message)]:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("login")), url


def test_anonymous_scripted_requests_get_401_with_a_way_to_log_in(client, conversation):
    # htmx follows HX-Redirect; the login page's HTML is never swapped into a pane.
    message = MessageFactory(conversation=conversation)
    for url in partial_urls(conversation, message):
        for headers in ({"HX-Request": "true"}, {"X-Requested-With": "fetch"}):
            response = client.get(url, headers=headers)
            assert response.status_code == 401, url
            assert response["HX-Redirect"].startswith(reverse("login"))
    response = client.post(
        reverse("inbox:message-send", args=[conversation.pk]), {"body": "hi"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 401


@pytest.mark.parametrize("role", [Role.AGENT, Role.ADMIN, Role.MANAGER])
def test_every_role_sees_the_inbox(role, conversation, graph):
    client = Client()
    person = UserFactory(role=role, name="Sam Person")
    if role == Role.AGENT:
        worked_by(person, conversation.channel)
    client.force_login(person)
    response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="conversation-list"' in html
    assert "Ana Sousa" in html
    assert "Sam Person" in html  # the user menu
    assert reverse("logout") in html
    assert 'src="/static/django_htmx/htmx-2.min.js"' in html or "htmx-2" in html
    assert "js/inbox.js" in html
    assert "Pick a conversation" in html


def test_no_asset_comes_from_a_cdn(as_agent, conversation):
    html = as_agent.get(reverse("inbox:conversation", args=[conversation.pk])).content.decode()
    assert not re.findall(r'(?:src|href)="(?:https?:)?//', html)


def test_the_tabs_are_the_real_views(as_agent, conversation):
    # What each tab holds is tested in tests/inbox/workflow/test_pages.py.
    html = as_agent.get("/").content.decode()
    for view in ("mine", "unassigned", "team", "all"):
        assert f'data-view="{view}"' in html
        assert f'id="view-count-{view}"' in html
    assert "Assignment arrives with teamwork" not in html


def test_empty_inbox_teaches(as_agent):
    html = as_agent.get("/").content.decode()
    assert "No conversations yet" in html
    assert 'href="/simulator/"' in html


def test_opening_a_conversation_shows_thread_composer_and_contact(as_agent, conversation):
    MessageFactory(
        conversation=conversation, text="Is my order on its way?", content={"body": "Is my order on its way?"}
    )
    html = as_agent.get(reverse("inbox:conversation", args=[conversation.pk])).content.decode()
    assert 'id="thread"' in html
    assert 'aria-live="polite"' in html
    assert "Is my order on its way?" in html
    assert 'id="composer-body"' in html
    assert "+351912345678" in html  # header and contact panel
    assert conversation.channel.name in html
    assert "Previous conversations" in html
    assert "This is their first conversation." in html


def test_the_htmx_click_gets_only_the_thread_and_the_row_out_of_band(as_agent, conversation):
    response = as_agent.get(reverse("inbox:conversation", args=[conversation.pk]), HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert 'id="thread"' in html
    assert "<html" not in html
    assert f'id="conv-row-{conversation.pk}"' in html
    assert 'hx-swap-oob="true"' in html
    assert "HX-Request" in response["Vary"]
    # A history restore asks for the whole page.
    restore = as_agent.get(
        reverse("inbox:conversation", args=[conversation.pk]),
        HTTP_HX_REQUEST="true",
        HTTP_HX_HISTORY_RESTORE_REQUEST="true",
    )
    assert "<html" in restore.content.decode()


def test_opening_marks_the_conversation_read(as_agent, conversation, django_capture_on_commit_callbacks):
    MessageFactory(conversation=conversation)
    with django_capture_on_commit_callbacks(execute=True):
        as_agent.get(reverse("inbox:conversation", args=[conversation.pk]))
    conversation.refresh_from_db()
    assert conversation.unread_count == 0
    assert LiveEvent.objects.filter(type="conversation.updated", conversation_id=conversation.pk).exists()


def test_a_manager_looking_in_does_not_mark_read_nor_get_a_composer(as_manager, conversation):
    MessageFactory(conversation=conversation)
    html = as_manager.get(reverse("inbox:conversation", args=[conversation.pk])).content.decode()
    conversation.refresh_from_db()
    assert conversation.unread_count == 2
    assert 'id="composer-body"' not in html
    assert "Managers read conversations" in html


def test_unknown_conversation_is_404(as_agent):
    assert as_agent.get(reverse("inbox:conversation", args=[999999])).status_code == 404
    assert as_agent.get(reverse("inbox:conversation-row", args=[999999])).status_code == 404
    assert as_agent.get(reverse("inbox:message-bubble", args=[999999])).status_code == 404


def test_previous_conversations_are_listed(as_agent, conversation):
    older = ConversationFactory(
        channel=conversation.channel, contact=conversation.contact, status="resolved", last_message_preview="Thanks!"
    )
    html = as_agent.get(reverse("inbox:conversation", args=[conversation.pk])).content.decode()
    assert reverse("inbox:conversation", args=[older.pk]) in html
    assert "Thanks!" in html


def test_the_page_carries_the_live_sequence_to_resume_from(as_agent, conversation):
    event = LiveEvent.objects.create(channel_id=conversation.channel_id, type="conversation.updated", data={})
    html = as_agent.get("/").content.decode()
    assert f'data-last-seq="{event.pk}"' in html


def test_search_filters_by_name_or_number(as_agent, conversation):
    ConversationFactory(channel=conversation.channel)
    html = as_agent.get(reverse("inbox:conversation-rows"), {"q": "sousa"}).content.decode()
    assert html.count('class="conv-row') == 1
    assert "Ana Sousa" in html
    html = as_agent.get(reverse("inbox:conversation-rows"), {"q": "+35191"}).content.decode()
    assert html.count('class="conv-row') == 1
    html = as_agent.get(reverse("inbox:conversation-rows"), {"q": "nobody-like-this"}).content.decode()
    assert "No conversation matches" in html


def test_window_state_in_the_list(as_agent, conversation):
    from datetime import timedelta

    from django.utils import timezone

    now = timezone.now()
    closing = ConversationFactory(channel=conversation.channel, service_window_closes_at=now + timedelta(minutes=90))
    closed = ConversationFactory(channel=conversation.channel, service_window_closes_at=now - timedelta(minutes=1))
    html = as_agent.get(reverse("inbox:conversation-rows")).content.decode()

    def row(c: Conversation) -> str:
        start = html.index(f'id="conv-row-{c.pk}"')
        return html[start : html.index("</li>", start)]

    assert "window-closing" in row(closing)
    assert "1 h 29 min" in row(closing) or "1 h 30 min" in row(closing)
    assert "Template only" in row(closed)
    assert "window-" not in row(conversation)


def test_login_page(client):
    html = client.get(reverse("login")).content.decode()
    assert 'autocomplete="username"' in html
    assert 'autocomplete="current-password"' in html
    UserFactory(email="agent@example.com")
    response = client.post(reverse("login"), {"username": "agent@example.com", "password": "wrong"})
    assert response.status_code == 200
    assert 'role="alert"' in response.content.decode()
    response = client.post(reverse("login"), {"username": "agent@example.com", "password": "correct horse battery"})
    assert response.status_code == 302
    assert response["Location"] == "/"


def test_logout_is_a_post_from_the_user_menu(as_agent):
    html = as_agent.get("/").content.decode()
    assert f'action="{reverse("logout")}"' in html
    response = as_agent.post(reverse("logout"))
    assert response.status_code == 302
    assert as_agent.get("/").status_code == 302
