"""The inbox's data: channels, contacts, conversations, messages and stored webhook deliveries.

Models hold data and invariants only: no network and no side effects in save(). Writes go through
`inbox.services`.
"""

from uuid import uuid4

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from inbox.crypto import EncryptedTextField
from inbox.providers.whatsapp_cloud.limits import EXTENSIONS


class ChannelKind(models.TextChoices):
    WHATSAPP_CLOUD = "whatsapp_cloud", _("WhatsApp (Cloud API)")


DEFAULT_GRAPH_API_BASE = "https://graph.facebook.com/v23.0"


class QualityRating(models.TextChoices):
    GREEN = "green", _("High (green)")
    YELLOW = "yellow", _("Medium (yellow)")
    RED = "red", _("Low (red)")
    UNKNOWN = "unknown", _("Not rated yet")


class NumberStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    OFFLINE = "offline", _("Offline")
    CONNECTED = "connected", _("Connected")
    FLAGGED = "flagged", _("Flagged")
    RESTRICTED = "restricted", _("Restricted")


class Channel(models.Model):
    """One connected number or account. A WhatsApp channel is one phone number of a WhatsApp Business
    Account (WABA); one Meta app (one app secret) may serve many numbers."""

    kind = models.CharField(max_length=32, choices=ChannelKind.choices, default=ChannelKind.WHATSAPP_CLOUD)
    name = models.CharField(max_length=120)
    phone_number_id = models.CharField(max_length=64, unique=True)
    waba_id = models.CharField(max_length=64, db_index=True)
    # The Meta app's id: uploads of the business profile photo go through its Resumable Upload API.
    app_id = models.CharField(max_length=64, blank=True)
    display_phone_number = models.CharField(max_length=32, blank=True)
    graph_api_base = models.URLField(max_length=300, default=DEFAULT_GRAPH_API_BASE)
    access_token = EncryptedTextField()
    app_secret = EncryptedTextField()
    verify_token = EncryptedTextField()
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    # Number health, as WhatsApp reports it (webhooks and the periodic sync); every change is also kept in
    # NumberHealthEvent. The messaging limit is the number of unique customers business-initiated messages
    # may reach in a moving 24 hours (None: unlimited), shared by the numbers of one WhatsApp account.
    quality_rating = models.CharField(max_length=16, choices=QualityRating.choices, default=QualityRating.UNKNOWN)
    number_status = models.CharField(max_length=16, choices=NumberStatus.choices, default=NumberStatus.CONNECTED)
    messaging_limit = models.PositiveIntegerField(null=True, blank=True, default=250)
    messaging_limit_tier = models.CharField(max_length=32, blank=True)
    throughput_per_second = models.PositiveIntegerField(
        default=80, validators=[MinValueValidator(1), MaxValueValidator(1000)]
    )
    flagged_at = models.DateTimeField(null=True, blank=True)
    restricted_until = models.DateTimeField(null=True, blank=True)
    health_synced_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.display_phone_number or self.phone_number_id})"


class Contact(models.Model):
    """A customer. On WhatsApp they are known by `wa_id` (their phone number) and, since 2026, by a
    business-scoped user id (BSUID); username users may have only the BSUID."""

    wa_id = models.CharField(max_length=32, null=True, blank=True)
    bsuid = models.CharField(max_length=160, null=True, blank=True)
    parent_bsuid = models.CharField(max_length=160, blank=True)
    profile_name = models.CharField(max_length=256, blank=True)
    username = models.CharField(max_length=256, blank=True)
    # The language the business writes to them in (`en_US`, `pt_BR`): templates in it are offered first.
    language = models.CharField(max_length=16, blank=True)
    # Identity: WhatsApp's identity key hash for them (sent as `recipient_identity_key_hash`), and a hold on
    # every outbound message while a change of number or identity waits for an agent's acknowledgement.
    identity_key_hash = models.CharField(max_length=128, blank=True)
    identity_held_since = models.DateTimeField(null=True, blank=True)
    identity_hold_reason = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["wa_id"], condition=Q(wa_id__isnull=False), name="contact_unique_wa_id"),
            models.UniqueConstraint(fields=["bsuid"], condition=Q(bsuid__isnull=False), name="contact_unique_bsuid"),
            models.CheckConstraint(
                condition=Q(wa_id__isnull=False) | Q(bsuid__isnull=False), name="contact_has_an_identity"
            ),
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return self.profile_name or self.username or (f"+{self.wa_id}" if self.wa_id else self.bsuid or "")


class ConversationStatus(models.TextChoices):
    OPEN = "open", _("Open")
    PENDING = "pending", _("Pending")
    SNOOZED = "snoozed", _("Snoozed")
    RESOLVED = "resolved", _("Resolved")


class Priority(models.TextChoices):
    NONE = "none", _("None")
    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")
    URGENT = "urgent", _("Urgent")


class Label(models.Model):
    """A tag on conversations ("billing", "vip"), chosen from a shared list admins keep."""

    name = models.CharField(max_length=64, unique=True)
    color = models.CharField(max_length=7, default="#5b6470")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class HandledBy(models.TextChoices):
    HUMAN = "human", _("People")
    BOT = "bot", _("Bot")


class HandoverReason(models.TextChoices):
    ASKED = "asked", _("The customer asked for a person")
    BOT_FAILED = "bot_failed", _("The bot failed twice")
    BOT_TIMEOUT = "bot_timeout", _("The bot did not answer in time")


class Conversation(models.Model):
    """The thread between one contact and one channel. The row carries what the conversation list shows,
    so the list never joins or counts messages."""

    channel = models.ForeignKey(Channel, on_delete=models.PROTECT, related_name="conversations")
    contact = models.ForeignKey(Contact, on_delete=models.PROTECT, related_name="conversations")
    status = models.CharField(max_length=16, choices=ConversationStatus.choices, default=ConversationStatus.OPEN)
    created_at = models.DateTimeField(default=timezone.now)
    last_message_at = models.DateTimeField(null=True, blank=True)
    last_message_preview = models.CharField(max_length=160, blank=True)
    last_message_direction = models.CharField(max_length=8, blank=True)
    unread_count = models.PositiveIntegerField(default=0)
    last_inbound_at = models.DateTimeField(null=True, blank=True)
    service_window_closes_at = models.DateTimeField(null=True, blank=True)
    # Keyset pagination key for "newest activity first": the activity time, then id to break ties.
    activity_at = models.DateTimeField(default=timezone.now)
    # Teamwork: who answers it, which team's queue it sits in, and how urgent it is.
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_conversations",
    )
    team = models.ForeignKey(
        "accounts.Team", on_delete=models.SET_NULL, null=True, blank=True, related_name="conversations"
    )
    assigned_at = models.DateTimeField(null=True, blank=True)
    # Waiting for an agent since (the queue is served oldest first); null when assigned or not queued.
    queued_at = models.DateTimeField(null=True, blank=True)
    priority = models.CharField(max_length=16, choices=Priority.choices, default=Priority.NONE)
    snoozed_until = models.DateTimeField(null=True, blank=True)
    labels = models.ManyToManyField(Label, related_name="conversations", blank=True)
    # Automation: who answers now (a bot through the channel's bot hook, or people), when the customer was
    # offered a way to a person and when they (or the bot's failure) handed the conversation to people.
    # The escalation clock runs from `handover_at` until a person answers; `escalation_level` says how far
    # the beat job went (1: team leads and managers told, 2: the fallback sent to the customer).
    handled_by = models.CharField(max_length=8, choices=HandledBy.choices, default=HandledBy.HUMAN)
    bot_failures = models.PositiveSmallIntegerField(default=0)
    human_route_offered_at = models.DateTimeField(null=True, blank=True)
    handover_at = models.DateTimeField(null=True, blank=True)
    handover_reason = models.CharField(max_length=16, choices=HandoverReason.choices, blank=True)
    human_answered_at = models.DateTimeField(null=True, blank=True)
    escalation_level = models.PositiveSmallIntegerField(default=0)
    # When the welcome and the latest away reply went out (the welcome once per conversation, the away reply
    # at most once per policy.AWAY_REPLY_INTERVAL).
    welcome_sent_at = models.DateTimeField(null=True, blank=True)
    away_sent_at = models.DateTimeField(null=True, blank=True)
    # The window-closing alert already sent for this window (its closing time), so it goes once per window.
    window_alert_for = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "contact"],
                condition=~Q(status="resolved"),
                name="one_unresolved_conversation_per_contact_and_channel",
            )
        ]
        indexes = [
            models.Index(fields=["-activity_at", "-id"], name="conversation_activity"),
            models.Index(fields=["channel", "-activity_at", "-id"], name="conversation_channel_activity"),
            models.Index(fields=["status", "-activity_at", "-id"], name="conversation_status_activity"),
            # The window-closing alerts' beat job: assigned conversations whose window closes soon.
            models.Index(
                fields=["service_window_closes_at"],
                condition=Q(assignee__isnull=False),
                name="conversation_window_closes",
            ),
        ]

    def __str__(self) -> str:
        return f"Conversation {self.pk}"


class Direction(models.TextChoices):
    INBOUND = "inbound", _("Inbound")
    OUTBOUND = "outbound", _("Outbound")
    # Never sent to the customer: private notes and activity lines (assigned, resolved, labelled...).
    INTERNAL = "internal", _("Internal")


class MessageType(models.TextChoices):
    TEXT = "text", _("Text")
    IMAGE = "image", _("Image")
    AUDIO = "audio", _("Audio")
    VIDEO = "video", _("Video")
    DOCUMENT = "document", _("Document")
    STICKER = "sticker", _("Sticker")
    LOCATION = "location", _("Location")
    CONTACTS = "contacts", _("Contacts")
    INTERACTIVE = "interactive", _("Interactive")
    BUTTON = "button", _("Button reply")
    REACTION = "reaction", _("Reaction")
    ORDER = "order", _("Order")
    SYSTEM = "system", _("System")
    REQUEST_WELCOME = "request_welcome", _("Chat opened")
    EDIT = "edit", _("Edit")
    REVOKE = "revoke", _("Deletion")
    TEMPLATE = "template", _("Template")
    UNSUPPORTED = "unsupported", _("Unsupported")
    NOTE = "note", _("Private note")
    ACTIVITY = "activity", _("Activity")


class MessageStatus(models.TextChoices):
    RECEIVED = "received", _("Received")
    QUEUED = "queued", _("Queued")
    SENT = "sent", _("Sent")
    DELIVERED = "delivered", _("Delivered")
    READ = "read", _("Read")
    PLAYED = "played", _("Played")
    FAILED = "failed", _("Failed")


class Initiator(models.TextChoices):
    AGENT = "agent", _("A person")
    AUTOMATION = "automation", _("An automation")
    CAMPAIGN = "campaign", _("A campaign")


class Message(models.Model):
    """One message in a conversation, either way. `content` keeps the provider's payload for the type,
    normalised; `text` is the human-readable part (body, caption, tapped title) for previews and search."""

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="messages")
    channel = models.ForeignKey(Channel, on_delete=models.PROTECT, related_name="+")
    direction = models.CharField(max_length=8, choices=Direction.choices)
    type = models.CharField(max_length=24, choices=MessageType.choices)
    text = models.TextField(blank=True)
    content = models.JSONField(default=dict, blank=True)
    provider_message_id = models.CharField(max_length=255, null=True, blank=True)
    reply_to_provider_id = models.CharField(max_length=255, blank=True)
    status = models.CharField(max_length=16, choices=MessageStatus.choices)
    status_at = models.DateTimeField(null=True, blank=True)
    error_code = models.IntegerField(null=True, blank=True)
    error_title = models.CharField(max_length=500, blank=True)
    error_details = models.TextField(blank=True)
    pricing_category = models.CharField(max_length=64, blank=True)
    pricing_type = models.CharField(max_length=64, blank=True)
    edited_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    timestamp = models.DateTimeField(help_text="The provider's time for the message (Meta's timestamp).")
    created_at = models.DateTimeField(default=timezone.now)
    # The person who wrote an outbound message; None for inbound messages (and for automations).
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="authored_messages"
    )
    # For a template message: the template it was built from (its analytics count it).
    template = models.ForeignKey(
        "templates_app.MessageTemplate", on_delete=models.SET_NULL, null=True, blank=True, related_name="messages"
    )
    # For a template message: when the customer first wrote back after it (kept by ingest, counted by the
    # template's analytics without scanning the conversations).
    replied_at = models.DateTimeField(null=True, blank=True)
    # Who started an outbound message: a person, an automation (auto-reply, bot, opt-out confirmation) or a
    # campaign. Business-initiated rules (consent, messaging limit) depend on it.
    initiator = models.CharField(max_length=16, choices=Initiator.choices, default=Initiator.AGENT)

    class Meta:
        constraints = [
            # Idempotency: a provider message id exists once per channel, whatever Meta replays.
            models.UniqueConstraint(
                fields=["channel", "provider_message_id"],
                condition=Q(provider_message_id__isnull=False),
                name="message_unique_provider_id_per_channel",
            )
        ]
        indexes = [
            models.Index(fields=["conversation", "timestamp", "id"], name="message_thread_order"),
            # The template messages of a conversation still waiting for the customer's answer.
            models.Index(
                fields=["conversation"],
                condition=Q(template__isnull=False, replied_at__isnull=True),
                name="template_message_unanswered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.direction} {self.type} {self.provider_message_id or self.pk}"


class StatusUpdate(models.Model):
    """Every delivery status Meta reported for an outbound message, deduplicated on (message id, status).
    A status for a message not known yet waits here (applied=False) and is applied when it appears."""

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="+")
    provider_message_id = models.CharField(max_length=255)
    status = models.CharField(max_length=16, choices=MessageStatus.choices)
    timestamp = models.DateTimeField()
    recipient_id = models.CharField(max_length=160, blank=True)
    error_code = models.IntegerField(null=True, blank=True)
    error_title = models.CharField(max_length=500, blank=True)
    error_details = models.TextField(blank=True)
    pricing = models.JSONField(null=True, blank=True)
    payload = models.JSONField(default=dict)
    applied = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "provider_message_id", "status"], name="status_update_unique_per_status"
            )
        ]
        indexes = [
            models.Index(fields=["channel", "provider_message_id"], name="status_update_message"),
        ]

    def __str__(self) -> str:
        return f"{self.provider_message_id} {self.status}"


class WebhookEventState(models.TextChoices):
    PENDING = "pending", _("Pending")
    PROCESSED = "processed", _("Processed")
    UNROUTABLE = "unroutable", _("Unroutable")
    FAILED = "failed", _("Failed")
    MALFORMED = "malformed", _("Malformed")


class WebhookEvent(models.Model):
    """One webhook delivery exactly as it arrived (the raw bytes), stored before we answer 200."""

    provider = models.CharField(max_length=32, choices=ChannelKind.choices, default=ChannelKind.WHATSAPP_CLOUD)
    raw_body = models.BinaryField()
    signature = models.CharField(max_length=100, blank=True)
    state = models.CharField(max_length=16, choices=WebhookEventState.choices, default=WebhookEventState.PENDING)
    received_at = models.DateTimeField(default=timezone.now)
    processed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    # The phone number ids and WABA ids the delivery names, for admins looking at unroutable ones.
    routing_ids = models.JSONField(default=list, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["state", "received_at"], name="webhook_event_state"),
            # The admins' list: newest first, keyset on (received_at, id).
            models.Index(fields=["-received_at", "-id"], name="webhook_event_newest"),
        ]

    def __str__(self) -> str:
        return f"Webhook event {self.pk} ({self.state})"


class ManagementEvent(models.Model):
    """An account-level webhook change (template status/quality/category, phone number quality/name,
    account updates, user preferences, errors), routed by WABA id and kept for later processing."""

    webhook_event = models.ForeignKey(WebhookEvent, on_delete=models.SET_NULL, null=True, related_name="+")
    waba_id = models.CharField(max_length=64, db_index=True)
    field = models.CharField(max_length=64, db_index=True)
    value = models.JSONField(default=dict)
    occurred_at = models.DateTimeField(null=True, blank=True)
    dedupe_key = models.CharField(max_length=64, unique=True)
    handled = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.field} for WABA {self.waba_id}"


class LiveEvent(models.Model):
    """A change pushed to agents' browsers, kept for a day so a page that reconnects can ask for what it
    missed. The id is the stream's sequence number (assigned at commit, so it grows in commit order)."""

    channel_id = models.BigIntegerField(db_index=True)
    conversation_id = models.BigIntegerField(null=True, blank=True)
    type = models.CharField(max_length=64)
    data = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    def __str__(self) -> str:
        return f"{self.type} #{self.pk}"


class OutboxState(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")


class OutboxEntry(models.Model):
    """The delivery job of one outbound message, written in the same transaction as the message.

    pending -> sending (claimed by one worker, committed before the network call) -> sent | pending (retry
    later) | failed. An entry left in `sending` by a crashed worker is settled by the outbox sweeper.
    `attempts` counts claims; with the entry's id it names each attempt in `biz_opaque_callback_data`, which
    Meta echoes in status webhooks, so an attempt whose answer was lost can still be recognised."""

    message = models.OneToOneField(Message, on_delete=models.CASCADE, related_name="outbox_entry")
    state = models.CharField(max_length=16, choices=OutboxState.choices, default=OutboxState.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    last_error = models.TextField(blank=True)
    # Why the entry failed for good, as a stable code: a policy reason (e.g. "window_closed"),
    # "provider_error", "retries_exhausted" or "media_missing".
    failure_reason = models.CharField(max_length=64, blank=True)
    # Why a pending entry waits beyond its retry (a policy reason such as "messaging_limit_reached"): the
    # message shows it and goes out by itself at `next_attempt_at`.
    waiting_reason = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "outbox entries"
        indexes = [models.Index(fields=["state", "next_attempt_at"], name="outbox_state_due")]

    def __str__(self) -> str:
        return f"Outbox entry {self.pk} ({self.state})"


def media_file_path(instance: "MediaFile", filename: str) -> str:
    """Where an upload is stored: a random name under the month. The uploader's file name is hostile text
    and never becomes part of a path; the extension comes from the checked MIME type."""
    extension = EXTENSIONS.get(instance.mime_type, ".bin")
    return f"uploads/{timezone.now():%Y/%m}/{uuid4().hex}{extension}"


class MediaFile(models.Model):
    """A file an agent uploaded to send, stored under MEDIA_ROOT. `kind` is the WhatsApp media type the
    file was checked against (size and MIME limits); `provider_media_id` is the id WhatsApp gave it on
    upload (valid 30 days), filled in by the outbound worker."""

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="media_files")
    message = models.OneToOneField(Message, on_delete=models.SET_NULL, null=True, blank=True, related_name="media_file")
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    kind = models.CharField(max_length=16, choices=MessageType.choices)
    file = models.FileField(upload_to=media_file_path, max_length=255)
    mime_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    # As the uploader named it: hostile text, shown escaped and sent as a document's file name only.
    original_filename = models.CharField(max_length=255, blank=True)
    provider_media_id = models.CharField(max_length=128, blank=True)
    provider_media_uploaded_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.kind} {self.pk}"


class CannedResponse(models.Model):
    """A saved reply an agent inserts with `/shortcut`. Personal when it has an owner, shared otherwise.
    The text may use contact variables such as {{contact.name}}."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="canned_responses"
    )
    shortcut = models.SlugField(max_length=64)
    text = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["shortcut"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "shortcut"], name="canned_response_unique_shortcut_per_owner"),
            models.UniqueConstraint(
                fields=["shortcut"], condition=Q(owner__isnull=True), name="canned_response_unique_shared_shortcut"
            ),
        ]

    def __str__(self) -> str:
        return f"/{self.shortcut}"


class NotificationKind(models.TextChoices):
    MENTION = "mention", _("Mentioned you")
    ASSIGNED = "assigned", _("Assigned to you")
    NEW_MESSAGE = "new_message", _("New message")
    TRANSFER = "transfer", _("Transferred to you")
    ESCALATION = "escalation", _("Escalation")
    TEMPLATE = "template", _("Template")
    WINDOW_CLOSING = "window_closing", _("Window closing")
    NUMBER_HEALTH = "number_health", _("Number health")
    IDENTITY = "identity", _("Identity change")


class Notification(models.Model):
    """Something a person should look at: a mention, an assignment, a new message in their conversation."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=32, choices=NotificationKind.choices)
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    message = models.ForeignKey(Message, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    template = models.ForeignKey(
        "templates_app.MessageTemplate", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    text = models.CharField(max_length=300, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["user", "read_at", "-created_at"], name="notification_inbox")]

    def __str__(self) -> str:
        return f"{self.kind} for {self.user_id}"


class SavedView(models.Model):
    """A person's named filter of the conversation list (status, channel, team, label, assignee, window)."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_views")
    name = models.CharField(max_length=80)
    filters = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["owner", "name"], name="saved_view_unique_name_per_owner")]

    def __str__(self) -> str:
        return self.name


# --- Compliance: consent, number health, messaging limits, automations ---------------------------------------


class ConsentPurpose(models.TextChoices):
    """What a customer agreed to receive: the template categories WhatsApp prices and polices."""

    MARKETING = "marketing", _("Marketing")
    UTILITY = "utility", _("Utility")
    AUTHENTICATION = "authentication", _("Authentication")


class ConsentAction(models.TextChoices):
    OPT_IN = "opt_in", _("Opted in")
    OPT_OUT = "opt_out", _("Opted out")


class ConsentSource(models.TextChoices):
    IVR = "ivr", _("Phone call (IVR)")
    WEBSITE_FORM = "website_form", _("Website form")
    CLICK_TO_WHATSAPP_AD = "click_to_whatsapp_ad", _("Click-to-WhatsApp ad")
    WHATSAPP_LINK = "whatsapp_link", _("WhatsApp link or QR code")
    CUSTOMER_INITIATED = "customer_initiated", _("The customer wrote first")
    IMPORT = "import", _("Import")
    AGENT = "agent", _("An agent, on the customer's word")
    KEYWORD = "keyword", _("A keyword the customer sent")
    USER_PREFERENCES = "user_preferences", _("WhatsApp's marketing preference")


class ConsentEvent(models.Model):
    """One opt-in or opt-out of one contact for one purpose. Append-only: a change is a new row, never an
    update, so the ledger is the evidence. The latest row per purpose is the contact's current state."""

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="consent_events")
    purpose = models.CharField(max_length=16, choices=ConsentPurpose.choices)
    action = models.CharField(max_length=8, choices=ConsentAction.choices)
    source = models.CharField(max_length=32, choices=ConsentSource.choices)
    occurred_at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    channel = models.ForeignKey(Channel, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    message = models.ForeignKey(Message, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    # What proves it (the keyword, the form, the ad's headline and link) and, for an agent's entry, why.
    evidence = models.TextField(blank=True)
    reason = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["contact", "purpose", "-occurred_at", "-id"], name="consent_latest")]

    def __str__(self) -> str:
        return f"{self.contact_id} {self.purpose} {self.action}"


class HealthEventKind(models.TextChoices):
    QUALITY = "quality", _("Quality rating")
    STATUS = "status", _("Status")
    MESSAGING_LIMIT = "messaging_limit", _("Messaging limit")
    THROUGHPUT = "throughput", _("Throughput")
    ACCOUNT = "account", _("Account")


class NumberHealthEvent(models.Model):
    """One change of a number's health (quality, status, messaging limit, throughput, an account alert),
    from a webhook or the periodic sync: the number's timeline."""

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="health_events")
    kind = models.CharField(max_length=16, choices=HealthEventKind.choices)
    previous = models.CharField(max_length=64, blank=True)
    current = models.CharField(max_length=64, blank=True)
    source = models.CharField(max_length=16, default="webhook")
    detail = models.TextField(blank=True)
    occurred_at = models.DateTimeField(default=timezone.now)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["channel", "-occurred_at", "-id"], name="health_timeline")]

    def __str__(self) -> str:
        return f"{self.channel_id} {self.kind} {self.previous}->{self.current}"


class BusinessInitiatedReach(models.Model):
    """A customer reached by a business-initiated message, counted against the messaging limit of the
    WhatsApp account (`waba_id`) for 24 hours from `reached_at`. At most one row per contact and account
    in any 24 hours, so counting the rows of the last 24 hours counts unique customers exactly."""

    waba_id = models.CharField(max_length=64)
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="+")
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="+")
    message = models.ForeignKey(Message, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    reached_at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["waba_id", "reached_at"], name="reach_window"),
            models.Index(fields=["waba_id", "contact", "-reached_at"], name="reach_contact"),
        ]

    def __str__(self) -> str:
        return f"{self.waba_id} reached {self.contact_id} at {self.reached_at}"


class FallbackKind(models.TextChoices):
    PHONE = "phone", _("Phone")
    EMAIL = "email", _("E-mail")
    WEB_FORM = "web_form", _("Web form")
    STORE_VISIT = "store_visit", _("Store visit")


class ChannelAutomation(models.Model):
    """A channel's automation settings: business hours (for the away reply), the keywords customers use
    (stop, start again, talk to a person; empty lists use the built-in ones in seven languages), the
    escalation route (which team takes handed-over conversations, how long people have to answer, the
    fallback offered to the customer when nobody does) and the bot hook."""

    channel = models.OneToOneField(Channel, on_delete=models.CASCADE, related_name="automation")
    time_zone = models.CharField(max_length=64, default="UTC")
    # {"mon": [["09:00", "17:00"]], ..., "sun": []}; empty means open around the clock.
    business_hours = models.JSONField(default=dict, blank=True)
    stop_keywords = models.JSONField(default=list, blank=True)
    start_keywords = models.JSONField(default=list, blank=True)
    human_keywords = models.JSONField(default=list, blank=True)
    escalation_team = models.ForeignKey(
        "accounts.Team", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    answer_within_minutes = models.PositiveIntegerField(default=10)
    fallback_after_minutes = models.PositiveIntegerField(default=30)
    fallback_kind = models.CharField(max_length=16, choices=FallbackKind.choices, blank=True)
    fallback_text = models.CharField(max_length=500, blank=True)
    bot_enabled = models.BooleanField(default=False)
    bot_url = models.URLField(max_length=500, blank=True)
    bot_secret = EncryptedTextField(blank=True, default="")
    bot_timeout_seconds = models.PositiveIntegerField(default=10)
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"Automation settings of {self.channel_id}"


class AutomationKind(models.TextChoices):
    WELCOME = "welcome", _("Welcome message")
    AWAY = "away", _("Away message (outside business hours)")
    KEYWORD = "keyword", _("Keyword reply")


class HumanRoute(models.TextChoices):
    BUTTON = "button", _("A “Talk to a person” button")
    KEYWORDS = "keywords", _("Keywords named in the message")


class AutoReply(models.Model):
    """An automatic answer: a welcome to new customers, an away message outside business hours, or a reply
    to a keyword. Each offers a route to a person (a button, or the keywords named in its text) and can only
    be switched on while the channel has an escalation route."""

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="auto_replies")
    kind = models.CharField(max_length=16, choices=AutomationKind.choices)
    name = models.CharField(max_length=120)
    enabled = models.BooleanField(default=False)
    text = models.TextField()
    keywords = models.JSONField(default=list, blank=True)
    human_route = models.CharField(max_length=16, choices=HumanRoute.choices, default=HumanRoute.BUTTON)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["channel", "kind", "name"]

    def __str__(self) -> str:
        return self.name
