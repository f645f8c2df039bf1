"""The template pages: who sees which page, the editor posting drafts (and refusing garbage with a sentence),
the live lint partial, the review actions with the four-eyes refusal shown in place, escaping of author
text everywhere, and the query counts of the list and detail pages."""

import json
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditEntry, Role
from inbox.models import Direction, MessageStatus
from templates_app import services
from templates_app.models import MessageTemplate, RevisionState, TemplateEvent, TemplateRevision
from tests.factories import ChannelFactory, ConversationFactory, MessageFactory, UserFactory, live_template, worked_by

pytestmark = pytest.mark.django_db

WABA = ChannelFactory.waba_id

BODY = {"type": "BODY", "text": "Hi {{1}}, your order {{2}} ships today.", "example": {"body_text": [["Ana", "#1042"]]}}
FOOTER = {"type": "FOOTER", "text": "Thank you for shopping with us"}
CLEAN = [BODY, FOOTER]


def a_draft(name: str = "order_update", **overrides) -> services.Draft:
    fields = {"name": name, "language": "en_US", "category": "UTILITY", "components": CLEAN}
    fields.update(overrides)
    return services.Draft(**fields)


def editor_post(name: str = "order_update", components=CLEAN, **overrides) -> dict:
    data = {
        "waba_id": WABA,
        "name": name,
        "language": "en_US",
        "category": "UTILITY",
        "parameter_format": "POSITIONAL",
        "components_json": json.dumps(components),
        "variable_fields_json": json.dumps({"body.1": "contact.first_name"}),
        "action": "save",
    }
    data.update(overrides)
    return data


@pytest.fixture
def channel():
    return ChannelFactory(name="Support line")


@pytest.fixture
def admin(channel):
    return UserFactory(role=Role.ADMIN, name="Ada Author")


@pytest.fixture
def reviewer(channel):
    return UserFactory(role=Role.ADMIN, name="Rita Reviewer")


@pytest.fixture
def agent(channel):
    agent = UserFactory(role=Role.AGENT)
    worked_by(agent, channel)
    return agent


@pytest.fixture
def author_agent(channel):
    agent = UserFactory(role=Role.AGENT, can_author_templates=True)
    worked_by(agent, channel)
    return agent


@pytest.fixture
def manager(channel):
    return UserFactory(role=Role.MANAGER)


def draft_by(author, **overrides) -> TemplateRevision:
    return services.template_draft_create(author=author, waba_id=WABA, draft=a_draft(**overrides))


def in_review(author, **overrides) -> TemplateRevision:
    return services.template_review_request(revision=draft_by(author, **overrides), author=author)


def logged_in(client, user):
    client.force_login(user)
    return client


# --- Who sees what ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["agent", "manager", "admin"])
def test_everyone_at_work_sees_the_list_and_the_detail(client, request, role, admin):
    template = draft_by(admin).template
    person = request.getfixturevalue(role)
    logged_in(client, person)
    listing = client.get(reverse("templates:list"))
    assert listing.status_code == 200
    assert "order_update" in listing.content.decode()
    assert client.get(reverse("templates:detail", args=[template.pk])).status_code == 200


def test_an_agent_sees_only_the_templates_of_the_numbers_they_work(client, agent, admin):
    other = ChannelFactory(waba_id="999000111")
    hidden = services.template_draft_create(author=admin, waba_id=other.waba_id, draft=a_draft("elsewhere")).template
    mine = draft_by(admin).template
    logged_in(client, agent)
    page = client.get(reverse("templates:list")).content.decode()
    assert "order_update" in page
    assert "elsewhere" not in page
    assert client.get(reverse("templates:detail", args=[hidden.pk])).status_code == 404
    assert client.get(reverse("templates:edit", args=[mine.pk])).status_code == 403
    assert client.get(reverse("templates:detail", args=[mine.pk])).status_code == 200


def test_signed_out_people_go_to_the_login(client, admin):
    template = draft_by(admin).template
    for url in (reverse("templates:list"), reverse("templates:new"), reverse("templates:detail", args=[template.pk])):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("role", ["agent", "manager"])
def test_people_who_do_not_write_templates_get_no_editor(client, request, role, admin):
    template = draft_by(admin).template
    logged_in(client, request.getfixturevalue(role))
    assert client.get(reverse("templates:new")).status_code == 403
    assert client.post(reverse("templates:new"), editor_post("sneaky")).status_code == 403
    assert client.get(reverse("templates:edit", args=[template.pk])).status_code == 403
    assert client.post(reverse("templates:lint"), editor_post()).status_code == 403
    page = client.get(reverse("templates:list")).content.decode()
    assert reverse("templates:new") not in page
    detail = client.get(reverse("templates:detail", args=[template.pk])).content.decode()
    assert reverse("templates:edit", args=[template.pk]) not in detail
    assert not MessageTemplate.objects.filter(name="sneaky").exists()


def test_an_agent_an_admin_allowed_gets_the_editor(client, author_agent):
    logged_in(client, author_agent)
    page = client.get(reverse("templates:list")).content.decode()
    assert reverse("templates:new") in page
    editor = client.get(reverse("templates:new"))
    assert editor.status_code == 200
    assert 'name="components_json"' in editor.content.decode()


def test_only_admins_sync_and_see_the_approval_queue(client, agent, admin):
    logged_in(client, agent)
    page = client.get(reverse("templates:list")).content.decode()
    assert reverse("templates:sync") not in page
    assert "Waiting for my approval" not in page
    assert client.post(reverse("templates:sync"), {"waba_id": WABA}).status_code == 403
    logged_in(client, admin)
    page = client.get(reverse("templates:list")).content.decode()
    assert reverse("templates:sync") in page
    assert "Waiting for my approval" in page


# --- The list ----------------------------------------------------------------------------------------------------


def test_the_list_shows_status_quality_and_the_revision_on_its_way(client, admin, reviewer):
    live = live_template(name="shipping_notice")
    live.quality = "YELLOW"
    live.save()
    in_review(admin)
    logged_in(client, reviewer)
    page = client.get(reverse("templates:list")).content.decode()
    assert "tpl-status-ok" in page and "Approved" in page
    assert "tpl-quality-yellow" in page and "Medium" in page
    assert "r1 waiting for approval" in page
    assert "Not submitted" in page


def test_the_list_filters_by_status_category_language_and_name(client, admin):
    live_template(name="shipping_notice")
    live_template(name="big_sale", category="MARKETING", language="es")
    draft_by(admin)
    logged_in(client, admin)

    def names(**query) -> set[str]:
        response = client.get(reverse("templates:list"), query)
        return {name for name in ("shipping_notice", "big_sale", "order_update") if name in response.content.decode()}

    assert names() == {"shipping_notice", "big_sale", "order_update"}
    assert names(status="APPROVED") == {"shipping_notice", "big_sale"}
    assert names(status="none") == {"order_update"}
    assert names(category="MARKETING") == {"big_sale"}
    assert names(language="es") == {"big_sale"}
    assert names(q="ORDER") == {"order_update"}
    assert "No template matches these filters." in client.get(reverse("templates:list"), {"q": "zzz"}).content.decode()


def test_waiting_for_my_approval_lists_what_others_wrote(client, admin, reviewer):
    in_review(admin)
    in_review(reviewer, name="reviewers_own")
    logged_in(client, reviewer)
    page = client.get(reverse("templates:list"), {"view": "waiting"}).content.decode()
    assert "order_update" in page
    assert "reviewers_own" not in page


def test_an_empty_list_teaches(client, admin, agent):
    logged_in(client, admin)
    page = client.get(reverse("templates:list")).content.decode()
    assert "No templates yet" in page
    assert "Write the first template" in page
    logged_in(client, agent)
    assert "Admins write templates" in client.get(reverse("templates:list")).content.decode()


def test_sync_says_what_it_imported(client, admin, monkeypatch):
    monkeypatch.setattr(services, "templates_sync", lambda **kwargs: services.SyncResult(imported=3, updated=5))
    logged_in(client, admin)
    response = client.post(reverse("templates:sync"), {"waba_id": WABA}, follow=True)
    assert "3 imported, 5 refreshed" in response.content.decode()


def test_sync_says_why_it_stopped(client, admin, monkeypatch):
    monkeypatch.setattr(
        services, "templates_sync", lambda **kwargs: services.SyncResult(imported=1, error="Invalid OAuth access token")
    )
    logged_in(client, admin)
    response = client.post(reverse("templates:sync"), {"waba_id": WABA}, follow=True)
    assert "Invalid OAuth access token" in response.content.decode()


def test_the_list_takes_the_same_number_of_queries_for_many_templates(client, admin, django_assert_max_num_queries):
    for number in range(3):
        live_template(name=f"notice_{number}")
    logged_in(client, admin)
    with django_assert_max_num_queries(8) as few:
        client.get(reverse("templates:list"))
    for number in range(3, 30):
        live_template(name=f"notice_{number}")
    in_review(admin)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(reverse("templates:list"))
    assert "notice_29" in response.content.decode()


# --- The editor --------------------------------------------------------------------------------------------------


def test_the_editor_creates_a_draft(client, admin):
    logged_in(client, admin)
    response = client.post(reverse("templates:new"), editor_post())
    template = MessageTemplate.objects.get(name="order_update")
    assert response.status_code == 302
    assert response["Location"] == reverse("templates:edit", args=[template.pk])
    revision = template.revisions.get()
    assert revision.state == RevisionState.DRAFT
    assert revision.components == CLEAN
    assert revision.variable_fields == {"body.1": "contact.first_name"}
    editor = client.get(response["Location"]).content.decode()
    assert "Draft saved." in editor
    assert "Hi {{1}}, your order {{2}} ships today." in editor


def test_save_and_ask_for_approval_goes_to_the_detail_page(client, admin, reviewer):
    logged_in(client, admin)
    response = client.post(reverse("templates:new"), editor_post(action="review"))
    template = MessageTemplate.objects.get(name="order_update")
    assert response["Location"] == reverse("templates:detail", args=[template.pk])
    assert template.revisions.get().state == RevisionState.IN_REVIEW


def test_lint_errors_keep_the_author_on_the_form_with_the_findings(client, admin):
    logged_in(client, admin)
    broken = [{"type": "BODY", "text": "{{1}} is your code", "example": {"body_text": [["1234"]]}}]
    response = client.post(reverse("templates:new"), editor_post(components=broken, action="review"), follow=True)
    template = MessageTemplate.objects.get(name="order_update")
    assert response.redirect_chain[-1][0] == reverse("templates:edit", args=[template.pk])
    page = response.content.decode()
    assert "Fix the problems marked" in page
    assert 'data-part="body"' in page
    assert "Start the body with some text" in page
    assert template.revisions.get().state == RevisionState.DRAFT


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("components_json", "{not json"),
        ("components_json", '{"type": "BODY"}'),
        ("components_json", '["BODY"]'),
        ("variable_fields_json", "[1, 2]"),
        ("variable_fields_json", '{"body.1": 7}'),
    ],
)
def test_malformed_json_is_refused_with_a_sentence(client, admin, field, value):
    logged_in(client, admin)
    response = client.post(reverse("templates:new"), editor_post(**{field: value}))
    assert response.status_code == 400
    page = response.content.decode()
    assert "reload the page and try again" in page
    assert 'value="order_update"' in page
    assert not MessageTemplate.objects.exists()


def test_the_services_refusal_is_shown_on_the_form(client, admin):
    draft_by(admin)
    logged_in(client, admin)
    response = client.post(reverse("templates:new"), editor_post())
    assert response.status_code == 400
    assert "already exists" in response.content.decode()


def test_editing_a_draft_updates_it(client, admin):
    revision = draft_by(admin)
    logged_in(client, admin)
    components = [{**BODY, "text": "Hello {{1}}, order {{2}} is on its way to you."}, FOOTER]
    response = client.post(reverse("templates:edit", args=[revision.template.pk]), editor_post(components=components))
    assert response.status_code == 302
    revision.refresh_from_db()
    assert revision.components[0]["text"].startswith("Hello {{1}}")
    assert revision.template.revisions.count() == 1


def test_editing_an_approved_template_starts_a_revision_and_keeps_its_name(client, admin):
    template = live_template()
    logged_in(client, admin)
    page = client.get(reverse("templates:edit", args=[template.pk])).content.decode()
    assert "New revision 2" in page
    assert "Saving starts a new revision" in page
    response = client.post(reverse("templates:edit", args=[template.pk]), editor_post(name="renamed", language="fr"))
    assert response.status_code == 302
    revision = template.revisions.get(number=2)
    assert revision.state == RevisionState.DRAFT
    template.refresh_from_db()
    assert (template.name, template.language) == ("order_update", "en_US")
    assert template.live_revision.number == 1


def test_a_refused_edit_leaves_no_empty_revision(client, admin):
    template = live_template()
    logged_in(client, admin)
    response = client.post(reverse("templates:edit", args=[template.pk]), editor_post(category="PROMO"))
    assert response.status_code == 400
    assert "Choose a category" in response.content.decode()
    assert template.revisions.count() == 1


def test_a_disabled_template_says_why_it_cannot_be_edited(client, admin):
    template = live_template(status="DISABLED")
    logged_in(client, admin)
    page = client.get(reverse("templates:edit", args=[template.pk])).content.decode()
    assert "A disabled template can no longer be edited" in page
    assert 'name="components_json"' not in page
    response = client.post(reverse("templates:edit", args=[template.pk]), editor_post())
    assert response.status_code == 409
    assert template.revisions.count() == 1


def test_a_revision_in_review_cannot_be_edited(client, admin):
    template = in_review(admin).template
    logged_in(client, admin)
    page = client.get(reverse("templates:edit", args=[template.pk])).content.decode()
    assert "already being reviewed" in page


# --- The live lint ------------------------------------------------------------------------------------------------


def test_the_lint_partial_shows_findings_pointing_at_their_part(client, admin):
    logged_in(client, admin)
    components = [{"type": "BODY", "text": "Hi {{1}}, your order ships today.", "example": {"body_text": [[""]]}}]
    response = client.post(reverse("templates:lint"), editor_post(name="Bad Name", components=components))
    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-part="name"' in page
    assert 'data-part="samples.body.1"' in page
    assert "Example for {{1}}" in page
    assert "problems to fix" in page


def test_the_lint_partial_says_when_all_is_well(client, admin):
    logged_in(client, admin)
    response = client.post(reverse("templates:lint"), editor_post())
    assert "No problems found" in response.content.decode()


def test_the_lint_partial_reports_a_name_already_used_on_the_account(client, admin):
    draft_by(admin)
    logged_in(client, admin)
    page = client.post(reverse("templates:lint"), editor_post()).content.decode()
    assert "already exists in this language" in page
    template = MessageTemplate.objects.get()
    page = client.post(reverse("templates:lint"), editor_post(template_id=template.pk)).content.decode()
    assert "already exists" not in page


def test_the_lint_partial_reports_garbled_json_instead_of_failing(client, admin):
    logged_in(client, admin)
    response = client.post(reverse("templates:lint"), editor_post(components_json="[{"))
    assert response.status_code == 200
    assert "could not be read" in response.content.decode()


# --- Review actions -------------------------------------------------------------------------------------------------


def test_another_admin_approves_from_the_page(client, admin, reviewer):
    revision = in_review(admin)
    template = revision.template
    logged_in(client, reviewer)
    page = client.get(reverse("templates:detail", args=[template.pk])).content.decode()
    assert "Approve and submit to WhatsApp" in page
    url = reverse("templates:review", args=[template.pk, revision.pk])
    response = client.post(url, {"decision": "approve", "comment": "Looks right."}, follow=True)
    revision.refresh_from_db()
    assert revision.state == RevisionState.APPROVED
    assert revision.reviewed_by == reviewer
    assert "is being submitted to WhatsApp" in response.content.decode()


def test_an_admin_asks_for_changes_with_a_comment(client, admin, reviewer):
    revision = in_review(admin)
    template = revision.template
    logged_in(client, reviewer)
    url = reverse("templates:review", args=[template.pk, revision.pk])
    refused = client.post(url, {"decision": "changes", "comment": ""})
    assert refused.status_code == 400
    assert "Say what should change" in refused.content.decode()
    response = client.post(url, {"decision": "changes", "comment": "Say which order."}, follow=True)
    revision.refresh_from_db()
    assert revision.state == RevisionState.CHANGES_REQUESTED
    assert "Changes requested" in response.content.decode()
    logged_in(client, admin)
    editor = client.get(reverse("templates:edit", args=[template.pk])).content.decode()
    assert "Say which order." in editor


def test_the_author_is_told_another_admin_must_approve(client, admin):
    revision = in_review(admin)
    template = revision.template
    logged_in(client, admin)
    page = client.get(reverse("templates:detail", args=[template.pk])).content.decode()
    assert "Approve and submit to WhatsApp" not in page
    assert "Another admin must review this template" in page
    # Posting anyway: the service refuses and the page says why, where the buttons would be.
    response = client.post(reverse("templates:review", args=[template.pk, revision.pk]), {"decision": "approve"})
    assert response.status_code == 400
    assert "nobody approves their own" in response.content.decode()
    revision.refresh_from_db()
    assert revision.state == RevisionState.IN_REVIEW


def test_the_four_eyes_refusal_swaps_into_the_page_for_htmx(client, admin):
    revision = in_review(admin)
    template = revision.template
    logged_in(client, admin)
    response = client.post(
        reverse("templates:review", args=[template.pk, revision.pk]), {"decision": "approve"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert response["HX-Retarget"] == "#main"
    assert "nobody approves their own" in response.content.decode()


def test_an_approval_over_htmx_swaps_the_page_back(client, admin, reviewer):
    revision = in_review(admin)
    logged_in(client, reviewer)
    response = client.post(
        reverse("templates:review", args=[revision.template.pk, revision.pk]),
        {"decision": "approve"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 204
    assert json.loads(response["HX-Location"])["path"] == reverse("templates:detail", args=[revision.template.pk])


def test_agents_and_managers_cannot_review(client, admin, author_agent, manager):
    revision = in_review(admin)
    url = reverse("templates:review", args=[revision.template.pk, revision.pk])
    for person in (author_agent, manager):
        logged_in(client, person)
        assert client.post(url, {"decision": "approve"}).status_code == 403
    revision.refresh_from_db()
    assert revision.state == RevisionState.IN_REVIEW


def test_an_author_asks_for_approval_from_the_page(client, author_agent, admin):
    revision = draft_by(author_agent)
    template = revision.template
    logged_in(client, author_agent)
    page = client.get(reverse("templates:detail", args=[template.pk])).content.decode()
    assert "Ask for approval" in page
    response = client.post(reverse("templates:request-review", args=[template.pk, revision.pk]), follow=True)
    assert "Sent for approval" in response.content.decode()
    revision.refresh_from_db()
    assert revision.state == RevisionState.IN_REVIEW
    assert "Waiting for an admin" in response.content.decode()


def test_asking_for_approval_of_a_broken_draft_opens_the_editor(client, admin):
    broken = [{"type": "BODY", "text": "{{1}} is your code", "example": {"body_text": [["1234"]]}}]
    revision = draft_by(admin, components=broken)
    logged_in(client, admin)
    response = client.post(reverse("templates:request-review", args=[revision.template.pk, revision.pk]))
    assert response["Location"] == reverse("templates:edit", args=[revision.template.pk])


def test_a_failed_submission_shows_whatsapps_reason_and_can_be_tried_again(client, admin, reviewer):
    revision = in_review(admin)
    services.template_review_decide(revision=revision, reviewer=reviewer, approve=True)
    TemplateRevision.objects.filter(pk=revision.pk).update(
        state=RevisionState.SUBMISSION_FAILED, provider_error="Invalid parameter (code 100)"
    )
    template = revision.template
    logged_in(client, reviewer)
    page = client.get(reverse("templates:detail", args=[template.pk])).content.decode()
    assert "Invalid parameter (code 100)" in page
    assert "Try the submission again" in page
    response = client.post(reverse("templates:resubmit", args=[template.pk, revision.pk]), follow=True)
    assert "again" in response.content.decode()
    revision.refresh_from_db()
    assert revision.state == RevisionState.APPROVED


# --- The detail page ----------------------------------------------------------------------------------------------


def test_the_detail_shows_flagged_countdown_category_change_and_why_it_cannot_be_sent(client, admin):
    template = live_template(status="FLAGGED")
    now = timezone.now()
    template.flagged_at = now - timedelta(hours=20) + timedelta(seconds=30)
    template.upcoming_category = "MARKETING"
    template.upcoming_category_at = now + timedelta(days=3)
    template.status_reason = "Customers blocked this template"
    template.save()
    logged_in(client, admin)
    page = client.get(reverse("templates:detail", args=[template.pk])).content.decode()
    assert "Disabled in 6 days 4 hours unless its quality recovers" in page
    assert "WhatsApp will change its category to Marketing on" in page
    assert "Customers blocked this template" in page
    assert "Can be sent" in page
    paused = live_template(name="paused_one", status="PAUSED")
    page = client.get(reverse("templates:detail", args=[paused.pk])).content.decode()
    assert "WhatsApp paused this template" in page


def test_the_detail_shows_the_timeline_revisions_and_analytics(client, admin, reviewer, channel):
    template = live_template()
    conversation = ConversationFactory(channel=channel)
    MessageFactory(
        conversation=conversation,
        direction=Direction.OUTBOUND,
        template=template,
        status=MessageStatus.FAILED,
        error_code=131026,
    )
    MessageFactory(
        conversation=conversation, direction=Direction.OUTBOUND, template=template, status=MessageStatus.READ
    )
    revision = services.template_revision_start(template=template, author=admin)
    logged_in(client, reviewer)
    page = client.get(reverse("templates:detail", args=[template.pk])).content.decode()
    assert "New revision started" in page
    assert "Ada Author" in page
    assert f"Revision {revision.number}" in page
    assert "131026" in page
    assert "Why messages failed" in page
    assert "Live on WhatsApp" in page
    assert "Order #1042" in page  # the live preview, samples in place of the variables


def test_the_detail_takes_the_same_number_of_queries_for_a_long_history(
    client, admin, reviewer, channel, django_assert_max_num_queries
):
    template = live_template()
    logged_in(client, reviewer)
    with django_assert_max_num_queries(9) as few:
        client.get(reverse("templates:detail", args=[template.pk]))
    conversation = ConversationFactory(channel=channel)
    for _ in range(10):
        MessageFactory(conversation=conversation, direction=Direction.OUTBOUND, template=template)
    revision = services.template_revision_start(template=template, author=admin)
    services.template_draft_update(revision=revision, author=admin, draft=a_draft())
    services.template_review_request(revision=revision, author=admin)
    assert TemplateEvent.objects.filter(template=template).count() >= 3
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(reverse("templates:detail", args=[template.pk]))
    assert "Approve and submit to WhatsApp" in response.content.decode()


# --- Hostile text ---------------------------------------------------------------------------------------------------


def test_author_text_is_escaped_everywhere(client, admin, reviewer):
    script = "<script>alert(1)</script>"
    components = [
        {"type": "HEADER", "format": "TEXT", "text": f"Hi {script} {{{{1}}}}", "example": {"header_text": [script]}},
        {"type": "BODY", "text": f"Body {script} *bold* {{{{1}}}} end.", "example": {"body_text": [[script]]}},
        {"type": "FOOTER", "text": script},
        {"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": script}]},
    ]
    logged_in(client, admin)
    client.post(reverse("templates:new"), editor_post(name=f"x{script}", components=components))
    template = MessageTemplate.objects.get()
    revision = template.revisions.get()
    TemplateRevision.objects.filter(pk=revision.pk).update(state=RevisionState.CHANGES_REQUESTED, review_comment=script)
    template.status_reason = script
    template.save()
    pages = [
        client.get(reverse("templates:list")),
        client.get(reverse("templates:detail", args=[template.pk])),
        client.get(reverse("templates:edit", args=[template.pk])),
        client.post(reverse("templates:lint"), editor_post(name=f"x{script}", components=components)),
        client.post(reverse("templates:new"), editor_post(name=f"x{script}", components=components)),
    ]
    for response in pages:
        page = response.content.decode()
        assert "<script>alert" not in page, response.request["PATH_INFO"]
    detail = pages[1].content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in detail
    assert "<strong>bold</strong>" in detail  # WhatsApp's formatting still shows


# --- The settings toggle ------------------------------------------------------------------------------------------


def test_an_admin_allows_an_agent_to_write_templates(client, admin, agent):
    logged_in(client, admin)
    page = client.get(reverse("settings:user", args=[agent.pk])).content.decode()
    assert "May write message templates" in page
    response = client.post(reverse("settings:user", args=[agent.pk]), {"can_author_templates": "1"}, follow=True)
    assert "They may now write message templates." in response.content.decode()
    agent.refresh_from_db()
    assert agent.can_author_templates
    entry = AuditEntry.objects.get(action="user.template_author_allowed")
    assert (entry.actor, entry.target_id) == (admin, str(agent.pk))
    client.post(reverse("settings:user", args=[agent.pk]), {})
    agent.refresh_from_db()
    assert not agent.can_author_templates
    assert AuditEntry.objects.filter(action="user.template_author_revoked").exists()


def test_only_admins_change_who_writes_templates(client, agent, manager):
    logged_in(client, manager)
    assert client.post(reverse("settings:user", args=[agent.pk]), {"can_author_templates": "1"}).status_code == 403
    agent.refresh_from_db()
    assert not agent.can_author_templates


def test_the_rail_links_to_the_templates(client, agent):
    logged_in(client, agent)
    page = client.get(reverse("home")).content.decode()
    assert reverse("templates:list") in page
    templates_page = client.get(reverse("templates:list")).content.decode()
    assert 'class="rail-item is-active" href="/templates/"' in templates_page
