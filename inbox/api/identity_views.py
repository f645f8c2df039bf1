"""REST API v1 for identity changes: whether sending to a contact is held for a changed number or identity,
and acknowledging the change. Thin views over `inbox.services.identity`; access through `inbox.access` (404
for a contact out of sight, 403 for people who only read)."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import User
from inbox import access
from inbox.api.errors import ApiError
from inbox.api.serializers import ErrorSerializer
from inbox.models import Contact
from inbox.services import identity as identity_service

ERRORS = {400: ErrorSerializer, 401: ErrorSerializer, 403: ErrorSerializer, 404: ErrorSerializer}
_STATUS = {"permission_denied": 403, "nothing_to_acknowledge": 409, "note_too_long": 400}


class IdentityPersonSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class IdentityAcknowledgementSerializer(serializers.Serializer):
    acknowledged_at = serializers.DateTimeField()
    acknowledged_by = IdentityPersonSerializer(allow_null=True, help_text="Null when the person was deleted.")
    reason = serializers.CharField(help_text="What had been held, in the words the panel showed.")
    note = serializers.CharField(allow_blank=True, help_text="How they checked it is the same person.")


class ContactIdentitySerializer(serializers.Serializer):
    contact_id = serializers.IntegerField()
    held = serializers.BooleanField(
        help_text="True while every message to the contact is refused with `identity_unconfirmed`."
    )
    held_since = serializers.DateTimeField(allow_null=True, help_text="When WhatsApp reported the change.")
    reason = serializers.CharField(allow_blank=True, help_text="Why it is held, as a sentence; blank when not held.")
    identity_key_known = serializers.BooleanField(
        help_text="WhatsApp's identity key hash is known: messages carry it (`recipient_identity_key_hash`) so "
        "WhatsApp delivers them only while the customer's identity is unchanged."
    )
    last_acknowledgement = IdentityAcknowledgementSerializer(allow_null=True)


class IdentityAcknowledgeInputSerializer(serializers.Serializer):
    note = serializers.CharField(
        required=False,
        allow_blank=True,
        trim_whitespace=False,
        help_text=f"How you checked it is still the same person, at most {identity_service.NOTE_MAX} characters.",
    )


def _contact_or_404(user: User, contact_id: int) -> Contact:
    # One answer for "does not exist" and "may not see".
    contact = Contact.objects.filter(pk=contact_id).first()
    if contact is None or not access.can_view_identity(user, contact):
        raise NotFound("No such contact.")
    return contact


def identity_document(contact: Contact) -> dict:
    entry = identity_service.last_acknowledgement(contact)
    acknowledgement = None
    if entry is not None:
        actor = entry.actor
        acknowledgement = {
            "acknowledged_at": entry.created_at,
            "acknowledged_by": {"id": actor.pk, "name": actor.name or actor.email} if actor is not None else None,
            "reason": (entry.details or {}).get("reason", ""),
            "note": (entry.details or {}).get("note", ""),
        }
    return ContactIdentitySerializer(
        {
            "contact_id": contact.pk,
            "held": contact.identity_held_since is not None,
            "held_since": contact.identity_held_since,
            "reason": contact.identity_hold_reason if contact.identity_held_since is not None else "",
            "identity_key_known": bool(contact.identity_key_hash),
            "last_acknowledgement": acknowledgement,
        }
    ).data


class ContactIdentityView(APIView):
    @extend_schema(
        operation_id="contacts_identity_retrieve",
        tags=["identity"],
        description=(
            "Whether sending to the contact is held because WhatsApp reported a changed number or identity "
            "(every message is then refused with `identity_unconfirmed`), why, and the last acknowledgement. "
            "Whoever sees the contact."
        ),
        responses={200: ContactIdentitySerializer, **ERRORS},
    )
    def get(self, request: Request, contact_id: int) -> Response:
        return Response(identity_document(_contact_or_404(request.user, contact_id)))


class ContactIdentityAcknowledgeView(APIView):
    @extend_schema(
        operation_id="contacts_identity_acknowledge",
        tags=["identity"],
        description=(
            "Acknowledge the change after checking it is still the same person: the hold ends and messages "
            "may go again. Agents and admins who see the contact (managers only read); audited. Refusals: "
            "403 `permission_denied`, 409 `nothing_to_acknowledge` (not held), 400 `note_too_long`."
        ),
        request=IdentityAcknowledgeInputSerializer,
        responses={200: ContactIdentitySerializer, 409: ErrorSerializer, **ERRORS},
    )
    def post(self, request: Request, contact_id: int) -> Response:
        contact = _contact_or_404(request.user, contact_id)
        serializer = IdentityAcknowledgeInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            identity_service.identity_acknowledge(
                contact=contact, actor=request.user, note=serializer.validated_data.get("note", "")
            )
        except identity_service.IdentityRefused as refused:
            raise ApiError(_STATUS.get(refused.code, 400), refused.code, str(refused.detail))
        return Response(identity_document(contact))
