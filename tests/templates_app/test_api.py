"""`/api/v1/templates/...` with a token: who may do what, the four-eyes rule, refusals with stable codes."""

import pytest
import respx
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts.models import Role
from templates_app.models import MessageTemplate, RevisionState
from tests.factories import ChannelFactory, UserFactory, live_template, worked_by

pytestmark = pytest.mark.django_db

WABA = "419561257915477"
GRAPH = "https://graph.facebook.com/v23.0"
DRAFT = {
    "waba_id": WABA,
    "name": "order_update",
    "language": "en_US",
    "category": "UTILITY",
    "components": [
        {"type": "BODY", "text": "Hi {{1}}, your order {{2}} ships today.", "example": {"body_text": [["Ana", "#7"]]}}
    ],
    "variable_fields": {"body.1": "contact.first_name"},
}


def api_for(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")
    return client


@pytest.fixture
def channel():
    return ChannelFactory(waba_id=WABA)


@pytest.fixture
def author(channel):
    return UserFactory(role=Role.ADMIN)


@pytest.fixture
def reviewer(channel):
    return UserFactory(role=Role.ADMIN)


def test_an_author_drafts_asks_for_approval_and_another_admin_approves(
    author, reviewer, django_capture_on_commit_callbacks
):
    created = api_for(author).post("/api/v1/templates/", DRAFT, format="json")
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["open_revision"]["state"] == "draft"
    assert body["open_revision"]["variable_fields"] == {"body.1": "contact.first_name"}
    assert (body["sendable"], body["status"]) == (False, "")
    template_id = body["id"]

    asked = api_for(author).post(f"/api/v1/templates/{template_id}/request-review/")
    assert asked.status_code == 200
    assert asked.json()["open_revision"]["state"] == "in_review"

    own = api_for(author).post(f"/api/v1/templates/{template_id}/review/", {"approve": True}, format="json")
    assert own.status_code == 422
    assert own.json()["code"] == "four_eyes"

    with respx.mock:
        respx.post(f"{GRAPH}/{WABA}/message_templates").respond(200, json={"id": "5", "status": "PENDING"})
        with django_capture_on_commit_callbacks(execute=True):
            approved = api_for(reviewer).post(
                f"/api/v1/templates/{template_id}/review/", {"approve": True}, format="json"
            )
    assert approved.status_code == 200
    assert approved.json()["open_revision"]["state"] == "approved"
    # The submission ran after the commit.
    submitted = api_for(author).get(f"/api/v1/templates/{template_id}/").json()
    assert (submitted["status"], submitted["provider_template_id"]) == ("PENDING", "5")
    assert submitted["open_revision"]["state"] == "submitted"

    timeline = api_for(author).get(f"/api/v1/templates/{template_id}/timeline/").json()["results"]
    assert [event["kind"] for event in timeline] == ["submitted", "review_approved", "review_requested", "created"]


def test_lint_errors_come_back_with_findings(author):
    broken = {**DRAFT, "components": [{"type": "BODY", "text": "Hi {{1}}", "example": {"body_text": [["Ana"]]}}]}
    template_id = api_for(author).post("/api/v1/templates/", broken, format="json").json()["id"]
    refused = api_for(author).post(f"/api/v1/templates/{template_id}/request-review/")
    assert refused.status_code == 422
    assert refused.json()["code"] == "lint_failed"
    assert any(finding["part"] == "body" for finding in refused.json()["findings"])

    linted = api_for(author).post("/api/v1/templates/lint/", broken, format="json")
    assert linted.status_code == 200
    assert linted.json()["has_errors"] is True


def test_a_duplicate_name_and_language_is_a_conflict(author):
    assert api_for(author).post("/api/v1/templates/", DRAFT, format="json").status_code == 201
    duplicate = api_for(author).post("/api/v1/templates/", DRAFT, format="json")
    assert duplicate.status_code == 409
    assert duplicate.json()["code"] == "duplicate_name_language"


def test_malformed_drafts_are_refused_with_the_fields(author):
    refused = api_for(author).post("/api/v1/templates/", {**DRAFT, "components": "BODY"}, format="json")
    assert refused.status_code == 400
    assert "components" in refused.json()["fields"]
    assert not MessageTemplate.objects.exists()


def test_agents_see_the_templates_of_their_numbers_and_write_only_when_allowed(channel):
    agent = UserFactory(role=Role.AGENT)
    stranger = UserFactory(role=Role.AGENT)
    worked_by(agent, channel)
    template = live_template()
    assert [row["id"] for row in api_for(agent).get("/api/v1/templates/").json()["results"]] == [template.pk]
    assert api_for(stranger).get("/api/v1/templates/").json()["results"] == []
    assert api_for(stranger).get(f"/api/v1/templates/{template.pk}/").status_code == 404
    refused = api_for(agent).post("/api/v1/templates/", {**DRAFT, "name": "other"}, format="json")
    assert refused.status_code == 403
    agent.can_author_templates = True
    agent.save()
    assert api_for(agent).post("/api/v1/templates/", {**DRAFT, "name": "other"}, format="json").status_code == 201


def test_editing_a_live_template_starts_a_new_revision_and_keeps_sending_the_live_one(author):
    template = live_template()
    edited = api_for(author).put(f"/api/v1/templates/{template.pk}/", {**DRAFT}, format="json")
    assert edited.status_code == 200, edited.content
    body = edited.json()
    assert body["live_revision"]["number"] == 1
    assert body["open_revision"]["number"] == 2
    assert body["sendable"] is True


def test_a_disabled_template_cannot_be_edited_over_the_api(author):
    template = live_template(status="DISABLED")
    refused = api_for(author).put(f"/api/v1/templates/{template.pk}/", {**DRAFT}, format="json")
    assert refused.status_code == 409
    assert refused.json()["code"] == "not_editable"
    assert template.revisions.count() == 1


def test_the_list_filters_to_sendable_templates(author):
    live_template(name="ok")
    live_template(name="paused", status="PAUSED")
    names = [row["name"] for row in api_for(author).get("/api/v1/templates/?sendable=true").json()["results"]]
    assert names == ["ok"]


def test_analytics_count_the_messages_sent_with_a_template(author):
    template = live_template()
    analytics = api_for(author).get(f"/api/v1/templates/{template.pk}/analytics/").json()
    assert analytics["total"] == 0
    assert analytics["failures"] == []


def test_only_admins_sync(channel, author):
    manager = UserFactory(role=Role.MANAGER)
    assert api_for(manager).post("/api/v1/templates/sync/", {"waba_id": WABA}, format="json").status_code == 403
    with respx.mock:
        respx.get(f"{GRAPH}/{WABA}/message_templates").respond(200, json={"data": []})
        synced = api_for(author).post("/api/v1/templates/sync/", {"waba_id": WABA}, format="json")
    assert synced.json() == {"imported": 0, "updated": 0, "error": ""}


def test_resubmitting_needs_a_failed_submission(author):
    template = live_template()
    refused = api_for(author).post(f"/api/v1/templates/{template.pk}/resubmit/")
    assert refused.status_code == 409
    assert template.revisions.get().state == RevisionState.LIVE
