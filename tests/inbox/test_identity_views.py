"""The identity panel on the conversation's contact panel and the contact page: the warning while held, the
confirmed acknowledgement (htmx re-renders the panel), the last acknowledgement when not held."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import AuditEntry, Role
from inbox.services import identity
from tests.factories import ChannelFactory, ContactFactory, ConversationFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db

REASON = "Changed their WhatsApp number to +393331234567 on 22 Nov 2026"
WARNING = "Check it is still the same person (e.g. ask a question only they can answer), then acknowledge."


@pytest.fixture
def channel():
    return ChannelFactory()


@pytest.fixture
def agent(channel):
    agent = UserFactory(role=Role.AGENT, name="Alex Agent")
    TeamFactory(channels=[channel], members=[agent])
    return agent


@pytest.fixture
def conversation(channel, agent):
    now = timezone.now()
    return ConversationFactory(
        channel=channel,
        contact=ContactFactory(
            profile_name="<b>Mallory</b>",
            identity_held_since=now - timedelta(hours=2),
            identity_hold_reason=REASON,
        ),
        assignee=agent,
        last_inbound_at=now - timedelta(hours=1),
        service_window_closes_at=now + timedelta(hours=23),
    )


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def acknowledge(client: Client, contact_id: int, note: str = "", *, htmx: bool = True):
    headers = {"HX-Request": "true"} if htmx else {}
    return client.post(f"/contacts/{contact_id}/identity/acknowledge", {"note": note}, headers=headers)


def test_the_conversation_shows_the_warning_and_the_composer_says_why(agent, conversation):
    html = signed_in(agent).get(f"/conversations/{conversation.pk}/").content.decode()
    assert f'id="identity-{conversation.contact_id}"' in html
    assert "Sending is held:" in html and REASON in html and WARNING in html
    assert "Acknowledge the change…" in html
    assert "Yes, it is the same person: acknowledge" in html
    # the composer is closed with the guard's sentence (H2's), not a text box
    assert 'data-guard="identity_unconfirmed"' in html
    assert "<b>Mallory</b>" not in html  # customer text is escaped


def test_the_contact_page_shows_the_panel(agent, conversation):
    html = signed_in(agent).get(f"/contacts/{conversation.contact_id}/").content.decode()
    assert "Sending is held:" in html and REASON in html


def test_acknowledging_redraws_the_panel_released(agent, conversation, django_capture_on_commit_callbacks):
    contact = conversation.contact
    with django_capture_on_commit_callbacks(execute=True):
        response = acknowledge(signed_in(agent), contact.pk, "She knew her last order")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Acknowledged: messages to this customer can go again." in html
    assert "Sending is held" not in html
    assert "Last change acknowledged by Alex Agent on" in html and "She knew her last order" in html
    assert "No WhatsApp identity key known for them yet." in html
    contact.refresh_from_db()
    assert contact.identity_held_since is None
    assert AuditEntry.objects.get(action=identity.ACKNOWLEDGED).actor == agent

    # afterwards the panel (GET) says who acknowledged it
    panel = signed_in(agent).get(f"/contacts/{contact.pk}/identity").content.decode()
    assert "No change to check: messages go out normally." in panel
    assert "Last change acknowledged by Alex Agent on" in panel


def test_without_htmx_it_redirects_to_the_contact_page(agent, conversation):
    response = acknowledge(signed_in(agent), conversation.contact_id, htmx=False)
    assert response.status_code == 302
    assert response["Location"] == f"/contacts/{conversation.contact_id}/#identity-{conversation.contact_id}"


def test_a_second_acknowledgement_says_there_is_nothing_to_acknowledge(agent, conversation):
    client = signed_in(agent)
    acknowledge(client, conversation.contact_id)
    response = acknowledge(client, conversation.contact_id)
    assert response.status_code == 200  # htmx swaps 2xx only: the reason shows in the panel
    assert "Nothing to acknowledge" in response.content.decode()
    assert acknowledge(client, conversation.contact_id, htmx=False).status_code == 409


def test_a_manager_sees_the_warning_but_cannot_acknowledge(conversation):
    manager = signed_in(UserFactory(role=Role.MANAGER))
    html = manager.get(f"/contacts/{conversation.contact_id}/identity").content.decode()
    assert "Sending is held:" in html
    assert "Yes, it is the same person" not in html
    assert "an agent or an admin acknowledges the change" in html
    assert acknowledge(manager, conversation.contact_id).status_code == 403
    conversation.contact.refresh_from_db()
    assert conversation.contact.identity_held_since is not None


def test_a_contact_out_of_sight_is_404(conversation):
    stranger = signed_in(UserFactory(role=Role.AGENT))
    assert stranger.get(f"/contacts/{conversation.contact_id}/identity").status_code == 404
    assert acknowledge(stranger, conversation.contact_id).status_code == 404


def test_a_known_identity_key_is_said(agent, conversation):
    type(conversation.contact).objects.filter(pk=conversation.contact_id).update(
        identity_held_since=None, identity_key_hash="Sjvjlx8G6Z0="
    )
    html = signed_in(agent).get(f"/contacts/{conversation.contact_id}/identity").content.decode()
    assert "WhatsApp identity key known" in html
    assert "Sjvjlx8G6Z0=" not in html
