"""What the simulated Cloud API remembers: its numbers' limits, the customers' phones, every message either
way, media, the message templates of each WABA, the webhooks it sent and a ledger of every Graph request.

Only channels whose `graph_api_base` points at the simulator ever get rows here. Data only: the writes
live in `simulator.services`.
"""

import secrets

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from inbox.models import Channel
from simulator import health_rules, rules


class SimulatedNumber(models.Model):
    """A business number as Meta's side sees it: its configurable limits and its throughput window, its
    health (quality, status, messaging-limit tier, flag and restriction) and its business profile.

    The throughput level (STANDARD 80/s, HIGH 1000/s) is not stored: it follows `throughput_per_second`."""

    channel = models.OneToOneField(Channel, on_delete=models.CASCADE, related_name="+")
    throughput_per_second = models.PositiveIntegerField(default=rules.DEFAULT_THROUGHPUT_PER_SECOND)
    pair_burst = models.PositiveIntegerField(default=rules.DEFAULT_PAIR_BURST)
    pair_refill_seconds = models.FloatField(default=rules.DEFAULT_PAIR_REFILL_SECONDS)
    # The current one-second throughput window (epoch second) and how many messages it accepted.
    window_second = models.BigIntegerField(default=0)
    window_count = models.PositiveIntegerField(default=0)

    # Health (simulator/health_rules.py): decided by the reviews, changed by hand from the page or the API.
    quality_rating = models.CharField(
        max_length=8, choices=[(q.value, q.value) for q in health_rules.Quality], default=health_rules.Quality.GREEN
    )
    status = models.CharField(
        max_length=16,
        choices=[(s.value, s.value) for s in health_rules.NumberStatus],
        default=health_rules.NumberStatus.CONNECTED,
    )
    messaging_limit_tier = models.CharField(
        max_length=16, choices=[(t.value, t.value) for t in health_rules.Tier], default=health_rules.Tier.TIER_250
    )
    flagged_at = models.DateTimeField(null=True, blank=True)
    restricted_until = models.DateTimeField(null=True, blank=True)
    health_reviewed_at = models.DateTimeField(null=True, blank=True)
    quality_yellow_percent = models.FloatField(default=health_rules.DEFAULT_YELLOW_PERCENT)
    quality_red_percent = models.FloatField(default=health_rules.DEFAULT_RED_PERCENT)
    quality_min_signals = models.PositiveIntegerField(default=health_rules.DEFAULT_MIN_SIGNALS)

    # The WhatsApp business profile (`/{phone_number_id}/whatsapp_business_profile`).
    profile_about = models.CharField(max_length=139, blank=True)
    profile_address = models.CharField(max_length=256, blank=True)
    profile_description = models.CharField(max_length=512, blank=True)
    profile_email = models.CharField(max_length=128, blank=True)
    profile_websites = models.JSONField(default=list, blank=True)
    profile_vertical = models.CharField(max_length=32, blank=True)
    profile_picture = models.ForeignKey(
        "SimulatedUpload", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    def __str__(self) -> str:
        return f"Simulated number {self.channel_id}"


def new_identity_hash() -> str:
    return health_rules.identity_hash(secrets.token_hex(16))


class SimulatedCustomer(models.Model):
    """One customer's phone talking to one business number: the window, the pair-rate bucket, typing."""

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="+")
    wa_id = models.CharField(max_length=32)
    name = models.CharField(max_length=256, blank=True)
    # Not on WhatsApp (or on a too-old client): every message to them fails with 131026.
    unreachable = models.BooleanField(default=False)
    last_inbound_at = models.DateTimeField(null=True, blank=True)
    pair_tokens = models.FloatField(null=True, blank=True)
    pair_updated_at = models.FloatField(null=True, blank=True)
    business_typing_until = models.DateTimeField(null=True, blank=True)
    # The customer's WhatsApp identity key hash; reinstalling WhatsApp mints a new one. A send carrying
    # another `recipient_identity_key_hash` fails with 137000.
    identity_hash = models.CharField(max_length=64, default=new_identity_hash)
    # The customer blocked the business: nothing reaches them (131026) until they unblock it.
    blocked = models.BooleanField(default=False)
    # The customer stopped marketing messages in WhatsApp: marketing templates fail with 131050.
    marketing_stopped = models.BooleanField(default=False)
    # The customer moved to another number (`user_changed_number`): the wa_id they use now.
    changed_to = models.CharField(max_length=32, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "wa_id"]
        constraints = [models.UniqueConstraint(fields=["channel", "wa_id"], name="simulated_customer_per_number")]

    def __str__(self) -> str:
        return self.name or f"+{self.wa_id}"

    @property
    def display_name(self) -> str:
        return self.name or f"+{self.wa_id}"


class SimulatedDirection(models.TextChoices):
    TO_CUSTOMER = "to_customer", _("Business to customer")
    FROM_CUSTOMER = "from_customer", _("Customer to business")


class SimulatedStatus(models.TextChoices):
    ACCEPTED = "accepted", _("Accepted")
    SENT = "sent", _("Sent")
    DELIVERED = "delivered", _("Delivered")
    READ = "read", _("Read")
    FAILED = "failed", _("Failed")


class SimulatedMessage(models.Model):
    """A message on the customer's phone. Business messages keep the request body as sent and move
    accepted -> sent -> delivered -> read (or failed); customer messages keep the webhook's message object
    and become "read" when the business marks them read."""

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="+")
    customer = models.ForeignKey(SimulatedCustomer, on_delete=models.CASCADE, related_name="messages")
    wamid = models.CharField(max_length=255, unique=True)
    direction = models.CharField(max_length=16, choices=SimulatedDirection.choices)
    type = models.CharField(max_length=32)
    payload = models.JSONField(default=dict)
    status = models.CharField(max_length=16, choices=SimulatedStatus.choices)
    status_at = models.DateTimeField(null=True, blank=True)
    # The failure decided when the message was accepted, reported by the asynchronous "failed" status.
    error = models.JSONField(null=True, blank=True)
    pricing = models.JSONField(null=True, blank=True)
    # A template message: the approved template as it was when the message was sent (id, category,
    # parameter_format, components), so the phone shows what the customer received even after an edit.
    template = models.JSONField(null=True, blank=True)
    api_version = models.CharField(max_length=16, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["customer", "created_at", "id"], name="simulated_message_thread")]

    def __str__(self) -> str:
        return f"{self.direction} {self.type} {self.wamid}"


class MediaOwner(models.TextChoices):
    BUSINESS = "business", _("Uploaded by the business")
    CUSTOMER = "customer", _("Sent by a customer")


class SimulatedMedia(models.Model):
    """A media object: uploaded by the business (`POST /{pnid}/media`) or sent by a customer."""

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="+")
    media_id = models.CharField(max_length=32, unique=True)
    file = models.FileField(upload_to="simulator/", max_length=300)
    mime_type = models.CharField(max_length=128)
    sha256 = models.CharField(max_length=64)
    file_size = models.BigIntegerField()
    filename = models.CharField(max_length=255, blank=True)
    owner = models.CharField(max_length=16, choices=MediaOwner.choices)
    deleted_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"Media {self.media_id} ({self.mime_type})"


class WebhookKind(models.TextChoices):
    MESSAGE = "message", _("Customer message")
    STATUS = "status", _("Status")
    TEMPLATE = "template", _("Template management")
    MANAGEMENT = "management", _("Number, account and customer preferences")


class SimulatedWebhook(models.Model):
    """A signed webhook delivery the simulator made (or tried to), byte for byte. Template management
    webhooks are signed for the first simulated channel of the template's WABA."""

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="+")
    message = models.ForeignKey(SimulatedMessage, on_delete=models.CASCADE, null=True, related_name="webhooks")
    kind = models.CharField(max_length=16, choices=WebhookKind.choices)
    # The `changes[].field` of a management webhook (message_template_status_update, ...); "messages" otherwise.
    field = models.CharField(max_length=64, default="messages")
    raw_body = models.BinaryField()
    signature = models.CharField(max_length=100)
    transport = models.CharField(max_length=16, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    response_status = models.IntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"Webhook {self.pk} ({self.kind})"


class GraphRequest(models.Model):
    """The ledger: every Graph API call the simulator answered, for tests and curious people.
    The access token is never stored; `authorized` says whether it matched."""

    channel = models.ForeignKey(Channel, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    method = models.CharField(max_length=8)
    path = models.CharField(max_length=500)
    query = models.TextField(blank=True)
    api_version = models.CharField(max_length=16, blank=True)
    content_type = models.CharField(max_length=200, blank=True)
    body = models.TextField(blank=True)
    authorized = models.BooleanField(default=False)
    response_status = models.PositiveSmallIntegerField()
    response_body = models.TextField(blank=True)
    error_code = models.IntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.method} {self.path} -> {self.response_status}"


class TemplateCategory(models.TextChoices):
    MARKETING = "MARKETING", _("Marketing")
    UTILITY = "UTILITY", _("Utility")
    AUTHENTICATION = "AUTHENTICATION", _("Authentication")


class TemplateStatus(models.TextChoices):
    """The statuses of the contract (§5); the simulator moves templates through the first eight."""

    APPROVED = "APPROVED", _("Approved")
    PENDING = "PENDING", _("Pending review")
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


class ParameterFormat(models.TextChoices):
    POSITIONAL = "POSITIONAL", _("Positional ({{1}})")
    NAMED = "NAMED", _("Named ({{first_name}})")


class QualityScore(models.TextChoices):
    GREEN = "GREEN", _("Green (high)")
    YELLOW = "YELLOW", _("Yellow (medium)")
    RED = "RED", _("Red (low)")
    UNKNOWN = "UNKNOWN", _("Unknown")


class RejectionReason(models.TextChoices):
    """`reason` of a status webhook and `rejected_reason` of the template (§5); NONE when not rejected."""

    NONE = "NONE", _("None")
    ABUSIVE_CONTENT = "ABUSIVE_CONTENT", _("Abusive content")
    INCORRECT_CATEGORY = "INCORRECT_CATEGORY", _("Incorrect category")
    INVALID_FORMAT = "INVALID_FORMAT", _("Invalid format")
    PROMOTIONAL = "PROMOTIONAL", _("Promotional")
    SCAM = "SCAM", _("Scam")
    TAG_CONTENT_MISMATCH = "TAG_CONTENT_MISMATCH", _("Tag and content mismatch")


class SimulatedTemplate(models.Model):
    """A message template in a WABA's registry, as Meta keeps it (§5): the components in Meta's create
    shape, the review status, quality and category history.

    `components` is the latest version (what GET returns); `approved_components` is the version sends use.
    They differ while an edit of an approved template is in review, and `approved_components` is None
    while the template was never approved."""

    waba_id = models.CharField(max_length=64)
    template_id = models.CharField(max_length=32, unique=True)
    name = models.CharField(max_length=512)
    # Stored verbatim: `en_US`, `pt_BR` and `en-US` all occur (§10).
    language = models.CharField(max_length=16)
    category = models.CharField(max_length=16, choices=TemplateCategory.choices)
    previous_category = models.CharField(max_length=32, blank=True)
    parameter_format = models.CharField(
        max_length=16, choices=ParameterFormat.choices, default=ParameterFormat.POSITIONAL
    )
    components = models.JSONField(default=list)
    approved_components = models.JSONField(null=True, blank=True)
    status = models.CharField(max_length=20, choices=TemplateStatus.choices, default=TemplateStatus.PENDING)
    rejected_reason = models.CharField(max_length=32, choices=RejectionReason.choices, default=RejectionReason.NONE)
    quality_score = models.CharField(max_length=8, choices=QualityScore.choices, default=QualityScore.UNKNOWN)
    quality_updated_at = models.DateTimeField(default=timezone.now)
    allow_category_change = models.BooleanField(default=False)
    # Epoch seconds of the edits made to the template while it was approved (Meta allows 1 per 24 hours and
    # 10 per 30 days); older than 30 days are dropped.
    approved_edit_times = models.JSONField(default=list)
    # Bumped by every submission for review: a review task decides only the revision it was queued for.
    revision = models.PositiveIntegerField(default=1)
    status_updated_at = models.DateTimeField(default=timezone.now)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["waba_id", "name", "language"], name="simulated_template_per_language")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.language}, {self.status})"


class FeedbackKind(models.TextChoices):
    """The negative signals a number's quality is computed from (health_rules.quality_rating)."""

    BLOCK = "block", _("Blocked the business")
    NO_HUMAN_ROUTE = "no_human_route", _("Reported: no way to reach a person")


class SimulatedFeedback(models.Model):
    """A customer's negative signal about a business number, kept with its time (quality looks 7 days back)."""

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="+")
    customer = models.ForeignKey(SimulatedCustomer, on_delete=models.CASCADE, related_name="feedback")
    kind = models.CharField(max_length=16, choices=FeedbackKind.choices)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["channel", "created_at"], name="simulated_feedback_recent")]

    def __str__(self) -> str:
        return f"{self.kind} by {self.customer_id}"


class SimulatedReach(models.Model):
    """A customer reached by a business-initiated message (a template outside their window). One row per
    customer per moving 24 hours: a new row only when none is younger than 24 hours, so the rows of the
    last 24 hours are the unique customers the messaging limit counts."""

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="+")
    customer = models.ForeignKey(SimulatedCustomer, on_delete=models.CASCADE, related_name="reaches")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["channel", "created_at"], name="simulated_reach_recent")]

    def __str__(self) -> str:
        return f"Reached {self.customer_id} at {self.created_at}"


class SimulatedUpload(models.Model):
    """A Resumable Upload session (`POST /{app_id}/uploads`) and, once its bytes arrived, the file and
    the handle (`h`) that names it, e.g. in a business profile's `profile_picture_handle`."""

    upload_id = models.CharField(max_length=64, unique=True)
    # The channel whose access token opened the session (any app id is accepted).
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="+")
    app_id = models.CharField(max_length=64)
    file_name = models.CharField(max_length=255, blank=True)
    file_length = models.BigIntegerField()
    file_type = models.CharField(max_length=128)
    file = models.FileField(upload_to="simulator/uploads/", max_length=300, blank=True)
    file_offset = models.BigIntegerField(default=0)
    handle = models.CharField(max_length=255, blank=True, db_index=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"Upload {self.upload_id} ({self.file_type}, {self.file_offset}/{self.file_length})"
