"""`/api/v1/templates/...`: message templates over the REST API: list, read, draft, edit, lint, ask for
approval, review, submit again, sync, and each template's timeline and analytics. Thin shells over
`templates_app.services`; refusals come back as `{"code", "detail"}` (with `findings` when lint refused)."""

from django.db.models import Q
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from inbox.api.errors import ApiError
from inbox.api.serializers import ErrorSerializer
from templates_app import access, lint, policy, selectors, services
from templates_app.models import (
    MessageTemplate,
    ParameterFormat,
    ProviderStatus,
    TemplateCategory,
    TemplateEvent,
    TemplateRevision,
)

ERRORS = {400: ErrorSerializer, 401: ErrorSerializer, 403: ErrorSerializer}
NOT_FOUND = {404: ErrorSerializer}
TAGS = ["templates"]


class FindingSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Stable code of the rule, e.g. `variable_at_start`.")
    severity = serializers.ChoiceField(choices=["error", "warning"])
    part = serializers.CharField(help_text="Where to fix it: `name`, `body`, `buttons.2`, `samples.body.1`...")
    message = serializers.CharField()


class RefusalSerializer(ErrorSerializer):
    findings = FindingSerializer(many=True, required=False)


class RevisionSerializer(serializers.ModelSerializer):
    author = serializers.SerializerMethodField()
    reviewed_by = serializers.SerializerMethodField()

    class Meta:
        model = TemplateRevision
        fields = [
            "id",
            "number",
            "state",
            "category",
            "parameter_format",
            "components",
            "allow_category_change",
            "variable_fields",
            "author",
            "review_requested_at",
            "reviewed_by",
            "reviewed_at",
            "review_comment",
            "submitted_at",
            "provider_error",
            "created_at",
            "updated_at",
        ]

    def get_author(self, revision: TemplateRevision) -> int | None:
        return revision.author_id

    def get_reviewed_by(self, revision: TemplateRevision) -> int | None:
        return revision.reviewed_by_id


class TemplateSerializer(serializers.ModelSerializer):
    sendable = serializers.SerializerMethodField(help_text="May it be sent now?")
    why_not_sendable = serializers.SerializerMethodField()
    disabled_by = serializers.SerializerMethodField(help_text="For a FLAGGED template: when it will be disabled.")
    live_revision = RevisionSerializer(read_only=True)
    open_revision = serializers.SerializerMethodField()

    class Meta:
        model = MessageTemplate
        fields = [
            "id",
            "waba_id",
            "name",
            "language",
            "category",
            "previous_category",
            "upcoming_category",
            "upcoming_category_at",
            "parameter_format",
            "provider_template_id",
            "status",
            "status_reason",
            "quality",
            "flagged_at",
            "disabled_by",
            "sendable",
            "why_not_sendable",
            "live_revision",
            "open_revision",
            "created_at",
            "updated_at",
        ]

    def _sendability(self, template: MessageTemplate) -> policy.Sendability:
        return policy.sendability(status=template.status, has_live_revision=template.live_revision_id is not None)

    def get_sendable(self, template: MessageTemplate) -> bool:
        return self._sendability(template).sendable

    def get_why_not_sendable(self, template: MessageTemplate) -> str:
        return self._sendability(template).why_not

    def get_disabled_by(self, template: MessageTemplate) -> str | None:
        if template.status != ProviderStatus.FLAGGED:
            return None
        moment = policy.disabled_by(flagged_at=template.flagged_at, disable_at=template.disable_at)
        return moment.isoformat() if moment else None

    @extend_schema_field(RevisionSerializer(allow_null=True))
    def get_open_revision(self, template: MessageTemplate) -> dict | None:
        revision = services.open_revision(template)
        return RevisionSerializer(revision).data if revision is not None else None


class TemplateListSerializer(serializers.Serializer):
    results = TemplateSerializer(many=True)


class DraftSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=512)
    language = serializers.CharField(max_length=16)
    category = serializers.ChoiceField(choices=TemplateCategory.choices)
    parameter_format = serializers.ChoiceField(choices=ParameterFormat.choices, default=ParameterFormat.POSITIONAL)
    components = serializers.ListField(
        child=serializers.DictField(), help_text="WhatsApp's create shape: HEADER, BODY, FOOTER, BUTTONS."
    )
    allow_category_change = serializers.BooleanField(default=False)
    variable_fields = serializers.DictField(
        child=serializers.CharField(),
        default=dict,
        help_text='Prefill a variable when sending: {"body.1": "contact.first_name"}.',
    )

    def draft(self) -> services.Draft:
        return services.Draft(**self.validated_data)


class DraftCreateSerializer(DraftSerializer):
    waba_id = serializers.CharField(max_length=64, help_text="The WhatsApp Business Account the template lives on.")

    def draft(self) -> services.Draft:
        fields = dict(self.validated_data)
        fields.pop("waba_id")
        return services.Draft(**fields)


class LintSerializer(DraftCreateSerializer):
    template = serializers.IntegerField(required=False, help_text="The template being edited, if any.")

    def draft(self) -> services.Draft:
        fields = dict(self.validated_data)
        fields.pop("waba_id")
        fields.pop("template", None)
        return services.Draft(**fields)


class LintResultSerializer(serializers.Serializer):
    findings = FindingSerializer(many=True)
    has_errors = serializers.BooleanField()


class ReviewSerializer(serializers.Serializer):
    approve = serializers.BooleanField()
    comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class SyncSerializer(serializers.Serializer):
    waba_id = serializers.CharField(max_length=64)


class SyncResultSerializer(serializers.Serializer):
    imported = serializers.IntegerField()
    updated = serializers.IntegerField()
    error = serializers.CharField()


class EventSerializer(serializers.ModelSerializer):
    revision = serializers.SerializerMethodField()
    actor = serializers.SerializerMethodField()

    class Meta:
        model = TemplateEvent
        fields = ["id", "kind", "revision", "actor", "from_value", "to_value", "comment", "occurred_at"]

    def get_revision(self, event: TemplateEvent) -> int | None:
        return event.revision.number if event.revision else None

    def get_actor(self, event: TemplateEvent) -> int | None:
        return event.actor_id


class EventListSerializer(serializers.Serializer):
    results = EventSerializer(many=True)


def _valid(serializer_class: type[serializers.Serializer], data) -> serializers.Serializer:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer


def _refused(refused: services.TemplateRefused) -> Response:
    statuses = {"permission_denied": 403, "duplicate_name_language": 409, "wrong_state": 409, "not_editable": 409}
    body = {"code": refused.code, "detail": refused.detail}
    if refused.findings:
        body["findings"] = [finding.__dict__ for finding in refused.findings]
    return Response(body, status=statuses.get(refused.code, 422))


def _template_or_404(request: Request, template_id: int) -> MessageTemplate:
    template = access.templates_visible_to(request.user).select_related("live_revision").filter(pk=template_id).first()
    if template is None:
        raise NotFound("No such template.")
    return template


def _open_revision_or_409(template: MessageTemplate) -> TemplateRevision:
    revision = services.open_revision(template)
    if revision is None:
        raise ApiError(409, "wrong_state", "No revision of this template is on its way: edit it to start one.")
    return revision


class TemplateListView(APIView):
    @extend_schema(
        operation_id="templates_list",
        tags=TAGS,
        description="The templates of the WhatsApp accounts you work (at most 250 per account, WhatsApp's limit).",
        parameters=[
            OpenApiParameter("status", OpenApiTypes.STR, description="WhatsApp's status, e.g. APPROVED."),
            OpenApiParameter("category", OpenApiTypes.STR),
            OpenApiParameter("language", OpenApiTypes.STR),
            OpenApiParameter("name", OpenApiTypes.STR, description="Names containing this."),
            OpenApiParameter("sendable", OpenApiTypes.BOOL, description="Only templates that may be sent now."),
        ],
        responses={200: TemplateListSerializer, **ERRORS},
    )
    def get(self, request: Request) -> Response:
        templates = access.templates_visible_to(request.user).select_related("live_revision")
        params = request.query_params
        for field in ("status", "category", "language"):
            if params.get(field):
                templates = templates.filter(**{field: params[field]})
        if params.get("name"):
            templates = templates.filter(name__icontains=params["name"])
        if params.get("sendable") in ("true", "1"):
            templates = templates.filter(Q(status__in=policy.SENDABLE_STATUSES), live_revision__isnull=False)
        return Response({"results": TemplateSerializer(templates[:1000], many=True).data})

    @extend_schema(
        operation_id="templates_create",
        tags=TAGS,
        description="Write a new template: it is saved as a draft (revision 1). Lint findings do not stop a draft.",
        request=DraftCreateSerializer,
        responses={201: TemplateSerializer, 409: RefusalSerializer, 422: RefusalSerializer, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        data = _valid(DraftCreateSerializer, request.data)
        try:
            revision = services.template_draft_create(
                author=request.user, waba_id=data.validated_data["waba_id"], draft=data.draft()
            )
        except services.TemplateRefused as refused:
            return _refused(refused)
        return Response(TemplateSerializer(revision.template).data, status=status.HTTP_201_CREATED)


class TemplateDetailView(APIView):
    @extend_schema(
        operation_id="templates_retrieve", tags=TAGS, responses={200: TemplateSerializer, **ERRORS, **NOT_FOUND}
    )
    def get(self, request: Request, template_id: int) -> Response:
        return Response(TemplateSerializer(_template_or_404(request, template_id)).data)

    @extend_schema(
        operation_id="templates_update",
        tags=TAGS,
        description=(
            "Change the template's content. A draft (or one sent back with changes requested) is changed in "
            "place; a template WhatsApp has seen gets a new revision that goes through approval again while "
            "the live revision keeps being sent."
        ),
        request=DraftSerializer,
        responses={200: TemplateSerializer, 409: RefusalSerializer, 422: RefusalSerializer, **ERRORS, **NOT_FOUND},
    )
    def put(self, request: Request, template_id: int) -> Response:
        template = _template_or_404(request, template_id)
        data = _valid(DraftSerializer, request.data)
        try:
            revision = services.open_revision(template)
            if revision is None:
                revision = services.template_revision_start(template=template, author=request.user)
            services.template_draft_update(revision=revision, author=request.user, draft=data.draft())
        except services.TemplateRefused as refused:
            return _refused(refused)
        return Response(TemplateSerializer(_template_or_404(request, template_id)).data)


class TemplateLintView(APIView):
    @extend_schema(
        operation_id="templates_lint",
        tags=TAGS,
        description="Check a draft against the rules WhatsApp rejects templates for, without saving it.",
        request=LintSerializer,
        responses={200: LintResultSerializer, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        data = _valid(LintSerializer, request.data)
        template = None
        if data.validated_data.get("template"):
            template = _template_or_404(request, data.validated_data["template"])
        findings = services.template_lint(draft=data.draft(), waba_id=data.validated_data["waba_id"], template=template)
        return Response(
            {"findings": [finding.__dict__ for finding in findings], "has_errors": lint.has_errors(findings)}
        )


class TemplateRequestReviewView(APIView):
    @extend_schema(
        operation_id="templates_request_review",
        tags=TAGS,
        description=(
            "Ask the admins to approve the revision on its way. Refused (`lint_failed`) while lint finds errors."
        ),
        request=None,
        responses={200: TemplateSerializer, 409: RefusalSerializer, 422: RefusalSerializer, **ERRORS, **NOT_FOUND},
    )
    def post(self, request: Request, template_id: int) -> Response:
        template = _template_or_404(request, template_id)
        try:
            services.template_review_request(revision=_open_revision_or_409(template), author=request.user)
        except services.TemplateRefused as refused:
            return _refused(refused)
        return Response(TemplateSerializer(_template_or_404(request, template_id)).data)


class TemplateReviewView(APIView):
    @extend_schema(
        operation_id="templates_review",
        tags=TAGS,
        description=(
            "Approve (it is then submitted to WhatsApp) or ask for changes (`comment` required). Admins only, "
            "never on their own revision (`four_eyes`)."
        ),
        request=ReviewSerializer,
        responses={200: TemplateSerializer, 409: RefusalSerializer, 422: RefusalSerializer, **ERRORS, **NOT_FOUND},
    )
    def post(self, request: Request, template_id: int) -> Response:
        template = _template_or_404(request, template_id)
        data = _valid(ReviewSerializer, request.data).validated_data
        try:
            services.template_review_decide(
                revision=_open_revision_or_409(template),
                reviewer=request.user,
                approve=data["approve"],
                comment=data["comment"],
            )
        except services.TemplateRefused as refused:
            return _refused(refused)
        return Response(TemplateSerializer(_template_or_404(request, template_id)).data)


class TemplateResubmitView(APIView):
    @extend_schema(
        operation_id="templates_resubmit",
        tags=TAGS,
        description="Try a failed submission to WhatsApp again (admins).",
        request=None,
        responses={200: TemplateSerializer, 409: RefusalSerializer, **ERRORS, **NOT_FOUND},
    )
    def post(self, request: Request, template_id: int) -> Response:
        template = _template_or_404(request, template_id)
        failed = template.revisions.filter(state="submission_failed").order_by("-number").first()
        if failed is None:
            raise ApiError(409, "wrong_state", "No submission of this template failed.")
        try:
            services.template_resubmit(revision=failed, user=request.user)
        except services.TemplateRefused as refused:
            return _refused(refused)
        return Response(TemplateSerializer(_template_or_404(request, template_id)).data)


class TemplateEventsView(APIView):
    @extend_schema(
        operation_id="templates_timeline",
        tags=TAGS,
        description="Every decision and every change WhatsApp reported, newest first.",
        responses={200: EventListSerializer, **ERRORS, **NOT_FOUND},
    )
    def get(self, request: Request, template_id: int) -> Response:
        template = _template_or_404(request, template_id)
        events = template.events.select_related("revision")[:500]
        return Response({"results": EventSerializer(events, many=True).data})


class TemplateAnalyticsView(APIView):
    @extend_schema(
        operation_id="templates_analytics",
        tags=TAGS,
        description="Messages sent with the template: sent, delivered, read, replied, failed (by error code).",
        responses={200: OpenApiTypes.OBJECT, **ERRORS, **NOT_FOUND},
    )
    def get(self, request: Request, template_id: int) -> Response:
        return Response(selectors.template_analytics(_template_or_404(request, template_id)))


class TemplateSyncView(APIView):
    @extend_schema(
        operation_id="templates_sync",
        tags=TAGS,
        description="Import the account's templates from WhatsApp and refresh the known ones (admins).",
        request=SyncSerializer,
        responses={200: SyncResultSerializer, 422: ErrorSerializer, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        data = _valid(SyncSerializer, request.data).validated_data
        try:
            result = services.templates_sync(waba_id=data["waba_id"], actor=request.user)
        except services.TemplateRefused as refused:
            return _refused(refused)
        return Response({"imported": result.imported, "updated": result.updated, "error": result.error})
