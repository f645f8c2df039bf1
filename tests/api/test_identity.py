"""`/api/v1/contacts/<id>/identity/`: whether sending is held for a changed number or identity, and
acknowledging it (agents and admins; managers read; 404 for a contact out of sight)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import AuditEntry, Role
from inbox.models import Contact
from inbox.services import identity
from tests.api.conftest import assert_error, token_client, works_every_channel
from tests.factories import ChannelFactory, ContactFactory, ConversationFactory, UserFactory

pytestmark = pytest.mark.django_db

HELD_SINCE = timezone.now() - timedelta(hours=1)
REASON = "Changed their WhatsApp number to +393331234567 on 22 Nov 2026"


@pytest.fixture
def conversation():
    now = timezone.now()
    return ConversationFactory(
        channel=ChannelFactory(),
        contact=ContactFactory(
            identity_held_since=HELD_SINCE, identity_hold_reason=REASON, identity_key_hash="Sjvjlx8G6Z0="
        ),
        last_inbound_at=now - timedelta(minutes=5),
        service_window_closes_at=now + timedelta(hours=23),
    )


@pytest.fixture
def contact(conversation) -> Contact:
    return conversation.contact


def url(contact_id: int, *, acknowledge: bool = False) -> str:
    return f"/api/v1/contacts/{contact_id}/identity/" + ("acknowledge/" if acknowledge else "")


@pytest.mark.parametrize("who", ["agent", "admin", "manager"])
def test_whoever_sees_the_contact_reads_the_hold(make_client, contact, who):
    response = make_client(who).get(url(contact.pk))
    assert response.status_code == 200, response.content
    assert response.json() == {
        "contact_id": contact.pk,
        "held": True,
        "held_since": HELD_SINCE.isoformat().replace("+00:00", "Z"),
        "reason": REASON,
        "identity_key_known": True,
        "last_acknowledgement": None,
    }


def test_an_agent_acknowledges_and_sending_works_again(contact, conversation):
    agent = UserFactory(role=Role.AGENT, name="Alex Agent")
    works_every_channel(agent)
    api = token_client(agent)

    refused = api.post(
        f"/api/v1/conversations/{conversation.pk}/messages/", {"type": "text", "text": "Hi"}, format="json"
    )
    assert_error(refused, 422, "identity_unconfirmed")

    response = api.post(url(contact.pk, acknowledge=True), {"note": "Asked for her order number"}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["held"] is False and body["held_since"] is None and body["reason"] == ""
    assert body["last_acknowledgement"]["acknowledged_by"] == {"id": agent.pk, "name": "Alex Agent"}
    assert body["last_acknowledgement"]["reason"] == REASON
    assert body["last_acknowledgement"]["note"] == "Asked for her order number"
    assert AuditEntry.objects.filter(action=identity.ACKNOWLEDGED, actor=agent).count() == 1

    sent = api.post(f"/api/v1/conversations/{conversation.pk}/messages/", {"type": "text", "text": "Hi"}, format="json")
    assert sent.status_code in (201, 202), sent.content


def test_a_manager_cannot_acknowledge(make_client, contact):
    assert_error(
        make_client("manager").post(url(contact.pk, acknowledge=True), {}, format="json"), 403, "permission_denied"
    )
    contact.refresh_from_db()
    assert contact.identity_held_since is not None


def test_nothing_to_acknowledge_is_409(agent_client, contact):
    assert agent_client.post(url(contact.pk, acknowledge=True), {}, format="json").status_code == 200
    assert_error(agent_client.post(url(contact.pk, acknowledge=True), {}, format="json"), 409, "nothing_to_acknowledge")


def test_a_note_too_long_is_400(agent_client, contact):
    response = agent_client.post(url(contact.pk, acknowledge=True), {"note": "x" * 501}, format="json")
    assert_error(response, 400, "note_too_long")


def test_a_contact_out_of_sight_is_404(contact):
    stranger = token_client(UserFactory(role=Role.AGENT))  # works no team on this number
    assert_error(stranger.get(url(contact.pk)), 404, "not_found")
    assert_error(stranger.post(url(contact.pk, acknowledge=True), {}, format="json"), 404, "not_found")
    assert_error(stranger.get(url(987654)), 404, "not_found")


@pytest.mark.parametrize(("who", "status_code"), [("anonymous", 401), ("inactive", 401)])
def test_signed_out_people_get_401(make_client, contact, who, status_code):
    assert make_client(who).get(url(contact.pk)).status_code == status_code
    assert make_client(who).post(url(contact.pk, acknowledge=True)).status_code == status_code
