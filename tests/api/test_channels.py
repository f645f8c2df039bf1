import json

import pytest

from inbox.models import DEFAULT_GRAPH_API_BASE, Channel
from tests.api.conftest import assert_error
from tests.factories import ChannelFactory

pytestmark = pytest.mark.django_db

SECRETS = ("EAAG-secret-access-token", "app-secret-value-123", "verify-token-value-456")


def channel_body(**config) -> dict:
    return {
        "kind": "whatsapp_cloud",
        "name": "Support",
        "config": {
            "phone_number_id": "106540352242922",
            "waba_id": "419561257915477",
            "display_phone_number": "15550783881",
            "access_token": SECRETS[0],
            "app_secret": SECRETS[1],
            "verify_token": SECRETS[2],
            "graph_api_base": "http://127.0.0.1:8000/simulator/graph/v23.0",
            **config,
        },
    }


def assert_no_secrets(response, *, field_names: bool = True) -> None:
    text = response.content.decode()
    for secret in (*SECRETS, "test-access-token", "test-app-secret", "test-verify-token"):
        assert secret not in text
    if field_names:
        for field in ("access_token", "app_secret", "verify_token"):
            assert field not in text


@pytest.mark.parametrize("role", ["agent", "admin", "manager"])
def test_every_role_lists_channels_without_their_secrets(make_client, role):
    first, second = ChannelFactory(), ChannelFactory()
    response = make_client(role).get("/api/v1/channels/")
    assert response.status_code == 200
    assert [c["id"] for c in response.json()["results"]] == [first.pk, second.pk]
    assert response.json()["results"][0] == {
        "id": first.pk,
        "kind": "whatsapp_cloud",
        "name": first.name,
        "config": {
            "phone_number_id": first.phone_number_id,
            "waba_id": first.waba_id,
            "display_phone_number": first.display_phone_number,
            "graph_api_base": DEFAULT_GRAPH_API_BASE,
        },
        "is_active": True,
        "created_at": first.created_at.isoformat().replace("+00:00", "Z"),
    }
    assert_no_secrets(response)


@pytest.mark.parametrize(
    ("who", "status", "code"), [("anonymous", 401, "not_authenticated"), ("inactive", 401, "authentication_failed")]
)
def test_channels_need_an_active_person(make_client, who, status, code):
    ChannelFactory()
    assert_error(make_client(who).get("/api/v1/channels/"), status, code)


def test_an_admin_connects_a_channel_and_its_secrets_are_never_shown(admin_client_api):
    # when
    response = admin_client_api.post("/api/v1/channels/", channel_body(), format="json")

    # then
    assert response.status_code == 201, response.content
    body = response.json()
    channel = Channel.objects.get()
    assert body["id"] == channel.pk
    assert response.headers["Location"].endswith(f"/api/v1/channels/{channel.pk}/")
    assert body["config"] == {
        "phone_number_id": "106540352242922",
        "waba_id": "419561257915477",
        "display_phone_number": "15550783881",
        "graph_api_base": "http://127.0.0.1:8000/simulator/graph/v23.0",
    }
    assert_no_secrets(response)
    assert (channel.access_token, channel.app_secret, channel.verify_token) == SECRETS
    for view in ("/api/v1/channels/", f"/api/v1/channels/{channel.pk}/"):
        assert_no_secrets(admin_client_api.get(view))


def test_secrets_are_stored_encrypted(admin_client_api):
    from django.db import connection

    admin_client_api.post("/api/v1/channels/", channel_body(), format="json")
    with connection.cursor() as cursor:
        cursor.execute("SELECT access_token, app_secret, verify_token FROM inbox_channel")
        stored = cursor.fetchone()
    assert not set(stored) & set(SECRETS)


def test_the_graph_api_base_defaults_to_meta(admin_client_api):
    body = channel_body()
    del body["config"]["graph_api_base"], body["config"]["display_phone_number"]
    response = admin_client_api.post("/api/v1/channels/", body, format="json")
    assert response.status_code == 201
    assert response.json()["config"]["graph_api_base"] == DEFAULT_GRAPH_API_BASE == "https://graph.facebook.com/v23.0"
    assert response.json()["config"]["display_phone_number"] == ""


@pytest.mark.parametrize("role", ["agent", "manager"])
def test_only_admins_connect_channels(make_client, role):
    assert_error(make_client(role).post("/api/v1/channels/", channel_body(), format="json"), 403, "permission_denied")
    assert not Channel.objects.exists()


@pytest.mark.parametrize("who", ["anonymous", "inactive"])
def test_connecting_needs_an_active_person(make_client, who):
    response = make_client(who).post("/api/v1/channels/", channel_body(), format="json")
    assert response.status_code == 401
    assert not Channel.objects.exists()


@pytest.mark.parametrize(
    ("change", "field_path"),
    [
        ({"kind": "telegram"}, ["kind"]),
        ({"name": ""}, ["name"]),
        ({"config": {"phone_number_id": "+1 555"}}, ["config", "phone_number_id"]),
        ({"config": {"waba_id": "41956125791547x"}}, ["config", "waba_id"]),
        ({"config": {"waba_id": "٤١٩"}}, ["config", "waba_id"]),
        ({"config": {"graph_api_base": "ftp://graph.facebook.com"}}, ["config", "graph_api_base"]),
        ({"config": {"graph_api_base": "graph.facebook.com/v23.0"}}, ["config", "graph_api_base"]),
        ({"config": {"graph_api_base": "https://user:pw@graph.facebook.com"}}, ["config", "graph_api_base"]),
        ({"config": {"access_token": ""}}, ["config", "access_token"]),
        ({"config": {"app_secret": None}}, ["config", "app_secret"]),
    ],
)
def test_invalid_channels_are_refused_naming_the_field(admin_client_api, change, field_path):
    body = channel_body()
    for key, value in change.items():
        if key == "config":
            body["config"].update(value)
        else:
            body[key] = value
    response = admin_client_api.post("/api/v1/channels/", body, format="json")
    assert_error(response, 400, "invalid")
    errors = response.json()["fields"]
    for key in field_path:
        errors = errors[key]
    assert errors
    assert not Channel.objects.exists()
    assert_no_secrets(response, field_names=False)


def test_missing_config_fields_are_named(admin_client_api):
    response = admin_client_api.post(
        "/api/v1/channels/", {"kind": "whatsapp_cloud", "name": "x", "config": {}}, format="json"
    )
    assert_error(response, 400, "invalid")
    assert set(response.json()["fields"]["config"]) == {
        "phone_number_id",
        "waba_id",
        "access_token",
        "app_secret",
        "verify_token",
    }


def test_a_number_already_connected_is_refused_on_its_field(admin_client_api):
    ChannelFactory(phone_number_id="106540352242922")
    response = admin_client_api.post("/api/v1/channels/", channel_body(), format="json")
    assert_error(response, 400, "invalid")
    assert response.json()["fields"]["config"]["phone_number_id"]
    assert Channel.objects.count() == 1


def test_a_trailing_slash_on_the_graph_api_base_is_dropped(admin_client_api):
    response = admin_client_api.post(
        "/api/v1/channels/", channel_body(graph_api_base="https://graph.facebook.com/v23.0/"), format="json"
    )
    assert response.json()["config"]["graph_api_base"] == "https://graph.facebook.com/v23.0"


def test_a_body_that_is_not_json_is_a_clear_error(admin_client_api):
    response = admin_client_api.generic("POST", "/api/v1/channels/", "{not json", content_type="application/json")
    assert_error(response, 400, "malformed_request")


@pytest.mark.parametrize("role", ["agent", "admin", "manager"])
def test_one_channel(make_client, role):
    channel = ChannelFactory()
    response = make_client(role).get(f"/api/v1/channels/{channel.pk}/")
    assert response.status_code == 200
    assert response.json()["id"] == channel.pk
    assert_no_secrets(response)


def test_an_unknown_channel_is_not_found(agent_client):
    assert_error(agent_client.get("/api/v1/channels/999999/"), 404, "not_found")


@pytest.mark.parametrize("who", ["anonymous", "inactive"])
def test_one_channel_needs_an_active_person(make_client, who):
    channel = ChannelFactory()
    assert make_client(who).get(f"/api/v1/channels/{channel.pk}/").status_code == 401


def test_channel_list_query_count_does_not_grow(agent_client, django_assert_max_num_queries):
    ChannelFactory.create_batch(2)
    with django_assert_max_num_queries(2):
        agent_client.get("/api/v1/channels/")
    ChannelFactory.create_batch(20)
    with django_assert_max_num_queries(2):
        response = agent_client.get("/api/v1/channels/")
    assert len(json.loads(response.content)["results"]) == 22
