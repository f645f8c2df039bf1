"""The life of a template: drafts, the four-eyes review, submission to WhatsApp, and what WhatsApp reports
through the management webhooks (recorded shapes from whatsapp-cloud-api.md §10) and the sync."""

import json

import httpx
import pytest
import respx
from django.core import mail

from accounts.models import AuditEntry, Role
from inbox.models import ManagementEvent, Notification
from templates_app import services
from templates_app.models import MessageTemplate, RevisionState, TemplateEvent, TemplateEventKind
from tests.factories import ChannelFactory, UserFactory, live_template, worked_by
from tests.inbox import whatsapp_payloads as wa

pytestmark = pytest.mark.django_db

GRAPH = "https://graph.facebook.com/v23.0"

CLEAN_COMPONENTS = [
    {"type": "BODY", "text": "Hi {{1}}, your order {{2}} ships today.", "example": {"body_text": [["Ana", "#1042"]]}},
    {"type": "FOOTER", "text": "Thank you for shopping with us"},
]


def a_draft(name: str = "order_update", **overrides) -> services.Draft:
    fields = {"name": name, "language": "en_US", "category": "UTILITY", "components": CLEAN_COMPONENTS}
    fields.update(overrides)
    return services.Draft(**fields)


@pytest.fixture
def channel():
    return ChannelFactory(phone_number_id=wa.PHONE_NUMBER_ID, waba_id=wa.WABA_ID)


@pytest.fixture
def author(channel):
    return UserFactory(role=Role.ADMIN, email="author@example.com")


@pytest.fixture
def reviewer(channel):
    return UserFactory(role=Role.ADMIN, email="reviewer@example.com")


@pytest.fixture
def deliver(client, channel, django_capture_on_commit_callbacks):
    def deliver(*changes, time: int = wa.T0):
        with django_capture_on_commit_callbacks(execute=True):
            response = wa.post(client, wa.delivery(*changes, time=time))
        assert response.status_code == 200

    return deliver


def in_review(author, reviewer=None):
    revision = services.template_draft_create(author=author, waba_id=wa.WABA_ID, draft=a_draft())
    return services.template_review_request(revision=revision, author=author)


def submitted(author, reviewer, django_capture_on_commit_callbacks, *, template_id: str = "1297883712183052"):
    revision = in_review(author)
    with respx.mock:
        respx.post(f"{GRAPH}/{wa.WABA_ID}/message_templates").respond(
            200, json={"id": template_id, "status": "PENDING", "category": "UTILITY"}
        )
        with django_capture_on_commit_callbacks(execute=True):
            services.template_review_decide(revision=revision, reviewer=reviewer, approve=True)
    revision.refresh_from_db()
    return revision


def status_change(event: str, *, template_id: int = 1297883712183052, **extra) -> dict:
    value = {
        "event": event,
        "message_template_id": template_id,
        "message_template_name": "order_update",
        "message_template_language": "en_US",
        "reason": extra.pop("reason", "NONE"),
        **extra,
    }
    return wa.management_change("message_template_status_update", value)


# --- Writing -------------------------------------------------------------------------------------------------


def test_an_agent_writes_templates_only_when_an_admin_allowed_it(channel):
    agent = UserFactory(role=Role.AGENT)
    worked_by(agent, channel)
    with pytest.raises(services.TemplateRefused) as refused:
        services.template_draft_create(author=agent, waba_id=wa.WABA_ID, draft=a_draft())
    assert refused.value.code == "permission_denied"
    agent.can_author_templates = True
    agent.save()
    revision = services.template_draft_create(author=agent, waba_id=wa.WABA_ID, draft=a_draft())
    assert revision.state == RevisionState.DRAFT
    assert revision.template.created_by == agent


def test_an_author_writes_only_for_accounts_they_work(channel):
    agent = UserFactory(role=Role.AGENT, can_author_templates=True)
    with pytest.raises(services.TemplateRefused) as refused:
        services.template_draft_create(author=agent, waba_id=wa.WABA_ID, draft=a_draft())
    assert refused.value.code == "permission_denied"


def test_a_name_and_language_are_used_once_per_account(author):
    services.template_draft_create(author=author, waba_id=wa.WABA_ID, draft=a_draft())
    with pytest.raises(services.TemplateRefused) as refused:
        services.template_draft_create(author=author, waba_id=wa.WABA_ID, draft=a_draft())
    assert refused.value.code == "duplicate_name_language"
    assert MessageTemplate.objects.count() == 1
    services.template_draft_create(author=author, waba_id=wa.WABA_ID, draft=a_draft(language="pt_BR"))
    assert MessageTemplate.objects.count() == 2


@pytest.mark.parametrize(
    ("overrides", "says"),
    [
        ({"name": "  "}, "name and a language"),
        ({"category": "PROMO"}, "Choose a category"),
        ({"components": "BODY"}, "expected shape"),
        ({"components": [["BODY"]]}, "expected shape"),
        ({"parameter_format": "FANCY"}, "numbered"),
        ({"variable_fields": {"body.1": "contact.password"}}, "prefilled"),
    ],
)
def test_garbage_is_refused_and_nothing_is_written(author, overrides, says):
    with pytest.raises(services.TemplateRefused) as refused:
        services.template_draft_create(author=author, waba_id=wa.WABA_ID, draft=a_draft(**overrides))
    assert refused.value.code == "invalid_template"
    assert says in refused.value.detail
    assert not MessageTemplate.objects.exists()


def test_a_draft_with_lint_errors_is_saved_but_cannot_go_for_approval(author):
    broken = [{"type": "BODY", "text": "{{1}} is your code", "example": {"body_text": [["1234"]]}}]
    revision = services.template_draft_create(author=author, waba_id=wa.WABA_ID, draft=a_draft(components=broken))
    with pytest.raises(services.TemplateRefused) as refused:
        services.template_review_request(revision=revision, author=author)
    assert refused.value.code == "lint_failed"
    assert any(finding.part == "body" and finding.severity == "error" for finding in refused.value.findings)
    revision.refresh_from_db()
    assert revision.state == RevisionState.DRAFT


# --- The internal review ----------------------------------------------------------------------------------


def test_asking_for_approval_tells_the_other_admins(author, reviewer):
    revision = in_review(author)
    assert revision.state == RevisionState.IN_REVIEW
    assert Notification.objects.filter(user=reviewer, kind="template", template=revision.template).exists()
    assert not Notification.objects.filter(user=author).exists()
    assert AuditEntry.objects.filter(action="template.review_requested").exists()


def test_nobody_approves_their_own_template(author):
    revision = in_review(author)
    with pytest.raises(services.TemplateRefused) as refused:
        services.template_review_decide(revision=revision, reviewer=author, approve=True)
    assert refused.value.code == "four_eyes"
    revision.refresh_from_db()
    assert revision.state == RevisionState.IN_REVIEW


def test_only_admins_review(author, channel):
    manager = UserFactory(role=Role.MANAGER)
    revision = in_review(author)
    with pytest.raises(services.TemplateRefused) as refused:
        services.template_review_decide(revision=revision, reviewer=manager, approve=True)
    assert refused.value.code == "permission_denied"


def test_asking_for_changes_needs_a_comment_and_sends_the_draft_back(author, reviewer):
    revision = in_review(author)
    with pytest.raises(services.TemplateRefused) as refused:
        services.template_review_decide(revision=revision, reviewer=reviewer, approve=False, comment=" ")
    assert refused.value.code == "comment_required"
    revision = services.template_review_decide(
        revision=revision, reviewer=reviewer, approve=False, comment="Say which order."
    )
    assert revision.state == RevisionState.CHANGES_REQUESTED
    assert revision.review_comment == "Say which order."
    assert Notification.objects.filter(user=author, text__contains="Say which order.").exists()
    event = TemplateEvent.objects.get(kind=TemplateEventKind.REVIEW_REJECTED)
    assert (event.actor, event.comment) == (reviewer, "Say which order.")
    assert AuditEntry.objects.filter(action="template.review_rejected", actor=reviewer).exists()
    # The author fixes it: a draft again, and it can go for approval again.
    fixed = services.template_draft_update(revision=revision, author=author, draft=a_draft())
    assert fixed.state == RevisionState.DRAFT
    assert services.template_review_request(revision=fixed, author=author).state == RevisionState.IN_REVIEW


# --- Submission -------------------------------------------------------------------------------------------


def test_an_approved_draft_is_submitted_to_the_waba(author, reviewer, django_capture_on_commit_callbacks):
    revision = in_review(author)
    with respx.mock:
        route = respx.post(f"{GRAPH}/{wa.WABA_ID}/message_templates").respond(
            200, json={"id": "1297883712183052", "status": "PENDING", "category": "UTILITY"}
        )
        with django_capture_on_commit_callbacks(execute=True):
            services.template_review_decide(revision=revision, reviewer=reviewer, approve=True)
    sent = json.loads(route.calls.last.request.content)
    assert sent == {
        "name": "order_update",
        "language": "en_US",
        "category": "UTILITY",
        "components": CLEAN_COMPONENTS,
    }
    assert route.calls.last.request.headers["Authorization"] == "Bearer test-access-token"
    revision.refresh_from_db()
    template = revision.template
    assert revision.state == RevisionState.SUBMITTED
    assert (template.provider_template_id, template.status) == ("1297883712183052", "PENDING")
    kinds = list(template.events.order_by("occurred_at", "id").values_list("kind", flat=True))
    assert kinds == ["created", "review_requested", "review_approved", "submitted"]


def test_whatsapps_refusal_of_a_submission_is_kept_and_told(author, reviewer, django_capture_on_commit_callbacks):
    revision = in_review(author)
    refusal = {
        "error": {
            "message": "(#100) Invalid parameter",
            "type": "OAuthException",
            "code": 100,
            "error_subcode": 2388024,
            "error_user_msg": "Content in this language already exists.",
        }
    }
    with respx.mock:
        respx.post(f"{GRAPH}/{wa.WABA_ID}/message_templates").respond(400, json=refusal)
        with django_capture_on_commit_callbacks(execute=True):
            services.template_review_decide(revision=revision, reviewer=reviewer, approve=True)
    revision.refresh_from_db()
    assert revision.state == RevisionState.SUBMISSION_FAILED
    assert "already exists" in revision.provider_error
    assert Notification.objects.filter(user=author, text__contains="already exists").exists()


def test_temporary_trouble_is_retried(author, reviewer, django_capture_on_commit_callbacks, settings):
    revision = in_review(author)
    with respx.mock:
        route = respx.post(f"{GRAPH}/{wa.WABA_ID}/message_templates")
        route.side_effect = [
            httpx.Response(503, json={"error": {"message": "busy", "code": 2}}),
            httpx.Response(200, json={"id": "77", "status": "PENDING", "category": "UTILITY"}),
        ]
        with django_capture_on_commit_callbacks(execute=True):
            services.template_review_decide(revision=revision, reviewer=reviewer, approve=True)
    assert route.call_count == 2
    revision.refresh_from_db()
    assert revision.state == RevisionState.SUBMITTED


# --- What WhatsApp reports ---------------------------------------------------------------------------------


def test_approval_makes_the_revision_live(author, reviewer, django_capture_on_commit_callbacks, deliver):
    revision = submitted(author, reviewer, django_capture_on_commit_callbacks)
    deliver(status_change("APPROVED", message_template_category="UTILITY"))
    template = MessageTemplate.objects.get()
    revision.refresh_from_db()
    assert revision.state == RevisionState.LIVE
    assert template.live_revision == revision
    assert template.status == "APPROVED"
    assert ManagementEvent.objects.get().handled


def test_rejection_keeps_whatsapps_reason_and_alerts_admins_by_mail(
    author, reviewer, django_capture_on_commit_callbacks, deliver
):
    revision = submitted(author, reviewer, django_capture_on_commit_callbacks)
    deliver(
        status_change(
            "REJECTED",
            reason="INVALID_FORMAT",
            rejection_info={"reason": "INVALID_FORMAT", "recommendation": "Move the variable away from the end."},
        )
    )
    template = MessageTemplate.objects.get()
    revision.refresh_from_db()
    assert revision.state == RevisionState.REJECTED
    assert template.status == "REJECTED"
    assert "INVALID_FORMAT" in template.status_reason
    assert "Move the variable" in template.status_reason
    assert template.live_revision is None
    assert Notification.objects.filter(user=reviewer, text__contains="rejected").exists()
    assert len(mail.outbox) == 1
    assert set(mail.outbox[0].to) == {"author@example.com", "reviewer@example.com"}
    assert "rejected order_update" in mail.outbox[0].subject


def test_replayed_webhooks_apply_once(author, reviewer, django_capture_on_commit_callbacks, deliver):
    submitted(author, reviewer, django_capture_on_commit_callbacks)
    deliver(status_change("APPROVED"))
    deliver(status_change("APPROVED"))
    assert TemplateEvent.objects.filter(kind=TemplateEventKind.STATUS_CHANGED).count() == 1


@pytest.mark.parametrize(
    ("event", "extra", "status", "alerted"),
    [
        ("PAUSED", {"other_info": {"title": "FIRST_PAUSE", "description": "Paused for 3 hours."}}, "PAUSED", True),
        ("FLAGGED", {}, "FLAGGED", True),
        ("DISABLED", {"disable_info": {"disable_date": wa.T0 + 60}}, "DISABLED", True),
        ("IN_APPEAL", {}, "IN_APPEAL", False),
        ("REINSTATED", {}, "REINSTATED", False),
        ("PENDING_DELETION", {}, "PENDING_DELETION", False),
    ],
)
def test_later_statuses_apply_to_a_live_template(channel, reviewer, deliver, event, extra, status, alerted):
    live_template(provider_template_id="1297883712183052")
    deliver(status_change(event, **extra), time=wa.T0 + 10)
    template = MessageTemplate.objects.get()
    assert template.status == status
    assert template.live_revision is not None
    assert Notification.objects.filter(user=reviewer).exists() is alerted
    assert (len(mail.outbox) == 1) is alerted


def test_a_flagged_template_counts_down_to_being_disabled(channel, deliver):
    live_template(provider_template_id="1297883712183052")
    deliver(status_change("FLAGGED"), time=wa.T0)
    template = MessageTemplate.objects.get()
    assert template.flagged_at is not None
    assert template.flagged_at.timestamp() == wa.T0
    deliver(status_change("APPROVED"), time=wa.T0 + 3600)
    template.refresh_from_db()
    assert template.flagged_at is None


def test_an_older_status_arriving_late_is_kept_in_the_timeline_but_not_applied(channel, deliver):
    live_template(provider_template_id="1297883712183052")
    deliver(status_change("PAUSED"), time=wa.T0 + 100)
    deliver(status_change("APPROVED"), time=wa.T0 + 50)
    template = MessageTemplate.objects.get()
    assert template.status == "PAUSED"
    late = TemplateEvent.objects.filter(to_value="APPROVED").get()
    assert "not applied" in late.comment


def test_an_edit_rejected_by_whatsapp_leaves_the_live_revision_sending(
    author, reviewer, channel, django_capture_on_commit_callbacks, deliver
):
    template = live_template(provider_template_id="1297883712183052", author=author)
    live = template.live_revision
    revision = services.template_revision_start(template=template, author=author)
    assert revision.number == 2
    assert revision.components == live.components
    revision = services.template_draft_update(revision=revision, author=author, draft=a_draft())
    services.template_review_request(revision=revision, author=author)
    with respx.mock:
        route = respx.post(f"{GRAPH}/1297883712183052").respond(200, json={"success": True})
        with django_capture_on_commit_callbacks(execute=True):
            services.template_review_decide(revision=revision, reviewer=reviewer, approve=True)
    assert json.loads(route.calls.last.request.content) == {"components": CLEAN_COMPONENTS, "category": "UTILITY"}
    template.refresh_from_db()
    assert template.live_revision == live
    assert template.status == "APPROVED"
    deliver(status_change("REJECTED", reason="PROMOTIONAL"), time=wa.T0 + 10)
    template.refresh_from_db()
    revision.refresh_from_db()
    assert revision.state == RevisionState.REJECTED
    assert template.live_revision == live
    assert template.status == "APPROVED"


def test_an_approved_edit_replaces_the_live_revision(
    author, reviewer, channel, django_capture_on_commit_callbacks, deliver
):
    template = live_template(provider_template_id="1297883712183052", author=author)
    old = template.live_revision
    revision = services.template_revision_start(template=template, author=author)
    services.template_draft_update(revision=revision, author=author, draft=a_draft())
    services.template_review_request(revision=revision, author=author)
    with respx.mock:
        respx.post(f"{GRAPH}/1297883712183052").respond(200, json={"success": True})
        with django_capture_on_commit_callbacks(execute=True):
            services.template_review_decide(revision=revision, reviewer=reviewer, approve=True)
    deliver(status_change("APPROVED"), time=wa.T0 + 10)
    template.refresh_from_db()
    old.refresh_from_db()
    assert template.live_revision_id == revision.pk
    assert old.state == RevisionState.SUPERSEDED


def test_a_disabled_template_cannot_be_edited(author, channel):
    template = live_template(status="DISABLED", author=author)
    with pytest.raises(services.TemplateRefused) as refused:
        services.template_revision_start(template=template, author=author)
    assert refused.value.code == "not_editable"
    assert "disabled" in refused.value.detail


def test_quality_changes_are_kept_and_red_alerts(channel, reviewer, deliver):
    live_template(provider_template_id="1297883712183052")
    quality = {
        "previous_quality_score": "GREEN",
        "new_quality_score": "RED",
        "message_template_id": 1297883712183052,
        "message_template_name": "order_update",
        "message_template_language": "en_US",
    }
    deliver(wa.management_change("message_template_quality_update", quality))
    template = MessageTemplate.objects.get()
    assert template.quality == "RED"
    event = TemplateEvent.objects.get(kind=TemplateEventKind.QUALITY_CHANGED)
    assert (event.from_value, event.to_value) == ("UNKNOWN", "RED")
    assert Notification.objects.filter(user=reviewer, text__contains="quality").exists()


def test_a_completed_category_change_applies(channel, deliver):
    live_template(provider_template_id="1297883712183052")
    change = {
        "message_template_id": 1297883712183052,
        "message_template_name": "order_update",
        "message_template_language": "en_US",
        "previous_category": "UTILITY",
        "new_category": "MARKETING",
    }
    deliver(wa.management_change("template_category_update", change))
    template = MessageTemplate.objects.get()
    assert (template.category, template.previous_category) == ("MARKETING", "UTILITY")


def test_an_impending_category_change_is_announced_and_the_current_category_kept(channel, deliver):
    live_template(provider_template_id="1297883712183052")
    change = {
        "message_template_id": 1297883712183052,
        "message_template_name": "order_update",
        "message_template_language": "en_US",
        "correct_category": "MARKETING",
        "new_category": "UTILITY",
        "category_update_timestamp": wa.T0 + 86400,
    }
    deliver(wa.management_change("template_category_update", change))
    template = MessageTemplate.objects.get()
    assert template.category == "UTILITY"
    assert template.upcoming_category == "MARKETING"
    assert template.upcoming_category_at.timestamp() == wa.T0 + 86400


def test_a_template_is_found_by_name_and_language_written_either_way(channel, deliver):
    live_template(provider_template_id="555")
    deliver(status_change("PAUSED", template_id=1, message_template_language="en-US"))
    assert MessageTemplate.objects.get().status == "PAUSED"


def test_an_unknown_template_asks_for_a_sync(channel, deliver):
    page = {
        "data": [
            {
                "name": "welcome",
                "parameter_format": "POSITIONAL",
                "components": [{"type": "BODY", "text": "Welcome!"}],
                "language": "en_US",
                "status": "APPROVED",
                "category": "MARKETING",
                "id": "42",
                "quality_score": {"score": "GREEN", "date": wa.T0},
            }
        ],
        "paging": {"cursors": {"before": "a", "after": "b"}},
    }
    with respx.mock:
        respx.get(f"{GRAPH}/{wa.WABA_ID}/message_templates").respond(200, json=page)
        deliver(status_change("APPROVED", template_id=42, message_template_name="welcome"))
    template = MessageTemplate.objects.get(name="welcome")
    assert (template.status, template.quality, template.provider_template_id) == ("APPROVED", "GREEN", "42")
    assert template.live_revision.components == [{"type": "BODY", "text": "Welcome!"}]


# --- Sync ---------------------------------------------------------------------------------------------------


def test_sync_imports_new_templates_and_refreshes_known_ones(channel, author):
    live_template(provider_template_id="1", name="order_update")
    pages = [
        {
            "data": [
                {
                    "name": "order_update",
                    "language": "en_US",
                    "status": "PAUSED",
                    "category": "UTILITY",
                    "id": "1",
                    "components": [{"type": "BODY", "text": "Changed elsewhere"}],
                },
                {
                    "name": "seasonal_promotion",
                    "language": "nl",
                    "status": "PENDING",
                    "category": "MARKETING",
                    "id": "2",
                    "components": [],
                },
            ],
            "paging": {"cursors": {"before": "x", "after": "y"}, "next": f"{GRAPH}/next"},
        },
        {
            "data": [
                {
                    "name": "rejected_one",
                    "language": "en_US",
                    "status": "REJECTED",
                    "category": "UTILITY",
                    "id": "3",
                    "rejected_reason": "INVALID_FORMAT",
                    "components": [],
                },
            ],
            "paging": {"cursors": {"before": "y", "after": "z"}},
        },
    ]
    with respx.mock:
        route = respx.get(f"{GRAPH}/{wa.WABA_ID}/message_templates")
        route.side_effect = [httpx.Response(200, json=page) for page in pages]
        result = services.templates_sync(waba_id=wa.WABA_ID, actor=author)
    assert (result.imported, result.updated, result.error) == (2, 1, "")
    assert route.calls[1].request.url.params["after"] == "y"
    known = MessageTemplate.objects.get(name="order_update")
    assert known.status == "PAUSED"
    assert known.live_revision.components == [{"type": "BODY", "text": "Changed elsewhere"}]
    assert known.revisions.filter(state=RevisionState.SUPERSEDED).count() == 1
    assert MessageTemplate.objects.get(name="seasonal_promotion").live_revision is None
    assert MessageTemplate.objects.get(name="rejected_one").status_reason == "INVALID_FORMAT"
    assert AuditEntry.objects.filter(action="template.synced", actor=author).exists()


def test_only_admins_sync(channel):
    agent = UserFactory(role=Role.AGENT, can_author_templates=True)
    worked_by(agent, channel)
    with pytest.raises(services.TemplateRefused) as refused:
        services.templates_sync(waba_id=wa.WABA_ID, actor=agent)
    assert refused.value.code == "permission_denied"


# --- Replies, for the analytics ----------------------------------------------------------------------------


def test_the_customers_answer_marks_the_latest_send_of_each_template(channel, deliver):
    from datetime import timedelta

    from inbox.models import Conversation, Direction, Message
    from inbox.services.ingest import provider_time
    from tests.factories import MessageFactory

    order_update = live_template(provider_template_id="1")
    reminder = live_template(name="reminder", provider_template_id="2")
    deliver(wa.messages_change(messages=[wa.text("Hi", id="wamid.FIRST", timestamp=wa.T0)], contacts=[wa.contact()]))
    conversation = Conversation.objects.get()

    def sent(template, seconds):
        return MessageFactory(
            conversation=conversation,
            channel=conversation.channel,
            direction=Direction.OUTBOUND,
            template=template,
            timestamp=provider_time(wa.T0) + timedelta(seconds=seconds),
        )

    ignored, answered, other = sent(order_update, 10), sent(order_update, 20), sent(reminder, 30)
    # Opening the chat is not an answer; writing is.
    deliver(
        wa.messages_change(
            messages=[wa.request_welcome(id="wamid.WELCOME", timestamp=wa.T0 + 40)], contacts=[wa.contact()]
        )
    )
    assert not Message.objects.filter(replied_at__isnull=False).exists()
    deliver(
        wa.messages_change(
            messages=[wa.text("Yes please", id="wamid.ANSWER", timestamp=wa.T0 + 50)], contacts=[wa.contact()]
        )
    )
    replied = set(Message.objects.filter(replied_at__isnull=False).values_list("pk", flat=True))
    assert replied == {answered.pk, other.pk}
    # A later answer does not reach back to the send the customer let pass.
    deliver(
        wa.messages_change(
            messages=[wa.text("And also", id="wamid.LATER", timestamp=wa.T0 + 60)], contacts=[wa.contact()]
        )
    )
    ignored.refresh_from_db()
    assert ignored.replied_at is None
