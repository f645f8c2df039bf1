"""REST API v1 for the consent ledger: a contact's state per purpose with its history, and appending an entry.
Thin views over `inbox.services.consent`; access through `inbox.access` (404 for a contact out of sight,
403 for people who only read)."""

from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import User
from inbox import access
from inbox.api.errors import ApiError
from inbox.api.serializers import ErrorSerializer
from inbox.models import ConsentAction, ConsentEvent, ConsentPurpose, ConsentSource, Contact
from inbox.services import consent as consent_service

ERRORS = {400: ErrorSerializer, 401: ErrorSerializer, 403: ErrorSerializer}
NOT_FOUND = {404: ErrorSerializer}
NOT_ASKED = "not_asked"
STATES = [ConsentAction.OPT_IN.value, ConsentAction.OPT_OUT.value, NOT_ASKED]


class ConsentActorSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class ConsentEventSerializer(serializers.ModelSerializer):
    recorded_by = serializers.SerializerMethodField(
        help_text="The person who recorded it; null when the customer's message, WhatsApp or an import did."
    )

    class Meta:
        model = ConsentEvent
        fields = [
            "id",
            "purpose",
            "action",
            "source",
            "occurred_at",
            "created_at",
            "recorded_by",
            "channel_id",
            "message_id",
            "evidence",
            "reason",
        ]

    @extend_schema_field(ConsentActorSerializer(allow_null=True))
    def get_recorded_by(self, event: ConsentEvent) -> dict | None:
        if event.actor_id is None or event.actor is None:
            return None
        return {"id": event.actor_id, "name": event.actor.name or event.actor.email}


class ConsentPurposeStateSerializer(serializers.Serializer):
    purpose = serializers.ChoiceField(choices=ConsentPurpose.choices)
    state = serializers.ChoiceField(
        choices=STATES, help_text="The latest entry's action, or `not_asked` when nothing was recorded."
    )
    source = serializers.CharField(allow_blank=True, help_text="Where the latest entry came from.")
    occurred_at = serializers.DateTimeField(allow_null=True)
    event_id = serializers.IntegerField(allow_null=True, help_text="The entry that decides the state.")


class ContactConsentSerializer(serializers.Serializer):
    contact_id = serializers.IntegerField()
    purposes = ConsentPurposeStateSerializer(many=True)
    events = ConsentEventSerializer(many=True, help_text="Every entry, newest first.")


class ConsentInputSerializer(serializers.Serializer):
    # Plain strings: the service answers bad values with its own stable codes (invalid_purpose ...).
    purpose = serializers.CharField(required=False, allow_blank=True, help_text=" | ".join(ConsentPurpose.values))
    action = serializers.CharField(required=False, allow_blank=True, help_text=" | ".join(ConsentAction.values))
    source = serializers.CharField(
        required=False,
        allow_blank=True,
        help_text=" | ".join(s for s in ConsentSource.values if s not in consent_service.AUTOMATIC_SOURCES)
        + " (keyword and user_preferences are recorded by WhatsApp and the customer's messages only).",
    )
    evidence = serializers.CharField(
        required=False,
        allow_blank=True,
        trim_whitespace=False,
        help_text=f"What proves it (the form, the call), at most {consent_service.EVIDENCE_MAX} characters.",
    )
    reason = serializers.CharField(
        required=False,
        allow_blank=True,
        trim_whitespace=False,
        help_text=f"Required: why you record it, at most {consent_service.REASON_MAX} characters.",
    )
    occurred_at = serializers.DateTimeField(
        required=False, help_text="When the customer agreed or withdrew (default: now); never in the future."
    )


def _contact_or_404(user: User, contact_id: int) -> Contact:
    # One answer for "does not exist" and "may not see".
    contact = Contact.objects.filter(pk=contact_id).first()
    if contact is None or not access.can_view_consent(user, contact):
        raise NotFound("No such contact.")
    return contact


def consent_document(contact: Contact) -> dict:
    latest = consent_service.latest_events(contact_id=contact.pk)
    purposes = []
    for purpose in ConsentPurpose.values:
        event = latest.get(purpose)
        purposes.append(
            {
                "purpose": purpose,
                "state": event.action if event is not None else NOT_ASKED,
                "source": event.source if event is not None else "",
                "occurred_at": event.occurred_at if event is not None else None,
                "event_id": event.pk if event is not None else None,
            }
        )
    events = consent_service.contact_ledger(contact_id=contact.pk)
    return ContactConsentSerializer({"contact_id": contact.pk, "purposes": purposes, "events": events}).data


class ContactConsentView(APIView):
    @extend_schema(
        operation_id="contacts_consent_retrieve",
        tags=["consent"],
        description=(
            "The contact's consent per purpose (marketing, utility, authentication: the latest entry decides) "
            "and the whole ledger, newest first. Whoever sees the contact."
        ),
        responses={200: ContactConsentSerializer, **ERRORS, **NOT_FOUND},
    )
    def get(self, request: Request, contact_id: int) -> Response:
        return Response(consent_document(_contact_or_404(request.user, contact_id)))

    @extend_schema(
        operation_id="contacts_consent_create",
        tags=["consent"],
        description=(
            "Append an opt-in or opt-out on the customer's word (agents and admins; managers only read). The "
            "ledger is never changed, only appended to; a reason is required. Bad input is 400 with a stable "
            "`code`: invalid_purpose, invalid_action, invalid_source, reason_required, reason_too_long, "
            "evidence_too_long, invalid_time."
        ),
        request=ConsentInputSerializer,
        responses={201: ConsentEventSerializer, **ERRORS, **NOT_FOUND},
    )
    def post(self, request: Request, contact_id: int) -> Response:
        contact = _contact_or_404(request.user, contact_id)
        if not access.can_record_consent(request.user, contact):
            raise ApiError(403, "permission_denied", "Managers read consent; agents and admins record it.")
        serializer = ConsentInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            event = consent_service.consent_record(
                contact=contact,
                purpose=data.get("purpose", ""),
                action=data.get("action", ""),
                source=data.get("source", ""),
                actor=request.user,
                evidence=data.get("evidence", ""),
                reason=data.get("reason", ""),
                occurred_at=data.get("occurred_at"),
            )
        except consent_service.ConsentRefused as refused:
            raise ApiError(403 if refused.code == "permission_denied" else 400, refused.code, str(refused.detail))
        return Response(ConsentEventSerializer(event).data, status=status.HTTP_201_CREATED)
