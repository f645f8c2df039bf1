"""Window intelligence: the assignee hears, once per window, that a conversation's 24-hour customer-service
window closes soon, while a free-form reply can still go (after it only an approved template may).

A beat job (`inbox.tasks.alert_closing_windows`, every minute) calls `window_alerts_send`. "Soon" is the
list filter's lead (`selectors.window_closing_lead`, settings.WINDOW_ALERT_LEAD_MINUTES), so the alert names
exactly what "Window closing soon" lists. `Conversation.window_alert_for` keeps the closing time already
alerted: a new customer message moves the window, and the new window alerts again when its time comes.
"""

from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from inbox import selectors
from inbox.models import Conversation, ConversationStatus, NotificationKind
from inbox.services.notifications import notification_create

# Open and pending conversations wait on their assignee; snoozed and resolved ones on nobody.
ALERTED_STATUSES = (ConversationStatus.OPEN, ConversationStatus.PENDING)
# At most this many alerts per run: a backlog (a worker that was down) drains over a few runs.
BATCH = 500


def due_for_alert(*, now: datetime) -> Q:
    """Conversations whose window closes within the lead (and has not closed), held by someone, waiting on
    them, and not alerted for this window yet. The closing-time range leads the query (an index on
    `service_window_closes_at` makes it a range scan)."""
    return Q(
        service_window_closes_at__gt=now,
        service_window_closes_at__lte=now + selectors.window_closing_lead(),
        status__in=ALERTED_STATUSES,
        assignee__isnull=False,
    ) & (Q(window_alert_for__isnull=True) | ~Q(window_alert_for=F("service_window_closes_at")))


def alert_text(*, name: str, closes_at: datetime) -> str:
    """The notification's sentence. The time is in the site's time zone, named, since it is stored."""
    local = timezone.localtime(closes_at)
    with translation.override(settings.LANGUAGE_CODE):
        return _("Your window with %(name)s closes at %(time)s: reply now, after it only a template can go.") % {
            "name": name,
            "time": f"{local:%H:%M} {local.tzname() or ''}".strip(),
        }


def window_alerts_send(*, now: datetime | None = None) -> int:
    """Tell each assignee whose conversation's window closes soon, once per window. Returns how many were
    told. Each conversation is claimed with a conditional UPDATE, so two runs at once alert it once."""
    now = now or timezone.now()
    due = list(
        Conversation.objects.filter(due_for_alert(now=now))
        .select_related("contact", "assignee", "channel")
        .order_by("service_window_closes_at", "id")[:BATCH]
    )
    told = 0
    for conversation in due:
        closes_at = conversation.service_window_closes_at
        with transaction.atomic():
            claimed = Conversation.objects.filter(
                due_for_alert(now=now), pk=conversation.pk, service_window_closes_at=closes_at
            ).update(window_alert_for=closes_at)
            if not claimed:
                continue  # another run took it, or the conversation changed since it was read
            # notification_create tells no one who may not see the conversation (nor an inactive person).
            notification = notification_create(
                user=conversation.assignee,
                kind=NotificationKind.WINDOW_CLOSING,
                conversation=conversation,
                text=alert_text(name=conversation.contact.display_name, closes_at=closes_at),
            )
            told += notification is not None
    return told
