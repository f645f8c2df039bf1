"""`/api/v1/channels/<id>/health/` (+ `sync/`) and `/business-profile/`: shapes, who may, stable error codes."""

import json
from datetime import timedelta

import pytest
import respx
from django.utils import timezone

from accounts.models import Role
from inbox.models import NumberStatus
from inbox.services import number_health
from tests.api.conftest import token_client
from tests.factories import ChannelFactory, UserFactory
from tests.inbox import whatsapp_payloads as wa

pytestmark = pytest.mark.django_db

GRAPH = "https://graph.facebook.com/v23.0"
PROFILE_PATH = f"/{wa.PHONE_NUMBER_ID}/whatsapp_business_profile"


@pytest.fixture
def channel(db):
    return ChannelFactory(name="Support", phone_number_id=wa.PHONE_NUMBER_ID, app_id="777")


@pytest.fixture
def admin(db):
    return UserFactory(role=Role.ADMIN)


@pytest.fixture
def graph():
    with respx.mock(base_url=GRAPH, assert_all_called=False) as mock:
        yield mock


def url(channel, tail: str = "health/") -> str:
    return f"/api/v1/channels/{channel.pk}/{tail}"


def test_the_health_of_a_flagged_number_with_its_timeline(channel, admin):
    flagged_at = timezone.now() - timedelta(days=1)
    channel.number_status, channel.flagged_at, channel.quality_rating = NumberStatus.FLAGGED, flagged_at, "red"
    channel.save()
    for value in (10, 20, 30):
        number_health.throughput_set(channel=channel, actor=admin, per_second=value)

    api = token_client(admin)
    response = api.get(url(channel) + "?limit=2")
    assert response.status_code == 200
    body = response.json()
    assert {k: body[k] for k in ("channel_id", "quality_rating", "number_status", "messaging_limit")} == {
        "channel_id": channel.pk,
        "quality_rating": "red",
        "number_status": "flagged",
        "messaging_limit": 250,
    }
    assert body["throughput_per_second"] == 30
    assert body["messaging_limit_used_24h"] == 0
    assert body["flag_recovery_ends_at"].startswith((flagged_at + timedelta(days=7)).date().isoformat())
    assert [e["current"] for e in body["timeline"]["results"]] == ["30", "20"]
    assert body["timeline"]["results"][0]["source"] == "admin"
    older = api.get(body["timeline"]["next"]).json()
    assert [e["current"] for e in older["timeline"]["results"]] == ["10"]
    assert older["timeline"]["next"] is None


@pytest.mark.parametrize(("who", "status"), [("admin", 200), ("manager", 200), ("agent", 403), ("anonymous", 401)])
def test_who_sees_the_health(make_client, channel, who, status):
    response = make_client(who).get(url(channel))
    assert response.status_code == status
    if status != 200:
        assert set(response.json()) == {"code", "detail"}


def test_an_unknown_channel_and_a_bad_cursor(admin, channel):
    api = token_client(admin)
    assert api.get("/api/v1/channels/999999/health/").json()["code"] == "not_found"
    response = api.get(url(channel) + "?cursor=nonsense")
    assert (response.status_code, response.json()["code"]) == (400, "invalid")


def test_patch_sets_the_throughput(channel, admin):
    api = token_client(admin)
    response = api.patch(url(channel), {"throughput_per_second": 500}, format="json")
    assert response.status_code == 200
    assert response.json()["throughput_per_second"] == 500
    response = api.patch(url(channel), {"throughput_per_second": 5000}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert "1 to 1,000" in response.json()["fields"]["throughput_per_second"][0]
    manager = token_client(UserFactory(role=Role.MANAGER))
    assert manager.patch(url(channel), {"throughput_per_second": 5}, format="json").status_code == 403


def test_sync(graph, channel, admin):
    graph.get(f"/{wa.PHONE_NUMBER_ID}").respond(
        200, json={"quality_rating": "YELLOW", "status": "CONNECTED", "messaging_limit_tier": "TIER_1K"}
    )
    response = token_client(admin).post(url(channel, "health/sync/"))
    assert response.status_code == 200
    body = response.json()
    assert (body["quality_rating"], body["messaging_limit"], body["messaging_limit_tier"]) == (
        "yellow",
        1000,
        "TIER_1K",
    )
    assert body["health_synced_at"] is not None
    assert {e["source"] for e in body["timeline"]["results"]} == {"sync"}


def test_a_failed_sync_is_502_with_the_reason(graph, channel, admin):
    graph.get(f"/{wa.PHONE_NUMBER_ID}").respond(500, json={"error": {"message": "(#1) Unknown", "code": 1}})
    response = token_client(admin).post(url(channel, "health/sync/"))
    assert response.status_code == 502
    assert response.json()["code"] == "whatsapp_error"
    assert response.json()["detail"].startswith("Could not sync:")


@pytest.mark.parametrize(("who", "status"), [("manager", 403), ("agent", 403), ("anonymous", 401)])
def test_only_admins_sync(make_client, graph, channel, who, status):
    assert make_client(who).post(url(channel, "health/sync/")).status_code == status
    assert not graph.calls


# --- the business profile -------------------------------------------------------------------------------------


PROFILE = {
    "about": "Fresh bread daily",
    "address": "1 Main St",
    "description": "",
    "email": "help@bakery.example",
    "profile_picture_url": "https://pps.whatsapp.net/v/p.jpg",
    "websites": ["https://bakery.example"],
    "vertical": "RESTAURANT",
    "messaging_product": "whatsapp",
}


def test_get_the_profile(graph, channel, admin):
    graph.get(PROFILE_PATH).respond(200, json={"data": [PROFILE]})
    response = token_client(admin).get(url(channel, "business-profile/"))
    assert response.status_code == 200
    assert response.json() == {k: v for k, v in PROFILE.items() if k != "messaging_product"}


def test_patch_sends_only_the_fields_given_and_answers_the_profile(graph, channel, admin):
    update = graph.post(PROFILE_PATH).respond(200, json={"success": True})
    graph.get(PROFILE_PATH).respond(200, json={"data": [{**PROFILE, "email": "hello@bakery.example"}]})
    response = token_client(admin).patch(
        url(channel, "business-profile/"), {"email": "hello@bakery.example"}, format="json"
    )
    assert response.status_code == 200, response.content
    assert json.loads(update.calls.last.request.content) == {
        "messaging_product": "whatsapp",
        "email": "hello@bakery.example",
    }
    assert response.json()["email"] == "hello@bakery.example"


def test_patch_with_a_photo(graph, channel, admin):
    graph.post("/777/uploads").respond(200, json={"id": "upload:9"})
    graph.post("/upload:9").respond(200, json={"h": "4:h"})
    update = graph.post(PROFILE_PATH).respond(200, json={"success": True})
    graph.get(PROFILE_PATH).respond(200, json={"data": [PROFILE]})
    from django.core.files.uploadedfile import SimpleUploadedFile

    photo = SimpleUploadedFile("p.jpg", b"\xff\xd8\xff\xe0" + b"\x00" * 64, content_type="image/jpeg")
    response = token_client(admin).patch(
        url(channel, "business-profile/"),
        {"about": "Hi", "websites": ["https://a.example", "https://b.example"], "photo": photo},
        format="multipart",
    )
    assert response.status_code == 200, response.content
    sent = json.loads(update.calls.last.request.content)
    assert sent == {
        "messaging_product": "whatsapp",
        "about": "Hi",
        "websites": ["https://a.example", "https://b.example"],
        "profile_picture_handle": "4:h",
    }


@pytest.mark.parametrize(
    ("body", "status", "code", "field"),
    [
        ({"about": "x" * 140}, 400, "invalid", "about"),
        ({"websites": ["a", "b", "c"]}, 400, "invalid", "websites"),
        ({"vertical": "spaceships"}, 400, "invalid", "vertical"),
        ({}, 400, "invalid", "non_field_errors"),
    ],
)
def test_patch_refusals(graph, channel, admin, body, status, code, field):
    response = token_client(admin).patch(url(channel, "business-profile/"), body, format="json")
    assert response.status_code == status
    assert response.json()["code"] == code
    assert field in response.json()["fields"]
    assert not graph.calls


def test_a_photo_without_the_meta_app_is_422(graph, admin):
    channel = ChannelFactory(phone_number_id=wa.PHONE_NUMBER_ID, app_id="")
    from django.core.files.uploadedfile import SimpleUploadedFile

    photo = SimpleUploadedFile("p.jpg", b"\xff\xd8\xff\xe0" + b"\x00" * 64, content_type="image/jpeg")
    response = token_client(admin).patch(url(channel, "business-profile/"), {"photo": photo}, format="multipart")
    assert response.status_code == 422
    assert response.json()["code"] == "no_app_id"


def test_whatsapps_refusal_is_502(graph, channel, admin):
    graph.post(PROFILE_PATH).respond(
        400, json={"error": {"message": "(#131009) Parameter value is not valid", "code": 131009}}
    )
    response = token_client(admin).patch(url(channel, "business-profile/"), {"about": "Hi"}, format="json")
    assert response.status_code == 502
    assert response.json()["code"] == "whatsapp_error"
    assert "WhatsApp refused the change" in response.json()["detail"]


@pytest.mark.parametrize(("who", "status"), [("manager", 403), ("agent", 403), ("anonymous", 401)])
def test_only_admins_see_the_profile(make_client, graph, channel, who, status):
    assert make_client(who).get(url(channel, "business-profile/")).status_code == status
    assert not graph.calls
