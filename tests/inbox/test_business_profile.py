"""The WhatsApp business profile: read from WhatsApp, checked against its limits before anything is sent,
sent with the photo through Meta's Resumable Upload API, WhatsApp's refusals said in plain words, audited;
and the admin's page that does it."""

import json

import httpx
import pytest
import respx
from django.test import Client

from accounts.models import AuditEntry, Role
from inbox.providers.whatsapp_cloud.health import BusinessProfile
from inbox.services import number_health
from inbox.services.number_health import HealthRefused
from tests.factories import ChannelFactory, UserFactory
from tests.inbox import whatsapp_payloads as wa

pytestmark = pytest.mark.django_db

GRAPH = "https://graph.facebook.com/v23.0"
PROFILE_PATH = f"/{wa.PHONE_NUMBER_ID}/whatsapp_business_profile"
APP_ID = "2022308451254161"
JPEG = b"\xff\xd8\xff\xe0" + b"\x10" * 2048
PROFILE = {
    "about": "Fresh bread daily",
    "address": "1 Main St, Springfield",
    "description": "A family bakery since 1952.",
    "email": "help@bakery.example",
    "profile_picture_url": "https://pps.whatsapp.net/v/t61/profile.jpg",
    "websites": ["https://bakery.example"],
    "vertical": "RESTAURANT",
    "messaging_product": "whatsapp",
}
NEW = BusinessProfile(
    about="Bread, cakes and coffee",
    address="2 Main St",
    description="Open every day.",
    email="hello@bakery.example",
    websites=("https://bakery.example", "https://bakery.example/menu"),
    vertical="RETAIL",
)


@pytest.fixture
def channel(db):
    return ChannelFactory(name="Bakery", phone_number_id=wa.PHONE_NUMBER_ID, app_id=APP_ID)


@pytest.fixture
def admin(db):
    return UserFactory(role=Role.ADMIN)


@pytest.fixture
def graph():
    with respx.mock(base_url=GRAPH, assert_all_called=False) as mock:
        yield mock


# --- the service ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("document", [{"data": [PROFILE]}, {"data": [{"business_profile": PROFILE}]}])
def test_the_profile_is_read_from_whatsapp(graph, channel, admin, document):
    route = graph.get(PROFILE_PATH).respond(200, json=document)
    outcome = number_health.business_profile_read(channel=channel, actor=admin)
    assert outcome.profile.about == "Fresh bread daily"
    assert outcome.profile.websites == ("https://bakery.example",)
    assert route.calls.last.request.url.params["fields"] == (
        "about,address,description,email,profile_picture_url,websites,vertical"
    )


def test_a_change_is_sent_to_whatsapp_and_audited(graph, channel, admin):
    route = graph.post(PROFILE_PATH).respond(200, json={"success": True})
    number_health.business_profile_change(channel=channel, actor=admin, profile=NEW)
    assert json.loads(route.calls.last.request.content) == {
        "messaging_product": "whatsapp",
        "about": "Bread, cakes and coffee",
        "address": "2 Main St",
        "description": "Open every day.",
        "email": "hello@bakery.example",
        "websites": ["https://bakery.example", "https://bakery.example/menu"],
        "vertical": "RETAIL",
    }
    entry = AuditEntry.objects.get(action="channel.business_profile_update")
    assert entry.actor == admin
    assert entry.details["about"] == "Bread, cakes and coffee" and entry.details["photo"] is False


def test_the_photo_goes_through_the_resumable_upload_api(graph, channel, admin):
    session = graph.post(f"/{APP_ID}/uploads").respond(200, json={"id": "upload:MTphdHRhY2htZW50"})
    upload = graph.post("/upload:MTphdHRhY2htZW50").respond(200, json={"h": "4:VGVzdC5qcGc=:aW1hZ2UvanBlZw==:ARa"})
    profile = graph.post(PROFILE_PATH).respond(200, json={"success": True})

    number_health.business_profile_change(channel=channel, actor=admin, profile=NEW, photo=JPEG)

    opened = session.calls.last.request
    assert dict(opened.url.params) == {
        "file_name": "profile.jpg",
        "file_length": str(len(JPEG)),
        "file_type": "image/jpeg",
    }
    sent = upload.calls.last.request
    assert sent.headers["Authorization"] == "OAuth test-access-token"
    assert sent.headers["file_offset"] == "0"
    assert sent.content == JPEG
    assert (
        json.loads(profile.calls.last.request.content)["profile_picture_handle"]
        == "4:VGVzdC5qcGc=:aW1hZ2UvanBlZw==:ARa"
    )
    assert AuditEntry.objects.get(action="channel.business_profile_update").details["photo"] is True


@pytest.mark.parametrize(
    ("profile", "photo", "field", "says"),
    [
        (BusinessProfile(about=""), None, "about", "1 to 139"),
        (BusinessProfile(about="x" * 140), None, "about", "at most 139"),
        (BusinessProfile(about="Hi", email="nope"), None, "email", "not an e-mail address"),
        (BusinessProfile(about="Hi", websites=("www.bakery.example",)), None, "websites", "https://"),
        (BusinessProfile(about="Hi"), b"GIF89a" + b"\x00" * 32, "photo", "JPEG or PNG"),
        (BusinessProfile(about="Hi"), JPEG + b"\x00" * (5 * 1024 * 1024), "photo", "at most 5 MB"),
    ],
)
def test_bad_input_is_refused_before_anything_is_sent(graph, channel, admin, profile, photo, field, says):
    with pytest.raises(HealthRefused) as refused:
        number_health.business_profile_change(channel=channel, actor=admin, profile=profile, photo=photo)
    assert refused.value.code == "invalid_profile"
    assert refused.value.field == field
    assert says in refused.value.problems[field]
    assert not graph.calls


def test_a_photo_needs_the_channels_meta_app(graph, admin):
    channel = ChannelFactory(phone_number_id=wa.PHONE_NUMBER_ID, app_id="")
    with pytest.raises(HealthRefused) as refused:
        number_health.business_profile_change(channel=channel, actor=admin, profile=NEW, photo=JPEG)
    assert refused.value.code == "no_app_id"
    assert "no app id" in refused.value.detail
    assert not graph.calls


def test_whatsapps_refusal_is_said_in_plain_words(graph, channel, admin):
    graph.post(PROFILE_PATH).respond(
        400,
        json={
            "error": {
                "message": "(#100) Invalid parameter",
                "type": "OAuthException",
                "code": 100,
                "error_data": {"messaging_product": "whatsapp", "details": "Param vertical must be one of {...}"},
                "fbtrace_id": "A37kyQyzvth42JAWv5dja9R",
            }
        },
    )
    with pytest.raises(HealthRefused) as refused:
        number_health.business_profile_change(channel=channel, actor=admin, profile=NEW)
    assert refused.value.code == "provider_error"
    assert "WhatsApp refused the change" in refused.value.detail
    assert "Param vertical must be one of" in refused.value.detail
    assert not AuditEntry.objects.filter(action="channel.business_profile_update").exists()


def test_a_failed_photo_upload_sends_no_profile(graph, channel, admin):
    graph.post(f"/{APP_ID}/uploads").respond(200, json={"id": "upload:abc"})
    graph.post("/upload:abc").mock(side_effect=httpx.ConnectError("down"))
    profile = graph.post(PROFILE_PATH).respond(200, json={"success": True})
    with pytest.raises(HealthRefused) as refused:
        number_health.business_profile_change(channel=channel, actor=admin, profile=NEW, photo=JPEG)
    assert (refused.value.code, refused.value.field) == ("provider_error", "photo")
    assert "Could not reach WhatsApp" in refused.value.detail
    assert not profile.calls


@pytest.mark.parametrize("role", [Role.AGENT, Role.MANAGER])
def test_only_admins_see_and_change_the_profile(graph, channel, role):
    person = UserFactory(role=role)
    with pytest.raises(HealthRefused):
        number_health.business_profile_read(channel=channel, actor=person)
    with pytest.raises(HealthRefused):
        number_health.business_profile_change(channel=channel, actor=person, profile=NEW)
    assert not graph.calls


def test_the_meta_app_id_is_a_number_and_audited(channel, admin):
    with pytest.raises(HealthRefused) as refused:
        number_health.app_id_set(channel=channel, actor=admin, app_id="my-app")
    assert refused.value.code == "invalid_app_id"
    number_health.app_id_set(channel=channel, actor=admin, app_id=" 123456 ")
    channel.refresh_from_db()
    assert channel.app_id == "123456"
    assert AuditEntry.objects.get(action="channel.app_id_set").details == {"from": APP_ID, "to": "123456"}


# --- the page --------------------------------------------------------------------------------------------------


@pytest.fixture
def browser(admin):
    client = Client()
    client.force_login(admin)
    return client


def test_the_page_opens_without_waiting_for_whatsapp_then_loads_the_form_in_place(graph, channel, browser):
    route = graph.get(PROFILE_PATH).respond(200, json={"data": [PROFILE]})
    page = browser.get(f"/settings/channels/{channel.pk}/profile")
    assert page.status_code == 200
    assert not route.calls
    assert b"Reading the profile from WhatsApp" in page.content

    part = browser.get(f"/settings/channels/{channel.pk}/profile?part=form", headers={"HX-Request": "true"})
    html = part.content.decode()
    assert part.status_code == 200
    assert "<html" not in html
    assert 'value="Fresh bread daily"' in html
    assert 'value="https://bakery.example"' in html
    assert '<option value="RESTAURANT" selected>' in html
    assert "https://pps.whatsapp.net/v/t61/profile.jpg" in html


def test_the_page_shows_why_whatsapp_could_not_be_read(graph, channel, browser):
    graph.get(PROFILE_PATH).mock(side_effect=httpx.ConnectError("down"))
    html = browser.get(f"/settings/channels/{channel.pk}/profile?part=form").content.decode()
    assert "Could not load the profile from WhatsApp" in html
    assert "Could not reach WhatsApp" in html


def test_saving_through_the_page(graph, channel, browser):
    graph.get(PROFILE_PATH).respond(200, json={"data": [PROFILE]})
    session = graph.post(f"/{APP_ID}/uploads").respond(200, json={"id": "upload:1"})
    graph.post("/upload:1").respond(200, json={"h": "4:handle"})
    route = graph.post(PROFILE_PATH).respond(200, json={"success": True})
    photo = _upload("me.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "image/png")
    response = browser.post(
        f"/settings/channels/{channel.pk}/profile",
        {
            "about": "Bread & cakes",
            "description": "",
            "address": "2 Main St",
            "email": "hello@bakery.example",
            "website_1": "https://bakery.example",
            "website_2": "",
            "vertical": "RETAIL",
            "photo": photo,
        },
    )
    assert response.status_code == 302
    sent = json.loads(route.calls.last.request.content)
    assert sent["about"] == "Bread & cakes" and sent["websites"] == ["https://bakery.example"]
    assert sent["profile_picture_handle"] == "4:handle"
    assert session.calls.last.request.url.params["file_type"] == "image/png"
    page = browser.get(response.url, follow=True)
    assert "WhatsApp accepted the new business profile" in page.content.decode()


def test_a_refused_form_keeps_what_was_typed_and_says_why_next_to_the_field(graph, channel, browser):
    graph.get(PROFILE_PATH).respond(200, json={"data": [PROFILE]})
    route = graph.post(PROFILE_PATH).respond(200, json={"success": True})
    response = browser.post(
        f"/settings/channels/{channel.pk}/profile",
        {"about": "<b>" + "x" * 150, "email": "nope", "website_1": "ftp://x.example", "vertical": "RETAIL"},
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "at most 139 characters" in html
    assert "not an e-mail address" in html
    assert "http:// or https://" in html
    assert "&lt;b&gt;xxx" in html and "<b>xxx" not in html
    assert not route.calls


def test_the_app_id_form(channel, browser):
    response = browser.post(f"/settings/channels/{channel.pk}/profile/app-id", {"app_id": "abc"})
    assert response.status_code == 200
    assert "A Meta app id is a number" in response.content.decode()
    response = browser.post(f"/settings/channels/{channel.pk}/profile/app-id", {"app_id": "777"})
    assert response.status_code == 302
    channel.refresh_from_db()
    assert channel.app_id == "777"


def _upload(name: str, content: bytes, content_type: str):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content, content_type=content_type)
