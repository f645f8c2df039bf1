import pytest
from django.core.cache import cache
from django.db.models.signals import post_save
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts.models import Role, Team
from inbox.models import Channel
from tests.factories import UserFactory

ROLES = ["agent", "admin", "manager"]


@pytest.fixture(autouse=True)
def _fresh_throttles():
    # Throttle counters live in the cache, which outlives a test's database transaction.
    cache.clear()
    yield
    cache.clear()


# Agents see only the channels their teams work. The API tests are about the API's shape, not about teams
# (tests/accounts/ covers those): the agents `make_client` creates belong to a team that works every channel.
EVERY_CHANNEL_TEAM = "Works every channel"


def _team_works_new_channel(sender, instance: Channel, created: bool, **kwargs) -> None:
    if created:
        Team.objects.get_or_create(name=EVERY_CHANNEL_TEAM)[0].channels.add(instance)


@pytest.fixture(autouse=True)
def _agents_work_every_channel():
    post_save.connect(_team_works_new_channel, sender=Channel, dispatch_uid="api-tests-every-channel")
    yield
    post_save.disconnect(sender=Channel, dispatch_uid="api-tests-every-channel")


def works_every_channel(user) -> None:
    team = Team.objects.get_or_create(name=EVERY_CHANNEL_TEAM)[0]
    team.channels.add(*Channel.objects.all())
    team.members.add(user)


def token_client(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


@pytest.fixture
def make_client(db):
    """`make_client("admin")` is an API client authenticated by token as a new person with that role;
    "inactive" is a deactivated agent whose token still exists; "anonymous" has no credentials."""

    def make(who: str) -> APIClient:
        if who == "anonymous":
            return APIClient()
        if who == "inactive":
            return token_client(UserFactory(role=Role.AGENT, is_active=False))
        user = UserFactory(role=Role(who))
        if who == "agent":
            works_every_channel(user)
        return token_client(user)

    return make


@pytest.fixture
def agent_client(make_client):
    return make_client("agent")


@pytest.fixture
def admin_client_api(make_client):
    return make_client("admin")


def assert_error(response, status_code: int, code: str) -> None:
    assert response.status_code == status_code, response.content
    body = response.json()
    assert body["code"] == code, body
    assert isinstance(body["detail"], str) and body["detail"]
