"""Message templates and their life: revisions (what was written and reviewed), WhatsApp's status and
quality for the template, and a timeline of every decision.

A template lives on a WhatsApp Business Account (WABA), named by name + language as WhatsApp names it. Its
text lives in revisions: revision 1 is the first draft; editing a template WhatsApp approved makes a new
revision that goes through review again, while `live_revision` (the one WhatsApp approved) stays the one
that is sent until the new one is approved. Data only: the writes live in `templates_app.services`.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class TemplateCategory(models.TextChoices):
    MARKETING = "MARKETING", _("Marketing")
    UTILITY = "UTILITY", _("Utility")
    AUTHENTICATION = "AUTHENTICATION", _("Authentication")


class ParameterFormat(models.TextChoices):
    POSITIONAL = "POSITIONAL", _("Numbered variables ({{1}})")
    NAMED = "NAMED", _("Named variables ({{first_name}})")


class ProviderStatus(models.TextChoices):
    """WhatsApp's status for a template (whatsapp-cloud-api.md §5), stored as WhatsApp spells it."""

    APPROVED = "APPROVED", _("Approved")
    PENDING = "PENDING", _("Pending review by WhatsApp")
    REJECTED = "REJECTED", _("Rejected")
    PAUSED = "PAUSED", _("Paused")
    DISABLED = "DISABLED", _("Disabled")
    FLAGGED = "FLAGGED", _("Flagged")
    IN_APPEAL = "IN_APPEAL", _("In appeal")
    REINSTATED = "REINSTATED", _("Reinstated")
    PENDING_DELETION = "PENDING_DELETION", _("Pending deletion")
    DELETED = "DELETED", _("Deleted")
    ARCHIVED = "ARCHIVED", _("Archived")
    UNARCHIVED = "UNARCHIVED", _("Unarchived")
    LIMIT_EXCEEDED = "LIMIT_EXCEEDED", _("Limit exceeded")
    LOCKED = "LOCKED", _("Locked")


class Quality(models.TextChoices):
    GREEN = "GREEN", _("High (green)")
    YELLOW = "YELLOW", _("Medium (yellow)")
    RED = "RED", _("Low (red)")
    UNKNOWN = "UNKNOWN", _("Not rated yet")


class MessageTemplate(models.Model):
    """One template as WhatsApp knows it: name + language on a WABA, with WhatsApp's status, quality and
    category. `status` is blank until the template is first submitted."""

    waba_id = models.CharField(max_length=64)
    name = models.CharField(max_length=512)
    # Stored verbatim (`en_US`, `pt_BR`; Meta's own examples also write `en-US`).
    language = models.CharField(max_length=16)
    category = models.CharField(max_length=16, choices=TemplateCategory.choices)
    previous_category = models.CharField(max_length=32, blank=True)
    # WhatsApp announced a re-categorisation ("impending" template_category_update): to what, and when.
    upcoming_category = models.CharField(max_length=16, blank=True)
    upcoming_category_at = models.DateTimeField(null=True, blank=True)
    parameter_format = models.CharField(
        max_length=16, choices=ParameterFormat.choices, default=ParameterFormat.POSITIONAL
    )
    provider_template_id = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=24, choices=ProviderStatus.choices, blank=True)
    # When WhatsApp's latest applied status change happened (older webhooks arriving late are not applied).
    status_at = models.DateTimeField(null=True, blank=True)
    # WhatsApp's reason: a rejection reason (INVALID_FORMAT, PROMOTIONAL...) or a pause's description.
    status_reason = models.CharField(max_length=500, blank=True)
    quality = models.CharField(max_length=8, choices=Quality.choices, default=Quality.UNKNOWN)
    quality_at = models.DateTimeField(null=True, blank=True)
    flagged_at = models.DateTimeField(null=True, blank=True)
    # When WhatsApp said it will disable the template (`disable_info.disable_date`), if it said so.
    disable_at = models.DateTimeField(null=True, blank=True)
    live_revision = models.ForeignKey(
        "TemplateRevision", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "language"]
        constraints = [
            models.UniqueConstraint(fields=["waba_id", "name", "language"], name="template_unique_name_language"),
            models.UniqueConstraint(
                fields=["waba_id", "provider_template_id"],
                condition=~Q(provider_template_id=""),
                name="template_unique_provider_id",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.language})"


class RevisionState(models.TextChoices):
    """Where one revision is in its life: written, reviewed inside the business, then by WhatsApp."""

    DRAFT = "draft", _("Draft")
    IN_REVIEW = "in_review", _("Waiting for approval")
    CHANGES_REQUESTED = "changes_requested", _("Changes requested")
    APPROVED = "approved", _("Approved, being submitted")
    SUBMISSION_FAILED = "submission_failed", _("Submission failed")
    SUBMITTED = "submitted", _("Submitted, WhatsApp is reviewing")
    LIVE = "live", _("Live")
    REJECTED = "rejected", _("Rejected by WhatsApp")
    SUPERSEDED = "superseded", _("Replaced by a newer revision")


class TemplateRevision(models.Model):
    """The content of a template at one point: what the author wrote, what a reviewer approved, and what
    was submitted to WhatsApp. `components` is WhatsApp's create shape (HEADER/BODY/FOOTER/BUTTONS with
    their examples); `variable_fields` maps a variable to the contact field that prefills it when sending
    (`{"body.1": "contact.first_name"}`)."""

    template = models.ForeignKey(MessageTemplate, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField()
    state = models.CharField(max_length=24, choices=RevisionState.choices, default=RevisionState.DRAFT)
    category = models.CharField(max_length=16, choices=TemplateCategory.choices)
    parameter_format = models.CharField(
        max_length=16, choices=ParameterFormat.choices, default=ParameterFormat.POSITIONAL
    )
    components = models.JSONField(default=list)
    allow_category_change = models.BooleanField(default=False)
    variable_fields = models.JSONField(default=dict, blank=True)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    review_requested_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_comment = models.TextField(blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    submit_attempts = models.PositiveIntegerField(default=0)
    # Why WhatsApp refused the submission or rejected the revision, in its words and ours.
    provider_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["template", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["template", "number"], name="template_revision_unique_number"),
        ]

    def __str__(self) -> str:
        return f"{self.template} r{self.number} ({self.state})"


class TemplateEventKind(models.TextChoices):
    CREATED = "created", _("Draft created")
    EDITED = "edited", _("Draft edited")
    REVISION_STARTED = "revision_started", _("New revision started")
    REVIEW_REQUESTED = "review_requested", _("Approval requested")
    REVIEW_APPROVED = "review_approved", _("Approved for submission")
    REVIEW_REJECTED = "review_rejected", _("Changes requested")
    SUBMITTED = "submitted", _("Submitted to WhatsApp")
    SUBMISSION_FAILED = "submission_failed", _("Submission failed")
    STATUS_CHANGED = "status_changed", _("WhatsApp status")
    QUALITY_CHANGED = "quality_changed", _("Quality")
    CATEGORY_CHANGED = "category_changed", _("Category")
    CATEGORY_UPCOMING = "category_upcoming", _("Category change announced")
    COMPONENTS_UPDATED = "components_updated", _("Content updated by WhatsApp")
    SYNCED = "synced", _("Imported from WhatsApp")


class TemplateEvent(models.Model):
    """One entry of a template's timeline: a person's decision or a change WhatsApp reported. Appended,
    never changed."""

    template = models.ForeignKey(MessageTemplate, on_delete=models.CASCADE, related_name="events")
    revision = models.ForeignKey(TemplateRevision, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    kind = models.CharField(max_length=24, choices=TemplateEventKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    from_value = models.CharField(max_length=64, blank=True)
    to_value = models.CharField(max_length=64, blank=True)
    comment = models.TextField(blank=True)
    occurred_at = models.DateTimeField(default=timezone.now)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [models.Index(fields=["template", "-occurred_at", "-id"], name="template_event_timeline")]

    def __str__(self) -> str:
        return f"{self.template} {self.kind}"
