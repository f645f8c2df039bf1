"""Window intelligence: the assignee hears once per window that a conversation's 24-hour window closes soon
(frozen clock: `now` is given), and the "Window closing soon" list uses the same, configurable lead."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.utils import timezone

from accounts.models import Role
from inbox import selectors
from inbox.models import Conversation, ConversationStatus, Notification, NotificationKind
from inbox.services import window_alerts
from inbox.tasks import alert_closing_windows
from tests.factories import ChannelFactory, ContactFactory, ConversationFactory, TeamFactory, UserFactory
from tests.inbox import whatsapp_payloads as wa

pytestmark = pytest.mark.django_db

# The customer's last message (a Meta timestamp), so the window closes 24 hours later.
LAST_INBOUND = datetime.fromtimestamp(wa.T0, tz=UTC)
CLOSES = LAST_INBOUND + timedelta(hours=24)


@pytest.fixture
def channel():
    return ChannelFactory(phone_number_id=wa.PHONE_NUMBER_ID, waba_id=wa.WABA_ID)


@pytest.fixture
def agent(channel):
    return UserFactory(role=Role.AGENT, name="Alex Agent")


@pytest.fixture
def team(channel, agent):
    return TeamFactory(name="Support", channels=[channel], members=[agent])


@pytest.fixture
def conversation(channel, agent, team):
    return ConversationFactory(
        channel=channel,
        contact=ContactFactory(wa_id=wa.CUSTOMER_WA_ID, profile_name=wa.CUSTOMER_NAME),
        assignee=agent,
        last_inbound_at=LAST_INBOUND,
        service_window_closes_at=CLOSES,
    )


def alerts(user=None) -> list[Notification]:
    notifications = Notification.objects.filter(kind=NotificationKind.WINDOW_CLOSING).order_by("id")
    return list(notifications.filter(user=user) if user is not None else notifications)


def test_one_alert_per_window_inside_the_lead_only(conversation, agent):
    # before the lead (2 hours by default): nothing
    assert window_alerts.window_alerts_send(now=CLOSES - timedelta(hours=2, minutes=1)) == 0
    assert alerts() == []

    # inside it: one notification to the assignee, and the window is marked as alerted
    assert window_alerts.window_alerts_send(now=CLOSES - timedelta(minutes=119)) == 1
    [alert] = alerts(agent)
    assert alert.conversation == conversation
    assert alert.text == (
        f"Your window with {wa.CUSTOMER_NAME} closes at {CLOSES:%H:%M} UTC: reply now, after it only a template can go."
    )
    conversation.refresh_from_db()
    assert conversation.window_alert_for == CLOSES

    # run again (every minute): no second alert for the same window
    assert window_alerts.window_alerts_send(now=CLOSES - timedelta(minutes=60)) == 0
    assert window_alerts.window_alerts_send(now=CLOSES - timedelta(seconds=1)) == 0
    assert len(alerts()) == 1
    # closed: nothing either
    assert window_alerts.window_alerts_send(now=CLOSES + timedelta(minutes=1)) == 0


def test_a_new_customer_message_moves_the_window_and_alerts_again_later(
    client, conversation, agent, django_capture_on_commit_callbacks
):
    window_alerts.window_alerts_send(now=CLOSES - timedelta(minutes=90))
    assert len(alerts(agent)) == 1

    # the customer writes again, five hours after their first message: the window now closes later
    with django_capture_on_commit_callbacks(execute=True):
        response = wa.post(client, wa.inbound(wa.text("one more thing", id="wamid.MORE", timestamp=wa.T0 + 5 * 3600)))
    assert response.status_code == 200
    conversation.refresh_from_db()
    moved = CLOSES + timedelta(hours=5)
    assert conversation.service_window_closes_at == moved

    # where the old window would have alerted again, nothing; near the new closing time, a new alert
    assert window_alerts.window_alerts_send(now=CLOSES - timedelta(minutes=30)) == 0
    assert window_alerts.window_alerts_send(now=moved - timedelta(minutes=100)) == 1
    assert [alert.text for alert in alerts(agent)][-1].startswith(
        f"Your window with {wa.CUSTOMER_NAME} closes at {moved:%H:%M}"
    )
    conversation.refresh_from_db()
    assert conversation.window_alert_for == moved


@pytest.mark.parametrize(
    "change",
    [
        {"assignee": None},
        {"status": ConversationStatus.RESOLVED},
        {"status": ConversationStatus.SNOOZED},
        {"service_window_closes_at": None},
    ],
    ids=["unassigned", "resolved", "snoozed", "never opened"],
)
def test_no_alert_when_nobody_waits_on_it(conversation, change):
    Conversation.objects.filter(pk=conversation.pk).update(**change)
    assert window_alerts.window_alerts_send(now=CLOSES - timedelta(minutes=30)) == 0
    assert alerts() == []


def test_a_pending_conversation_alerts(conversation, agent):
    Conversation.objects.filter(pk=conversation.pk).update(status=ConversationStatus.PENDING)
    assert window_alerts.window_alerts_send(now=CLOSES - timedelta(minutes=30)) == 1


def test_an_assignee_who_no_longer_sees_the_conversation_is_not_told(conversation, agent, channel):
    # Moved to another team: Alex no longer sees it, so the alert must not tell Alex about it.
    other_team = TeamFactory(name="Billing", channels=[channel], members=[UserFactory(role=Role.AGENT)])
    Conversation.objects.filter(pk=conversation.pk).update(team=other_team)
    assert window_alerts.window_alerts_send(now=CLOSES - timedelta(minutes=30)) == 0
    assert alerts() == []


def test_the_lead_is_configurable(conversation, agent, settings):
    settings.WINDOW_ALERT_LEAD_MINUTES = 30
    assert selectors.window_closing_lead() == timedelta(minutes=30)
    assert window_alerts.window_alerts_send(now=CLOSES - timedelta(minutes=31)) == 0
    assert window_alerts.window_alerts_send(now=CLOSES - timedelta(minutes=29)) == 1


def test_the_default_lead_is_two_hours():
    assert django_settings.WINDOW_ALERT_LEAD_MINUTES == 120
    assert selectors.window_closing_lead() == timedelta(hours=2)


def test_the_beat_job_runs_the_alerts(conversation, agent):
    # The task reads the real clock: put the window 20 minutes ahead of it.
    Conversation.objects.filter(pk=conversation.pk).update(
        service_window_closes_at=timezone.now() + timedelta(minutes=20)
    )
    assert alert_closing_windows.apply().get() == 1
    assert django_settings.CELERY_BEAT_SCHEDULE["alert-closing-windows"]["task"] == "inbox.tasks.alert_closing_windows"


def test_the_alert_query_uses_the_closing_time_range():
    """The beat job's query leads with the `service_window_closes_at` range (index-friendly)."""
    now = CLOSES - timedelta(hours=1)
    sql = str(Conversation.objects.filter(window_alerts.due_for_alert(now=now)).query)
    assert '"service_window_closes_at" >' in sql and '"service_window_closes_at" <=' in sql


# --- the list: "Window closing soon" -----------------------------------------------------------------------------


def test_the_list_filter_uses_the_configured_lead(conversation, agent, settings):
    now = CLOSES - timedelta(minutes=150)
    filters = selectors.ConversationFilters(window_closing_soon=True)

    def listed() -> list[int]:
        return list(
            selectors.conversations_filter(
                Conversation.objects.all(), user=agent, filters=filters, now=now
            ).values_list("pk", flat=True)
        )

    assert listed() == []  # 2 h 30 min left: not within the default 2 hours
    settings.WINDOW_ALERT_LEAD_MINUTES = 180
    assert listed() == [conversation.pk]


def test_the_inbox_offers_the_filter_and_rows_show_the_time_left(channel, agent, team):
    now = timezone.now()
    soon = ConversationFactory(
        channel=channel,
        assignee=agent,
        last_inbound_at=now - timedelta(hours=23),
        service_window_closes_at=now + timedelta(minutes=45),
    )
    later = ConversationFactory(channel=channel, assignee=agent, service_window_closes_at=now + timedelta(hours=20))
    client = Client()
    client.force_login(agent)

    page = client.get("/").content.decode()
    assert 'name="window" value="closing_soon"' in page
    assert "Conversations whose 24-hour window closes within 2 h" in page
    rows = client.get("/inbox/conversations/?view=all&window=closing_soon").content.decode()
    assert f'id="conv-row-{soon.pk}"' in rows and f'id="conv-row-{later.pk}"' not in rows
    row = re.search(rf'id="conv-row-{soon.pk}".*?</li>', rows, re.S).group(0)
    assert "window-closing" in row
    assert re.search(r"<span data-countdown>4[45] min</span>", row)
