"""The contact page: who sees which contact, the language for templates (audited), and "Start a
conversation" (in the unresolved conversation on that number, or a new one the author holds; a refused
template leaves nothing behind)."""

import itertools
from datetime import timedelta

import httpx
import pytest
import respx
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditEntry, Role
from inbox import access
from inbox.models import Contact, Conversation, ConversationStatus, Message
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
VALUES = {"var:header.1": "#77", "var:body.1": "Ana", "var:body.2": "#77"}


@pytest.fixture(autouse=True)
def graph():
    wamids = (f"wamid.START{n}" for n in itertools.count(1))
    with respx.mock(assert_all_called=False) as router:
        router.post(url__regex=rf"{GRAPH}/\d+/messages").mock(
            side_effect=lambda request: httpx.Response(200, json={"messages": [{"id": next(wamids)}]})
        )
        yield router


@pytest.fixture
def channel():
    return ChannelFactory(name="Support")


@pytest.fixture
def other_channel():
    return ChannelFactory(name="Sales", waba_id="777000777")


@pytest.fixture
def contact():
    """Ana opted in on the website: a business-initiated template may go to her."""
    return consenting(ContactFactory(profile_name="Ana Sousa", wa_id="351912345678", username="ana.s"))


@pytest.fixture
def agent(channel):
    person = UserFactory(role=Role.AGENT)
    worked_by(person, channel)
    return person


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def page_url(contact: Contact) -> str:
    return reverse("inbox:contact", args=[contact.pk])


def start(client, contact, channel, template, values=VALUES):
    return client.post(
        reverse("inbox:contact-start", args=[contact.pk]),
        {"channel": channel.pk, "template_id": template.pk, **values},
        HTTP_X_REQUESTED_WITH="fetch",
    )


# Who sees whom


def test_contacts_visible_to_each_role(channel, other_channel, contact, agent):
    ConversationFactory(channel=other_channel, contact=contact)
    stranger = ContactFactory()
    assert set(access.contacts_visible_to(UserFactory(role=Role.ADMIN))) >= {contact, stranger}
    assert set(access.contacts_visible_to(UserFactory(role=Role.MANAGER))) >= {contact, stranger}
    # The agent works Support only; Ana wrote to Sales.
    assert not access.can_view_contact(agent, contact)
    ConversationFactory(channel=channel, contact=contact)
    assert access.can_view_contact(agent, contact)
    assert not access.can_view_contact(agent, stranger)
    assert list(access.contacts_visible_to(UserFactory(role=Role.AGENT, is_active=False))) == []


@pytest.mark.parametrize(("role", "status"), [(Role.ADMIN, 200), (Role.MANAGER, 200), (Role.AGENT, 404)])
def test_the_page_answers_404_to_whoever_may_not_see_the_contact(other_channel, contact, role, status):
    ConversationFactory(channel=other_channel, contact=contact)
    person = UserFactory(role=role)
    worked_by(person, ChannelFactory())
    assert client_for(person).get(page_url(contact)).status_code == status


def test_signed_out_people_are_sent_to_log_in(contact):
    response = Client().get(page_url(contact))
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_the_page_shows_who_they_are_and_only_the_conversations_the_viewer_sees(channel, other_channel, contact, agent):
    mine = ConversationFactory(channel=channel, contact=contact, last_message_preview="Where is my order?")
    hidden = ConversationFactory(channel=other_channel, contact=contact, last_message_preview="Sales question")
    html = client_for(agent).get(page_url(contact)).content.decode()
    assert "<h1><bdi>Ana Sousa</bdi></h1>" in html
    assert "+351912345678" in html and "@ana.s" in html
    assert reverse("inbox:conversation", args=[mine.pk]) in html and "Where is my order?" in html
    assert reverse("inbox:conversation", args=[hidden.pk]) not in html and "Sales question" not in html
    # Start a conversation: from the numbers the agent may write from, with the template picker.
    assert f'<option value="{channel.pk}">Support' in html
    assert f'<option value="{other_channel.pk}">Sales' not in html
    assert reverse("inbox:contact-templates", args=[contact.pk]) in html
    assert 'aria-keyshortcuts="t"' in html


def test_managers_read_the_page_without_the_actions(channel, contact):
    ConversationFactory(channel=channel, contact=contact)
    html = client_for(UserFactory(role=Role.MANAGER)).get(page_url(contact)).content.decode()
    assert "Managers read contacts; agents and admins write to customers." in html
    assert "data-template-picker" not in html
    assert 'id="contact-language-select" name="language" disabled' in html


def test_the_contact_panel_links_to_the_contact_page(channel, contact, agent):
    conversation = ConversationFactory(channel=channel, contact=contact)
    html = client_for(agent).get(reverse("inbox:conversation", args=[conversation.pk])).content.decode()
    assert f'<a href="{page_url(contact)}"' in html


def test_hostile_names_are_escaped(channel, agent):
    contact = ContactFactory(profile_name="<img src=x onerror=alert(1)>", username="<b>u</b>")
    ConversationFactory(channel=channel, contact=contact, last_message_preview="<script>x</script>")
    html = client_for(agent).get(page_url(contact)).content.decode()
    assert "<img src=x" not in html and "<b>u</b>" not in html and "<script>x" not in html


# The language for templates


def test_the_language_offers_the_template_languages_and_saves_with_an_audit_entry(channel, contact, agent):
    ConversationFactory(channel=channel, contact=contact)
    live_template(name="pedido", language="pt_BR")
    live_template(name="order", language="en_US")
    client = client_for(agent)
    html = client.get(page_url(contact)).content.decode()
    assert '<option value="pt_BR">Portuguese (BR) · pt_BR</option>' in html
    assert '<option value="en_US">English (US) · en_US</option>' in html

    response = client.post(
        reverse("inbox:contact-language", args=[contact.pk]), {"language": "pt_BR"}, HTTP_HX_REQUEST="true"
    )

    assert response.status_code == 200
    assert "Saved." in response.content.decode()
    assert '<option value="pt_BR" selected>' in response.content.decode()
    contact.refresh_from_db()
    assert contact.language == "pt_BR"
    entry = AuditEntry.objects.get(action="contact.language_changed")
    assert entry.actor == agent
    assert (entry.target_type, entry.target_id) == ("contact", str(contact.pk))
    assert entry.details == {"from": "", "to": "pt_BR"}


def test_a_language_whatsapp_does_not_know_is_refused(channel, contact, agent):
    ConversationFactory(channel=channel, contact=contact)
    response = client_for(agent).post(reverse("inbox:contact-language", args=[contact.pk]), {"language": "<x>"})
    assert response.status_code == 400
    assert "written like en_US or pt_BR" in response.content.decode()
    contact.refresh_from_db()
    assert contact.language == ""
    assert not AuditEntry.objects.filter(action="contact.language_changed").exists()


def test_managers_may_not_change_the_language(channel, contact):
    ConversationFactory(channel=channel, contact=contact)
    client = client_for(UserFactory(role=Role.MANAGER))
    response = client.post(reverse("inbox:contact-language", args=[contact.pk]), {"language": "pt_BR"})
    assert response.status_code == 403
    contact.refresh_from_db()
    assert contact.language == ""


# Starting a conversation


def test_the_start_picker_lists_the_templates_of_the_chosen_number(channel, other_channel, contact, agent):
    ConversationFactory(channel=channel, contact=contact)
    template = live_template(name="order_update")
    live_template(name="sales_only", waba_id=other_channel.waba_id)
    client = client_for(agent)
    url = reverse("inbox:contact-templates", args=[contact.pk])
    html = client.get(f"{url}?channel={channel.pk}").content.decode()
    assert "order_update" in html and "sales_only" not in html
    form = reverse("inbox:contact-template-form", args=[contact.pk, template.pk])
    assert f"{form}?channel={channel.pk}" in html
    # A number the agent does not work is not offered.
    assert client.get(f"{url}?channel={other_channel.pk}").status_code == 404
    assert client_for(UserFactory(role=Role.MANAGER)).get(url).status_code == 403


def test_the_start_form_posts_to_the_start_with_the_number(channel, contact, agent):
    ConversationFactory(channel=channel, contact=contact)
    template = live_template()
    url = reverse("inbox:contact-template-form", args=[contact.pk, template.pk])
    html = client_for(agent).get(f"{url}?channel={channel.pk}").content.decode()
    assert f'action="{reverse("inbox:contact-start", args=[contact.pk])}"' in html
    assert f'<input type="hidden" name="channel" value="{channel.pk}">' in html


def test_start_opens_a_new_conversation_the_author_holds_and_sends_the_template(
    channel, contact, agent, django_capture_on_commit_callbacks
):
    wrote_at = timezone.now() - timedelta(days=3)
    resolved = ConversationFactory(
        channel=channel,
        contact=contact,
        status=ConversationStatus.RESOLVED,
        last_inbound_at=wrote_at,
        service_window_closes_at=wrote_at + timedelta(hours=24),
    )
    template = live_template()
    with django_capture_on_commit_callbacks(execute=True):
        response = start(client_for(agent), contact, channel, template)

    assert response.status_code == 201, response.content
    conversation = Conversation.objects.exclude(pk=resolved.pk).get(contact=contact)
    assert response.json() == {
        "conversation_id": conversation.pk,
        "url": reverse("inbox:conversation", args=[conversation.pk]),
    }
    assert conversation.channel == channel
    assert conversation.assignee == agent
    # The window belongs to the customer and the number: the new conversation knows it is closed.
    assert conversation.service_window_closes_at == resolved.service_window_closes_at
    message = Message.objects.get(conversation=conversation, type="template")
    assert message.template == template and message.author == agent
    assert message.content["rendered"]["body"] == "Hi Ana, your order #77 ships today."


def test_start_reuses_the_unresolved_conversation_on_that_number(channel, contact, agent):
    existing = ConversationFactory(channel=channel, contact=contact, status=ConversationStatus.PENDING)
    response = start(client_for(agent), contact, channel, live_template())
    assert response.status_code == 201
    assert response.json()["conversation_id"] == existing.pk
    assert Conversation.objects.filter(contact=contact).count() == 1
    assert Message.objects.filter(conversation=existing, type="template").count() == 1


@pytest.mark.parametrize(
    ("status", "values", "code"),
    [
        ("PAUSED", VALUES, "template_not_sendable"),
        ("APPROVED", {**VALUES, "var:body.2": ""}, "template_parameters_invalid"),
    ],
)
def test_a_refused_template_leaves_nothing_behind(channel, contact, agent, status, values, code):
    ConversationFactory(channel=ChannelFactory(), contact=ContactFactory())  # someone else's, untouched
    worked_by(agent, channel)
    conversations_before = Conversation.objects.count()
    template = live_template(status=status)
    # Ana is visible to the agent through an older, resolved conversation on the number.
    ConversationFactory(channel=channel, contact=contact, status=ConversationStatus.RESOLVED)

    response = start(client_for(agent), contact, channel, template, values)

    assert response.status_code == 409
    assert response.json()["code"] == code
    assert Conversation.objects.count() == conversations_before + 1  # only the resolved one
    assert not Message.objects.exists()
    assert not AuditEntry.objects.filter(action__startswith="conversation.").exists()


def test_start_refuses_a_number_the_author_may_not_write_from(channel, other_channel, contact, agent):
    ConversationFactory(channel=channel, contact=contact)
    response = start(client_for(agent), contact, other_channel, live_template(waba_id=other_channel.waba_id))
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert Conversation.objects.filter(contact=contact).count() == 1


def test_managers_may_not_start_conversations(channel, contact):
    ConversationFactory(channel=channel, contact=contact, status=ConversationStatus.RESOLVED)
    response = start(client_for(UserFactory(role=Role.MANAGER)), contact, channel, live_template())
    assert response.status_code == 403
    assert Conversation.objects.filter(contact=contact).count() == 1
    assert not Message.objects.exists()
