"""REST API v1 for people, teams and the audit log: thin views over `accounts.selectors` and
`accounts.services`. Reads are scoped (something out of sight answers 404); writes are for admins (403)."""

from django.db import transaction
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import selectors, services
from accounts.models import AuditEntry, Role, Team, User
from inbox import access
from inbox.api.errors import ApiError
from inbox.api.pagination import PAGE_PARAMETERS, next_link, page_request
from inbox.api.serializers import ErrorSerializer
from inbox.models import Channel

ERRORS = {400: ErrorSerializer, 401: ErrorSerializer, 403: ErrorSerializer}
NOT_FOUND = {404: ErrorSerializer}


# Serializers


class TeamRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Team
        fields = ["id", "name"]
        read_only_fields = fields


class UserSerializer(serializers.ModelSerializer):
    teams = TeamRefSerializer(many=True, read_only=True)

    class Meta:
        model = User
        fields = ["id", "email", "name", "role", "is_active", "presence", "max_open_conversations", "teams"]
        read_only_fields = fields


class UserListSerializer(serializers.Serializer):
    results = UserSerializer(many=True)


class UserUpdateSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=Role.choices, required=False)
    is_active = serializers.BooleanField(required=False, help_text="False deactivates: signed out everywhere.")
    max_open_conversations = serializers.IntegerField(min_value=0, max_value=10_000, required=False)


class InvitationCreateSerializer(serializers.Serializer):
    email = serializers.EmailField()
    role = serializers.ChoiceField(choices=Role.choices, default=Role.AGENT)
    teams = serializers.ListField(child=serializers.IntegerField(min_value=1), required=False, default=list)


class InvitationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.EmailField()
    role = serializers.ChoiceField(choices=Role.choices)
    expires_at = serializers.DateTimeField()
    url = serializers.URLField(help_text="The invitation link, shown once: send it to the person.")


class MemberSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "email", "name", "role"]
        read_only_fields = fields


class ChannelRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Channel
        fields = ["id", "name"]
        read_only_fields = fields


class TeamSerializer(serializers.ModelSerializer):
    members = MemberSerializer(many=True, read_only=True)
    channels = ChannelRefSerializer(many=True, read_only=True)

    class Meta:
        model = Team
        fields = ["id", "name", "members", "channels", "created_at"]
        read_only_fields = fields


class TeamListSerializer(serializers.Serializer):
    results = TeamSerializer(many=True)


class TeamWriteSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=120)


class TeamMembersSerializer(serializers.Serializer):
    members = serializers.ListField(child=serializers.IntegerField(min_value=1), help_text="User ids.")


class TeamChannelsSerializer(serializers.Serializer):
    channels = serializers.ListField(child=serializers.IntegerField(min_value=1), help_text="Channel ids.")


class AuditEntrySerializer(serializers.ModelSerializer):
    actor = MemberSerializer(read_only=True, allow_null=True)
    details = serializers.DictField(read_only=True)

    class Meta:
        model = AuditEntry
        fields = ["id", "actor", "action", "target_type", "target_id", "details", "created_at"]
        read_only_fields = fields


class AuditEntryPageSerializer(serializers.Serializer):
    results = AuditEntrySerializer(many=True)
    next = serializers.URLField(allow_null=True, help_text="The following page, or null on the last one.")


# Helpers


def _call(service, **kwargs):
    """Run a service, mapping its refusals to the API's errors."""
    try:
        return service(**kwargs)
    except services.NotAllowed:
        raise PermissionDenied("Only admins change people and teams.")
    except services.InvalidChange as exc:
        raise ApiError(400, exc.code, exc.detail)


def _require_admin(user: User) -> None:
    if not access.can_manage_users(user):
        raise PermissionDenied("Only admins change people and teams.")


def _user_or_404(request: Request, user_id: int) -> User:
    user = selectors.user_get(user=request.user, user_id=user_id)
    if user is None:
        if not access.can_view_users(request.user):
            raise PermissionDenied("Only admins and managers see the people list.")
        raise NotFound("No such user.")
    return user


def _team_or_404(request: Request, team_id: int) -> Team:
    team = selectors.team_get(user=request.user, team_id=team_id)
    if team is None:
        raise NotFound("No such team.")
    return team


def _ids_or_400(model, ids: list[int], field: str) -> list:
    rows = list(model.objects.filter(pk__in=set(ids)))
    if len(rows) != len(set(ids)):
        missing = sorted(set(ids) - {row.pk for row in rows})
        raise ApiError(400, "invalid", f"Unknown {field}: {', '.join(map(str, missing))}.")
    return rows


# People


class UserListView(APIView):
    @extend_schema(
        operation_id="users_list",
        tags=["users"],
        description="Everyone with their role, teams and presence (admins and managers).",
        responses={200: UserListSerializer, **ERRORS},
    )
    def get(self, request: Request) -> Response:
        if not access.can_view_users(request.user):
            raise PermissionDenied("Only admins and managers see the people list.")
        return Response({"results": UserSerializer(selectors.user_list(user=request.user), many=True).data})


class UserDetailView(APIView):
    @extend_schema(
        operation_id="users_retrieve", tags=["users"], responses={200: UserSerializer, **ERRORS, **NOT_FOUND}
    )
    def get(self, request: Request, user_id: int) -> Response:
        return Response(UserSerializer(_user_or_404(request, user_id)).data)

    @extend_schema(
        operation_id="users_partial_update",
        tags=["users"],
        description="Change a role, deactivate or reactivate, or set the capacity (admins only).",
        request=UserUpdateSerializer,
        responses={200: UserSerializer, **ERRORS, **NOT_FOUND},
    )
    def patch(self, request: Request, user_id: int) -> Response:
        _require_admin(request.user)
        user = _user_or_404(request, user_id)
        serializer = UserUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        # All or nothing: a refused part (the last admin's role, say) leaves the others unchanged too.
        with transaction.atomic():
            if "max_open_conversations" in data:
                user = _call(
                    services.user_set_capacity,
                    actor=request.user,
                    user=user,
                    max_open_conversations=data["max_open_conversations"],
                )
            if "role" in data:
                user = _call(services.user_set_role, actor=request.user, user=user, role=data["role"])
            if "is_active" in data:
                user = _call(services.user_set_active, actor=request.user, user=user, is_active=data["is_active"])
        return Response(UserSerializer(selectors.user_get(user=request.user, user_id=user.pk)).data)


class InvitationCreateView(APIView):
    @extend_schema(
        operation_id="users_invitations_create",
        tags=["users"],
        description="Invite someone by e-mail (admins only). The answer carries the link once; it expires in 7 days.",
        request=InvitationCreateSerializer,
        responses={201: InvitationSerializer, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        _require_admin(request.user)
        serializer = InvitationCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        teams = _ids_or_400(Team, data["teams"], "teams")
        link = _call(
            services.invitation_create, actor=request.user, email=data["email"], role=data["role"], teams=teams
        )
        invitation = link.invitation
        body = {
            "id": invitation.pk,
            "email": invitation.email,
            "role": invitation.role,
            "expires_at": invitation.expires_at,
            "url": request.build_absolute_uri(link.path),
        }
        return Response(InvitationSerializer(body).data, status=status.HTTP_201_CREATED)


# Teams


class TeamListView(APIView):
    @extend_schema(
        operation_id="teams_list",
        tags=["teams"],
        description="Every team for admins and managers; an agent's own teams for agents.",
        responses={200: TeamListSerializer, **ERRORS},
    )
    def get(self, request: Request) -> Response:
        return Response({"results": TeamSerializer(selectors.team_list(user=request.user), many=True).data})

    @extend_schema(
        operation_id="teams_create",
        tags=["teams"],
        request=TeamWriteSerializer,
        responses={201: TeamSerializer, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        _require_admin(request.user)
        serializer = TeamWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        team = _call(services.team_create, actor=request.user, name=serializer.validated_data["name"])
        return Response(TeamSerializer(_team_or_404(request, team.pk)).data, status=status.HTTP_201_CREATED)


class TeamDetailView(APIView):
    @extend_schema(
        operation_id="teams_retrieve", tags=["teams"], responses={200: TeamSerializer, **ERRORS, **NOT_FOUND}
    )
    def get(self, request: Request, team_id: int) -> Response:
        return Response(TeamSerializer(_team_or_404(request, team_id)).data)

    @extend_schema(
        operation_id="teams_partial_update",
        tags=["teams"],
        description="Rename a team (admins only).",
        request=TeamWriteSerializer,
        responses={200: TeamSerializer, **ERRORS, **NOT_FOUND},
    )
    def patch(self, request: Request, team_id: int) -> Response:
        team = _team_or_404(request, team_id)
        _require_admin(request.user)
        serializer = TeamWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        _call(services.team_rename, actor=request.user, team=team, name=serializer.validated_data["name"])
        return Response(TeamSerializer(_team_or_404(request, team_id)).data)

    @extend_schema(
        operation_id="teams_destroy",
        tags=["teams"],
        description="Delete a team (admins only). Its conversations go back to every team working their channel.",
        responses={204: None, **ERRORS, **NOT_FOUND},
    )
    def delete(self, request: Request, team_id: int) -> Response:
        team = _team_or_404(request, team_id)
        _require_admin(request.user)
        _call(services.team_delete, actor=request.user, team=team)
        return Response(status=status.HTTP_204_NO_CONTENT)


class TeamMembersView(APIView):
    @extend_schema(
        operation_id="teams_members_update",
        tags=["teams"],
        description="Replace the team's members (admins only). Someone removed stops seeing its conversations at once.",
        request=TeamMembersSerializer,
        responses={200: TeamSerializer, **ERRORS, **NOT_FOUND},
    )
    def put(self, request: Request, team_id: int) -> Response:
        team = _team_or_404(request, team_id)
        _require_admin(request.user)
        serializer = TeamMembersSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        members = _ids_or_400(User, serializer.validated_data["members"], "users")
        _call(services.team_set_members, actor=request.user, team=team, members=members)
        return Response(TeamSerializer(_team_or_404(request, team_id)).data)


class TeamChannelsView(APIView):
    @extend_schema(
        operation_id="teams_channels_update",
        tags=["teams"],
        description="Replace the channels the team works (admins only).",
        request=TeamChannelsSerializer,
        responses={200: TeamSerializer, **ERRORS, **NOT_FOUND},
    )
    def put(self, request: Request, team_id: int) -> Response:
        team = _team_or_404(request, team_id)
        _require_admin(request.user)
        serializer = TeamChannelsSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        channels = _ids_or_400(Channel, serializer.validated_data["channels"], "channels")
        _call(services.team_set_channels, actor=request.user, team=team, channels=channels)
        return Response(TeamSerializer(_team_or_404(request, team_id)).data)


# The audit log


class AuditLogView(APIView):
    @extend_schema(
        operation_id="audit_log_list",
        tags=["audit log"],
        description="Who did what to people, teams, channels and conversations, newest first (admins only).",
        parameters=PAGE_PARAMETERS,
        responses={200: AuditEntryPageSerializer, **ERRORS},
    )
    def get(self, request: Request) -> Response:
        if not access.can_view_audit_log(request.user):
            raise PermissionDenied("Only admins read the audit log.")
        after, limit = page_request(request)
        page = selectors.audit_page(user=request.user, after=after, limit=limit)
        return Response({"results": AuditEntrySerializer(page.items, many=True).data, "next": next_link(request, page)})
