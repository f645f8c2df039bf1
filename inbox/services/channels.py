"""Connecting channels (numbers and accounts) to the inbox."""

from django.db import IntegrityError, transaction

from inbox.models import Channel


class PhoneNumberAlreadyConnected(Exception):
    """Another channel already has this WhatsApp phone number id: Meta's deliveries could not be routed."""


def channel_create(
    *,
    kind: str,
    name: str,
    phone_number_id: str,
    waba_id: str,
    display_phone_number: str,
    graph_api_base: str,
    access_token: str,
    app_secret: str,
    verify_token: str,
) -> Channel:
    """Connect a number. Its secrets are stored encrypted. Deliveries for it that arrived earlier stay
    unroutable until an admin reprocesses them (`webhook_admin.webhook_event_reprocess`)."""
    channel = Channel(
        kind=kind,
        name=name,
        phone_number_id=phone_number_id,
        waba_id=waba_id,
        display_phone_number=display_phone_number,
        graph_api_base=graph_api_base,
        access_token=access_token,
        app_secret=app_secret,
        verify_token=verify_token,
    )
    try:
        with transaction.atomic():
            channel.save()
    except IntegrityError as exc:
        if Channel.objects.filter(phone_number_id=phone_number_id).exists():
            raise PhoneNumberAlreadyConnected(f"Phone number id {phone_number_id} is already connected.") from exc
        raise
    return channel
