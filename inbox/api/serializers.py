"""The API's shapes. Output serializers name every field explicitly; channel secrets appear only in the
input serializer, as write-only fields, so no response can carry them."""

from collections.abc import Mapping
from urllib.parse import urlsplit

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from inbox.api.pagination import MAX_ID
from inbox.models import (
    DEFAULT_GRAPH_API_BASE,
    Channel,
    ChannelKind,
    Contact,
    Conversation,
    Label,
    Message,
    WebhookEvent,
)
from inbox.providers.whatsapp_cloud import limits, payloads
from inbox.providers.whatsapp_cloud.errors import describe
from inbox.services.outbound import dress_waiting


class ErrorSerializer(serializers.Serializer):
    """Every error. Validation errors (`code` "invalid") also carry `fields`: the problems by field name."""

    code = serializers.CharField(help_text="A stable code, such as not_found or invalid.")
    detail = serializers.CharField(help_text="What went wrong, in a sentence.")


# Channels


def _digits(value: str) -> str:
    if not value.isascii() or not value.isdigit():
        raise serializers.ValidationError("Must contain digits only.")
    return value


def _http_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise serializers.ValidationError("Must be an http:// or https:// URL without query or fragment.")
    if parts.username or parts.password:
        raise serializers.ValidationError("Must not contain credentials.")
    return value.rstrip("/")


class ChannelConfigInputSerializer(serializers.Serializer):
    phone_number_id = serializers.CharField(max_length=64, validators=[_digits])
    waba_id = serializers.CharField(max_length=64, validators=[_digits])
    display_phone_number = serializers.CharField(max_length=32, required=False, allow_blank=True, default="")
    access_token = serializers.CharField(write_only=True, max_length=2000)
    app_secret = serializers.CharField(write_only=True, max_length=200)
    verify_token = serializers.CharField(write_only=True, max_length=200)
    graph_api_base = serializers.CharField(max_length=300, required=False, default=DEFAULT_GRAPH_API_BASE)

    def validate_graph_api_base(self, value: str) -> str:
        return _http_url(value)


class ChannelCreateSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ChannelKind.choices)
    name = serializers.CharField(max_length=120)
    config = ChannelConfigInputSerializer()


class ChannelConfigSerializer(serializers.ModelSerializer):
    class Meta:
        model = Channel
        fields = ["phone_number_id", "waba_id", "display_phone_number", "graph_api_base"]
        read_only_fields = fields


class ChannelSerializer(serializers.ModelSerializer):
    config = ChannelConfigSerializer(source="*", read_only=True)

    class Meta:
        model = Channel
        fields = ["id", "kind", "name", "config", "is_active", "created_at"]
        read_only_fields = fields


class ChannelListSerializer(serializers.Serializer):
    results = ChannelSerializer(many=True)


# Conversations and messages


class ContactSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="profile_name", read_only=True)

    class Meta:
        model = Contact
        fields = ["id", "wa_id", "bsuid", "name", "username"]
        read_only_fields = fields


class LabelSerializer(serializers.ModelSerializer):
    class Meta:
        model = Label
        fields = ["id", "name", "color"]
        read_only_fields = ["id"]


class ConversationSerializer(serializers.ModelSerializer):
    channel = serializers.IntegerField(source="channel_id", read_only=True)
    contact = ContactSerializer(read_only=True)
    assignee = serializers.IntegerField(
        source="assignee_id", read_only=True, allow_null=True, help_text="The person holding it, or null."
    )
    team = serializers.IntegerField(
        source="team_id", read_only=True, allow_null=True, help_text="The team whose queue it belongs to, or null."
    )
    labels = LabelSerializer(many=True, read_only=True)

    class Meta:
        model = Conversation
        fields = [
            "id",
            "channel",
            "contact",
            "status",
            "last_message_at",
            "last_message_preview",
            "last_message_direction",
            "unread_count",
            "last_inbound_at",
            "service_window_closes_at",
            "created_at",
            "assignee",
            "team",
            "assigned_at",
            "queued_at",
            "priority",
            "snoozed_until",
            "labels",
        ]
        read_only_fields = fields


class ConversationPageSerializer(serializers.Serializer):
    results = ConversationSerializer(many=True)
    next = serializers.URLField(allow_null=True, help_text="The following page, or null on the last one.")


class MessageErrorSerializer(serializers.Serializer):
    code = serializers.IntegerField(allow_null=True, help_text="The Cloud API error code.")
    title = serializers.CharField(help_text="WhatsApp's title for the error.")
    details = serializers.CharField(help_text="WhatsApp's details, when it gave any.")
    reason = serializers.CharField(help_text="What happened, in plain words.")


def _failure_reason(message: Message) -> str:
    """WhatsApp's code explained in plain words; without a code, the refusal the outbound worker recorded
    (for example the window closing before the message could go out)."""
    if message.error_code is not None:
        return describe(message.error_code).reason
    return message.error_title or describe(None).reason


class MessageWaitingSerializer(serializers.Serializer):
    reason = serializers.CharField(
        help_text="Why the queued message waits: `messaging_limit_reached` (the WhatsApp account reached its "
        "limit of customers contacted first in 24 hours) or `paced` (sent at the pace WhatsApp allows)."
    )
    detail = serializers.CharField(help_text="The same, in plain words.")
    until = serializers.DateTimeField(help_text="When it is due to go out (by itself).")


class MessageTemplateRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    language = serializers.CharField()


class MessageSerializer(serializers.ModelSerializer):
    error = serializers.SerializerMethodField()
    content = serializers.JSONField(
        read_only=True,
        help_text="The message in WhatsApp's shape for its type. A template message holds WhatsApp's template "
        "object (`name`, `language`, `components`) plus `rendered`: what the customer sees (`header`, "
        "`header_format`, `header_media`, `body`, `footer`, `buttons`) with the values filled in.",
    )
    template = serializers.SerializerMethodField()
    waiting = serializers.SerializerMethodField()

    class Meta:
        model = Message
        fields = [
            "id",
            "direction",
            "type",
            "template",
            "text",
            "content",
            "provider_message_id",
            "reply_to_provider_id",
            "status",
            "status_at",
            "waiting",
            "error",
            "pricing_category",
            "edited_at",
            "revoked_at",
            "timestamp",
            "created_at",
        ]
        read_only_fields = fields

    @extend_schema_field(MessageErrorSerializer(allow_null=True))
    def get_error(self, message: Message) -> dict | None:
        if message.error_code is None and not message.error_title:
            return None
        return {
            "code": message.error_code,
            "title": message.error_title,
            "details": message.error_details,
            "reason": _failure_reason(message),
        }

    @extend_schema_field(MessageWaitingSerializer(allow_null=True))
    def get_waiting(self, message: Message) -> dict | None:
        """A queued message held back on purpose (null otherwise). Lists set `message.waiting` for the whole
        page in one query (`outbound.dress_waiting`); a single message is looked up here."""
        if not hasattr(message, "waiting"):
            dress_waiting([message])
        waiting = message.waiting
        if waiting is None:
            return None
        return {"reason": waiting.reason, "detail": waiting.sentence, "until": waiting.until}

    @extend_schema_field(MessageTemplateRefSerializer(allow_null=True))
    def get_template(self, message: Message) -> dict | None:
        """The template a template message was sent with, as it was named when sent (no query per row)."""
        if message.template_id is None or not isinstance(message.content, dict):
            return None
        return {
            "id": message.template_id,
            "name": message.content.get("name", ""),
            "language": (message.content.get("language") or {}).get("code", ""),
        }


class MessagePageSerializer(serializers.Serializer):
    results = MessageSerializer(many=True)
    next = serializers.URLField(allow_null=True, help_text="The following page, or null on the last one.")


# Sending messages

# What the API sends: the kinds `payloads.content_from_payload` builds, files (WhatsApp's media types) and
# templates (built from the approved template by `templates_app.sending`).
MEDIA_TYPES = tuple(limits.MEDIA_RULES)
SEND_TYPES = (*payloads.CONTENT_KINDS, *MEDIA_TYPES, "template")
# The fields each type takes besides `type`, `reply_to` and `force`: (required, optional).
_TYPE_FIELDS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "text": (frozenset({"text"}), frozenset({"preview_url"})),
    "location": (frozenset({"location"}), frozenset()),
    "contacts": (frozenset({"contacts"}), frozenset()),
    "reaction": (frozenset({"reaction"}), frozenset()),
    "interactive": (frozenset({"interactive"}), frozenset()),
    "template": (frozenset({"template"}), frozenset()),
    **{kind: (frozenset({"media_file_id"}), frozenset({"caption", "filename"})) for kind in MEDIA_TYPES},
}


class StrictCharField(serializers.CharField):
    """Text that must arrive as a JSON string: DRF's CharField would turn a number into text."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class ClosedSerializer(serializers.Serializer):
    """Refuses fields it does not declare, which DRF would drop: a misspelt field is a mistake to report,
    not a message sent without it."""

    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            unknown = sorted(str(name) for name in data if name not in self.fields)
            if unknown:
                raise serializers.ValidationError({name: ["Unknown field."] for name in unknown})
        return super().to_internal_value(data)


def _id_field(help_text: str) -> serializers.IntegerField:
    return serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID, help_text=help_text)


_REPLY_TO_HELP = "Quote this earlier message of the conversation (our message id, not WhatsApp's)."
_FORCE_HELP = (
    "Send even though a colleague is typing here or replied in the last seconds (without it, that answers 409 "
    "`someone_else_replying`)."
)


class LocationSerializer(ClosedSerializer):
    latitude = serializers.FloatField()
    longitude = serializers.FloatField()
    name = StrictCharField(required=False, allow_blank=True)
    address = StrictCharField(required=False, allow_blank=True)


class ReactionSerializer(ClosedSerializer):
    message_id = StrictCharField(
        required=False,
        help_text="WhatsApp's id (wamid) of the message reacted to; leave it out to react to `reply_to`.",
    )
    emoji = StrictCharField(
        allow_blank=True, trim_whitespace=False, help_text="One emoji; an empty string removes our reaction."
    )


class TemplateSendSerializer(ClosedSerializer):
    """An approved template to send, named by `id` or by `name` and `language` (on the WhatsApp Business
    Account of the conversation's number), with its variables filled in."""

    id = _id_field("The template's id in Switchboard.")
    name = StrictCharField(required=False, max_length=512, help_text="The template's name (with `language`).")
    language = StrictCharField(required=False, max_length=16, help_text="The template's language, e.g. en_US.")
    values = serializers.DictField(
        child=StrictCharField(allow_blank=True, trim_whitespace=False),
        required=False,
        help_text='The variables\' values by key: `{"header.1": …, "body.1": …, "body.first_name": …, '
        '"buttons.0.1": <the suffix of URL button 0>, "buttons.1.code": <a copy-code button\'s coupon code>}`.',
    )
    header_media_file_id = _id_field("A stored file for an image, video or document header (not sent yet).")
    header_media_link = StrictCharField(
        required=False, max_length=2000, help_text="Or an https:// link to the header's image, video or document."
    )

    def validate(self, attrs: dict) -> dict:
        by_name = "name" in attrs or "language" in attrs
        if ("id" in attrs) == by_name or (by_name and not ("name" in attrs and "language" in attrs)):
            raise serializers.ValidationError("Name the template by `id`, or by `name` and `language`.")
        if "header_media_file_id" in attrs and "header_media_link" in attrs:
            raise serializers.ValidationError(
                "Give the header's file as `header_media_file_id` or `header_media_link`."
            )
        return attrs


class MessageSendSerializer(ClosedSerializer):
    """A message as JSON, each type in WhatsApp's own shape. `type` decides which other fields apply:
    text → `text` (and `preview_url`); location → `location`; contacts → `contacts`; reaction →
    `reaction`; interactive → `interactive`; image, audio, video, document, sticker → `media_file_id` of a
    file stored earlier (and `caption`, `filename`); template → `template` (an approved template and its
    values; allowed outside the 24-hour window). Any type may quote a message with `reply_to`. To upload
    a file, send multipart/form-data instead (MessageUpload)."""

    type = serializers.ChoiceField(choices=SEND_TYPES)
    text = StrictCharField(
        required=False,
        allow_blank=True,
        trim_whitespace=False,
        help_text=f"The message (type text), at most {limits.TEXT_BODY_MAX} characters.",
    )
    preview_url = serializers.BooleanField(required=False, help_text="Show a preview of the first link.")
    location = LocationSerializer(required=False)
    contacts = serializers.ListField(
        child=serializers.DictField(),
        required=False,
        help_text='Contact cards as WhatsApp takes them: `[{"name": {"formatted_name": …}, "phones": '
        '[{"phone", "type", "wa_id"}], "emails", "addresses", "org", "urls", "birthday"}]`.',
    )
    reaction = ReactionSerializer(required=False)
    interactive = serializers.DictField(
        required=False,
        help_text='WhatsApp\'s interactive object: `{"type": "button" | "list" | "product" | "product_list", '
        '"header"?: {"type": "text", "text"}, "body"?: {"text"}, "footer"?: {"text"}, "action": {…}}`.',
    )
    media_file_id = _id_field("A stored file that has not been sent yet (media types).")
    caption = StrictCharField(
        required=False, allow_blank=True, help_text="Shown under an image, a video or a document."
    )
    filename = StrictCharField(required=False, allow_blank=True, help_text="The name a document is shown with.")
    template = TemplateSendSerializer(required=False)
    reply_to = _id_field(_REPLY_TO_HELP)
    force = serializers.BooleanField(default=False, help_text=_FORCE_HELP)

    def validate(self, attrs: dict) -> dict:
        required, optional = _TYPE_FIELDS[attrs["type"]]
        problems = {
            name: [f"A {attrs['type']} message does not take `{name}`."]
            for name in sorted(set(attrs) - required - optional - {"type", "reply_to", "force"})
        }
        problems.update((name, ["This field is required."]) for name in sorted(required - set(attrs)))
        if problems:
            raise serializers.ValidationError(problems)
        return attrs

    @staticmethod
    def payload(data: dict, *, template_id: int | None = None) -> dict:
        """What `message_send` takes for the validated `data` (its `kind` is `data["type"]`). A template
        named by name and language is passed as `template_id`, once the view has found it."""
        kind = data["type"]
        if kind == "template":
            template = data["template"]
            payload = {"template_id": template.get("id", template_id), "values": template.get("values", {})}
            payload.update(
                (name, template[name]) for name in ("header_media_file_id", "header_media_link") if name in template
            )
            return payload
        if kind == "text":
            payload = {"body": data["text"]}
            if "preview_url" in data:
                payload["preview_url"] = data["preview_url"]
            return payload
        if kind == "contacts":
            return {"contacts": data["contacts"]}
        if kind in MEDIA_TYPES:
            return {name: data[name] for name in ("media_file_id", "caption", "filename") if name in data}
        return dict(data[kind])


@extend_schema_field(OpenApiTypes.BINARY)
class UploadField(serializers.FileField):
    """A file in the request: the schema says binary (the generator would say a URL, as in responses)."""


class MessageUploadSerializer(ClosedSerializer):
    """A file to send, as multipart/form-data. It is checked against WhatsApp's limits for `type` (format
    and size) before anything is stored."""

    type = serializers.ChoiceField(choices=MEDIA_TYPES)
    file = UploadField()
    caption = serializers.CharField(
        required=False, allow_blank=True, help_text="Shown under an image, a video or a document."
    )
    filename = serializers.CharField(
        required=False, allow_blank=True, help_text="The name a document is shown with (default: the file's name)."
    )
    reply_to = _id_field(_REPLY_TO_HELP)
    force = serializers.BooleanField(default=False, help_text=_FORCE_HELP)


class SendRefusalSerializer(ErrorSerializer):
    """A message WhatsApp's rules or limits refuse. `code` is one of window_closed, text_too_long,
    media_too_large, media_type_not_allowed, invalid_message, not_retryable, template_not_found,
    template_not_sendable (paused, disabled, not approved, or changed since the message was written),
    template_parameters_invalid (a value is missing or WhatsApp would refuse it; `detail` names the
    variable), template_not_supported, or the pre-send guard's: identity_unconfirmed (the customer's number
    or identity changed and nobody acknowledged it), opted_out (the customer withdrew from the template's
    category), no_consent (a template outside the 24-hour window of a category the customer never agreed
    to), number_restricted (WhatsApp restricted the number) and messaging_limit_reached (the account
    reached its limit of customers contacted first in 24 hours; `detail` says when room returns)."""

    requires_template = serializers.BooleanField(
        required=False, help_text="Present and true when only a template message may be sent now."
    )


# Webhook events


class WebhookEventSerializer(serializers.ModelSerializer):
    # A plain string in the schema: the same choices as a channel's `kind` under another name would make
    # the schema generator warn about the enum's name.
    provider = serializers.CharField(read_only=True, help_text="The channel kind that delivered it.")
    routing_ids = serializers.ListField(child=serializers.CharField(), read_only=True)
    size_bytes = serializers.IntegerField(read_only=True, help_text="The size of the raw delivery.")

    class Meta:
        model = WebhookEvent
        fields = [
            "id",
            "provider",
            "state",
            "received_at",
            "processed_at",
            "attempts",
            "error",
            "routing_ids",
            "size_bytes",
        ]
        read_only_fields = fields


class WebhookEventDetailSerializer(WebhookEventSerializer):
    raw_body = serializers.SerializerMethodField(help_text="The delivery as received, decoded as UTF-8.")

    class Meta(WebhookEventSerializer.Meta):
        fields = [*WebhookEventSerializer.Meta.fields, "raw_body"]
        read_only_fields = fields

    def get_raw_body(self, event: WebhookEvent) -> str:
        # Undecodable bytes become U+FFFD: the page is for looking at a delivery, not for replaying it.
        return bytes(event.raw_body).decode("utf-8", errors="replace")


class WebhookEventPageSerializer(serializers.Serializer):
    results = WebhookEventSerializer(many=True)
    next = serializers.URLField(allow_null=True, help_text="The following page, or null on the last one.")
