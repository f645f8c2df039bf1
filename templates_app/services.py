"""Every write to message templates: drafts, the internal review (four eyes), submission to WhatsApp, and
the changes WhatsApp reports (status, quality, category) from the management webhooks and the sync.

The life of a template (DESIGN.md §3): draft → lint → approval requested → an admin other than the author
approves (or asks for changes) → submitted to the WABA's `message_templates` → WhatsApp's PENDING →
APPROVED / REJECTED → quality GREEN/YELLOW/RED, FLAGGED, PAUSED, DISABLED. Editing a template WhatsApp
approved starts a new revision that goes through the same review; the live revision is what is sent
until the new one is approved. Every decision lands in the template's timeline and the audit log.

Keyword-only functions, one transaction each. Refusals raise `TemplateRefused` with a stable code and a
sentence for the person (and the lint findings when the content is the problem).
"""

import logging
import random
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import Role, User
from accounts.services import audit_record
from config.task_queue import enqueue
from inbox import policy as inbox_policy
from inbox.models import Channel, ManagementEvent
from inbox.providers.whatsapp_cloud import client
from inbox.services.notifications import notification_create
from templates_app import access, lint, policy, sending
from templates_app.models import (
    MessageTemplate,
    ParameterFormat,
    ProviderStatus,
    Quality,
    RevisionState,
    TemplateCategory,
    TemplateEvent,
    TemplateEventKind,
    TemplateRevision,
)

logger = logging.getLogger(__name__)

# Attempts at submitting one revision when WhatsApp cannot be reached or answers 429/5xx.
SUBMIT_ATTEMPTS = 5
_rng = random.Random()  # noqa: S311 - jitter, not security

_VARIABLE_KEY = re.compile(r"^(header|body|buttons\.\d+)\.[a-z0-9_]+$")

# The management webhook fields this module applies (whatsapp-cloud-api.md §10).
TEMPLATE_FIELDS = frozenset(
    {
        "message_template_status_update",
        "message_template_quality_update",
        "template_category_update",
        "message_template_components_update",
    }
)


class TemplateRefused(Exception):
    """`code` is stable (`permission_denied`, `invalid_template`, `lint_failed`, `not_editable`,
    `wrong_state`, `four_eyes`, `comment_required`, `duplicate_name_language`, `no_channel`);
    `detail` is the sentence shown; `findings` the lint findings when the content is the problem."""

    def __init__(self, code: str, detail: str, *, findings: list | None = None):
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.findings = findings or []


@dataclass(frozen=True)
class Draft:
    """What an author writes: the template's identity and one revision's content."""

    name: str
    language: str
    category: str
    components: list
    parameter_format: str = ParameterFormat.POSITIONAL
    allow_category_change: bool = False
    variable_fields: dict = field(default_factory=dict)

    def as_provider_shape(self) -> dict:
        return {
            "name": self.name,
            "language": self.language,
            "category": self.category,
            "parameter_format": self.parameter_format,
            "components": self.components,
        }


def draft_of(revision: TemplateRevision) -> Draft:
    template = revision.template
    return Draft(
        name=template.name,
        language=template.language,
        category=revision.category,
        components=revision.components,
        parameter_format=revision.parameter_format,
        allow_category_change=revision.allow_category_change,
        variable_fields=revision.variable_fields,
    )


def template_lint(*, draft: Draft, waba_id: str, template: MessageTemplate | None = None) -> list:
    """The lint findings for a draft, including a name + language already used on the account."""
    others = MessageTemplate.objects.filter(waba_id=waba_id)
    if template is not None:
        others = others.exclude(pk=template.pk)
    existing = frozenset(others.values_list("name", "language"))
    return lint.lint_template(draft.as_provider_shape(), existing_name_languages=existing)


def _checked(draft: Draft) -> Draft:
    """The shape every saved draft has (lint judges the content; this only keeps garbage out)."""
    name = draft.name.strip() if isinstance(draft.name, str) else ""
    language = draft.language.strip() if isinstance(draft.language, str) else ""
    if not name or not language:
        raise TemplateRefused("invalid_template", "Give the template a name and a language.")
    if len(name) > MessageTemplate._meta.get_field("name").max_length or len(language) > 16:
        raise TemplateRefused("invalid_template", "The name or the language code is too long.")
    if draft.category not in TemplateCategory.values:
        raise TemplateRefused("invalid_template", "Choose a category: marketing, utility or authentication.")
    if draft.parameter_format not in ParameterFormat.values:
        raise TemplateRefused("invalid_template", "Variables are either numbered ({{1}}) or named ({{name}}).")
    if not isinstance(draft.components, list) or not all(isinstance(part, dict) for part in draft.components):
        raise TemplateRefused("invalid_template", "The template's parts are not in the expected shape.")
    fields = draft.variable_fields if isinstance(draft.variable_fields, dict) else None
    if fields is None or any(
        not isinstance(key, str) or not _VARIABLE_KEY.match(key) or value not in sending.PREFILL_FIELDS
        for key, value in fields.items()
    ):
        raise TemplateRefused(
            "invalid_template", "A variable can only be prefilled from: " + ", ".join(sending.PREFILL_FIELDS) + "."
        )
    return Draft(
        name=name,
        language=language,
        category=draft.category,
        components=draft.components,
        parameter_format=draft.parameter_format,
        allow_category_change=bool(draft.allow_category_change),
        variable_fields=fields,
    )


def _event(
    *,
    template: MessageTemplate,
    kind: str,
    revision: TemplateRevision | None = None,
    actor: User | None = None,
    from_value: str = "",
    to_value: str = "",
    comment: str = "",
    occurred_at: datetime | None = None,
) -> TemplateEvent:
    return TemplateEvent.objects.create(
        template=template,
        revision=revision,
        kind=kind,
        actor=actor,
        from_value=from_value[:64],
        to_value=to_value[:64],
        comment=comment,
        occurred_at=occurred_at or timezone.now(),
    )


def open_revision(template: MessageTemplate) -> TemplateRevision | None:
    """The revision on its way (draft, in review, approved, submitted), if any."""
    return template.revisions.filter(state__in=policy.OPEN_REVISION_STATES).order_by("-number").first()


# --- Writing ---------------------------------------------------------------------------------------------


def template_draft_create(*, author: User, waba_id: str, draft: Draft) -> TemplateRevision:
    """A new template with its first revision, a draft (lint findings do not stop a draft being saved;
    they stop it being sent for approval)."""
    if not access.can_author_on_waba(author, waba_id):
        raise TemplateRefused("permission_denied", "You may not write templates for this WhatsApp account.")
    draft = _checked(draft)
    now = timezone.now()
    try:
        with transaction.atomic():
            template = MessageTemplate.objects.create(
                waba_id=waba_id,
                name=draft.name,
                language=draft.language,
                category=draft.category,
                parameter_format=draft.parameter_format,
                created_by=author,
                created_at=now,
                updated_at=now,
            )
            revision = TemplateRevision.objects.create(
                template=template,
                number=1,
                category=draft.category,
                parameter_format=draft.parameter_format,
                components=draft.components,
                allow_category_change=draft.allow_category_change,
                variable_fields=draft.variable_fields,
                author=author,
                created_at=now,
                updated_at=now,
            )
            _event(template=template, revision=revision, kind=TemplateEventKind.CREATED, actor=author)
            audit_record(actor=author, action="template.created", target=template, details={"revision": 1})
    except IntegrityError:
        raise TemplateRefused(
            "duplicate_name_language",
            f"A template named “{draft.name}” in {draft.language} already exists: choose another name.",
        )
    return revision


def template_draft_update(*, revision: TemplateRevision, author: User, draft: Draft) -> TemplateRevision:
    """Change a draft (or one an admin sent back with changes requested; it becomes a draft again). The name
    and language can change only while WhatsApp has never seen the template."""
    template = revision.template
    if not access.can_edit_template(author, template):
        raise TemplateRefused("permission_denied", "You may not edit this template.")
    draft = _checked(draft)
    try:
        with transaction.atomic():
            locked = TemplateRevision.objects.select_for_update().get(pk=revision.pk)
            if locked.state not in policy.WRITABLE_REVISION_STATES:
                raise TemplateRefused(
                    "wrong_state", "This revision is no longer a draft: start a new revision to change it."
                )
            if template.status == ProviderStatus.DISABLED:
                raise TemplateRefused("not_editable", policy.may_edit(status="DISABLED", open_revision_state=None)[1])
            renamed = (draft.name, draft.language) != (template.name, template.language)
            if renamed and (template.provider_template_id or template.live_revision_id):
                raise TemplateRefused(
                    "not_editable", "WhatsApp already has this template: its name and language can no longer change."
                )
            locked.state = RevisionState.DRAFT
            locked.category = draft.category
            locked.parameter_format = draft.parameter_format
            locked.components = draft.components
            locked.allow_category_change = draft.allow_category_change
            locked.variable_fields = draft.variable_fields
            locked.updated_at = timezone.now()
            locked.save()
            if renamed or not template.provider_template_id:
                template.name, template.language = draft.name, draft.language
                template.category, template.parameter_format = draft.category, draft.parameter_format
                template.updated_at = locked.updated_at
                template.save(update_fields=["name", "language", "category", "parameter_format", "updated_at"])
            _event(template=template, revision=locked, kind=TemplateEventKind.EDITED, actor=author)
    except IntegrityError:
        raise TemplateRefused(
            "duplicate_name_language",
            f"A template named “{draft.name}” in {draft.language} already exists: choose another name.",
        )
    return locked


def template_revision_start(*, template: MessageTemplate, author: User) -> TemplateRevision:
    """Start changing a template WhatsApp has seen: a new draft revision copied from the latest one. The
    live revision keeps being the one that is sent until this one is approved by WhatsApp."""
    if not access.can_edit_template(author, template):
        raise TemplateRefused("permission_denied", "You may not edit this template.")
    with transaction.atomic():
        template = MessageTemplate.objects.select_for_update().get(pk=template.pk)
        current = open_revision(template)
        allowed, why_not = policy.may_edit(
            status=template.status, open_revision_state=current.state if current else None
        )
        if not allowed:
            raise TemplateRefused("not_editable", why_not)
        if current is not None:
            return current
        latest = template.revisions.order_by("-number").first()
        now = timezone.now()
        revision = TemplateRevision.objects.create(
            template=template,
            number=(latest.number + 1) if latest else 1,
            category=latest.category if latest else template.category,
            parameter_format=latest.parameter_format if latest else template.parameter_format,
            components=latest.components if latest else [],
            allow_category_change=latest.allow_category_change if latest else False,
            variable_fields=latest.variable_fields if latest else {},
            author=author,
            created_at=now,
            updated_at=now,
        )
        _event(template=template, revision=revision, kind=TemplateEventKind.REVISION_STARTED, actor=author)
        audit_record(
            actor=author, action="template.revision_started", target=template, details={"revision": revision.number}
        )
    return revision


# --- The internal review (four eyes) ------------------------------------------------------------------------


def template_review_request(*, revision: TemplateRevision, author: User) -> TemplateRevision:
    """Ask the admins to approve a draft. Refused while lint finds errors (`lint_failed`, with findings)."""
    template = revision.template
    if not access.can_edit_template(author, template):
        raise TemplateRefused("permission_denied", "You may not submit this template.")
    findings = template_lint(draft=draft_of(revision), waba_id=template.waba_id, template=template)
    if lint.has_errors(findings):
        raise TemplateRefused(
            "lint_failed", "Fix the problems marked in the template before asking for approval.", findings=findings
        )
    with transaction.atomic():
        locked = TemplateRevision.objects.select_for_update().get(pk=revision.pk)
        if locked.state not in policy.WRITABLE_REVISION_STATES:
            raise TemplateRefused("wrong_state", "This revision was already sent for approval.")
        locked.state = RevisionState.IN_REVIEW
        locked.review_requested_at = locked.updated_at = timezone.now()
        locked.reviewed_by, locked.reviewed_at, locked.review_comment = None, None, ""
        locked.save()
        _event(template=template, revision=locked, kind=TemplateEventKind.REVIEW_REQUESTED, actor=author)
        audit_record(
            actor=author, action="template.review_requested", target=template, details={"revision": locked.number}
        )
        for admin in User.objects.filter(role=Role.ADMIN, is_active=True).exclude(pk=author.pk):
            notification_create(
                user=admin,
                kind="template",
                template=template,
                actor=author,
                text=f"{template.name} ({template.language}) waits for your approval.",
            )
    return locked


def template_review_decide(
    *, revision: TemplateRevision, reviewer: User, approve: bool, comment: str = ""
) -> TemplateRevision:
    """An admin other than the author approves the revision (it is then submitted to WhatsApp) or asks for
    changes (a comment saying what to change is required)."""
    template = revision.template
    if not access.can_view_template(reviewer, template):
        raise TemplateRefused("permission_denied", "You may not review this template.")
    allowed, why_not = policy.may_review(
        reviewer_id=reviewer.pk, reviewer_is_admin=access.can_review_templates(reviewer), author_id=revision.author_id
    )
    if not allowed:
        raise TemplateRefused("four_eyes" if access.can_review_templates(reviewer) else "permission_denied", why_not)
    comment = comment.strip()
    if not approve and not comment:
        raise TemplateRefused("comment_required", "Say what should change, so the author can fix it.")
    with transaction.atomic():
        locked = TemplateRevision.objects.select_for_update().get(pk=revision.pk)
        if locked.state != RevisionState.IN_REVIEW:
            raise TemplateRefused("wrong_state", "This revision is not waiting for approval.")
        now = timezone.now()
        locked.state = RevisionState.APPROVED if approve else RevisionState.CHANGES_REQUESTED
        locked.reviewed_by, locked.reviewed_at, locked.review_comment = reviewer, now, comment
        locked.updated_at = now
        locked.save()
        kind = TemplateEventKind.REVIEW_APPROVED if approve else TemplateEventKind.REVIEW_REJECTED
        _event(template=template, revision=locked, kind=kind, actor=reviewer, comment=comment)
        audit_record(
            actor=reviewer,
            action="template.review_approved" if approve else "template.review_rejected",
            target=template,
            details={"revision": locked.number, "comment": comment},
        )
        if locked.author is not None:
            verdict = "was approved and goes to WhatsApp" if approve else f"needs changes: {comment}"
            notification_create(
                user=locked.author,
                kind="template",
                template=template,
                actor=reviewer,
                text=f"{template.name} ({template.language}) {verdict}",
            )
        if approve:
            enqueue(_submit_task(), locked.pk)
    return locked


# --- Submission to WhatsApp ---------------------------------------------------------------------------------


def channel_for_waba(waba_id: str) -> Channel | None:
    """A connected number of the account, whose credentials speak for the WABA."""
    return Channel.objects.filter(waba_id=waba_id, is_active=True).order_by("id").first()


def _provider_body(revision: TemplateRevision, *, editing: bool) -> dict:
    """WhatsApp's create (or edit) body (§5)."""
    template = revision.template
    body: dict = {"components": revision.components, "category": revision.category}
    if not editing:
        body.update(name=template.name, language=template.language)
        if revision.allow_category_change:
            body["allow_category_change"] = True
        if revision.parameter_format == ParameterFormat.NAMED:
            body["parameter_format"] = "named"
    return body


def template_revision_submit(*, revision_id: int, attempt: int = 1) -> None:
    """Send an approved revision to WhatsApp (the submission task). A new template is created on the WABA;
    a template WhatsApp has gets its new content by an edit. Retried for temporary errors; any other refusal
    marks the revision `submission_failed` with WhatsApp's reason and tells the author."""
    revision = TemplateRevision.objects.select_related("template").filter(pk=revision_id).first()
    if revision is None or revision.state != RevisionState.APPROVED:
        return
    template = revision.template
    channel = channel_for_waba(template.waba_id)
    if channel is None:
        _submission_failed(revision=revision, reason="No connected number belongs to this WhatsApp account.")
        return
    editing = bool(template.provider_template_id)
    body = _provider_body(revision, editing=editing)
    result = (
        client.template_edit(channel, template.provider_template_id, body)
        if editing
        else client.template_create(channel, body)
    )
    if not result.ok:
        assert result.error is not None
        if result.retryable and attempt < SUBMIT_ATTEMPTS:
            enqueue(
                _submit_task(),
                revision.pk,
                attempt + 1,
                countdown=inbox_policy.retry_delay(attempt, rng=_rng),
            )
            return
        reason = result.error.details or result.error.title
        if result.error.code is not None:
            reason = f"{reason} (code {result.error.code})"
        _submission_failed(revision=revision, reason=reason)
        return
    document = result.document or {}
    now = timezone.now()
    with transaction.atomic():
        locked = TemplateRevision.objects.select_for_update().get(pk=revision.pk)
        if locked.state != RevisionState.APPROVED:
            return
        locked.state = RevisionState.SUBMITTED
        locked.submitted_at = locked.updated_at = now
        locked.submit_attempts = attempt
        locked.provider_error = ""
        locked.save()
        template = MessageTemplate.objects.select_for_update().get(pk=template.pk)
        if not editing:
            template.provider_template_id = str(document.get("id") or "")
            status = str(document.get("status") or ProviderStatus.PENDING).upper()
            template.status = status if status in ProviderStatus.values else ProviderStatus.PENDING
            template.status_at = now
            category = str(document.get("category") or "").upper()
            if category in TemplateCategory.values:
                template.category = category
        template.updated_at = now
        template.save()
        _event(
            template=template,
            revision=locked,
            kind=TemplateEventKind.SUBMITTED,
            to_value=template.status if not editing else ProviderStatus.PENDING,
        )
        audit_record(actor=None, action="template.submitted", target=template, details={"revision": locked.number})


def _submission_failed(*, revision: TemplateRevision, reason: str) -> None:
    with transaction.atomic():
        locked = TemplateRevision.objects.select_for_update().get(pk=revision.pk)
        if locked.state != RevisionState.APPROVED:
            return
        locked.state = RevisionState.SUBMISSION_FAILED
        locked.provider_error = reason
        locked.updated_at = timezone.now()
        locked.save()
        template = locked.template
        _event(template=template, revision=locked, kind=TemplateEventKind.SUBMISSION_FAILED, comment=reason)
        audit_record(actor=None, action="template.submission_failed", target=template, details={"reason": reason})
        for person in _people_to_alert(template, extra=locked.author):
            notification_create(
                user=person,
                kind="template",
                template=template,
                text=f"WhatsApp refused {template.name} ({template.language}): {reason}",
            )


def template_resubmit(*, revision: TemplateRevision, user: User) -> TemplateRevision:
    """Try a submission that failed again (after fixing what was outside the template: the token, the
    connection). The content is unchanged, so the approval stands."""
    if not access.can_review_templates(user) or not access.can_view_template(user, revision.template):
        raise TemplateRefused("permission_denied", "Only admins submit templates to WhatsApp.")
    with transaction.atomic():
        locked = TemplateRevision.objects.select_for_update().get(pk=revision.pk)
        if locked.state != RevisionState.SUBMISSION_FAILED:
            raise TemplateRefused("wrong_state", "Only a failed submission can be tried again.")
        locked.state = RevisionState.APPROVED
        locked.updated_at = timezone.now()
        locked.save()
        audit_record(
            actor=user, action="template.resubmitted", target=locked.template, details={"revision": locked.number}
        )
        enqueue(_submit_task(), locked.pk)
    return locked


# --- What WhatsApp reports ---------------------------------------------------------------------------------


def _template_for_change(*, waba_id: str, value: dict) -> MessageTemplate | None:
    template_id = str(value.get("message_template_id") or "")
    queryset = MessageTemplate.objects.select_for_update().filter(waba_id=waba_id)
    if template_id:
        found = queryset.filter(provider_template_id=template_id).first()
        if found is not None:
            return found
    name = value.get("message_template_name")
    language = value.get("message_template_language")
    if isinstance(name, str) and isinstance(language, str):
        # Meta writes `en_US` and, in its examples, `en-US`: the same language.
        return queryset.filter(
            Q(language__iexact=language) | Q(language__iexact=language.replace("-", "_")), name=name
        ).first()
    return None


def template_management_apply(*, event: ManagementEvent) -> bool:
    """Apply one stored template webhook (status, quality, category, components). Returns True when it
    named a template we know; an unknown one asks for a sync of the account so it gets imported."""
    if event.field not in TEMPLATE_FIELDS or not isinstance(event.value, dict):
        return False
    value = event.value
    with transaction.atomic():
        template = _template_for_change(waba_id=event.waba_id, value=value)
        if template is None:
            enqueue(_sync_task(), event.waba_id)
            ManagementEvent.objects.filter(pk=event.pk).update(handled=True)
            return False
        at = event.occurred_at or timezone.now()
        if event.field == "message_template_status_update":
            _status_apply(template=template, value=value, at=at)
        elif event.field == "message_template_quality_update":
            _quality_apply(template=template, value=value, at=at)
        elif event.field == "template_category_update":
            _category_apply(template=template, value=value, at=at)
        else:
            _event(
                template=template,
                kind=TemplateEventKind.COMPONENTS_UPDATED,
                comment=str(value.get("message_template_element") or "")[:1024],
                occurred_at=at,
            )
        ManagementEvent.objects.filter(pk=event.pk).update(handled=True)
    return True


def _status_apply(*, template: MessageTemplate, value: dict, at: datetime) -> None:
    status = str(value.get("event") or "").upper()
    if status not in ProviderStatus.values:
        logger.warning("Unknown template status %r for template %s", status, template.pk)
        return
    reason = _status_reason(value)
    submitted = template.revisions.filter(state=RevisionState.SUBMITTED).order_by("-number").first()
    category = str(value.get("message_template_category") or "").upper()
    if submitted is not None and status in (ProviderStatus.APPROVED, ProviderStatus.REJECTED, ProviderStatus.PENDING):
        # The answer to our latest submission.
        if status == ProviderStatus.PENDING:
            _event(
                template=template,
                revision=submitted,
                kind=TemplateEventKind.STATUS_CHANGED,
                to_value=status,
                occurred_at=at,
            )
            return
        if status == ProviderStatus.APPROVED:
            template.revisions.filter(state=RevisionState.LIVE).update(state=RevisionState.SUPERSEDED, updated_at=at)
            submitted.state = RevisionState.LIVE
            template.live_revision = submitted
            template.parameter_format = submitted.parameter_format
            template.category = category if category in TemplateCategory.values else submitted.category
        else:
            submitted.state = RevisionState.REJECTED
            submitted.provider_error = reason
        submitted.updated_at = at
        submitted.save()
        if status == ProviderStatus.REJECTED and template.live_revision_id is not None:
            # An edit was rejected: the approved revision stays live and keeps its status.
            _event(
                template=template,
                revision=submitted,
                kind=TemplateEventKind.STATUS_CHANGED,
                to_value=status,
                comment=reason,
                occurred_at=at,
            )
            _alert(template=template, status=status, reason=reason)
            template.updated_at = timezone.now()
            template.save()
            return
    elif not policy.is_newer(at, last_applied_at=template.status_at):
        _event(
            template=template,
            kind=TemplateEventKind.STATUS_CHANGED,
            to_value=status,
            comment=f"Arrived after a newer change; not applied. {reason}".strip(),
            occurred_at=at,
        )
        return
    previous = template.status
    template.status = status
    template.status_at = at
    template.status_reason = reason
    if status == ProviderStatus.FLAGGED:
        template.flagged_at = at
    elif status not in (ProviderStatus.DISABLED,):
        template.flagged_at = None
    disable_info = value.get("disable_info")
    template.disable_at = (_epoch(disable_info.get("disable_date")) if isinstance(disable_info, dict) else None) or (
        template.disable_at if status in (ProviderStatus.FLAGGED, ProviderStatus.DISABLED) else None
    )
    if category in TemplateCategory.values and category != template.category:
        template.previous_category, template.category = template.category, category
    template.updated_at = timezone.now()
    template.save()
    _event(
        template=template,
        revision=submitted,
        kind=TemplateEventKind.STATUS_CHANGED,
        from_value=previous,
        to_value=status,
        comment=reason,
        occurred_at=at,
    )
    if status in policy.ALARMING_STATUSES:
        _alert(template=template, status=status, reason=reason)


def _status_reason(value: dict) -> str:
    """WhatsApp's words for a status: the rejection reason and recommendation, a pause's description."""
    parts = []
    reason = value.get("reason")
    if isinstance(reason, str) and reason and reason != "NONE":
        parts.append(reason)
    for key, fields in (("rejection_info", ("reason", "recommendation")), ("other_info", ("title", "description"))):
        info = value.get(key)
        if isinstance(info, dict):
            parts.extend(str(info[name]) for name in fields if isinstance(info.get(name), str) and info.get(name))
    unique = list(dict.fromkeys(parts))
    return " · ".join(unique)[:500]


def _epoch(value: object) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(value), tz=UTC)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def _quality_apply(*, template: MessageTemplate, value: dict, at: datetime) -> None:
    quality = str(value.get("new_quality_score") or "").upper()
    if quality not in Quality.values or not policy.is_newer(at, last_applied_at=template.quality_at):
        return
    previous = template.quality
    template.quality, template.quality_at = quality, at
    template.updated_at = timezone.now()
    template.save(update_fields=["quality", "quality_at", "updated_at"])
    _event(
        template=template, kind=TemplateEventKind.QUALITY_CHANGED, from_value=previous, to_value=quality, occurred_at=at
    )
    if quality == Quality.RED:
        _alert(template=template, status="RED", reason="Customers are reacting badly to this template.")


def _category_apply(*, template: MessageTemplate, value: dict, at: datetime) -> None:
    new_category = str(value.get("new_category") or "").upper()
    correct_category = str(value.get("correct_category") or "").upper()
    if correct_category:
        # The "impending" variant: `new_category` is the current one, `correct_category` the one it gets
        # at `category_update_timestamp` (whatsapp-cloud-api.md §10, §14.9).
        template.upcoming_category = correct_category[:16]
        template.upcoming_category_at = _epoch(value.get("category_update_timestamp"))
        if new_category in TemplateCategory.values:
            template.category = new_category
        template.updated_at = timezone.now()
        template.save()
        _event(
            template=template,
            kind=TemplateEventKind.CATEGORY_UPCOMING,
            from_value=template.category,
            to_value=correct_category,
            occurred_at=at,
        )
        return
    if new_category not in TemplateCategory.values:
        return
    previous = str(value.get("previous_category") or template.category)
    template.previous_category, template.category = previous[:32], new_category
    template.upcoming_category, template.upcoming_category_at = "", None
    template.updated_at = timezone.now()
    template.save()
    _event(
        template=template,
        kind=TemplateEventKind.CATEGORY_CHANGED,
        from_value=previous,
        to_value=new_category,
        occurred_at=at,
    )


def _people_to_alert(template: MessageTemplate, *, extra: User | None = None) -> list[User]:
    people = list(User.objects.filter(role=Role.ADMIN, is_active=True).order_by("id"))
    if extra is not None and extra.is_active and extra.pk not in {person.pk for person in people}:
        people.append(extra)
    return people


_ALERT_TEXT = {
    "REJECTED": "WhatsApp rejected {name}",
    "PAUSED": "WhatsApp paused {name}",
    "FLAGGED": "WhatsApp flagged {name}: it is disabled in 7 days unless its quality recovers",
    "DISABLED": "WhatsApp disabled {name}",
    "RED": "The quality of {name} dropped to low (red)",
}


def _alert(*, template: MessageTemplate, status: str, reason: str) -> None:
    """Tell the admins (and the author of the latest revision) in-app and by e-mail, after commit."""
    label = f"{template.name} ({template.language})"
    text = _ALERT_TEXT[status].format(name=label) + (f": {reason}" if reason else ".")
    latest = template.revisions.order_by("-number").first()
    people = _people_to_alert(template, extra=latest.author if latest else None)
    for person in people:
        notification_create(user=person, kind="template", template=template, text=text)
    recipients = [person.email for person in people if person.email]
    transaction.on_commit(
        lambda: _mail(subject=f"[Switchboard] {text}"[:200], body=_mail_body(template, text), to=recipients)
    )


def _mail_body(template: MessageTemplate, text: str) -> str:
    link = f"{settings.SITE_URL.rstrip('/')}/templates/{template.pk}/" if getattr(settings, "SITE_URL", "") else ""
    return "\n\n".join(part for part in (text, f"Open the template: {link}" if link else "") if part)


def _mail(*, subject: str, body: str, to: list[str]) -> None:
    if not to:
        return
    try:
        send_mail(subject.replace("\n", " "), body, None, to)
    except Exception:
        # A mail server being down must not undo the status change; the in-app notification is there.
        logger.exception("Could not e-mail the template alert")


# --- Sync: import what the WABA already has ------------------------------------------------------------------


@dataclass(frozen=True)
class SyncResult:
    imported: int = 0
    updated: int = 0
    error: str = ""


def templates_sync(*, waba_id: str, actor: User | None = None, max_pages: int = 50) -> SyncResult:
    """Import the account's templates from WhatsApp (those created elsewhere, e.g. in Meta's manager) and
    refresh status, quality and category of the ones we have."""
    if actor is not None and not (
        access.can_sync_templates(actor) and access.waba_ids_visible_to(actor).filter(waba_id=waba_id).exists()
    ):
        raise TemplateRefused("permission_denied", "Only admins sync templates from WhatsApp.")
    channel = channel_for_waba(waba_id)
    if channel is None:
        raise TemplateRefused("no_channel", "No connected number belongs to this WhatsApp account.")
    imported = updated = 0
    after = ""
    for _ in range(max_pages):
        result = client.templates_page(channel, after=after)
        if not result.ok:
            assert result.error is not None
            return SyncResult(imported, updated, error=result.error.title)
        document = result.document or {}
        for item in document.get("data") or []:
            if isinstance(item, dict):
                created = template_import(waba_id=waba_id, item=item, actor=actor)
                if created is not None:
                    imported += int(created)
                    updated += int(not created)
        # Graph's paging: `next` is there only while more pages follow; `cursors.after` names the next one.
        paging = document.get("paging") if isinstance(document.get("paging"), dict) else {}
        cursors = paging.get("cursors") if isinstance(paging.get("cursors"), dict) else {}
        after = str(cursors.get("after") or "")
        if not paging.get("next") or not after or not document.get("data"):
            break
    if actor is not None:
        audit_record(
            actor=actor, action="template.synced", target=waba_id, details={"imported": imported, "updated": updated}
        )
    return SyncResult(imported, updated)


def template_import(*, waba_id: str, item: dict, actor: User | None = None) -> bool | None:
    """Create or refresh one template from WhatsApp's object. True = imported, False = refreshed."""
    name, language = item.get("name"), item.get("language")
    provider_id = str(item.get("id") or "")
    if not isinstance(name, str) or not isinstance(language, str) or not provider_id:
        return None
    status = str(item.get("status") or "").upper()
    status = status if status in ProviderStatus.values else ""
    category = str(item.get("category") or "").upper()
    parameter_format = str(item.get("parameter_format") or "POSITIONAL").upper()
    parameter_format = parameter_format if parameter_format in ParameterFormat.values else ParameterFormat.POSITIONAL
    quality = (item.get("quality_score") or {}).get("score") if isinstance(item.get("quality_score"), dict) else None
    components = item.get("components") if isinstance(item.get("components"), list) else []
    now = timezone.now()
    with transaction.atomic():
        template = (
            MessageTemplate.objects.select_for_update()
            .filter(Q(provider_template_id=provider_id) | Q(name=name, language=language), waba_id=waba_id)
            .first()
        )
        created = template is None
        if created:
            template = MessageTemplate.objects.create(
                waba_id=waba_id,
                name=name[:512],
                language=language[:16],
                category=category if category in TemplateCategory.values else TemplateCategory.UTILITY,
                parameter_format=parameter_format,
                created_at=now,
                updated_at=now,
            )
        template.provider_template_id = provider_id
        if category in TemplateCategory.values:
            template.category = category
        if isinstance(item.get("previous_category"), str):
            template.previous_category = item["previous_category"][:32]
        if status:
            template.status = status
            template.status_at = template.status_at or now
        if isinstance(quality, str) and quality.upper() in Quality.values:
            template.quality = quality.upper()
        if isinstance(item.get("rejected_reason"), str) and item["rejected_reason"] not in ("", "NONE"):
            template.status_reason = item["rejected_reason"][:500]
        on_whatsapp = status not in ("", ProviderStatus.PENDING, ProviderStatus.REJECTED)
        waiting = template.revisions.filter(state=RevisionState.SUBMITTED).exists()
        if (
            on_whatsapp
            and not waiting
            and (template.live_revision is None or template.live_revision.components != components)
        ):
            template.revisions.filter(state=RevisionState.LIVE).update(state=RevisionState.SUPERSEDED, updated_at=now)
            latest = template.revisions.order_by("-number").first()
            revision = TemplateRevision.objects.create(
                template=template,
                number=(latest.number + 1) if latest else 1,
                state=RevisionState.LIVE,
                category=template.category,
                parameter_format=parameter_format,
                components=components,
                author=None,
                created_at=now,
                updated_at=now,
            )
            template.live_revision = revision
            template.parameter_format = parameter_format
            _event(template=template, revision=revision, kind=TemplateEventKind.SYNCED, actor=actor, to_value=status)
        template.updated_at = now
        template.save()
    return created


def templates_sync_all() -> int:
    """The periodic sync: every account with a connected number. Returns how many templates were imported."""
    imported = 0
    for waba_id in Channel.objects.filter(is_active=True).values_list("waba_id", flat=True).distinct():
        try:
            imported += templates_sync(waba_id=waba_id).imported
        except TemplateRefused:
            continue
    return imported


# --- Tasks --------------------------------------------------------------------------------------------------


def _submit_task():
    from templates_app.tasks import submit_template_revision

    return submit_template_revision


def _sync_task():
    from templates_app.tasks import sync_templates

    return sync_templates
