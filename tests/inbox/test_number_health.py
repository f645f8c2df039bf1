"""Number health from WhatsApp's webhooks and the sync: every change lands on the channel (what the pre-send
guard and the pacing read), in its timeline, and with every admin; replays change nothing; a restriction
stops business-initiated templates and ends by itself when it expires."""

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import respx
from django.core import mail
from django.utils import timezone

from accounts.models import AuditEntry, Role
from inbox.models import (
    ManagementEvent,
    NotificationKind,
    NumberHealthEvent,
    NumberStatus,
    QualityRating,
)
from inbox.services import number_health, outbound
from inbox.services.number_health import HealthRefused
from inbox.services.outbound import SendRefused
from tests.factories import (
    ChannelFactory,
    ContactFactory,
    ConversationFactory,
    UserFactory,
    consenting,
    live_template,
    worked_by,
)
from tests.inbox import whatsapp_payloads as wa

pytestmark = pytest.mark.django_db

GRAPH = "https://graph.facebook.com/v23.0"
RECORDED = Path(__file__).parent / "providers" / "whatsapp_cloud" / "payloads"
RECORDED_WABA = "102290129340398"


@pytest.fixture
def channel(db):
    return ChannelFactory(
        name="Support", phone_number_id=wa.PHONE_NUMBER_ID, waba_id=wa.WABA_ID, display_phone_number="+1 555-078-3881"
    )


@pytest.fixture
def admins(db):
    return [
        UserFactory(role=Role.ADMIN, email="ada@example.com"),
        UserFactory(role=Role.ADMIN, email="grace@example.com"),
    ]


@pytest.fixture
def deliver(client, django_capture_on_commit_callbacks):
    """Sign and post a delivery to the webhook; its processing (a task) runs on commit."""

    def deliver(*changes, time: int = wa.T0, waba_id: str = wa.WABA_ID, raw: bytes | None = None):
        with django_capture_on_commit_callbacks(execute=True):
            body = raw if raw is not None else wa.delivery(*changes, time=time, waba_id=waba_id)
            response = wa.post(client, body)
        assert response.status_code == 200, response.content

    return deliver


def at(unix: int) -> datetime:
    return datetime.fromtimestamp(unix, tz=UTC)


def timeline(channel) -> list[tuple[str, str, str, str]]:
    return [
        (e.kind, e.previous, e.current, e.source)
        for e in NumberHealthEvent.objects.filter(channel=channel).order_by("occurred_at", "id")
    ]


def notified(user) -> list[str]:
    return list(
        user.notifications.filter(kind=NotificationKind.NUMBER_HEALTH).order_by("id").values_list("text", flat=True)
    )


# --- phone_number_quality_update ------------------------------------------------------------------------


def test_flagged_lowers_quality_flags_the_number_and_tells_every_admin(deliver, channel, admins):
    manager = UserFactory(role=Role.MANAGER)
    deliver(wa.number_quality_update("FLAGGED", current_limit="TIER_10K"))

    channel.refresh_from_db()
    assert channel.number_status == NumberStatus.FLAGGED
    assert channel.quality_rating == QualityRating.RED
    assert channel.flagged_at == at(wa.T0)
    assert number_health.flag_recovery_ends_at(channel) == at(wa.T0) + timedelta(days=7)
    assert (channel.messaging_limit, channel.messaging_limit_tier) == (10_000, "TIER_10K")
    assert timeline(channel) == [
        ("messaging_limit", "250", "10,000", "webhook"),
        ("quality", "unknown", "red", "webhook"),
        ("status", "connected", "flagged", "webhook"),
    ]
    for admin in admins:
        texts = notified(admin)
        assert len(texts) == 3
        assert any("was flagged for low quality" in text and "2025-06-15" in text for text in texts)
    assert notified(manager) == []
    assert len(mail.outbox) == 1
    assert sorted(mail.outbox[0].to) == ["ada@example.com", "grace@example.com"]
    assert "flagged" in mail.outbox[0].body
    assert ManagementEvent.objects.get(field="phone_number_quality_update").handled


def test_a_replayed_delivery_changes_nothing(deliver, channel, admins):
    deliver(wa.number_quality_update("FLAGGED"))
    events, notifications = NumberHealthEvent.objects.count(), admins[0].notifications.count()
    deliver(wa.number_quality_update("FLAGGED"))
    # The same change again at another time is stored, but nothing changed: no event, nobody told.
    deliver(wa.number_quality_update("FLAGGED"), time=wa.T0 + 60)
    assert NumberHealthEvent.objects.count() == events
    assert admins[0].notifications.count() == notifications
    assert ManagementEvent.objects.filter(field="phone_number_quality_update", handled=True).count() == 2


def test_unflagged_ends_the_countdown(deliver, channel, admins):
    deliver(wa.number_quality_update("FLAGGED"))
    deliver(wa.number_quality_update("UNFLAGGED"), time=wa.T0 + 3 * 86400)
    channel.refresh_from_db()
    assert channel.number_status == NumberStatus.CONNECTED
    assert channel.flagged_at is None
    assert channel.quality_rating == QualityRating.YELLOW
    assert timeline(channel)[-2:] == [
        ("quality", "red", "yellow", "webhook"),
        ("status", "flagged", "connected", "webhook"),
    ]
    assert "is no longer flagged" in notified(admins[0])[-1]


def test_a_downgrade_after_the_seven_days_lowers_the_limit_and_ends_the_flag(deliver, channel, admins):
    deliver(wa.number_quality_update("FLAGGED", current_limit="TIER_10K"))
    deliver(
        wa.number_quality_update("DOWNGRADE", current_limit="TIER_2K", old_limit="TIER_10K"), time=wa.T0 + 7 * 86400
    )
    channel.refresh_from_db()
    assert (channel.messaging_limit, channel.number_status, channel.flagged_at) == (2000, NumberStatus.CONNECTED, None)
    assert any("messaging limit is now 2,000" in text and "was 10,000" in text for text in notified(admins[0]))


def test_an_upgrade_raises_the_limit_of_every_number_of_the_account(deliver, channel, admins):
    sibling = ChannelFactory(name="Sales", waba_id=wa.WABA_ID, display_phone_number="15550009999")
    other_account = ChannelFactory(name="Elsewhere", waba_id="999000999")
    deliver(wa.number_quality_update("UPGRADE", current_limit=100000, old_limit=10000))
    for number in (channel, sibling):
        number.refresh_from_db()
        assert number.messaging_limit == 100_000
    other_account.refresh_from_db()
    assert other_account.messaging_limit == 250
    # One sentence for the account, not one per number.
    assert len(notified(admins[0])) == 1
    assert "Support, Sales" in notified(admins[0])[0]


def test_the_portfolio_limit_wins_and_unlimited_is_none(deliver, channel):
    deliver(wa.number_quality_update("ONBOARDING", current_limit="TIER_250", max_daily_conversations_per_business="-1"))
    channel.refresh_from_db()
    assert (channel.messaging_limit, channel.messaging_limit_tier) == (None, "TIER_UNLIMITED")


def test_a_throughput_upgrade(deliver, channel, admins):
    deliver(wa.number_quality_update("THROUGHPUT_UPGRADE"))
    channel.refresh_from_db()
    assert channel.throughput_per_second == 1000
    assert timeline(channel) == [("throughput", "80", "1000", "webhook")]


def test_an_update_naming_another_number_of_the_account_leaves_this_one(deliver, channel):
    ChannelFactory(name="Sales", waba_id=wa.WABA_ID, display_phone_number="15550009999")
    change = wa.management_change(
        "phone_number_quality_update", {"display_phone_number": "15550009999", "event": "FLAGGED"}
    )
    deliver(change)
    channel.refresh_from_db()
    assert channel.number_status == NumberStatus.CONNECTED


@pytest.mark.parametrize(
    ("recorded", "expect"),
    [
        ("phone_number_quality_update_legacy.json", {"number_status": "flagged", "messaging_limit": 10_000}),
        ("phone_number_quality_update.json", {"throughput_per_second": 1000, "messaging_limit": 2000}),
        ("business_capability_update.json", {"messaging_limit": 2000, "messaging_limit_tier": "TIER_2K"}),
        ("business_capability_update_tier.json", {"messaging_limit": None, "messaging_limit_tier": "TIER_UNLIMITED"}),
        ("account_update_ban.json", {"number_status": "connected"}),
        # Recorded in 2022: the restriction it announces has already ended.
        ("account_update_restriction.json", {"number_status": "connected", "restricted_until": None}),
    ],
)
def test_recorded_payloads(recorded, expect, deliver, admins):
    channel = ChannelFactory(waba_id=RECORDED_WABA, display_phone_number="+1 555-093-4873")
    raw = (RECORDED / recorded).read_bytes()
    deliver(raw=json.dumps(json.loads(raw)).encode())
    channel.refresh_from_db()
    for name, value in expect.items():
        assert getattr(channel, name) == value, name
    assert NumberHealthEvent.objects.filter(channel=channel).exists()
    assert notified(admins[0])
    assert ManagementEvent.objects.get().handled


# --- business_capability_update, account_update, account_alerts --------------------------------------------


def test_the_old_per_phone_capability_field(deliver, channel):
    deliver(wa.business_capability_update(max_daily_conversation_per_phone=10000))
    channel.refresh_from_db()
    assert (channel.messaging_limit, channel.messaging_limit_tier) == (10_000, "TIER_10K")


def test_a_raised_limit_releases_the_messages_waiting_for_room_and_a_lowered_one_does_not(
    deliver, channel, monkeypatch
):
    released = []
    monkeypatch.setattr(outbound, "outbox_limit_raised", lambda *, waba_id: released.append(waba_id) or 0)
    deliver(wa.business_capability_update(max_daily_conversations_per_business=2000))
    assert released == [channel.waba_id]  # 250 → 2,000
    deliver(wa.business_capability_update(max_daily_conversations_per_business=250))
    assert released == [channel.waba_id]  # lowered: nothing more fits


def test_a_restriction_restricts_every_number_until_it_expires(deliver, channel, admins):
    sibling = ChannelFactory(name="Sales", waba_id=wa.WABA_ID)
    ends = wa.T0 + 3 * 86400
    deliver(
        wa.account_restriction(
            ("RESTRICTED_BIZ_INITIATED_MESSAGING", ends), ("RESTRICTED_ADD_PHONE_NUMBER_ACTION", str(ends + 86400))
        )
    )
    for number in (channel, sibling):
        number.refresh_from_db()
        assert number.number_status == NumberStatus.RESTRICTED
        assert number.restricted_until == at(ends)
    assert any("restricted by WhatsApp until 2025-06-11" in text for text in notified(admins[0]))

    # The beat job, with the clock before and after the end.
    assert number_health.restrictions_lift_expired(now=at(ends) - timedelta(seconds=1)) == 0
    assert number_health.restrictions_lift_expired(now=at(ends)) == 2
    for number in (channel, sibling):
        number.refresh_from_db()
        assert (number.number_status, number.restricted_until) == (NumberStatus.CONNECTED, None)
    assert timeline(channel)[-1] == ("status", "restricted", "connected", "expiry")
    assert "restriction ended" in notified(admins[0])[-1]
    assert number_health.restrictions_lift_expired(now=at(ends) + timedelta(hours=1)) == 0


def test_a_restriction_ending_while_flagged_leaves_the_flag(deliver, channel):
    deliver(wa.number_quality_update("FLAGGED"))
    ends = wa.T0 + 86400
    deliver(wa.account_restriction(("RESTRICTED_BIZ_INITIATED_MESSAGING", ends)), time=wa.T0 + 60)
    channel.refresh_from_db()
    assert (channel.number_status, channel.flagged_at) == (NumberStatus.RESTRICTED, at(wa.T0))
    number_health.restrictions_lift_expired(now=at(ends))
    channel.refresh_from_db()
    assert channel.number_status == NumberStatus.FLAGGED


def test_a_restriction_on_adding_numbers_does_not_stop_sends(deliver, channel, admins):
    deliver(wa.account_restriction(("RESTRICTED_ADD_PHONE_NUMBER_ACTION", wa.T0 + 86400)))
    channel.refresh_from_db()
    assert channel.number_status == NumberStatus.CONNECTED
    assert timeline(channel) == [("account", "", "ACCOUNT_RESTRICTION", "webhook")]
    assert "restricted the account" in notified(admins[0])[0]


@pytest.mark.parametrize(
    ("change", "current", "says"),
    [
        (
            wa.account_update("ACCOUNT_VIOLATION", violation_info={"violation_type": "SCAM"}),
            "ACCOUNT_VIOLATION",
            "policy violation (SCAM)",
        ),
        (
            wa.account_update(
                "DISABLED_UPDATE", ban_info={"waba_ban_state": "SCHEDULE_FOR_DISABLE", "waba_ban_date": "2025-07-01"}
            ),
            "DISABLED_UPDATE",
            "SCHEDULE_FOR_DISABLE",
        ),
        (wa.account_update("VERIFIED_ACCOUNT"), "VERIFIED_ACCOUNT", "VERIFIED_ACCOUNT"),
        (
            wa.account_alert("OBA_APPROVED", "Official business account approved", severity="INFORMATIONAL"),
            "OBA_APPROVED",
            "Official business account approved",
        ),
    ],
)
def test_account_events_are_kept_and_told(change, current, says, deliver, channel, admins):
    deliver(change)
    assert timeline(channel) == [("account", "", current, "webhook")]
    assert says in notified(admins[0])[0]
    assert says in notified(admins[1])[0]


def test_a_disabled_account_is_offline_until_reinstated(deliver, channel):
    deliver(wa.account_update("DISABLED_UPDATE", ban_info={"waba_ban_state": "DISABLE", "waba_ban_date": "2025-07-01"}))
    channel.refresh_from_db()
    assert channel.number_status == NumberStatus.OFFLINE
    deliver(wa.account_update("DISABLED_UPDATE", ban_info={"waba_ban_state": "REINSTATE"}), time=wa.T0 + 60)
    channel.refresh_from_db()
    assert channel.number_status == NumberStatus.CONNECTED


def test_an_alert_about_one_number_goes_to_its_timeline_only(deliver, channel):
    sibling = ChannelFactory(name="Sales", waba_id=wa.WABA_ID)
    deliver(
        wa.account_alert(
            "MESSAGING_LIMIT", "Close to the limit", entity_type="PHONE_NUMBER", entity_id=sibling.phone_number_id
        )
    )
    assert timeline(channel) == []
    assert timeline(sibling) == [("account", "", "MESSAGING_LIMIT", "webhook")]


# --- the pre-send guard reads it ----------------------------------------------------------------------------


def test_a_restricted_number_refuses_a_template_outside_the_window(deliver, channel):
    agent = UserFactory(role=Role.AGENT)
    worked_by(agent, channel)
    contact = consenting(ContactFactory(), "utility")
    wrote_at = timezone.now() - timedelta(days=2)
    conversation = ConversationFactory(
        channel=channel,
        contact=contact,
        last_inbound_at=wrote_at,
        service_window_closes_at=wrote_at + timedelta(days=1),
    )
    template = live_template(waba_id=channel.waba_id)
    ends = int((timezone.now() + timedelta(days=1)).timestamp())
    deliver(wa.account_restriction(("RESTRICTED_BIZ_INITIATED_MESSAGING", ends)), time=int(timezone.now().timestamp()))
    channel.refresh_from_db()

    with pytest.raises(SendRefused) as refused:
        outbound.message_send(
            conversation=conversation,
            author=agent,
            kind="template",
            payload={"template_id": template.pk, "values": {"header.1": "#77", "body.1": "Ana", "body.2": "#77"}},
        )
    assert refused.value.code == "number_restricted"

    number_health.restrictions_lift_expired(now=at(ends))
    channel.refresh_from_db()
    with respx.mock(assert_all_called=False):
        message = outbound.message_send(
            conversation=conversation,
            author=agent,
            kind="template",
            payload={"template_id": template.pk, "values": {"header.1": "#77", "body.1": "Ana", "body.2": "#77"}},
        )
    assert message.pk


# --- the sync ------------------------------------------------------------------------------------------------


def phone_number(**fields):
    document = {
        "id": wa.PHONE_NUMBER_ID,
        "display_phone_number": "+1 555-078-3881",
        "verified_name": "Support",
        "quality_rating": "GREEN",
        "status": "CONNECTED",
        "messaging_limit_tier": "TIER_250",
        "whatsapp_business_manager_messaging_limit": "TIER_2K",
        "throughput": {"level": "STANDARD"},
    }
    document.update(fields)
    return document


@pytest.fixture
def graph():
    with respx.mock(base_url=GRAPH, assert_all_called=False) as mock:
        yield mock


def test_the_sync_reads_the_number_and_applies_what_changed(graph, channel, admins, django_capture_on_commit_callbacks):
    route = graph.get(f"/{wa.PHONE_NUMBER_ID}").respond(200, json=phone_number(quality_rating="YELLOW"))
    with django_capture_on_commit_callbacks(execute=True):
        outcome = number_health.number_health_sync(channel_id=channel.pk)
    assert outcome.ok and outcome.changes == 2
    request = route.calls.last.request
    assert request.url.params["fields"] == (
        "quality_rating,status,messaging_limit_tier,whatsapp_business_manager_messaging_limit,throughput,"
        "display_phone_number,verified_name"
    )
    assert request.headers["Authorization"] == "Bearer test-access-token"
    channel.refresh_from_db()
    assert (channel.quality_rating, channel.messaging_limit, channel.messaging_limit_tier) == (
        "yellow",
        2000,
        "TIER_2K",
    )
    assert channel.health_synced_at is not None
    assert timeline(channel) == [("quality", "unknown", "yellow", "sync"), ("messaging_limit", "250", "2,000", "sync")]
    assert len(notified(admins[0])) == 2
    assert len(mail.outbox) == 1

    # Again: nothing changed, nobody is told.
    outcome = number_health.number_health_sync(channel_id=channel.pk)
    assert outcome.ok and outcome.changes == 0
    assert len(notified(admins[0])) == 2


@pytest.mark.parametrize(
    ("status", "ours"),
    [("DISCONNECTED", "offline"), ("UNVERIFIED", "offline"), ("PENDING", "pending"), ("FLAGGED", "flagged"),
     ("RESTRICTED", "restricted")],
)  # fmt: skip
def test_the_sync_maps_statuses(graph, channel, status, ours):
    graph.get(f"/{wa.PHONE_NUMBER_ID}").respond(200, json=phone_number(status=status))
    assert number_health.number_health_sync(channel_id=channel.pk).ok
    channel.refresh_from_db()
    assert channel.number_status == ours
    assert (channel.flagged_at is not None) == (ours == "flagged")


def test_the_sync_keeps_a_restriction_whose_end_is_ahead(graph, channel, deliver):
    ends = int((timezone.now() + timedelta(days=2)).timestamp())
    deliver(wa.account_restriction(("RESTRICTED_BIZ_INITIATED_MESSAGING", ends)), time=int(timezone.now().timestamp()))
    graph.get(f"/{wa.PHONE_NUMBER_ID}").respond(200, json=phone_number(status="CONNECTED"))
    assert number_health.number_health_sync(channel_id=channel.pk).ok
    channel.refresh_from_db()
    assert channel.number_status == NumberStatus.RESTRICTED
    # After the end, the sync's word is the truth.
    assert number_health.number_health_sync(channel_id=channel.pk, now=at(ends) + timedelta(minutes=1)).ok
    channel.refresh_from_db()
    assert (channel.number_status, channel.restricted_until) == (NumberStatus.CONNECTED, None)


def test_the_sync_throughput_level_is_a_ceiling_for_admins(graph, channel, admins):
    graph.get(f"/{wa.PHONE_NUMBER_ID}").respond(200, json=phone_number(throughput={"level": "HIGH"}))
    number_health.number_health_sync(channel_id=channel.pk)
    channel.refresh_from_db()
    assert channel.throughput_per_second == 1000

    # An admin paces it lower: the sync keeps that.
    number_health.throughput_set(channel=channel, actor=admins[0], per_second=200)
    number_health.number_health_sync(channel_id=channel.pk)
    channel.refresh_from_db()
    assert channel.throughput_per_second == 200
    # WhatsApp's level drops under the admin's value: the level wins (sends beyond it earn 130429).
    graph.get(f"/{wa.PHONE_NUMBER_ID}").respond(200, json=phone_number(throughput={"level": "STANDARD"}))
    number_health.number_health_sync(channel_id=channel.pk)
    channel.refresh_from_db()
    assert channel.throughput_per_second == 80
    # NOT_APPLICABLE says nothing: the value stays.
    graph.get(f"/{wa.PHONE_NUMBER_ID}").respond(200, json=phone_number(throughput={"level": "NOT_APPLICABLE"}))
    number_health.number_health_sync(channel_id=channel.pk)
    channel.refresh_from_db()
    assert channel.throughput_per_second == 80


@pytest.mark.parametrize(
    ("answer", "says", "retryable"),
    [
        (
            httpx.Response(
                400,
                json={
                    "error": {
                        "message": "(#190) Error validating access token",
                        "type": "OAuthException",
                        "code": 190,
                        "fbtrace_id": "x",
                    }
                },
            ),
            "access token has expired",
            False,
        ),
        (httpx.Response(503, text="unavailable"), "HTTP 503", True),
        (httpx.ConnectError("no route"), "Could not reach WhatsApp", True),
    ],
)
def test_a_failed_sync_says_why_and_changes_nothing(graph, channel, answer, says, retryable):
    route = graph.get(f"/{wa.PHONE_NUMBER_ID}")
    if isinstance(answer, Exception):
        route.side_effect = answer
    else:
        route.return_value = answer
    outcome = number_health.number_health_sync(channel_id=channel.pk)
    assert not outcome.ok
    assert says in outcome.error
    assert outcome.retryable is retryable
    channel.refresh_from_db()
    assert channel.health_synced_at is None
    assert not NumberHealthEvent.objects.exists()


def test_the_hourly_job_syncs_every_active_number(graph, channel, django_capture_on_commit_callbacks):
    from inbox import tasks

    ChannelFactory(is_active=False)
    route = graph.get(f"/{wa.PHONE_NUMBER_ID}").respond(200, json=phone_number())
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.sync_all_number_health() == 1
    assert route.call_count == 1


# --- an admin's throughput -------------------------------------------------------------------------------------


def test_an_admin_sets_the_throughput_audited_and_told_to_the_other_admins(channel, admins):
    number_health.throughput_set(channel=channel, actor=admins[0], per_second=40)
    channel.refresh_from_db()
    assert channel.throughput_per_second == 40
    entry = AuditEntry.objects.get(action="channel.throughput_set")
    assert (entry.actor, entry.details) == (admins[0], {"from": 80, "to": 40})
    assert timeline(channel) == [("throughput", "80", "40", "admin")]
    assert notified(admins[0]) == []
    assert "throughput is now 40" in notified(admins[1])[0]


@pytest.mark.parametrize("value", [0, 1001, -3, True, "80"])
def test_throughput_out_of_range_is_refused(channel, admins, value):
    with pytest.raises(HealthRefused) as refused:
        number_health.throughput_set(channel=channel, actor=admins[0], per_second=value)
    assert refused.value.code == "invalid_throughput"
    assert "1 to 1,000" in refused.value.detail


@pytest.mark.parametrize("role", [Role.AGENT, Role.MANAGER])
def test_only_admins_set_the_throughput(channel, role):
    with pytest.raises(HealthRefused) as refused:
        number_health.throughput_set(channel=channel, actor=UserFactory(role=role), per_second=40)
    assert refused.value.code == "permission_denied"


# --- reading ---------------------------------------------------------------------------------------------------


def test_limit_usage_counts_the_accounts_last_24_hours(channel):
    from inbox.models import BusinessInitiatedReach

    now = timezone.now()
    for hours_ago in (1, 23, 24, 30):
        BusinessInitiatedReach.objects.create(
            waba_id=channel.waba_id,
            contact=ContactFactory(),
            channel=channel,
            reached_at=now - timedelta(hours=hours_ago),
        )
    BusinessInitiatedReach.objects.create(waba_id="other", contact=ContactFactory(), channel=channel, reached_at=now)
    usage = number_health.limit_usage(channel=channel, now=now)
    assert (usage.reached, usage.limit, usage.percent) == (2, 250, 1)


def test_the_timeline_pages_newest_first(channel, admins):
    for value in range(1, 6):
        number_health.throughput_set(channel=channel, actor=admins[0], per_second=value)
    first = number_health.timeline_page(channel=channel, limit=2)
    assert [e.current for e in first.events] == ["5", "4"]
    second = number_health.timeline_page(channel=channel, before=first.next_key, limit=2)
    assert [e.current for e in second.events] == ["3", "2"]
    last = number_health.timeline_page(channel=channel, before=second.next_key, limit=2)
    assert [e.current for e in last.events] == ["1"] and last.next_key is None
