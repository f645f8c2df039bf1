"""REST API v1 for working together: private notes, canned responses, notifications and search. Thin views
over `inbox.services.notes`, `inbox.services.canned`, `inbox.services.notifications` and
`inbox.together_selectors`."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param
from rest_framework.views import APIView

from inbox import together_selectors
from inbox.api.errors import ApiError
from inbox.api.pagination import MAX_LIMIT, integer_parameter
from inbox.api.serializers import ErrorSerializer, MessageSerializer
from inbox.api.views import _conversation_or_404
from inbox.models import CannedResponse, Notification, NotificationKind
from inbox.services import canned as canned_service
from inbox.services import notes as note_service
from inbox.services import notifications as notification_service

ERRORS = {400: ErrorSerializer, 401: ErrorSerializer, 403: ErrorSerializer}
NOT_FOUND = {404: ErrorSerializer}


def _refused(refused: canned_service.CannedRefused) -> ApiError:
    if refused.code == "permission_denied":
        return ApiError(403, refused.code, refused.detail)
    if refused.code == "duplicate_shortcut":
        return ApiError(409, refused.code, refused.detail)
    return ApiError(400, refused.code, refused.detail)


# Notes


class NoteInputSerializer(serializers.Serializer):
    body = serializers.CharField(
        allow_blank=True,
        trim_whitespace=False,
        help_text=f"The note, at most {note_service.NOTE_LENGTH} characters; `@handle` mentions a colleague.",
    )


class ConversationNotesView(APIView):
    @extend_schema(
        operation_id="conversations_notes_create",
        tags=["conversations"],
        description=(
            "Add a private note for the team (agents and admins). It is never sent to the customer; colleagues "
            "it @mentions who may see the conversation are notified. An empty or too long note is 400."
        ),
        request=NoteInputSerializer,
        responses={201: MessageSerializer, **ERRORS, **NOT_FOUND},
    )
    def post(self, request: Request, conversation_id: int) -> Response:
        conversation = _conversation_or_404(request.user, conversation_id)
        data = _valid(NoteInputSerializer, request.data)
        try:
            note = note_service.note_add(conversation=conversation, author=request.user, body=data["body"])
        except note_service.NoteRefused as refused:
            # As the composer's Note tab answers: 403 for who may not write here, 400 for the note itself.
            raise ApiError(403 if refused.code == "permission_denied" else 400, refused.code, refused.detail)
        return Response(MessageSerializer(note).data, status=status.HTTP_201_CREATED)


# Canned responses


class CannedResponseSerializer(serializers.ModelSerializer):
    shared = serializers.SerializerMethodField(help_text="Shared with everyone (kept by admins), or personal.")

    class Meta:
        model = CannedResponse
        fields = ["id", "shortcut", "text", "shared", "created_at", "updated_at"]

    def get_shared(self, canned: CannedResponse) -> bool:
        return canned.owner_id is None


class CannedResponseListSerializer(serializers.Serializer):
    results = CannedResponseSerializer(many=True)


class CannedResponseInputSerializer(serializers.Serializer):
    shortcut = serializers.CharField(max_length=64, help_text="Typed after `/` in the composer.")
    text = serializers.CharField(
        max_length=canned_service.TEXT_LENGTH,
        help_text="May use " + ", ".join("{{" + name + "}}" for name in canned_service.VARIABLES) + ".",
    )
    shared = serializers.BooleanField(default=False, help_text="Shared with everyone (admins only).")


class CannedResponsePatchSerializer(serializers.Serializer):
    shortcut = serializers.CharField(max_length=64, required=False)
    text = serializers.CharField(max_length=canned_service.TEXT_LENGTH, required=False)


class CannedResponseListView(APIView):
    @extend_schema(
        operation_id="canned_responses_list",
        tags=["canned responses"],
        description="Your personal canned responses and the shared ones (a personal shortcut hides a shared one).",
        parameters=[OpenApiParameter("prefix", OpenApiTypes.STR, description="Only shortcuts starting with this.")],
        responses={200: CannedResponseListSerializer, **ERRORS},
    )
    def get(self, request: Request) -> Response:
        rows = together_selectors.canned_for_user(user=request.user, prefix=request.query_params.get("prefix", ""))
        return Response({"results": CannedResponseSerializer(rows, many=True).data})

    @extend_schema(
        operation_id="canned_responses_create",
        tags=["canned responses"],
        request=CannedResponseInputSerializer,
        responses={201: CannedResponseSerializer, 409: ErrorSerializer, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        data = _valid(CannedResponseInputSerializer, request.data)
        try:
            canned = canned_service.canned_create(
                author=request.user, shortcut=data["shortcut"], text=data["text"], shared=data["shared"]
            )
        except canned_service.CannedRefused as refused:
            raise _refused(refused)
        return Response(CannedResponseSerializer(canned).data, status=status.HTTP_201_CREATED)


def _valid(serializer_class: type[serializers.Serializer], data) -> dict:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _canned_or_404(request: Request, canned_id: int) -> CannedResponse:
    """Yours or a shared one; anyone else's answers as if it did not exist."""
    canned = CannedResponse.objects.filter(pk=canned_id).first()
    if canned is None or (canned.owner_id is not None and canned.owner_id != request.user.pk):
        raise NotFound("No such canned response.")
    return canned


class CannedResponseDetailView(APIView):
    @extend_schema(
        operation_id="canned_responses_update",
        tags=["canned responses"],
        request=CannedResponsePatchSerializer,
        responses={200: CannedResponseSerializer, 409: ErrorSerializer, **ERRORS, **NOT_FOUND},
    )
    def patch(self, request: Request, canned_id: int) -> Response:
        canned = _canned_or_404(request, canned_id)
        data = _valid(CannedResponsePatchSerializer, request.data)
        try:
            canned = canned_service.canned_update(
                canned=canned, author=request.user, shortcut=data.get("shortcut"), text=data.get("text")
            )
        except canned_service.CannedRefused as refused:
            raise _refused(refused)
        return Response(CannedResponseSerializer(canned).data)

    @extend_schema(
        operation_id="canned_responses_destroy",
        tags=["canned responses"],
        responses={204: None, **ERRORS, **NOT_FOUND},
    )
    def delete(self, request: Request, canned_id: int) -> Response:
        canned = _canned_or_404(request, canned_id)
        try:
            canned_service.canned_delete(canned=canned, author=request.user)
        except canned_service.CannedRefused as refused:
            raise _refused(refused)
        return Response(status=status.HTTP_204_NO_CONTENT)


# Notifications


class NotificationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=NotificationKind.choices)
    kind_label = serializers.CharField()
    text = serializers.CharField()
    conversation_id = serializers.IntegerField(allow_null=True)
    contact_name = serializers.CharField()
    actor_name = serializers.CharField()
    created_at = serializers.DateTimeField()
    read = serializers.BooleanField()


class NotificationListSerializer(serializers.Serializer):
    results = NotificationSerializer(many=True)
    unread = serializers.IntegerField(help_text="How many of your notifications are unread.")
    next = serializers.URLField(allow_null=True)


class NotificationReadAllSerializer(serializers.Serializer):
    marked = serializers.IntegerField(help_text="How many notifications were marked read.")


class NotificationListView(APIView):
    @extend_schema(
        operation_id="notifications_list",
        tags=["notifications"],
        description="Your notifications, newest first. Follow `next` for older ones.",
        parameters=[
            OpenApiParameter("unread", OpenApiTypes.BOOL, description="Only unread ones."),
            OpenApiParameter("before", OpenApiTypes.INT, description="Only older than this id (from `next`)."),
            OpenApiParameter("limit", OpenApiTypes.INT, description=f"1 to {MAX_LIMIT} (default 30)."),
        ],
        responses={200: NotificationListSerializer, **ERRORS},
    )
    def get(self, request: Request) -> Response:
        limit = integer_parameter(request, "limit") or together_selectors.PANEL_SIZE
        if not 1 <= limit <= MAX_LIMIT:
            raise ApiError(400, "invalid", f"`limit` must be a whole number from 1 to {MAX_LIMIT}.")
        rows = together_selectors.notification_list(
            user=request.user,
            unread_only=request.query_params.get("unread") in ("1", "true", "yes"),
            before_id=integer_parameter(request, "before"),
            limit=limit + 1,
        )
        more = len(rows) > limit
        rows = rows[:limit]
        next_url = replace_query_param(request.build_absolute_uri(), "before", rows[-1].pk) if more and rows else None
        return Response(
            {
                "results": [notification_service.notification_snapshot(row) for row in rows],
                "unread": together_selectors.notification_unread_count(user=request.user),
                "next": next_url,
            }
        )


class NotificationReadView(APIView):
    @extend_schema(
        operation_id="notifications_read",
        tags=["notifications"],
        request=None,
        responses={200: NotificationSerializer, **ERRORS, **NOT_FOUND},
    )
    def post(self, request: Request, notification_id: int) -> Response:
        notification = (
            Notification.objects.select_related("actor", "conversation__contact")
            .filter(pk=notification_id, user=request.user)
            .first()
        )
        if notification is None:
            raise NotFound("No such notification.")
        notification_service.notification_mark_read(notification=notification, user=request.user)
        return Response(notification_service.notification_snapshot(notification))


class NotificationReadAllView(APIView):
    @extend_schema(
        operation_id="notifications_read_all",
        tags=["notifications"],
        request=None,
        responses={200: NotificationReadAllSerializer, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        return Response({"marked": notification_service.notifications_mark_all_read(user=request.user)})


# Search


class SearchMessageSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    conversation_id = serializers.IntegerField()
    direction = serializers.CharField()
    type = serializers.CharField()
    text = serializers.CharField()
    timestamp = serializers.DateTimeField()


class SearchConversationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    contact_name = serializers.CharField(source="contact.display_name")
    channel_id = serializers.IntegerField()
    status = serializers.CharField()
    last_message_preview = serializers.CharField()
    activity_at = serializers.DateTimeField()


class SearchContactSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField(source="display_name")
    wa_id = serializers.CharField(allow_null=True)
    latest_conversation_id = serializers.IntegerField(allow_null=True)


class SearchResultsSerializer(serializers.Serializer):
    query = serializers.CharField()
    messages = SearchMessageSerializer(many=True)
    conversations = SearchConversationSerializer(many=True)
    contacts = SearchContactSerializer(many=True)


class SearchView(APIView):
    @extend_schema(
        operation_id="search",
        tags=["search"],
        description="Messages, conversations and contacts you may see that match every word of `q` "
        "(words match as prefixes on PostgreSQL). At most 20 of each kind, newest first.",
        parameters=[
            OpenApiParameter("q", OpenApiTypes.STR, required=True),
            OpenApiParameter("kind", OpenApiTypes.STR, enum=list(together_selectors.SEARCH_KINDS)),
        ],
        responses={200: SearchResultsSerializer, **ERRORS},
    )
    def get(self, request: Request) -> Response:
        kind = request.query_params.get("kind") or None
        if kind is not None and kind not in together_selectors.SEARCH_KINDS:
            raise ApiError(400, "invalid", f"`kind` must be one of {', '.join(together_selectors.SEARCH_KINDS)}.")
        results = together_selectors.search(user=request.user, query=request.query_params.get("q", ""), kind=kind)
        return Response(SearchResultsSerializer(results).data)
