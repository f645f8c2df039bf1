"""REST API v1 for automations: a channel's settings (business hours, keywords, escalation route, bot hook),
its auto-replies, a test message to its bot, a conversation's automation state and "take over" from the bot.
Thin views: `inbox.services.automations` checks and writes; its refusals map to HTTP here (`invalid` → 400
with `fields`, `permission_denied` → 403, the rest, such as `no_escalation_route`, → 422)."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Team, User
from inbox import access, policy
from inbox.api.errors import ApiError
from inbox.api.serializers import ErrorSerializer
from inbox.api.views import _conversation_or_404
from inbox.models import AutomationKind, AutoReply, Channel, ChannelAutomation, Conversation, FallbackKind, HumanRoute
from inbox.services import automations
from inbox.services.automations import AutomationRefused

ERRORS = {400: ErrorSerializer, 401: ErrorSerializer, 403: ErrorSerializer, 404: ErrorSerializer}
REFUSED = {422: ErrorSerializer}


def _refused(refusal: AutomationRefused) -> Exception:
    if refusal.code == "permission_denied":
        return PermissionDenied(refusal.detail)
    if refusal.code == "invalid":
        return ValidationError({refusal.field or "non_field_errors": [refusal.detail]})
    return ApiError(status.HTTP_422_UNPROCESSABLE_ENTITY, refusal.code, refusal.detail)


def _channel_for_admin(user: User, channel_id: int) -> Channel:
    if not access.can_manage_channels(user):
        raise PermissionDenied("Only admins see and change a channel's automations.")
    channel = Channel.objects.filter(pk=channel_id).first()
    if channel is None:
        raise NotFound("No such channel.")
    return channel


# Serializers


class AutomationSettingsSerializer(serializers.Serializer):
    """A channel's automation settings. Empty keyword lists use the built-in words (seven languages).
    `bot_secret` is write-only: omit it to keep the current one."""

    time_zone = serializers.CharField(required=False, max_length=64, help_text="An IANA zone, e.g. Europe/Rome.")
    business_hours = serializers.JSONField(
        required=False,
        help_text='Per weekday, ranges of "HH:MM": {"mon": [["09:00", "17:00"]], …}. {} = open around the clock.',
    )
    stop_keywords = serializers.ListField(child=serializers.CharField(max_length=100), required=False)
    start_keywords = serializers.ListField(child=serializers.CharField(max_length=100), required=False)
    human_keywords = serializers.ListField(child=serializers.CharField(max_length=100), required=False)
    escalation_team_id = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, help_text="null: the team working the channel."
    )
    answer_within_minutes = serializers.IntegerField(required=False)
    fallback_after_minutes = serializers.IntegerField(required=False)
    fallback_kind = serializers.ChoiceField(choices=[("", "none"), *FallbackKind.choices], required=False)
    fallback_text = serializers.CharField(required=False, allow_blank=True, max_length=500)
    bot_enabled = serializers.BooleanField(required=False)
    bot_url = serializers.CharField(required=False, allow_blank=True, max_length=500)
    bot_secret = serializers.CharField(required=False, allow_blank=True, max_length=200, write_only=True)
    bot_timeout_seconds = serializers.IntegerField(required=False)
    bot_secret_set = serializers.BooleanField(read_only=True)
    escalation_route_ready = serializers.BooleanField(read_only=True)
    escalation_route_gaps = serializers.ListField(child=serializers.CharField(), read_only=True)
    updated_at = serializers.DateTimeField(read_only=True, allow_null=True)


def _settings_data(automation: ChannelAutomation) -> dict:
    gaps = policy.escalation_route_gaps(automations.escalation_route(automation))
    return {
        "time_zone": automation.time_zone,
        "business_hours": automation.business_hours,
        "stop_keywords": automation.stop_keywords,
        "start_keywords": automation.start_keywords,
        "human_keywords": automation.human_keywords,
        "escalation_team_id": automation.escalation_team_id,
        "answer_within_minutes": automation.answer_within_minutes,
        "fallback_after_minutes": automation.fallback_after_minutes,
        "fallback_kind": automation.fallback_kind,
        "fallback_text": automation.fallback_text,
        "bot_enabled": automation.bot_enabled,
        "bot_url": automation.bot_url,
        "bot_secret_set": bool(automation.bot_secret),
        "bot_timeout_seconds": automation.bot_timeout_seconds,
        "escalation_route_ready": not gaps,
        "escalation_route_gaps": gaps,
        "updated_at": automation.updated_at if automation.pk else None,
    }


class AutoReplySerializer(serializers.ModelSerializer):
    keywords = serializers.ListField(child=serializers.CharField(max_length=100), required=False)
    kind = serializers.ChoiceField(choices=AutomationKind.choices)
    human_route = serializers.ChoiceField(choices=HumanRoute.choices, required=False)

    class Meta:
        model = AutoReply
        fields = [
            "id",
            "channel_id",
            "kind",
            "name",
            "enabled",
            "text",
            "keywords",
            "human_route",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "channel_id", "created_at", "updated_at"]
        extra_kwargs = {"enabled": {"required": False}}


class BotTestRequestSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=500, help_text="What the test customer writes.")


class BotButtonSerializer(serializers.Serializer):
    id = serializers.CharField()
    title = serializers.CharField()


class BotTestSerializer(serializers.Serializer):
    ok = serializers.BooleanField(help_text="False when the bot failed (error, timeout, not understood).")
    error = serializers.CharField(allow_blank=True)
    timed_out = serializers.BooleanField()
    text = serializers.CharField(allow_blank=True)
    buttons = BotButtonSerializer(many=True)
    handover = serializers.BooleanField()
    understood = serializers.BooleanField()


class ConversationAutomationSerializer(serializers.Serializer):
    """Who answers the conversation and its escalation path: when the way to a person was offered and
    taken (the handover, with its reason), when a person answered, how far the escalation clock went
    (0 none, 1 managers told, 2 fallback sent) and when its next step is due."""

    conversation_id = serializers.IntegerField()
    handled_by = serializers.ChoiceField(choices=["human", "bot"])
    bot_failures = serializers.IntegerField()
    human_route_offered_at = serializers.DateTimeField(allow_null=True)
    handover_at = serializers.DateTimeField(allow_null=True)
    handover_reason = serializers.CharField(allow_blank=True)
    human_answered_at = serializers.DateTimeField(allow_null=True)
    escalation_level = serializers.IntegerField()
    escalation_due_at = serializers.DateTimeField(allow_null=True)


def _conversation_data(conversation: Conversation) -> dict:
    due = automations.escalation_due_at(conversation)
    return {
        "conversation_id": conversation.pk,
        "handled_by": conversation.handled_by,
        "bot_failures": conversation.bot_failures,
        "human_route_offered_at": conversation.human_route_offered_at,
        "handover_at": conversation.handover_at,
        "handover_reason": conversation.handover_reason,
        "human_answered_at": conversation.human_answered_at,
        "escalation_level": conversation.escalation_level,
        "escalation_due_at": due,
    }


# Views


class ChannelAutomationView(APIView):
    @extend_schema(
        operation_id="channel_automation_get",
        tags=["automations"],
        description="A channel's automation settings (admins).",
        responses={200: AutomationSettingsSerializer, **ERRORS},
    )
    def get(self, request: Request, channel_id: int) -> Response:
        channel = _channel_for_admin(request.user, channel_id)
        return Response(_settings_data(automations.automation_settings(channel_id=channel.pk)))

    @extend_schema(
        operation_id="channel_automation_update",
        tags=["automations"],
        description=(
            "Change a channel's automation settings (admins); omitted fields keep their value. Switching the bot "
            "on, or leaving the escalation route incomplete while an automation is on, is refused with 422 "
            "`no_escalation_route` or `bot_not_configured`."
        ),
        request=AutomationSettingsSerializer,
        responses={200: AutomationSettingsSerializer, **ERRORS, **REFUSED},
    )
    def put(self, request: Request, channel_id: int) -> Response:
        channel = _channel_for_admin(request.user, channel_id)
        serializer = AutomationSettingsSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        changes = dict(serializer.validated_data)
        if "escalation_team_id" in changes:
            team_id = changes.pop("escalation_team_id")
            team = Team.objects.filter(pk=team_id).first() if team_id is not None else None
            if team_id is not None and team is None:
                raise ValidationError({"escalation_team_id": ["No such team."]})
            changes["escalation_team"] = team
        try:
            automation = automations.automation_update(actor=request.user, channel=channel, **changes)
        except AutomationRefused as refusal:
            raise _refused(refusal)
        return Response(_settings_data(automation))


class AutoReplyListView(APIView):
    @extend_schema(
        operation_id="auto_replies_list",
        tags=["automations"],
        responses={200: AutoReplySerializer(many=True), **ERRORS},
    )
    def get(self, request: Request, channel_id: int) -> Response:
        channel = _channel_for_admin(request.user, channel_id)
        replies = AutoReply.objects.filter(channel=channel).order_by("kind", "name", "pk")
        return Response({"results": AutoReplySerializer(replies, many=True).data})

    @extend_schema(
        operation_id="auto_replies_create",
        tags=["automations"],
        description=(
            "A welcome, away or keyword reply. `enabled: true` needs the channel's escalation route (422 "
            '`no_escalation_route`) and a way to a person in the message: `human_route` "button", or '
            '"keywords" with the text naming a keyword that hands over (422 `no_human_route`).'
        ),
        request=AutoReplySerializer,
        responses={201: AutoReplySerializer, **ERRORS, **REFUSED},
    )
    def post(self, request: Request, channel_id: int) -> Response:
        channel = _channel_for_admin(request.user, channel_id)
        serializer = AutoReplySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            reply = automations.auto_reply_create(actor=request.user, channel=channel, **serializer.validated_data)
        except AutomationRefused as refusal:
            raise _refused(refusal)
        return Response(AutoReplySerializer(reply).data, status=status.HTTP_201_CREATED)


class AutoReplyDetailView(APIView):
    def _reply(self, request: Request, channel_id: int, reply_id: int) -> AutoReply:
        channel = _channel_for_admin(request.user, channel_id)
        reply = AutoReply.objects.filter(channel=channel, pk=reply_id).first()
        if reply is None:
            raise NotFound("No such auto-reply.")
        return reply

    @extend_schema(
        operation_id="auto_replies_get", tags=["automations"], responses={200: AutoReplySerializer, **ERRORS}
    )
    def get(self, request: Request, channel_id: int, reply_id: int) -> Response:
        return Response(AutoReplySerializer(self._reply(request, channel_id, reply_id)).data)

    @extend_schema(
        operation_id="auto_replies_update",
        tags=["automations"],
        description="Change an auto-reply (partial); switching it on is checked as on creation.",
        request=AutoReplySerializer,
        responses={200: AutoReplySerializer, **ERRORS, **REFUSED},
    )
    def patch(self, request: Request, channel_id: int, reply_id: int) -> Response:
        reply = self._reply(request, channel_id, reply_id)
        serializer = AutoReplySerializer(reply, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        try:
            reply = automations.auto_reply_update(actor=request.user, auto_reply=reply, **serializer.validated_data)
        except AutomationRefused as refusal:
            raise _refused(refusal)
        return Response(AutoReplySerializer(reply).data)

    @extend_schema(operation_id="auto_replies_delete", tags=["automations"], responses={204: None, **ERRORS})
    def delete(self, request: Request, channel_id: int, reply_id: int) -> Response:
        reply = self._reply(request, channel_id, reply_id)
        automations.auto_reply_delete(actor=request.user, auto_reply=reply)
        return Response(status=status.HTTP_204_NO_CONTENT)


class BotTestView(APIView):
    @extend_schema(
        operation_id="channel_bot_test",
        tags=["automations"],
        description="Send the channel's bot (its saved address and secret) a test message; nothing reaches a customer.",
        request=BotTestRequestSerializer,
        responses={200: BotTestSerializer, **ERRORS},
    )
    def post(self, request: Request, channel_id: int) -> Response:
        channel = _channel_for_admin(request.user, channel_id)
        serializer = BotTestRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            answer = automations.bot_test(actor=request.user, channel=channel, text=serializer.validated_data["text"])
        except AutomationRefused as refusal:
            raise _refused(refusal)
        return Response(
            {
                "ok": not answer.failed,
                "error": answer.error,
                "timed_out": answer.timed_out,
                "text": answer.text,
                "buttons": [{"id": bid, "title": title} for bid, title in answer.buttons],
                "handover": answer.handover,
                "understood": answer.understood,
            }
        )


class ConversationAutomationView(APIView):
    @extend_schema(
        operation_id="conversation_automation",
        tags=["automations"],
        responses={200: ConversationAutomationSerializer, **ERRORS},
    )
    def get(self, request: Request, conversation_id: int) -> Response:
        conversation = _conversation_or_404(request.user, conversation_id)
        return Response(_conversation_data(conversation))


class ConversationTakeOverView(APIView):
    @extend_schema(
        operation_id="conversation_take_over",
        tags=["automations"],
        description=(
            "A person takes the conversation from the bot and assigns it to themselves (agents and admins who "
            "work it). The bot stops answering it."
        ),
        request=None,
        responses={200: ConversationAutomationSerializer, **ERRORS, 409: ErrorSerializer},
    )
    def post(self, request: Request, conversation_id: int) -> Response:
        conversation = _conversation_or_404(request.user, conversation_id)
        try:
            conversation = automations.conversation_take_over(conversation=conversation, actor=request.user)
        except AutomationRefused as refusal:
            if refusal.code == "permission_denied":
                raise PermissionDenied(refusal.detail)
            raise ApiError(status.HTTP_409_CONFLICT, refusal.code, refusal.detail)
        return Response(_conversation_data(conversation))
