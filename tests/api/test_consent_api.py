"""`/api/v1/contacts/<id>/consent/`: the state per purpose with the ledger, and appending an entry (agents and
admins; managers 403; a contact out of sight 404; bad input 400 with a stable code)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import Role
from inbox.models import ConsentEvent, ConsentSource
from tests.api.conftest import assert_error, token_client
from tests.factories import ContactFactory, ConversationFactory, UserFactory, consenting

pytestmark = pytest.mark.django_db


@pytest.fixture
def contact():
    return ConversationFactory().contact


def url(contact) -> str:
    return f"/api/v1/contacts/{contact.pk}/consent/"


def test_the_state_per_purpose_and_the_ledger_newest_first(make_client, contact):
    consenting(contact, "utility", at=timezone.now() - timedelta(days=2))
    ConsentEvent.objects.create(
        contact=contact, purpose="utility", action="opt_out", source=ConsentSource.KEYWORD, occurred_at=timezone.now()
    )
    for role in ("agent", "manager", "admin"):
        response = make_client(role).get(url(contact))
        assert response.status_code == 200, role
    body = response.json()
    assert body["contact_id"] == contact.pk
    states = {row["purpose"]: row for row in body["purposes"]}
    assert states["utility"]["state"] == "opt_out" and states["utility"]["source"] == "keyword"
    assert states["marketing"] == {
        "purpose": "marketing",
        "state": "not_asked",
        "source": "",
        "occurred_at": None,
        "event_id": None,
    }
    assert [(e["action"], e["source"]) for e in body["events"]] == [("opt_out", "keyword"), ("opt_in", "website_form")]
    assert body["events"][0]["recorded_by"] is None


@pytest.mark.parametrize("role", ["agent", "admin"])
def test_agents_and_admins_append(make_client, contact, role):
    response = make_client(role).post(
        url(contact),
        {"purpose": "marketing", "action": "opt_in", "source": "ivr", "evidence": "Pressed 1", "reason": "On the call"},
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    event = ConsentEvent.objects.get()
    assert body["id"] == event.pk
    assert (body["purpose"], body["action"], body["source"], body["reason"]) == (
        "marketing",
        "opt_in",
        "ivr",
        "On the call",
    )
    assert body["recorded_by"]["id"] == event.actor_id


def test_managers_may_not_append(make_client, contact):
    assert_error(
        make_client("manager").post(url(contact), {"purpose": "marketing", "reason": "x"}, format="json"),
        403,
        "permission_denied",
    )
    assert not ConsentEvent.objects.exists()


def test_a_contact_out_of_sight_answers_404(contact):
    stranger = token_client(UserFactory(role=Role.AGENT))  # works no channel
    assert_error(stranger.get(url(contact)), 404, "not_found")
    assert_error(stranger.post(url(contact), {}, format="json"), 404, "not_found")
    assert_error(stranger.get(f"/api/v1/contacts/{ContactFactory().pk + 1000}/consent/"), 404, "not_found")


def test_anonymous_is_401(api_client, contact):
    assert_error(api_client.get(url(contact)), 401, "not_authenticated")


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"purpose": "newsletter"}, "invalid_purpose"),
        ({"purpose": ""}, "invalid_purpose"),
        ({"action": "unsure"}, "invalid_action"),
        ({"source": "keyword"}, "invalid_source"),
        ({"reason": ""}, "reason_required"),
        ({"reason": "x" * 1001}, "reason_too_long"),
        ({"evidence": "x" * 2001}, "evidence_too_long"),
        ({"occurred_at": (timezone.now() + timedelta(days=2)).isoformat()}, "invalid_time"),
        ({"occurred_at": "yesterday"}, "invalid"),
    ],
)
def test_bad_input_is_400_with_a_stable_code(make_client, contact, fields, code):
    entry = {"purpose": "utility", "action": "opt_in", "source": "agent", "reason": "On the phone", **fields}
    assert_error(make_client("agent").post(url(contact), entry, format="json"), 400, code)
    assert not ConsentEvent.objects.exists()


def test_an_import_may_say_when(make_client, contact):
    when = timezone.now() - timedelta(days=40)
    response = make_client("admin").post(
        url(contact),
        {
            "purpose": "utility",
            "action": "opt_in",
            "source": "import",
            "reason": "CRM import",
            "occurred_at": when.isoformat(),
        },
        format="json",
    )
    assert response.status_code == 201
    assert ConsentEvent.objects.get().occurred_at == when


def test_the_schema_documents_it(api_client):
    schema = api_client.get("/api/schema/", {"format": "json"}).json()
    operations = schema["paths"]["/api/v1/contacts/{contact_id}/consent/"]
    assert operations["get"]["operationId"] == "contacts_consent_retrieve"
    assert operations["post"]["operationId"] == "contacts_consent_create"
    assert set(operations["post"]["responses"]) >= {"201", "400", "403", "404"}
