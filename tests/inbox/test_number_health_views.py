"""The number health page: one glance at quality, status, the messaging limit and its use, throughput, the
flag's countdown, the restriction's end, the last sync with "Sync now", and the timeline; admins act,
managers only look; and the channels list's health chips and links."""

from datetime import timedelta

import pytest
import respx
from django.test import Client
from django.utils import timezone

from accounts.models import AuditEntry, Role
from inbox.models import BusinessInitiatedReach, NumberHealthEvent, NumberStatus
from inbox.services import number_health
from tests.factories import ChannelFactory, ContactFactory, UserFactory
from tests.inbox import whatsapp_payloads as wa

pytestmark = pytest.mark.django_db

GRAPH = "https://graph.facebook.com/v23.0"


@pytest.fixture
def channel(db):
    return ChannelFactory(name="Support", phone_number_id=wa.PHONE_NUMBER_ID, messaging_limit=250)


def signed_in(role: str) -> tuple[Client, object]:
    user = UserFactory(role=Role(role))
    client = Client()
    client.force_login(user)
    return client, user


def page(client, channel, query: str = "") -> str:
    response = client.get(f"/settings/channels/{channel.pk}/health{query}")
    assert response.status_code == 200
    return response.content.decode()


def test_one_glance_at_a_flagged_number_near_its_limit(channel):
    now = timezone.now()
    channel.quality_rating = "red"
    channel.number_status = NumberStatus.FLAGGED
    channel.flagged_at = now - timedelta(days=2)
    channel.messaging_limit_tier = "TIER_250"
    channel.save()
    BusinessInitiatedReach.objects.bulk_create(
        BusinessInitiatedReach(waba_id=channel.waba_id, contact=ContactFactory(), channel=channel, reached_at=now)
        for _ in range(230)
    )
    client, _admin = signed_in("admin")
    html = page(client, channel)
    assert 'data-quality="red"' in html and "Low (red)" in html
    assert 'data-status="flagged"' in html
    assert "4\xa0days, 23\xa0hours left to recover quality" in html
    assert "<strong>230</strong> of 250 customers contacted first in the last 24 hours" in html
    assert 'aria-valuenow="230"' in html and "is-high" in html
    assert "WhatsApp tier TIER_250" in html
    assert "Sync now" in html
    assert 'name="throughput_per_second"' in html


def test_a_restricted_number_says_until_when(channel):
    channel.number_status = NumberStatus.RESTRICTED
    channel.restricted_until = timezone.now() + timedelta(days=2)
    channel.save()
    client, _admin = signed_in("admin")
    html = page(client, channel)
    assert "Restricted until" in html and "number_restricted" in html


def test_an_unlimited_number(channel):
    channel.messaging_limit = None
    channel.save()
    client, _admin = signed_in("admin")
    assert "Unlimited" in page(client, channel)


def test_managers_look_without_acting(channel):
    client, _manager = signed_in("manager")
    html = page(client, channel)
    assert "Sync now" not in html
    assert 'name="throughput_per_second"' not in html
    assert client.post(f"/settings/channels/{channel.pk}/health/sync").status_code == 403
    assert (
        client.post(f"/settings/channels/{channel.pk}/health/throughput", {"throughput_per_second": 5}).status_code
        == 403
    )


def test_agents_do_not_see_it(channel):
    client, _agent = signed_in("agent")
    assert client.get(f"/settings/channels/{channel.pk}/health").status_code == 403


def test_sync_now(channel):
    client, _admin = signed_in("admin")
    with respx.mock(base_url=GRAPH) as graph:
        graph.get(f"/{wa.PHONE_NUMBER_ID}").respond(
            200, json={"quality_rating": "GREEN", "status": "CONNECTED", "throughput": {"level": "STANDARD"}}
        )
        response = client.post(f"/settings/channels/{channel.pk}/health/sync", follow=True)
    html = response.content.decode()
    assert "Synced: 1 change(s)" in html
    assert "High (green)" in html
    assert "Last read from WhatsApp" in html

    with respx.mock(base_url=GRAPH) as graph:
        graph.get(f"/{wa.PHONE_NUMBER_ID}").respond(
            400, json={"error": {"message": "(#190) Error validating access token", "code": 190}}
        )
        html = client.post(f"/settings/channels/{channel.pk}/health/sync", follow=True).content.decode()
    assert "Could not sync with WhatsApp: The channel&#x27;s access token has expired." in html


def test_an_admin_sets_the_throughput(channel):
    client, admin = signed_in("admin")
    response = client.post(f"/settings/channels/{channel.pk}/health/throughput", {"throughput_per_second": "1001"})
    assert response.status_code == 200
    assert "at most 1,000 messages a second" in response.content.decode()
    response = client.post(f"/settings/channels/{channel.pk}/health/throughput", {"throughput_per_second": "120"})
    assert response.status_code == 302
    channel.refresh_from_db()
    assert channel.throughput_per_second == 120
    assert AuditEntry.objects.filter(action="channel.throughput_set", actor=admin).exists()
    html = page(client, channel)
    assert 'data-health-event="throughput"' in html and "An admin" in html


def test_the_timeline_is_newest_first_and_pages(channel):
    admin = UserFactory(role=Role.ADMIN)
    for value in range(1, number_health.TIMELINE_PAGE + 3):
        number_health.throughput_set(channel=channel, actor=admin, per_second=value)
    client, _admin = signed_in("admin")
    html = page(client, channel)
    assert html.count('data-health-event="throughput"') == number_health.TIMELINE_PAGE
    newest = f"<strong>{number_health.TIMELINE_PAGE + 2}</strong>"
    assert newest in html
    cursor = html.split("?before=")[1].split("#")[0]
    older = page(client, channel, f"?before={cursor}")
    assert older.count('data-health-event="throughput"') == 2
    assert "<strong>1</strong>" in older
    assert client.get(f"/settings/channels/{channel.pk}/health?before=garbage").status_code == 404


def test_customer_text_in_details_is_escaped(channel):
    NumberHealthEvent.objects.create(channel=channel, kind="account", current="X", detail="<script>alert(1)</script>")
    client, _admin = signed_in("admin")
    html = page(client, channel)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;" in html


def test_the_channels_list_shows_health_chips_and_links(channel):
    channel.quality_rating = "yellow"
    channel.save()
    client, _admin = signed_in("admin")
    html = client.get("/settings/channels/").content.decode()
    assert "quality-yellow" in html and "Medium (yellow)" in html
    assert f"/settings/channels/{channel.pk}/health" in html
    assert f"/settings/channels/{channel.pk}/profile" in html
