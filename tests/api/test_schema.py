import pytest
import yaml
from django.core.management import call_command

pytestmark = pytest.mark.django_db

PATHS = [
    "/api/v1/auth/token/",
    "/api/v1/channels/",
    "/api/v1/channels/{channel_id}/",
    "/api/v1/conversations/",
    "/api/v1/conversations/{conversation_id}/",
    "/api/v1/conversations/{conversation_id}/messages/",
    "/api/v1/webhook-events/",
    "/api/v1/webhook-events/{event_id}/",
    "/api/v1/webhook-events/{event_id}/reprocess/",
]


def test_the_schema_is_served_and_lists_every_endpoint(client):
    response = client.get("/api/schema/")
    assert response.status_code == 200
    schema = yaml.safe_load(response.content)
    assert set(PATHS) <= set(schema["paths"])
    assert "tokenAuth" in schema["components"]["securitySchemes"]


def test_secrets_are_write_only_in_the_schema(client):
    schemas = yaml.safe_load(client.get("/api/schema/").content)["components"]["schemas"]
    for secret in ("access_token", "app_secret", "verify_token"):
        assert schemas["ChannelConfigInput"]["properties"][secret]["writeOnly"] is True
        assert secret not in schemas["ChannelConfig"]["properties"]


def test_the_schema_generates_without_warnings(tmp_path):
    call_command("spectacular", "--fail-on-warn", "--file", str(tmp_path / "schema.yml"))


def test_the_docs_page_renders(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    assert b"/api/schema/" in response.content
