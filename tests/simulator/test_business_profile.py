"""The WhatsApp business profile over the simulated Graph API (`/{phone_number_id}/whatsapp_business_profile`)
and the Resumable Upload that gives it a photo (`/{app_id}/uploads`, `/upload:<id>`)."""

import json

import pytest
from django.test import Client

from simulator.models import GraphRequest
from tests.factories import ChannelFactory
from tests.simulator.conftest import TOKEN, oa_schema, oa_validate

pytestmark = pytest.mark.django_db
PNG = b"\x89PNG\r\n\x1a\n" + b"\x02" * 200


@pytest.fixture
def profile_url(graph):
    return f"{graph.base}/whatsapp_business_profile"


def test_an_empty_profile_answers_only_messaging_product(graph, profile_url):
    response = graph.get(profile_url)
    assert response.status_code == 200, response.content
    assert response.json() == {"data": [{"messaging_product": "whatsapp"}]}
    usage = json.loads(response["X-Business-Use-Case-Usage"])
    assert next(iter(usage.values()))[0]["type"] == "whatsapp_business_management"


def test_update_then_read_back_with_and_without_fields(graph, profile_url, channel):
    body = {
        "messaging_product": "whatsapp",
        "about": "Fresh bread every morning",
        "address": "Rua Augusta 12, Lisboa",
        "description": "A family bakery since 1962.",
        "email": "ola@padaria.example",
        "websites": ["https://padaria.example", "https://shop.padaria.example/"],
        "vertical": "GROCERY",
    }
    oa_validate(body, oa_schema("WhatsAppBusinessProfileUpdateRequest"))
    response = graph.post(profile_url, body)
    assert (response.status_code, response.json()) == (200, {"success": True})

    everything = graph.get(profile_url).json()
    assert everything == {
        "data": [{**{k: v for k, v in body.items() if k != "messaging_product"}, "messaging_product": "whatsapp"}]
    }
    # Meta escapes `@` and `/` in its JSON (§1).
    assert b"ola\\u0040padaria.example" in graph.get(profile_url).content
    assert graph.get(profile_url, fields="about,vertical").json() == {
        "data": [{"about": "Fresh bread every morning", "vertical": "GROCERY", "messaging_product": "whatsapp"}]
    }
    # A partial update leaves the rest; an empty string clears a field.
    graph.post(profile_url, {"messaging_product": "whatsapp", "address": ""})
    after = graph.get(profile_url).json()["data"][0]
    assert "address" not in after and after["about"] == "Fresh bread every morning"
    assert GraphRequest.objects.filter(path=profile_url, method="POST", response_status=200).count() == 2


def test_form_encoded_updates_work_too(client, graph, profile_url):
    response = client.post(
        profile_url,
        "messaging_product=whatsapp&about=Hey+there%21&websites=%5B%22https%3A%2F%2Fa.example%22%5D",
        content_type="application/x-www-form-urlencoded",
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    assert response.status_code == 200, response.content
    data = graph.get(profile_url).json()["data"][0]
    assert (data["about"], data["websites"]) == ("Hey there!", ["https://a.example"])


@pytest.mark.parametrize(
    ("change", "details"),
    [
        ({"about": "x" * 140}, "about must be at most 139"),
        ({"about": ""}, "about must be at least 1"),
        ({"description": "x" * 513}, "description must be at most 512"),
        ({"address": "x" * 257}, "address must be at most 256"),
        ({"email": "x" * 129}, "email must be at most 128"),
        ({"websites": ["https://a.ex", "https://b.ex", "https://c.ex"]}, "at most 2"),
        ({"vertical": "CASINO_SHIPS"}, "vertical must be one of"),
        ({"profile_picture_handle": "4:bm9uZQ==:aW1hZ2UvanBlZw==:nope"}, "not a valid upload handle"),
    ],
)
def test_invalid_values_are_refused_like_meta(graph, profile_url, change, details):
    response = graph.post(profile_url, {"messaging_product": "whatsapp", **change})
    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["code"], error["type"]) == (100, "OAuthException")
    assert details in error["error_data"]["details"]
    assert graph.get(profile_url).json() == {"data": [{"messaging_product": "whatsapp"}]}


def test_the_profile_wants_the_token_and_a_simulated_number(graph, profile_url):
    assert graph.get(profile_url, token="wrong").status_code == 401
    real = ChannelFactory(graph_api_base="https://graph.facebook.com/v23.0")
    response = graph.get(f"/simulator/graph/v23.0/{real.phone_number_id}/whatsapp_business_profile")
    assert response.status_code == 400
    assert response.json()["error"]["error_subcode"] == 33


def _start_upload(client, *, app_id="1234567890", length=len(PNG), file_type="image/png", token=TOKEN):
    return client.post(
        f"/simulator/graph/v23.0/{app_id}/uploads?file_name=logo.png&file_length={length}&file_type={file_type}",
        headers={"Authorization": f"OAuth {token}"},
    )


def _send_bytes(client, upload_id, content, *, offset=0, token=TOKEN):
    return client.post(
        f"/simulator/graph/v23.0/{upload_id}",
        content,
        content_type="application/octet-stream",
        headers={"Authorization": f"OAuth {token}", "file_offset": str(offset)},
    )


def test_resumable_upload_gives_a_handle_that_sets_the_profile_picture(client, graph, profile_url, channel):
    started = _start_upload(client)
    assert started.status_code == 200, started.content
    upload_id = started.json()["id"]
    assert upload_id.startswith("upload:")

    # In two pieces, resuming where the session stands.
    first = _send_bytes(client, upload_id, PNG[:100])
    assert first.json() == {"id": upload_id, "file_offset": 100}
    status = client.get(f"/simulator/graph/v23.0/{upload_id}", headers={"Authorization": f"Bearer {TOKEN}"})
    assert status.json() == {"id": upload_id, "file_offset": 100}
    wrong_offset = _send_bytes(client, upload_id, PNG[100:], offset=0)
    assert (
        wrong_offset.status_code == 400
        and "file_offset must be 100" in wrong_offset.json()["error"]["error_data"]["details"]
    )
    done = _send_bytes(client, upload_id, PNG[100:], offset=100)
    assert done.status_code == 200, done.content
    handle = done.json()["h"]
    assert handle.startswith("4:") and set(done.json()) == {"h"}
    # The ledger keeps the size, not the bytes.
    assert (
        GraphRequest.objects.filter(path__endswith=upload_id, method="POST").last().body == f"<{len(PNG) - 100} bytes>"
    )

    response = graph.post(profile_url, {"messaging_product": "whatsapp", "profile_picture_handle": handle})
    assert response.status_code == 200, response.content
    url = graph.get(profile_url, fields="profile_picture_url").json()["data"][0]["profile_picture_url"]
    assert url.startswith(f"http://testserver/simulator/profile-pictures/{channel.phone_number_id}?v=")
    picture = Client().get(url.removeprefix("http://testserver"))
    assert picture.status_code == 200
    assert picture["Content-Type"] == "image/png"
    assert b"".join(picture.streaming_content) == PNG


@pytest.mark.parametrize(
    ("query", "details"),
    [
        ({"length": 0}, "file_length"),
        ({"length": "many"}, "file_length"),
        ({"file_type": "image/gif"}, "file_type"),
    ],
)
def test_upload_sessions_refuse_bad_parameters(client, channel, query, details):
    response = _start_upload(client, **query)
    assert response.status_code == 400
    assert details in response.json()["error"]["error_data"]["details"]


def test_uploads_need_a_simulated_channels_token(client, channel):
    assert _start_upload(client, token="nobody").status_code == 401
    upload_id = _start_upload(client).json()["id"]
    assert _send_bytes(client, upload_id, PNG, token="nobody").status_code == 401
    too_many = _send_bytes(client, upload_id, PNG + b"x")
    assert too_many.status_code == 400 and "file_length" in too_many.json()["error"]["error_data"]["details"]


def test_only_finished_images_make_a_profile_picture(client, graph, profile_url):
    upload_id = _start_upload(client, file_type="application/pdf", length=4).json()["id"]
    handle = _send_bytes(client, upload_id, b"%PDF").json()["h"]
    response = graph.post(profile_url, {"messaging_product": "whatsapp", "profile_picture_handle": handle})
    assert response.status_code == 400 and "JPEG or PNG" in response.json()["error"]["error_data"]["details"]


def test_no_picture_is_a_404(client, channel):
    assert client.get(f"/simulator/profile-pictures/{channel.phone_number_id}").status_code == 404
    assert client.get("/simulator/profile-pictures/999").status_code == 404
