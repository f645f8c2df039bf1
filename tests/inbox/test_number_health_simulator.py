"""Number health and the business profile end to end against the built-in simulator: its webhooks reach
our webhook, our client's calls (the sync, the profile, the photo's Resumable Upload) reach its Graph API
through the Django test client. Nothing touches the network."""

import httpx
import pytest
import respx

from accounts.models import Role
from inbox.models import NumberStatus
from inbox.providers.whatsapp_cloud.health import BusinessProfile
from inbox.services import number_health
from tests.factories import ChannelFactory, UserFactory

pytestmark = pytest.mark.django_db

GRAPH_BASE = "http://testserver/simulator/graph/v23.0"
JPEG = b"\xff\xd8\xff\xe0" + b"\x10" * 4096


@pytest.fixture(autouse=True)
def _simulator_on(settings):
    settings.SIMULATOR_ENABLED = True


@pytest.fixture
def channel(db):
    return ChannelFactory(
        name="Simulated", graph_api_base=GRAPH_BASE, display_phone_number="+1 555-078-3881", app_id="1234567890"
    )


@pytest.fixture
def simulator(client):
    """Our client's HTTP calls to the simulator's Graph API, answered by Django's test client."""

    def forward(request: httpx.Request) -> httpx.Response:
        headers = {
            name: value for name, value in request.headers.items() if name.lower() in ("authorization", "file_offset")
        }
        answer = client.generic(
            request.method,
            request.url.raw_path.decode(),
            data=request.content,
            content_type=request.headers.get("content-type", "application/octet-stream"),
            headers=headers,
        )
        return httpx.Response(
            answer.status_code, content=answer.content, headers={"content-type": answer["Content-Type"]}
        )

    with respx.mock(assert_all_called=False) as router:
        router.route(url__startswith=GRAPH_BASE).mock(side_effect=forward)
        yield router


def test_a_flag_in_the_simulator_reaches_the_number_and_the_sync_agrees(
    client, channel, simulator, django_capture_on_commit_callbacks
):
    admin = UserFactory(role=Role.ADMIN)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/simulator/api/numbers/{channel.phone_number_id}/health/flag", "{}", content_type="application/json"
        )
    assert response.status_code == 200, response.content
    channel.refresh_from_db()
    assert channel.number_status == NumberStatus.FLAGGED
    assert channel.flagged_at is not None
    assert admin.notifications.filter(kind="number_health").exists()

    with django_capture_on_commit_callbacks(execute=True):
        outcome = number_health.number_health_sync(channel_id=channel.pk)
    assert outcome.ok, outcome.error
    channel.refresh_from_db()
    assert channel.number_status == NumberStatus.FLAGGED
    assert channel.health_synced_at is not None
    assert channel.messaging_limit_tier


def test_the_business_profile_and_its_photo_round_trip(channel, simulator):
    admin = UserFactory(role=Role.ADMIN)
    profile = BusinessProfile(
        about="Simulated bakery",
        description="Bread every morning.",
        email="help@bakery.example",
        websites=("https://bakery.example",),
        vertical="RETAIL",
    )
    number_health.business_profile_change(channel=channel, actor=admin, profile=profile, photo=JPEG)
    outcome = number_health.business_profile_read(channel=channel, actor=admin)
    assert outcome.error == ""
    assert outcome.profile.about == "Simulated bakery"
    assert outcome.profile.websites == ("https://bakery.example",)
    assert outcome.profile.vertical == "RETAIL"
    assert outcome.profile.profile_picture_url
    uploads = [call.request for call in simulator.calls if "/upload:" in call.request.url.path]
    assert uploads and uploads[0].headers["Authorization"].startswith("OAuth ")
