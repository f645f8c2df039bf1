"""A simulated number's health: quality from customers' signals, flags and their 7-day review, tiers,
restrictions and the messaging limit (131048), identity checks (137000), the management webhooks each
change sends, `GET /{phone_number_id}`, the control API and the page's number panel."""

import json
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from inbox.providers.whatsapp_cloud.signature import verify
from simulator import services
from simulator.models import SimulatedCustomer, SimulatedMessage, SimulatedNumber, SimulatedReach, SimulatedWebhook
from simulator.tasks import review_number_health
from tests.factories import TEST_APP_SECRET, ChannelFactory
from tests.simulator.conftest import approved_template, template_message, text_body

pytestmark = pytest.mark.django_db
CUSTOMER = "16505551234"
DISPLAY_DIGITS = "15550783881"


def management_values(channel, field):
    """The `value` of every `field` webhook the simulator sent, each checked: signed with the channel's
    app secret, Meta's management envelope (entry id = the WABA id, `time`, no `metadata`)."""
    values = []
    for webhook in SimulatedWebhook.objects.filter(field=field).order_by("id"):
        raw = bytes(webhook.raw_body)
        assert verify(webhook.signature, raw, [TEST_APP_SECRET])
        assert webhook.kind == "management"
        document = json.loads(raw)
        assert document["object"] == "whatsapp_business_account"
        [entry] = document["entry"]
        assert set(entry) == {"id", "time", "changes"}
        assert entry["id"] == channel.waba_id and isinstance(entry["time"], int)
        [change] = entry["changes"]
        assert change["field"] == field
        assert "metadata" not in change["value"]
        values.append(change["value"])
    return values


def quality_update(event, tier):
    limits = {"TIER_250": 250, "TIER_2K": 2000, "TIER_10K": 10000, "TIER_100K": 100000, "TIER_UNLIMITED": -1}
    return {
        "display_phone_number": DISPLAY_DIGITS,
        "event": event,
        "current_limit": tier,
        "max_daily_conversations_per_business": limits[tier],
    }


def act(control, channel, action, capture, expect=200, **fields):
    with capture(execute=True):
        response = control.post(f"numbers/{channel.phone_number_id}/health/{action}", fields)
    assert response.status_code == expect, response.content
    return response.json()


def customer_act(control, channel, action, capture, wa_id=CUSTOMER, expect=200, **fields):
    with capture(execute=True):
        response = control.post(
            f"customers/{action}", {"phone_number_id": channel.phone_number_id, "wa_id": wa_id, **fields}
        )
    assert response.status_code == expect, response.content
    return response.json()


def number(channel):
    return SimulatedNumber.objects.get(channel=channel)


# GET /{phone_number_id}


def test_phone_number_node_answers_the_requested_health_fields(graph, channel):
    fields = (
        "id,display_phone_number,verified_name,quality_rating,status,messaging_limit_tier,"
        "whatsapp_business_manager_messaging_limit,throughput"
    )
    response = graph.get(graph.base, fields=fields)
    assert response.status_code == 200, response.content
    assert response.json() == {
        "display_phone_number": "+1 555-078-3881",
        "verified_name": channel.name,
        "quality_rating": "GREEN",
        "status": "CONNECTED",
        "messaging_limit_tier": "TIER_250",
        "whatsapp_business_manager_messaging_limit": "TIER_250",
        "throughput": {"level": "STANDARD"},
        "id": channel.phone_number_id,
    }
    # Graph always adds the id; without `fields`, the default fields.
    assert graph.get(graph.base, fields="status").json() == {"status": "CONNECTED", "id": channel.phone_number_id}
    default = graph.get(graph.base).json()
    assert set(default) == {
        "verified_name",
        "code_verification_status",
        "display_phone_number",
        "quality_rating",
        "platform_type",
        "throughput",
        "id",
    }
    unknown = graph.get(graph.base, fields="status,favourite_colour")
    assert unknown.status_code == 400
    assert unknown.json()["error"]["code"] == 100
    assert "favourite_colour" in unknown.json()["error"]["message"]


# Flag, review, downgrade


def test_a_hand_flag_sends_flagged_and_recovers_after_the_review(
    control, graph, channel, django_capture_on_commit_callbacks
):
    answer = act(control, channel, "flag", django_capture_on_commit_callbacks)
    assert (answer["status"], answer["quality_rating"], answer["events"]) == ("FLAGGED", "RED", ["FLAGGED"])
    assert answer["flag_review_in_seconds"] > 6 * 24 * 3600
    assert management_values(channel, "phone_number_quality_update") == [quality_update("FLAGGED", "TIER_250")]
    assert graph.get(graph.base, fields="status").json()["status"] == "FLAGGED"
    act(control, channel, "flag", django_capture_on_commit_callbacks, expect=409)

    # No customer complained: seven days later the number is connected again at the same tier.
    answer = act(control, channel, "fast_forward", django_capture_on_commit_callbacks)
    assert (answer["status"], answer["quality_rating"], answer["events"]) == ("CONNECTED", "GREEN", ["UNFLAGGED"])
    assert management_values(channel, "phone_number_quality_update")[-1] == quality_update("UNFLAGGED", "TIER_250")
    assert management_values(channel, "business_capability_update") == []
    act(control, channel, "fast_forward", django_capture_on_commit_callbacks, expect=409)


def _customers(channel, count, prefix="1650555"):
    return [services.customer_upsert(channel=channel, wa_id=f"{prefix}{n:04d}") for n in range(count)]


def test_blocks_turn_quality_red_flag_the_number_and_a_week_later_it_drops_a_tier(
    control, channel, django_capture_on_commit_callbacks
):
    services.number_tier_set(channel=channel, tier="TIER_2K")
    SimulatedWebhook.objects.all().delete()
    first, second = _customers(channel, 2)
    customer_act(control, channel, "block", django_capture_on_commit_callbacks, wa_id=first.wa_id)
    # One block is below the minimum count: still GREEN.
    assert number(channel).quality_rating == "GREEN"
    customer_act(control, channel, "report_no_human", django_capture_on_commit_callbacks, wa_id=second.wa_id)
    assert (number(channel).quality_rating, number(channel).status) == ("RED", "FLAGGED")
    assert management_values(channel, "phone_number_quality_update") == [quality_update("FLAGGED", "TIER_2K")]
    health = control.get(f"numbers/{channel.phone_number_id}/health").json()
    assert (health["blocks_last_7_days"], health["no_human_reports_last_7_days"]) == (1, 1)

    answer = act(control, channel, "fast_forward", django_capture_on_commit_callbacks)
    assert (answer["status"], answer["messaging_limit_tier"], answer["events"]) == (
        "CONNECTED",
        "TIER_250",
        ["DOWNGRADE"],
    )
    assert management_values(channel, "phone_number_quality_update")[-1] == quality_update("DOWNGRADE", "TIER_250")
    assert management_values(channel, "business_capability_update") == [{"max_daily_conversations_per_business": 250}]


def test_the_beat_reviews_a_flag_after_seven_days(channel, django_capture_on_commit_callbacks):
    services.number_for(channel)
    SimulatedNumber.objects.filter(channel=channel).update(
        flagged_at=timezone.now() - timedelta(days=7, seconds=1), status="FLAGGED", quality_rating="RED"
    )
    with django_capture_on_commit_callbacks(execute=True):
        review_number_health()
    assert (number(channel).status, number(channel).flagged_at) == ("CONNECTED", None)
    assert management_values(channel, "phone_number_quality_update") == [quality_update("UNFLAGGED", "TIER_250")]


def test_the_beat_does_nothing_when_the_simulator_is_off(channel, settings):
    services.number_for(channel)
    SimulatedNumber.objects.filter(channel=channel).update(flagged_at=timezone.now() - timedelta(days=8))
    settings.SIMULATOR_ENABLED = False
    review_number_health()
    assert number(channel).flagged_at is not None


# Restriction and the messaging limit


def test_a_restricted_number_refuses_templates_outside_the_window_but_replies_still_go(
    control, graph, channel, django_capture_on_commit_callbacks
):
    approved_template(channel)
    writer = "16505559999"
    with django_capture_on_commit_callbacks(execute=True):
        control.inbound(**{"from": writer, "type": "text", "text": "Hi"})
    before = timezone.now()
    answer = act(control, channel, "restrict", django_capture_on_commit_callbacks, hours=24)
    assert answer["status"] == "RESTRICTED"
    [value] = management_values(channel, "account_update")
    expiration = value["restriction_info"][0]["expiration"]
    assert value == {
        "event": "ACCOUNT_RESTRICTION",
        "restriction_info": [{"restriction_type": "RESTRICTED_BIZ_INITIATED_MESSAGING", "expiration": expiration}],
    }
    assert isinstance(expiration, int)
    assert abs(expiration - (before + timedelta(hours=24)).timestamp()) < 5

    refused = graph.send(template_message(to=CUSTOMER))
    assert refused.status_code == 400
    error = refused.json()["error"]
    assert error["code"] == 131048 and error["message"] == "(#131048) Spam rate limit hit"
    assert "restricted" in error["error_data"]["details"]
    # Inside the customer's window: a reply and a template both go (nothing is business-initiated there).
    assert graph.send(text_body(to=writer)).status_code == 200
    assert graph.send(template_message(to=writer)).status_code == 200
    assert graph.get(graph.base, fields="status").json()["status"] == "RESTRICTED"

    act(control, channel, "unrestrict", django_capture_on_commit_callbacks)
    assert graph.send(template_message(to=CUSTOMER)).status_code == 200
    assert graph.get(graph.base, fields="status").json()["status"] == "CONNECTED"


def test_a_restriction_ends_by_itself(graph, channel):
    services.number_for(channel)
    SimulatedNumber.objects.filter(channel=channel).update(
        status="RESTRICTED", restricted_until=timezone.now() - timedelta(seconds=1)
    )
    approved_template(channel)
    assert graph.send(template_message(to=CUSTOMER)).status_code == 200
    assert graph.get(graph.base, fields="status").json()["status"] == "CONNECTED"


def test_the_messaging_limit_refuses_only_new_customers_beyond_the_tier(graph, channel):
    approved_template(channel)
    customers = _customers(channel, 250, prefix="1555")
    now = timezone.now()
    # Flagged, so the number cannot earn the next tier meanwhile (half its limit in 7 days would).
    services.number_for(channel)
    SimulatedNumber.objects.filter(channel=channel).update(flagged_at=now, status="FLAGGED")
    SimulatedReach.objects.bulk_create(
        [SimulatedReach(channel=channel, customer=c, created_at=now - timedelta(hours=23)) for c in customers]
    )
    refused = graph.send(template_message(to=CUSTOMER))
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == 131048
    assert "TIER_250" in refused.json()["error"]["error_data"]["details"]
    # A customer already reached in the moving 24 hours does not count again.
    assert graph.send(template_message(to=customers[0].wa_id)).status_code == 200
    # Reaches older than 24 hours no longer count.
    SimulatedReach.objects.filter(customer=customers[1]).update(created_at=now - timedelta(hours=24, seconds=1))
    assert graph.send(template_message(to=CUSTOMER)).status_code == 200
    assert graph.send(template_message(to="16505550001")).status_code == 400
    assert number(channel).messaging_limit_tier == "TIER_250"


def test_half_the_limit_in_seven_days_upgrades_the_tier(graph, channel, django_capture_on_commit_callbacks):
    approved_template(channel)
    customers = _customers(channel, 124, prefix="1555")
    long_ago = timezone.now() - timedelta(days=3)
    SimulatedReach.objects.bulk_create(
        [SimulatedReach(channel=channel, customer=c, created_at=long_ago) for c in customers]
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert graph.send(template_message(to=CUSTOMER)).status_code == 200  # the 125th
    assert number(channel).messaging_limit_tier == "TIER_2K"
    assert management_values(channel, "phone_number_quality_update") == [quality_update("UPGRADE", "TIER_2K")]
    assert management_values(channel, "business_capability_update") == [{"max_daily_conversations_per_business": 2000}]
    assert SimulatedReach.objects.filter(channel=channel).count() == 125
    # The same customer again today is no new reach.
    with django_capture_on_commit_callbacks(execute=True):
        assert graph.send(template_message(to=CUSTOMER)).status_code == 200
    assert SimulatedReach.objects.filter(channel=channel).count() == 125


def test_tier_and_throughput_by_hand(control, graph, channel, django_capture_on_commit_callbacks):
    answer = act(control, channel, "tier", django_capture_on_commit_callbacks, tier="TIER_UNLIMITED")
    assert (answer["messaging_limit_tier"], answer["messaging_limit"]) == ("TIER_UNLIMITED", None)
    assert management_values(channel, "phone_number_quality_update") == [quality_update("UPGRADE", "TIER_UNLIMITED")]
    assert management_values(channel, "business_capability_update") == [{"max_daily_conversations_per_business": -1}]
    act(control, channel, "tier", django_capture_on_commit_callbacks, expect=409, tier="TIER_UNLIMITED")
    assert act(control, channel, "tier", django_capture_on_commit_callbacks, expect=400, tier="TIER_1K")["code"] == (
        "invalid_tier"
    )

    answer = act(control, channel, "throughput", django_capture_on_commit_callbacks, level="HIGH")
    assert (answer["throughput_level"], answer["throughput_per_second"]) == ("HIGH", 1000)
    assert graph.get(graph.base, fields="throughput").json()["throughput"] == {"level": "HIGH"}
    assert management_values(channel, "phone_number_quality_update")[-1]["event"] == "THROUGHPUT_UPGRADE"
    answer = act(control, channel, "throughput", django_capture_on_commit_callbacks, level="STANDARD")
    assert answer["throughput_per_second"] == 80


def test_thresholds_change_and_the_number_is_reviewed_with_them(control, channel, django_capture_on_commit_callbacks):
    [customer] = _customers(channel, 1)
    customer_act(control, channel, "block", django_capture_on_commit_callbacks, wa_id=customer.wa_id)
    assert number(channel).quality_rating == "GREEN"
    answer = act(control, channel, "thresholds", django_capture_on_commit_callbacks, min_signals=1)
    assert answer["thresholds"]["min_signals"] == 1
    assert (answer["quality_rating"], answer["events"]) == ("RED", ["FLAGGED"])
    bad = act(
        control, channel, "thresholds", django_capture_on_commit_callbacks, expect=400, yellow_percent=9, red_percent=3
    )
    assert bad["code"] == "invalid_thresholds"


def test_unknown_actions_and_real_numbers_are_refused(control, channel, django_capture_on_commit_callbacks):
    assert act(control, channel, "explode", django_capture_on_commit_callbacks, expect=404)["code"] == "unknown_action"
    real = ChannelFactory(graph_api_base="https://graph.facebook.com/v23.0")
    response = control.post(f"numbers/{real.phone_number_id}/health/flag", {})
    assert (response.status_code, response.json()["code"]) == (403, "not_simulated")
    assert control.get(f"numbers/{real.phone_number_id}/health").status_code == 403
    assert act(control, channel, "restrict", django_capture_on_commit_callbacks, expect=400)["code"] == "missing_field"


# Identity, blocks and marketing preferences on delivery


def _last_failure(channel, wa_id=CUSTOMER):
    message = SimulatedMessage.objects.filter(channel=channel, customer__wa_id=wa_id).latest("id")
    return message.status, (message.error or {}).get("code")


def test_a_send_with_an_old_identity_hash_fails_with_137000(
    control, graph, channel, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        control.inbound(type="text", text="Hi")
    current = SimulatedCustomer.objects.get(wa_id=CUSTOMER).identity_hash
    with django_capture_on_commit_callbacks(execute=True):
        assert graph.send(text_body(recipient_identity_key_hash=current)).status_code == 200
    assert _last_failure(channel) == ("delivered", None)
    with django_capture_on_commit_callbacks(execute=True):
        assert graph.send(text_body(recipient_identity_key_hash="Sjvjlx8G6Z0=")).status_code == 200
    assert _last_failure(channel) == ("failed", 137000)
    webhook = SimulatedWebhook.objects.filter(kind="status").latest("id")
    [status] = json.loads(bytes(webhook.raw_body))["entry"][0]["changes"][0]["value"]["statuses"]
    assert status["status"] == "failed" and status["errors"][0]["code"] == 137000
    assert status["errors"][0]["title"] == "Identity key hash mismatch"
    # Without the key the identity is not checked.
    with django_capture_on_commit_callbacks(execute=True):
        assert graph.send(text_body()).status_code == 200
    assert _last_failure(channel) == ("delivered", None)


def test_blocked_customers_get_nothing_and_stopped_ones_get_no_marketing(
    control, graph, channel, django_capture_on_commit_callbacks
):
    approved_template(channel)
    approved_template(channel, name="big_sale", category="MARKETING")
    with django_capture_on_commit_callbacks(execute=True):
        control.inbound(type="text", text="Hi")
    customer_act(control, channel, "stop_marketing", django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        graph.send(template_message(name="big_sale"))
    assert _last_failure(channel) == ("failed", 131050)
    with django_capture_on_commit_callbacks(execute=True):
        graph.send(template_message())  # utility still goes
    assert _last_failure(channel) == ("delivered", None)

    customer_act(control, channel, "block", django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        graph.send(text_body())
    assert _last_failure(channel) == ("failed", 131026)
    customer_act(control, channel, "unblock", django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        graph.send(text_body())
    assert _last_failure(channel) == ("delivered", None)


# The page's number panel


def test_the_page_shows_the_number_panel_and_its_actions_work(channel, django_capture_on_commit_callbacks):
    client = Client()
    page = client.get("/simulator/", {"number": channel.phone_number_id})
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-testid="number-panel"' in html and 'data-testid="health-flag"' in html
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/simulator/phone/numbers/flag", {"number": channel.phone_number_id})
    assert response.status_code == 302 and response["Location"].endswith("#sim-number-health")
    page = client.get("/simulator/", {"number": channel.phone_number_id}).content.decode()
    assert 'data-testid="health-flag-countdown"' in page and 'data-testid="health-fast-forward"' in page
    refused = client.post("/simulator/phone/numbers/flag", {"number": channel.phone_number_id})
    assert refused.status_code == 409
    assert "already flagged" in refused.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/simulator/phone/numbers/restrict", {"number": channel.phone_number_id, "hours": "2"})
    page = client.get("/simulator/", {"number": channel.phone_number_id}).content.decode()
    assert 'data-testid="health-restricted"' in page
    assert [v["event"] for v in management_values(channel, "account_update")] == ["ACCOUNT_RESTRICTION"]
