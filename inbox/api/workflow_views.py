"""REST API v1 for the conversation workflow: assign, take, transfer, status, priority and labels, bulk
actions, the label list, saved views and the person's presence. Thin views: each authorises through the
service it calls (`inbox.services.workflow`), whose refusals map to HTTP here."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Presence, Team, User
from inbox import access
from inbox.api.errors import ApiError
from inbox.api.pagination import MAX_ID
from inbox.api.serializers import ConversationSerializer, ErrorSerializer, LabelSerializer
from inbox.api.views import ConversationDetailView as BaseConversationDetailView
from inbox.api.views import _conversation_or_404
from inbox.models import Conversation, ConversationStatus, Label, Priority, SavedView
from inbox.services import workflow

ERRORS = {400: ErrorSerializer, 401: ErrorSerializer, 403: ErrorSerializer}
NOT_FOUND = {404: ErrorSerializer}
REFUSED = {409: ErrorSerializer}
_ID = {"min_value": 1, "max_value": MAX_ID}


def _refused(refusal: workflow.WorkflowRefused) -> Exception:
    if refusal.code == "permission_denied":
        return PermissionDenied(refusal.detail)
    return ApiError(409, refusal.code, refusal.detail)


def _person(user_id: int | None) -> User | None:
    if user_id is None:
        return None
    person = User.objects.filter(pk=user_id).first()
    if person is None:
        raise ValidationError({"assignee_id": ["No such person."]})
    return person


def _team(team_id: int | None) -> Team | None:
    if team_id is None:
        return None
    team = Team.objects.filter(pk=team_id).first()
    if team is None:
        raise ValidationError({"team_id": ["No such team."]})
    return team


def _labels(label_ids: list[int]) -> list[Label]:
    labels = list(Label.objects.filter(pk__in=label_ids))
    if len(labels) != len(set(label_ids)):
        raise ValidationError({"labels": ["No such label."]})
    return labels


def _answer(request: Request, conversation: Conversation) -> Response:
    fresh = _conversation_or_404(request.user, conversation.pk)
    return Response(ConversationSerializer(fresh).data)


# Serializers


class AssignSerializer(serializers.Serializer):
    assignee_id = serializers.IntegerField(
        required=False, allow_null=True, **_ID, help_text="The person; null (with no team) unassigns."
    )
    team_id = serializers.IntegerField(
        required=False, allow_null=True, **_ID, help_text="The team; alone, the team's round robin picks someone."
    )


class TransferSerializer(AssignSerializer):
    note = serializers.CharField(
        required=False, allow_blank=True, max_length=4096, help_text="A private note to the new holder."
    )


class StatusSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=ConversationStatus.choices)
    snoozed_until = serializers.DateTimeField(required=False, allow_null=True, help_text="Required to snooze.")


class ConversationUpdateSerializer(serializers.Serializer):
    priority = serializers.ChoiceField(choices=Priority.choices, required=False)
    labels = serializers.ListField(
        child=serializers.IntegerField(**_ID), required=False, max_length=50, help_text="The label ids, all of them."
    )


class BulkSerializer(serializers.Serializer):
    ids = serializers.ListField(child=serializers.IntegerField(**_ID), min_length=1, max_length=200)
    action = serializers.ChoiceField(choices=[(a.value, a.value) for a in workflow.BulkAction])
    assignee_id = serializers.IntegerField(required=False, allow_null=True, **_ID)
    team_id = serializers.IntegerField(required=False, allow_null=True, **_ID)
    labels = serializers.ListField(child=serializers.IntegerField(**_ID), required=False, max_length=50)


class BulkResultSerializer(serializers.Serializer):
    changed = serializers.ListField(child=serializers.IntegerField(), help_text="The conversations changed.")
    refused = serializers.DictField(
        child=serializers.CharField(), help_text="Conversation id -> the refusal's code, for those left unchanged."
    )


class LabelListSerializer(serializers.Serializer):
    results = LabelSerializer(many=True)


class SavedViewSerializer(serializers.ModelSerializer):
    filters = serializers.DictField(
        child=serializers.CharField(),
        help_text=f"The list's filters by name: {', '.join(workflow.SAVED_VIEW_FILTERS)}.",
    )

    class Meta:
        model = SavedView
        fields = ["id", "name", "filters", "created_at"]
        read_only_fields = ["id", "created_at"]


class SavedViewListSerializer(serializers.Serializer):
    results = SavedViewSerializer(many=True)


class PresenceSerializer(serializers.Serializer):
    presence = serializers.ChoiceField(choices=Presence.choices)


# Conversations


class ConversationAssignView(APIView):
    @extend_schema(
        operation_id="conversations_assign",
        tags=["workflow"],
        description=(
            "Give the conversation to a person and/or a team (agents and admins). A team alone puts it in that "
            "team's queue and its round robin assigns an online member with room. `assignee_id: null` with no "
            "team unassigns it."
        ),
        request=AssignSerializer,
        responses={200: ConversationSerializer, **ERRORS, **NOT_FOUND, **REFUSED},
    )
    def post(self, request: Request, conversation_id: int) -> Response:
        conversation = _conversation_or_404(request.user, conversation_id)
        serializer = AssignSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            if data.get("assignee_id") is None and data.get("team_id") is None:
                if "assignee_id" not in data:
                    raise ValidationError({"assignee_id": ["Give assignee_id, team_id or both."]})
                workflow.conversation_unassign(conversation=conversation, actor=request.user)
            else:
                workflow.conversation_assign(
                    conversation=conversation,
                    actor=request.user,
                    assignee=_person(data.get("assignee_id")),
                    team=_team(data.get("team_id")),
                )
        except workflow.WorkflowRefused as refusal:
            raise _refused(refusal)
        return _answer(request, conversation)


class ConversationTakeView(APIView):
    @extend_schema(
        operation_id="conversations_take",
        tags=["workflow"],
        description="Assign the conversation to yourself.",
        request=None,
        responses={200: ConversationSerializer, **ERRORS, **NOT_FOUND, **REFUSED},
    )
    def post(self, request: Request, conversation_id: int) -> Response:
        conversation = _conversation_or_404(request.user, conversation_id)
        try:
            workflow.conversation_take(conversation=conversation, actor=request.user)
        except workflow.WorkflowRefused as refusal:
            raise _refused(refusal)
        return _answer(request, conversation)


class ConversationTransferView(APIView):
    @extend_schema(
        operation_id="conversations_transfer",
        tags=["workflow"],
        description="Hand the conversation to another person and/or team with a private note saying why.",
        request=TransferSerializer,
        responses={200: ConversationSerializer, **ERRORS, **NOT_FOUND, **REFUSED},
    )
    def post(self, request: Request, conversation_id: int) -> Response:
        conversation = _conversation_or_404(request.user, conversation_id)
        serializer = TransferSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            workflow.conversation_transfer(
                conversation=conversation,
                actor=request.user,
                assignee=_person(data.get("assignee_id")),
                team=_team(data.get("team_id")),
                note=data.get("note", ""),
            )
        except workflow.WorkflowRefused as refusal:
            raise _refused(refusal)
        return _answer(request, conversation)


class ConversationStatusView(APIView):
    @extend_schema(
        operation_id="conversations_status",
        tags=["workflow"],
        description=(
            "Resolve, reopen, mark pending, or snooze until `snoozed_until`. A snoozed conversation opens "
            "again at that time or when the customer writes; a resolved one when the customer writes."
        ),
        request=StatusSerializer,
        responses={200: ConversationSerializer, **ERRORS, **NOT_FOUND, **REFUSED},
    )
    def post(self, request: Request, conversation_id: int) -> Response:
        conversation = _conversation_or_404(request.user, conversation_id)
        serializer = StatusSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            workflow.conversation_status_set(
                conversation=conversation,
                actor=request.user,
                status=data["status"],
                snoozed_until=data.get("snoozed_until"),
            )
        except workflow.WorkflowRefused as refusal:
            raise _refused(refusal)
        return _answer(request, conversation)


class ConversationDetailView(BaseConversationDetailView):
    @extend_schema(
        operation_id="conversations_partial_update",
        tags=["workflow"],
        description="Change the priority and/or the labels (the full list of label ids).",
        request=ConversationUpdateSerializer,
        responses={200: ConversationSerializer, **ERRORS, **NOT_FOUND, **REFUSED},
    )
    def patch(self, request: Request, conversation_id: int) -> Response:
        conversation = _conversation_or_404(request.user, conversation_id)
        serializer = ConversationUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            if "priority" in data:
                workflow.conversation_priority_set(
                    conversation=conversation, actor=request.user, priority=data["priority"]
                )
            if "labels" in data:
                workflow.conversation_labels_set(
                    conversation=conversation, actor=request.user, labels=_labels(data["labels"])
                )
        except workflow.WorkflowRefused as refusal:
            raise _refused(refusal)
        return _answer(request, conversation)


class ConversationBulkView(APIView):
    @extend_schema(
        operation_id="conversations_bulk",
        tags=["workflow"],
        description=(
            "One action on many conversations: `assign` (with `assignee_id` and/or `team_id`), `label` (adds "
            "`labels`) or `resolve`. Conversations you may not see are reported as refused (`not_found`)."
        ),
        request=BulkSerializer,
        responses={200: BulkResultSerializer, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        serializer = BulkSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        action = workflow.BulkAction(data["action"])
        if action == workflow.BulkAction.ASSIGN and data.get("assignee_id") is None and data.get("team_id") is None:
            raise ValidationError({"assignee_id": ["Give assignee_id, team_id or both."]})
        if action == workflow.BulkAction.LABEL and not data.get("labels"):
            raise ValidationError({"labels": ["Give the labels to add."]})
        ids = set(data["ids"])
        conversations = list(access.conversations_visible_to(request.user).filter(pk__in=ids).order_by("pk"))
        result = workflow.conversations_bulk(
            actor=request.user,
            conversations=conversations,
            action=action,
            assignee=_person(data.get("assignee_id")),
            team=_team(data.get("team_id")),
            labels=_labels(data.get("labels", [])),
        )
        refused = {str(pk): code for pk, code in result.refused.items()}
        refused |= {str(pk): "not_found" for pk in ids - {c.pk for c in conversations}}
        return Response({"changed": result.changed, "refused": refused})


# Labels, saved views, presence


class LabelListView(APIView):
    @extend_schema(operation_id="labels_list", tags=["workflow"], responses={200: LabelListSerializer, **ERRORS})
    def get(self, request: Request) -> Response:
        return Response({"results": LabelSerializer(Label.objects.all(), many=True).data})

    @extend_schema(
        operation_id="labels_create",
        tags=["workflow"],
        description="Add a label to the shared list (admins only).",
        request=LabelSerializer,
        responses={201: LabelSerializer, **ERRORS, **REFUSED},
    )
    def post(self, request: Request) -> Response:
        if not access.can_manage_labels(request.user):
            raise PermissionDenied("Only admins manage the list of labels.")
        serializer = LabelSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            label = workflow.label_create(
                actor=request.user,
                name=serializer.validated_data["name"],
                color=serializer.validated_data.get("color", ""),
            )
        except workflow.WorkflowRefused as refusal:
            raise _refused(refusal)
        return Response(LabelSerializer(label).data, status=status.HTTP_201_CREATED)


class LabelPatchSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=64, required=False)
    color = serializers.CharField(max_length=7, required=False, help_text="A hex colour such as #1a7f5a.")


class LabelDetailView(APIView):
    @extend_schema(
        operation_id="labels_update",
        tags=["workflow"],
        description="Rename and/or recolour a label (admins only); conversations carrying it keep it.",
        request=LabelPatchSerializer,
        responses={200: LabelSerializer, **ERRORS, **NOT_FOUND, **REFUSED},
    )
    def patch(self, request: Request, label_id: int) -> Response:
        label = _label_or_404(label_id)
        serializer = LabelPatchSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            label = workflow.label_update(
                label=label,
                actor=request.user,
                name=serializer.validated_data.get("name"),
                color=serializer.validated_data.get("color"),
            )
        except workflow.WorkflowRefused as refusal:
            raise _refused(refusal)
        return Response(LabelSerializer(label).data)

    @extend_schema(
        operation_id="labels_destroy",
        tags=["workflow"],
        description="Delete a label (admins only): it is taken off every conversation carrying it.",
        request=None,
        responses={204: None, **ERRORS, **NOT_FOUND},
    )
    def delete(self, request: Request, label_id: int) -> Response:
        label = _label_or_404(label_id)
        try:
            workflow.label_delete(label=label, actor=request.user)
        except workflow.WorkflowRefused as refusal:
            raise _refused(refusal)
        return Response(status=status.HTTP_204_NO_CONTENT)


def _label_or_404(label_id: int) -> Label:
    label = Label.objects.filter(pk=label_id).first()
    if label is None:
        raise NotFound("No such label.")
    return label


class SavedViewListView(APIView):
    @extend_schema(
        operation_id="saved_views_list",
        tags=["workflow"],
        description="Your saved views of the conversation list.",
        responses={200: SavedViewListSerializer, **ERRORS},
    )
    def get(self, request: Request) -> Response:
        views = SavedView.objects.filter(owner=request.user)
        return Response({"results": SavedViewSerializer(views, many=True).data})

    @extend_schema(
        operation_id="saved_views_create",
        tags=["workflow"],
        description="Save filters under a name (saving an existing name replaces its filters).",
        request=SavedViewSerializer,
        responses={201: SavedViewSerializer, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        serializer = SavedViewSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            view = workflow.saved_view_create(
                owner=request.user,
                name=serializer.validated_data["name"],
                filters=serializer.validated_data["filters"],
            )
        except workflow.WorkflowRefused as refusal:
            raise ApiError(400, refusal.code, refusal.detail)
        return Response(SavedViewSerializer(view).data, status=status.HTTP_201_CREATED)


class SavedViewDetailView(APIView):
    @extend_schema(
        operation_id="saved_views_delete",
        tags=["workflow"],
        request=None,
        responses={204: None, **ERRORS, **NOT_FOUND},
    )
    def delete(self, request: Request, saved_view_id: int) -> Response:
        if not workflow.saved_view_delete(owner=request.user, saved_view_id=saved_view_id):
            raise NotFound("No such saved view.")
        return Response(status=status.HTTP_204_NO_CONTENT)


class PresenceView(APIView):
    @extend_schema(
        operation_id="me_presence",
        tags=["workflow"],
        description=(
            "Set your presence. Only online people receive conversations automatically; coming online serves "
            "your teams' queues. Sockets that stay closed for two minutes set you offline."
        ),
        request=PresenceSerializer,
        responses={200: PresenceSerializer, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        serializer = PresenceSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = workflow.user_presence_set(user=request.user, presence=serializer.validated_data["presence"])
        return Response({"presence": user.presence})
