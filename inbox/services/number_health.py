"""Number health: quality rating, status, messaging limit and throughput of each WhatsApp number, from
webhooks and the periodic sync, kept as a timeline."""

from inbox.models import ManagementEvent

HEALTH_FIELDS = frozenset({"phone_number_quality_update", "business_capability_update", "account_update"})


def management_event_apply(*, event: ManagementEvent) -> None:
    """Apply a number/account health webhook. (To be built.)"""
