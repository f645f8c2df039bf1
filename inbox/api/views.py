"""REST API v1: thin views. Each authorises with `inbox.access`, calls one selector or service, and
serialises. Lists are keyset pages (`inbox.api.pagination`)."""

from django.db import transaction
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from accounts.models import User
from inbox import selectors
from inbox.access import can_manage_channels, can_reply, can_view_webhook_events
from inbox.api.errors import ApiError
from inbox.api.pagination import PAGE_PARAMETERS, choice_parameter, integer_parameter, next_link, page_request
from inbox.api.serializers import (
    ChannelCreateSerializer,
    ChannelListSerializer,
    ChannelSerializer,
    ConversationPageSerializer,
    ConversationSerializer,
    ErrorSerializer,
    MessagePageSerializer,
    MessageSendSerializer,
    MessageSerializer,
    MessageUploadSerializer,
    SendRefusalSerializer,
    WebhookEventDetailSerializer,
    WebhookEventPageSerializer,
    WebhookEventSerializer,
)
from inbox.models import Conversation, ConversationStatus, Message, Priority, WebhookEventState
from inbox.services.channels import PhoneNumberAlreadyConnected, channel_create
from inbox.services.outbound import (
    SendRefused,
    conversation_mark_read,
    dress_waiting,
    media_store,
    message_retry,
    message_send,
)
from inbox.services.webhook_admin import WebhookEventNotReprocessable, webhook_event_reprocess
from inbox.viewers import someone_else_replying
from templates_app.sending import template_on_waba

ERRORS = {
    400: ErrorSerializer,
    401: ErrorSerializer,
    403: ErrorSerializer,
}
NOT_FOUND = {404: ErrorSerializer}
REFUSED = {422: SendRefusalSerializer}
CLAIMED = {409: ErrorSerializer}


# Channels


class ChannelListView(APIView):
    @extend_schema(operation_id="channels_list", tags=["channels"], responses={200: ChannelListSerializer, **ERRORS})
    def get(self, request: Request) -> Response:
        channels = selectors.channel_list(user=request.user)
        return Response({"results": ChannelSerializer(channels, many=True).data})

    @extend_schema(
        operation_id="channels_create",
        tags=["channels"],
        description="Connect a WhatsApp Cloud API number (admins only). The secrets in `config` are write-only.",
        request=ChannelCreateSerializer,
        responses={201: ChannelSerializer, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        if not can_manage_channels(request.user):
            raise PermissionDenied("Only admins connect channels.")
        serializer = ChannelCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        config = data["config"]
        try:
            channel = channel_create(
                kind=data["kind"],
                name=data["name"],
                phone_number_id=config["phone_number_id"],
                waba_id=config["waba_id"],
                display_phone_number=config["display_phone_number"],
                graph_api_base=config["graph_api_base"],
                access_token=config["access_token"],
                app_secret=config["app_secret"],
                verify_token=config["verify_token"],
            )
        except PhoneNumberAlreadyConnected as exc:
            raise ValidationError({"config": {"phone_number_id": [str(exc)]}})
        location = reverse("api:channel-detail", kwargs={"channel_id": channel.pk}, request=request)
        return Response(ChannelSerializer(channel).data, status=status.HTTP_201_CREATED, headers={"Location": location})


class ChannelDetailView(APIView):
    @extend_schema(
        operation_id="channels_retrieve", tags=["channels"], responses={200: ChannelSerializer, **ERRORS, **NOT_FOUND}
    )
    def get(self, request: Request, channel_id: int) -> Response:
        channel = selectors.channel_get(user=request.user, channel_id=channel_id)
        if channel is None:
            raise NotFound("No such channel.")
        return Response(ChannelSerializer(channel).data)


# Conversations and messages


def _conversation_or_404(user: User, conversation_id: int) -> Conversation:
    # One answer for "does not exist" and "may not see": the API does not confirm what a person may not see.
    conversation = selectors.conversation_get(user=user, conversation_id=conversation_id)
    if conversation is None:
        raise NotFound("No such conversation.")
    return conversation


class ConversationListView(APIView):
    @extend_schema(
        operation_id="conversations_list",
        tags=["conversations"],
        description="Conversations with the newest activity first, in keyset pages: follow `next`.",
        parameters=[
            OpenApiParameter("channel", OpenApiTypes.INT, description="Only this channel's conversations."),
            OpenApiParameter("status", OpenApiTypes.STR, enum=ConversationStatus.values),
            OpenApiParameter("assignee", OpenApiTypes.STR, description="`me`, `none` (unassigned) or a person's id."),
            OpenApiParameter("team", OpenApiTypes.INT, description="Only this team's conversations."),
            OpenApiParameter("label", OpenApiTypes.INT, description="Only conversations with this label."),
            OpenApiParameter("priority", OpenApiTypes.STR, enum=Priority.values),
            OpenApiParameter(
                "window",
                OpenApiTypes.STR,
                enum=["closing_soon"],
                description=(
                    "`closing_soon`: the 24-hour window closes within WINDOW_ALERT_LEAD_MINUTES (default 2 hours)."
                ),
            ),
            *PAGE_PARAMETERS,
        ],
        responses={200: ConversationPageSerializer, **ERRORS},
    )
    def get(self, request: Request) -> Response:
        after, limit = page_request(request)
        assignee = request.query_params.get("assignee") or None
        if assignee not in (None, "me", "none"):
            assignee = integer_parameter(request, "assignee")
        filters = selectors.ConversationFilters(
            assignee=assignee,
            team=integer_parameter(request, "team"),
            label_id=integer_parameter(request, "label"),
            priority=choice_parameter(request, "priority", Priority.values),
            window_closing_soon=choice_parameter(request, "window", ["closing_soon"]) is not None,
        )
        page = selectors.conversation_page(
            user=request.user,
            channel_id=integer_parameter(request, "channel"),
            status=choice_parameter(request, "status", ConversationStatus.values),
            filters=filters,
            after=after,
            limit=limit,
        )
        return Response(
            {"results": ConversationSerializer(page.items, many=True).data, "next": next_link(request, page)}
        )


class ConversationDetailView(APIView):
    @extend_schema(
        operation_id="conversations_retrieve",
        tags=["conversations"],
        responses={200: ConversationSerializer, **ERRORS, **NOT_FOUND},
    )
    def get(self, request: Request, conversation_id: int) -> Response:
        conversation = _conversation_or_404(request.user, conversation_id)
        return Response(ConversationSerializer(conversation).data)


def _require_reply(user: User, conversation: Conversation) -> None:
    if not can_reply(user, conversation):
        raise PermissionDenied("Managers read conversations; only agents and admins write in them.")


def _refusal(refused: SendRefused) -> Response:
    """A send WhatsApp's rules or limits forbid: 422 with the service's stable code."""
    if refused.code == "permission_denied":
        raise PermissionDenied(refused.detail)
    body = {"code": refused.code, "detail": refused.detail}
    if refused.requires_template:
        body["requires_template"] = True
    return Response(body, status=status.HTTP_422_UNPROCESSABLE_ENTITY)


def _claim_check(user: User, conversation: Conversation) -> None:
    """The composer's soft claim: someone else is typing here or just replied. `force` sends anyway."""
    other = someone_else_replying(conversation_id=conversation.pk, user=user)
    if other is not None:
        detail = _("%(name)s is replying to this customer. Send anyway?") % {"name": other.name or other.email}
        raise ApiError(409, "someone_else_replying", detail)


def _reply_to(user: User, conversation: Conversation, message_id: int | None) -> Message | None:
    if message_id is None:
        return None
    message = selectors.message_get(user=user, message_id=message_id)
    if message is None or message.conversation_id != conversation.pk:
        raise ValidationError({"reply_to": ["No such message in this conversation."]})
    return message


def _template_id(conversation: Conversation, data: dict) -> int | None:
    """The template a template message names by name and language, on the conversation's number's WhatsApp
    Business Account (None when it names it by id)."""
    named = data.get("template") or {}
    if data["type"] != "template" or "id" in named:
        return None
    template = template_on_waba(waba_id=conversation.channel.waba_id, name=named["name"], language=named["language"])
    if template is None:
        raise SendRefused(
            "template_not_found",
            f"This number's WhatsApp account has no template {named['name']} in {named['language']}.",
        )
    return template.pk


def _upload_send(*, conversation: Conversation, author: User, data: dict, reply_to: Message | None) -> Message:
    """Store the uploaded file, then send it. A refused send keeps nothing: the file's row rolls back with
    it, and the stored file is deleted (storage is not part of the transaction)."""
    media_file = None
    try:
        with transaction.atomic():
            media_file = media_store(conversation=conversation, author=author, upload=data["file"])
            payload = {"media_file_id": media_file.pk}
            payload.update((name, data[name]) for name in ("caption", "filename") if name in data)
            return message_send(
                conversation=conversation, author=author, kind=data["type"], payload=payload, reply_to=reply_to
            )
    except SendRefused:
        if media_file is not None:
            media_file.file.delete(save=False)
        raise


class ConversationMessagesView(APIView):
    parser_classes = [JSONParser, MultiPartParser]

    @extend_schema(
        operation_id="conversations_messages_list",
        tags=["conversations"],
        description="The conversation's messages, oldest first by WhatsApp's timestamps, in keyset pages.",
        parameters=PAGE_PARAMETERS,
        responses={200: MessagePageSerializer, **ERRORS, **NOT_FOUND},
    )
    def get(self, request: Request, conversation_id: int) -> Response:
        after, limit = page_request(request)
        conversation = _conversation_or_404(request.user, conversation_id)
        page = selectors.message_page(user=request.user, conversation=conversation, after=after, limit=limit)
        dress_waiting(page.items)
        return Response({"results": MessageSerializer(page.items, many=True).data, "next": next_link(request, page)})

    @extend_schema(
        operation_id="conversations_messages_create",
        tags=["conversations"],
        description=(
            "Send a message to the conversation's customer (agents and admins). JSON for every type, in "
            'WhatsApp\'s own shape: `{"type": "text", "text": "Hello"}`, or multipart/form-data to '
            "upload a file (`type`, `file`, `caption`, `filename`). The message is queued (`status` "
            '"queued") and goes out in the background; its status then follows WhatsApp\'s reports. '
            "When WhatsApp's rules or limits forbid it, the answer is 422 with a stable `code`, such as "
            "`window_closed` (more than 24 hours since the customer wrote: only a template may be sent). "
            'A template: `{"type": "template", "template": {"id": 7, "values": {"body.1": "Ana"}}}` (or '
            '`"name"` and `"language"` instead of `"id"`; `header_media_file_id` or `header_media_link` for a '
            "media header); it is refused with `template_not_sendable` when WhatsApp paused, disabled or has not "
            "approved it, and with `template_parameters_invalid` when a value is missing or WhatsApp would "
            "refuse it. "
            "The pre-send guard refuses with `identity_unconfirmed` (the customer's number or identity changed "
            "and nobody acknowledged it), `opted_out` (the customer withdrew from the template's category), "
            "`no_consent` (a template outside the 24-hour window of a category the customer never agreed to), "
            "`number_restricted` and `messaging_limit_reached` (its `detail` says when room returns). "
            "When a colleague is typing here or replied in the last seconds, the answer is 409 "
            '`someone_else_replying` unless the request says `"force": true` (`force=1` in a form).'
        ),
        request={"application/json": MessageSendSerializer, "multipart/form-data": MessageUploadSerializer},
        responses={201: MessageSerializer, **ERRORS, **NOT_FOUND, **CLAIMED, **REFUSED},
    )
    def post(self, request: Request, conversation_id: int) -> Response:
        conversation = _conversation_or_404(request.user, conversation_id)
        _require_reply(request.user, conversation)
        upload = request.content_type.startswith("multipart/form-data")
        serializer = (MessageUploadSerializer if upload else MessageSendSerializer)(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if not data["force"]:
            _claim_check(request.user, conversation)
        reply_to = _reply_to(request.user, conversation, data.get("reply_to"))
        try:
            if upload:
                message = _upload_send(conversation=conversation, author=request.user, data=data, reply_to=reply_to)
            else:
                message = message_send(
                    conversation=conversation,
                    author=request.user,
                    kind=data["type"],
                    payload=MessageSendSerializer.payload(data, template_id=_template_id(conversation, data)),
                    reply_to=reply_to,
                )
        except SendRefused as refused:
            return _refusal(refused)
        return Response(MessageSerializer(message).data, status=status.HTTP_201_CREATED)


class ConversationReadView(APIView):
    @extend_schema(
        operation_id="conversations_read",
        tags=["conversations"],
        description=(
            "Mark the conversation read (agents and admins): its unread count goes to zero for the team and "
            "WhatsApp shows the customer blue ticks."
        ),
        request=None,
        responses={204: None, **ERRORS, **NOT_FOUND},
    )
    def post(self, request: Request, conversation_id: int) -> Response:
        conversation = _conversation_or_404(request.user, conversation_id)
        _require_reply(request.user, conversation)
        conversation_mark_read(conversation=conversation, user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MessageRetryView(APIView):
    @extend_schema(
        operation_id="messages_retry",
        tags=["conversations"],
        description=(
            "Send a failed outbound message again (agents and admins). The same rules apply as for a new "
            "message: for example a closed 24-hour window refuses it (422 `window_closed`)."
        ),
        request=None,
        responses={200: MessageSerializer, **ERRORS, **NOT_FOUND, **REFUSED},
    )
    def post(self, request: Request, message_id: int) -> Response:
        message = selectors.message_get(user=request.user, message_id=message_id)
        if message is None:
            raise NotFound("No such message.")
        _require_reply(request.user, message.conversation)
        try:
            message = message_retry(message=message, author=request.user)
        except SendRefused as refused:
            return _refusal(refused)
        return Response(MessageSerializer(message).data)


# Webhook events


def _require_webhook_admin(user: User) -> None:
    if not can_view_webhook_events(user):
        raise PermissionDenied("Only admins look at stored webhook deliveries.")


class WebhookEventListView(APIView):
    @extend_schema(
        operation_id="webhook_events_list",
        tags=["webhook events"],
        description="Stored webhook deliveries, newest first (admins only).",
        parameters=[
            OpenApiParameter("state", OpenApiTypes.STR, enum=WebhookEventState.values),
            *PAGE_PARAMETERS,
        ],
        responses={200: WebhookEventPageSerializer, **ERRORS},
    )
    def get(self, request: Request) -> Response:
        _require_webhook_admin(request.user)
        after, limit = page_request(request)
        page = selectors.webhook_event_page(
            user=request.user,
            state=choice_parameter(request, "state", WebhookEventState.values),
            after=after,
            limit=limit,
        )
        return Response(
            {"results": WebhookEventSerializer(page.items, many=True).data, "next": next_link(request, page)}
        )


class WebhookEventDetailView(APIView):
    @extend_schema(
        operation_id="webhook_events_retrieve",
        tags=["webhook events"],
        responses={200: WebhookEventDetailSerializer, **ERRORS, **NOT_FOUND},
    )
    def get(self, request: Request, event_id: int) -> Response:
        _require_webhook_admin(request.user)
        event = selectors.webhook_event_get(user=request.user, event_id=event_id)
        if event is None:
            raise NotFound("No such webhook event.")
        return Response(WebhookEventDetailSerializer(event).data)


class WebhookEventReprocessView(APIView):
    @extend_schema(
        operation_id="webhook_events_reprocess",
        tags=["webhook events"],
        description="Process an unroutable or failed delivery again, for example after connecting its number.",
        request=None,
        responses={202: WebhookEventSerializer, **ERRORS, **NOT_FOUND, 409: ErrorSerializer},
    )
    def post(self, request: Request, event_id: int) -> Response:
        _require_webhook_admin(request.user)
        event = selectors.webhook_event_get(user=request.user, event_id=event_id)
        if event is None:
            raise NotFound("No such webhook event.")
        try:
            event = webhook_event_reprocess(event=event)
        except WebhookEventNotReprocessable as exc:
            raise ApiError(409, "not_reprocessable", str(exc))
        return Response(WebhookEventSerializer(event).data, status=status.HTTP_202_ACCEPTED)
