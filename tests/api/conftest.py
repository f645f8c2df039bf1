import pytest
from django.core.cache import cache
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts.models import Role
from tests.factories import UserFactory

ROLES = ["agent", "admin", "manager"]


@pytest.fixture(autouse=True)
def _fresh_throttles():
    # Throttle counters live in the cache, which outlives a test's database transaction.
    cache.clear()
    yield
    cache.clear()


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
        return token_client(UserFactory(role=Role(who)))

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
