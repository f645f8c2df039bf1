"""REST API v1 for number health and the WhatsApp business profile.

- `GET /channels/<id>/health/`: quality, status, messaging limit (and how much the last 24 hours used),
  throughput, the flag's recovery end, the restriction's end, the last sync, and the timeline (keyset pages).
  Admins and managers. `PATCH` sets the throughput (admins).
- `POST /channels/<id>/health/sync/`: read the number from WhatsApp now (admins).
- `GET|PATCH /channels/<id>/business-profile/`: the profile as WhatsApp has it; a change goes to WhatsApp
  (admins). PATCH takes JSON, or multipart with a `photo` file.

Errors: `invalid` (400, with `fields`), `permission_denied` (403), `not_found` (404), `no_app_id` (422: a photo
needs the channel's Meta app id), `whatsapp_error` (502: WhatsApp refused or could not be reached; the
detail says why in plain words)."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import User
from inbox import access
from inbox.api.errors import ApiError
from inbox.api.pagination import PAGE_PARAMETERS, next_link, page_request
from inbox.api.serializers import ErrorSerializer
from inbox.models import Channel, HealthEventKind, NumberStatus, QualityRating
from inbox.providers.whatsapp_cloud import health
from inbox.services import number_health
from inbox.services.number_health import HealthRefused

ERRORS = {400: ErrorSerializer, 401: ErrorSerializer, 403: ErrorSerializer, 404: ErrorSerializer}
PROVIDER = {502: ErrorSerializer}


def _channel(user: User, channel_id: int, *, allowed: bool, why: str) -> Channel:
    if not allowed:
        raise PermissionDenied(why)
    channel = Channel.objects.filter(pk=channel_id).first()
    if channel is None:
        raise NotFound("No such channel.")
    return channel


def _refused(refusal: HealthRefused) -> Exception:
    if refusal.code == "permission_denied":
        return PermissionDenied(refusal.detail)
    if refusal.code in ("invalid_profile", "invalid_throughput"):
        return ValidationError({name: [problem] for name, problem in refusal.problems.items()})
    if refusal.code == "provider_error":
        return ApiError(status.HTTP_502_BAD_GATEWAY, "whatsapp_error", refusal.detail)
    return ApiError(status.HTTP_422_UNPROCESSABLE_ENTITY, refusal.code, refusal.detail)


# Serializers


class HealthEventSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=HealthEventKind.choices)
    previous = serializers.CharField(allow_blank=True)
    current = serializers.CharField(allow_blank=True)
    source = serializers.ChoiceField(
        choices=["webhook", "sync", "admin", "expiry"], help_text="A WhatsApp webhook, the sync, an admin, an expiry."
    )
    detail = serializers.CharField(allow_blank=True)
    occurred_at = serializers.DateTimeField()


class TimelineSerializer(serializers.Serializer):
    results = HealthEventSerializer(many=True)
    next = serializers.URLField(allow_null=True, help_text="The next (older) page, or null.")


class NumberHealthSerializer(serializers.Serializer):
    """A number's health now. `messaging_limit` null = unlimited; it and its use are per WhatsApp account
    (shared by its numbers). `flag_recovery_ends_at`: a flagged number's 7 days to recover."""

    channel_id = serializers.IntegerField()
    quality_rating = serializers.ChoiceField(choices=QualityRating.choices)
    number_status = serializers.ChoiceField(choices=NumberStatus.choices)
    messaging_limit = serializers.IntegerField(allow_null=True)
    messaging_limit_tier = serializers.CharField(allow_blank=True)
    messaging_limit_used_24h = serializers.IntegerField(help_text="Customers contacted first in the last 24 hours.")
    throughput_per_second = serializers.IntegerField()
    flagged_at = serializers.DateTimeField(allow_null=True)
    flag_recovery_ends_at = serializers.DateTimeField(allow_null=True)
    restricted_until = serializers.DateTimeField(allow_null=True)
    health_synced_at = serializers.DateTimeField(allow_null=True)
    timeline = TimelineSerializer()


class ThroughputSerializer(serializers.Serializer):
    throughput_per_second = serializers.IntegerField(help_text="Messages a second, 1 to 1,000.")


class BusinessProfileSerializer(serializers.Serializer):
    """The profile WhatsApp shows customers. In a PATCH every field is optional: omitted ones stay as they
    are; `websites` replaces the list (at most 2, http or https)."""

    about = serializers.CharField(required=False, allow_blank=True, help_text="1 to 139 characters.")
    description = serializers.CharField(required=False, allow_blank=True, help_text="Up to 512 characters.")
    address = serializers.CharField(required=False, allow_blank=True, help_text="Up to 256 characters.")
    email = serializers.CharField(required=False, allow_blank=True, help_text="Up to 128 characters.")
    websites = serializers.ListField(child=serializers.CharField(allow_blank=True), required=False)
    vertical = serializers.CharField(
        required=False, allow_blank=True, help_text=f"The industry, one of: {', '.join(health.VERTICALS)}."
    )
    profile_picture_url = serializers.CharField(read_only=True)
    photo = serializers.FileField(
        required=False, write_only=True, help_text="Multipart only: a new photo, JPEG or PNG up to 5 MB."
    )


def _health_data(request: Request, channel: Channel) -> dict:
    after, limit = page_request(request)
    page = number_health.timeline_page(channel=channel, before=after, limit=limit)
    return {
        "channel_id": channel.pk,
        "quality_rating": channel.quality_rating,
        "number_status": channel.number_status,
        "messaging_limit": channel.messaging_limit,
        "messaging_limit_tier": channel.messaging_limit_tier,
        "messaging_limit_used_24h": number_health.limit_usage(channel=channel).reached,
        "throughput_per_second": channel.throughput_per_second,
        "flagged_at": channel.flagged_at,
        "flag_recovery_ends_at": number_health.flag_recovery_ends_at(channel),
        "restricted_until": channel.restricted_until,
        "health_synced_at": channel.health_synced_at,
        "timeline": {
            "results": [
                {
                    "id": event.pk,
                    "kind": event.kind,
                    "previous": event.previous,
                    "current": event.current,
                    "source": event.source,
                    "detail": event.detail,
                    "occurred_at": event.occurred_at,
                }
                for event in page.events
            ],
            "next": next_link(request, page),
        },
    }


# Views


class NumberHealthView(APIView):
    @extend_schema(
        operation_id="channel_health_get",
        tags=["number health"],
        description="A number's health and its timeline, newest first (admins and managers).",
        parameters=PAGE_PARAMETERS,
        responses={200: NumberHealthSerializer, **ERRORS},
    )
    def get(self, request: Request, channel_id: int) -> Response:
        channel = _channel(
            request.user,
            channel_id,
            allowed=access.can_view_number_health(request.user),
            why="Only admins and managers see a number's health.",
        )
        return Response(NumberHealthSerializer(_health_data(request, channel)).data)

    @extend_schema(
        operation_id="channel_health_update",
        tags=["number health"],
        description="Set the number's throughput (admins; audited). A value under WhatsApp's level stays.",
        request=ThroughputSerializer,
        responses={200: NumberHealthSerializer, **ERRORS},
    )
    def patch(self, request: Request, channel_id: int) -> Response:
        channel = _channel(
            request.user,
            channel_id,
            allowed=access.can_manage_number_health(request.user),
            why="Only admins change a number's throughput.",
        )
        serializer = ThroughputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            channel = number_health.throughput_set(
                channel=channel, actor=request.user, per_second=serializer.validated_data["throughput_per_second"]
            )
        except HealthRefused as refusal:
            raise _refused(refusal)
        return Response(NumberHealthSerializer(_health_data(request, channel)).data)


class NumberHealthSyncView(APIView):
    @extend_schema(
        operation_id="channel_health_sync",
        tags=["number health"],
        description=(
            "Read the number's quality, status, messaging limit and throughput from WhatsApp now (admins). "
            "502 `whatsapp_error` when WhatsApp cannot be read."
        ),
        request=None,
        responses={200: NumberHealthSerializer, **ERRORS, **PROVIDER},
    )
    def post(self, request: Request, channel_id: int) -> Response:
        channel = _channel(
            request.user,
            channel_id,
            allowed=access.can_manage_number_health(request.user),
            why="Only admins sync a number.",
        )
        outcome = number_health.number_health_sync(channel_id=channel.pk, actor=request.user)
        if not outcome.ok:
            raise ApiError(status.HTTP_502_BAD_GATEWAY, "whatsapp_error", f"Could not sync: {outcome.error}")
        channel.refresh_from_db()
        return Response(NumberHealthSerializer(_health_data(request, channel)).data)


class BusinessProfileView(APIView):
    parser_classes = [JSONParser, MultiPartParser]

    def _channel(self, request: Request, channel_id: int) -> Channel:
        return _channel(
            request.user,
            channel_id,
            allowed=access.can_manage_business_profile(request.user),
            why="Only admins see and change the business profile.",
        )

    def _read(self, request: Request, channel: Channel) -> Response:
        outcome = number_health.business_profile_read(channel=channel, actor=request.user)
        if outcome.profile is None:
            raise ApiError(status.HTTP_502_BAD_GATEWAY, "whatsapp_error", outcome.error)
        return Response(BusinessProfileSerializer(outcome.profile.as_dict()).data)

    @extend_schema(
        operation_id="channel_business_profile_get",
        tags=["number health"],
        description="The business profile as WhatsApp has it (admins).",
        responses={200: BusinessProfileSerializer, **ERRORS, **PROVIDER},
    )
    def get(self, request: Request, channel_id: int) -> Response:
        return self._read(request, self._channel(request, channel_id))

    @extend_schema(
        operation_id="channel_business_profile_update",
        tags=["number health"],
        description=(
            "Change the business profile on WhatsApp (admins; audited). Fields are checked against WhatsApp's "
            "limits first (400 `invalid` with `fields`); a photo needs the channel's Meta app id (422 "
            "`no_app_id`); WhatsApp's refusals answer 502 `whatsapp_error`. Answers the profile as it is now."
        ),
        request={"application/json": BusinessProfileSerializer, "multipart/form-data": BusinessProfileSerializer},
        responses={200: BusinessProfileSerializer, **ERRORS, 422: ErrorSerializer, **PROVIDER},
    )
    def patch(self, request: Request, channel_id: int) -> Response:
        channel = self._channel(request, channel_id)
        data = request.data
        if hasattr(data, "getlist") and "websites" in data:
            data = {**data.dict(), "websites": data.getlist("websites")}
        serializer = BusinessProfileSerializer(data=data, partial=True)
        serializer.is_valid(raise_exception=True)
        values = serializer.validated_data
        only = frozenset(values) & health.PROFILE_EDITABLE
        photo_file = values.get("photo")
        if not only and photo_file is None:
            raise ValidationError({"non_field_errors": ["Send at least one field to change."]})
        photo = photo_file.read(health.PHOTO_MAX_BYTES + 1) if photo_file is not None else None
        profile = health.BusinessProfile(
            about=values.get("about", "").strip(),
            description=values.get("description", "").strip(),
            address=values.get("address", "").strip(),
            email=values.get("email", "").strip(),
            websites=tuple(w.strip() for w in values.get("websites", []) if w.strip()),
            vertical=values.get("vertical", "").strip().upper(),
        )
        try:
            number_health.business_profile_change(
                channel=channel, actor=request.user, profile=profile, photo=photo, only=only
            )
        except HealthRefused as refusal:
            raise _refused(refusal)
        return self._read(request, channel)
