"""Fixtures for the simulator's tests: a channel connected to the simulator, a Graph client, and Meta's
OpenAPI file as an oracle for request and response shapes."""

import json
from functools import cache
from pathlib import Path

import jsonschema
import pytest
import yaml

from tests.factories import ChannelFactory

# shared/ sits beside the checkout (as in CI's clone).
OPENAPI_FILE = Path(__file__).resolve().parents[3] / "shared" / "meta-openapi" / "business-messaging-api_v23.0.yaml"
TOKEN = "test-access-token"
GRAPH_BASE = "http://testserver/simulator/graph/v23.0"


@pytest.fixture(autouse=True)
def _simulator_on(settings):
    # Production settings (REDIS_URL set, as in CI's real-service run) switch the simulator off by default.
    settings.SIMULATOR_ENABLED = True


@cache
def openapi() -> dict:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load(OPENAPI_FILE.read_text(), Loader=loader)


def oa_schema(name: str) -> dict:
    return openapi()["components"]["schemas"][name]


def oa_validate(instance, schema: dict) -> None:
    """Validate against a schema from Meta's file; its `#/components/...` references resolve in the file."""
    # OpenAPI 3.1 schemas are JSON Schema 2020-12; the (large) file is not re-checked on every call.
    jsonschema.Draft202012Validator({**schema, "components": openapi()["components"]}).validate(instance)


def oa_message_part(schema_name: str) -> dict:
    """The type-specific half of one of OA's `allOf: [BaseMessageProperties, {...}]` message schemas.

    OA's whole message schemas cannot validate anything (each allOf half forbids the other's keys), so the
    tests validate the halves: the common properties and the type's own object."""
    return oa_schema(schema_name)["allOf"][1]


@pytest.fixture
def channel(db):
    return ChannelFactory(graph_api_base=GRAPH_BASE, display_phone_number="+1 555-078-3881")


@pytest.fixture
def graph(client, channel):
    """POST/GET/DELETE against the simulated Graph API as the channel's own client would."""

    class Graph:
        def __init__(self):
            self.base = f"/simulator/graph/v23.0/{channel.phone_number_id}"

        def send(self, body, *, token=TOKEN, version="v23.0", raw=None):
            return client.post(
                f"/simulator/graph/{version}/{channel.phone_number_id}/messages",
                raw if raw is not None else json.dumps(body),
                content_type="application/json",
                headers={"Authorization": f"Bearer {token}"} if token else {},
            )

        def get(self, path, *, token=TOKEN, **params):
            return client.get(path, params, headers={"Authorization": f"Bearer {token}"})

        def post(self, path, body, *, token=TOKEN):
            return client.post(
                path, json.dumps(body), content_type="application/json", headers={"Authorization": f"Bearer {token}"}
            )

        def delete(self, path, *, token=TOKEN):
            return client.delete(path, headers={"Authorization": f"Bearer {token}"})

        def upload(self, content: bytes, *, mime_type="image/jpeg", name="photo.jpg", token=TOKEN, **fields):
            from django.core.files.uploadedfile import SimpleUploadedFile

            data = {"messaging_product": "whatsapp", "type": mime_type, **fields}
            data["file"] = SimpleUploadedFile(name, content, content_type=mime_type)
            return client.post(f"{self.base}/media", data, headers={"Authorization": f"Bearer {token}"})

    return Graph()


@pytest.fixture
def control(client, channel):
    """The simulator's control API, JSON in and out."""

    class Control:
        def post(self, path, body):
            return client.post(f"/simulator/api/{path}", json.dumps(body), content_type="application/json")

        def get(self, path, **params):
            return client.get(f"/simulator/api/{path}", params)

        def inbound(self, **fields):
            body = {"phone_number_id": channel.phone_number_id, "from": "16505551234", "name": "Ana", **fields}
            return self.post("inbound", body)

    return Control()


def text_body(to="16505551234", body="Hello from the business", **extra):
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to,
        "type": "text",
        "text": {"body": body},
        **extra,
    }


# Message templates

HELLO_WORLD = [
    {"type": "HEADER", "format": "TEXT", "text": "Hello World"},
    {
        "type": "BODY",
        "text": "Welcome and congratulations!! This message demonstrates your ability to send a WhatsApp message "
        "notification from the Cloud API, hosted by Meta. Thank you for taking the time to test with us.",
    },
    {"type": "FOOTER", "text": "WhatsApp Business Platform sample message"},
]


def approved_template(channel, *, name="hello_world", language="en_US", category="UTILITY", components=None, **extra):
    """A template already approved in the channel's WABA (no review, no webhook), as seeded demo data."""
    from simulator import services

    return services.template_create(
        waba_id=channel.waba_id,
        name=name,
        language=language,
        category=category,
        components=components if components is not None else HELLO_WORLD,
        approved=True,
        **extra,
    )


_BUTTON_FOR_SUB_TYPE = {
    "quick_reply": {"type": "QUICK_REPLY", "text": "Reply"},
    "url": {
        "type": "URL",
        "text": "Open",
        "url": "https://example.com/track/{{1}}",
        "example": ["https://example.com/track/1"],
    },
    "copy_code": {"type": "COPY_CODE", "example": "SAVE10"},
    "catalog": {"type": "CATALOG", "text": "View catalog"},
    "flow": {"type": "FLOW", "text": "Open form", "flow_id": "123456"},
}


def components_for(sent: dict) -> list[dict]:
    """The components of an approved template that fits a template message as sent (header media or
    text, one body variable per parameter, the buttons the message addresses)."""
    by_type = {str(c.get("type")).lower(): c for c in sent.get("components") or [] if c.get("type") != "button"}
    components = []
    header = by_type.get("header")
    if header:
        kind = str(header["parameters"][0]["type"]).upper()
        if kind == "TEXT":
            components.append(
                {"type": "HEADER", "format": "TEXT", "text": "About {{1}}", "example": {"header_text": ["x"]}}
            )
        else:
            components.append({"type": "HEADER", "format": kind})
    count = len((by_type.get("body") or {}).get("parameters") or [])
    text = "Hello, here is your update. " + " and then ".join(f"value {{{{{n}}}}}" for n in range(1, count + 1))
    components.append({"type": "BODY", "text": text + " Thanks.", "example": {"body_text": [["x"] * count]}})
    buttons = {
        int(str(c["index"])): str(c["sub_type"]).lower()
        for c in sent.get("components") or []
        if c.get("type") == "button"
    }
    if buttons:
        components.append(
            {
                "type": "BUTTONS",
                "buttons": [
                    {**_BUTTON_FOR_SUB_TYPE[buttons.get(i, "quick_reply")], "text": f"Button {i}"}
                    if buttons.get(i, "quick_reply") != "copy_code"
                    else _BUTTON_FOR_SUB_TYPE["copy_code"]
                    for i in range(max(buttons) + 1)
                ],
            }
        )
    return components


def template_message(name="hello_world", language="en_US", to="16505551234", components=None, **extra):
    template = {"name": name, "language": {"code": language}}
    if components is not None:
        template["components"] = components
    return {"messaging_product": "whatsapp", "to": to, "type": "template", "template": template, **extra}
