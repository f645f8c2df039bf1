import pytest
from rest_framework.test import APIClient

from accounts.models import Role
from tests.api.conftest import assert_error
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/auth/token/"
PASSWORD = "correct horse battery"


@pytest.mark.parametrize("role", [Role.AGENT, Role.ADMIN, Role.MANAGER])
def test_a_token_from_email_and_password_authenticates_api_calls(role):
    # given
    UserFactory(email="ana@example.com", role=role)
    client = APIClient()

    # when
    response = client.post(URL, {"email": "ana@example.com", "password": PASSWORD}, format="json")

    # then
    assert response.status_code == 200
    token = response.json()["token"]
    assert client.get("/api/v1/conversations/").status_code == 401
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get("/api/v1/conversations/").status_code == 200


def test_asking_twice_gives_the_same_token():
    UserFactory(email="ana@example.com")
    first = APIClient().post(URL, {"email": "ana@example.com", "password": PASSWORD}, format="json")
    second = APIClient().post(URL, {"email": "ana@example.com", "password": PASSWORD}, format="json")
    assert first.json()["token"] == second.json()["token"]


def test_the_email_address_is_matched_whatever_its_case():
    UserFactory(email="ana@example.com")
    response = APIClient().post(URL, {"email": "Ana@Example.COM", "password": PASSWORD}, format="json")
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("email", "password"),
    [("ana@example.com", "wrong password"), ("nobody@example.com", PASSWORD)],
    ids=["wrong password", "unknown e-mail"],
)
def test_wrong_credentials_are_refused_without_saying_which_part_is_wrong(email, password):
    UserFactory(email="ana@example.com")
    response = APIClient().post(URL, {"email": email, "password": password}, format="json")
    assert_error(response, 400, "invalid_credentials")
    assert "token" not in response.json()


def test_an_inactive_person_gets_no_token():
    UserFactory(email="ana@example.com", is_active=False)
    response = APIClient().post(URL, {"email": "ana@example.com", "password": PASSWORD}, format="json")
    assert_error(response, 400, "invalid_credentials")


def test_a_deactivated_persons_existing_token_stops_working():
    user = UserFactory(email="ana@example.com")
    client = APIClient()
    token = client.post(URL, {"email": "ana@example.com", "password": PASSWORD}, format="json").json()["token"]
    user.is_active = False
    user.save()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert_error(client.get("/api/v1/conversations/"), 401, "authentication_failed")


def test_a_made_up_token_is_refused():
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token 0123456789abcdef0123456789abcdef01234567")
    assert_error(client.get("/api/v1/channels/"), 401, "authentication_failed")


def test_missing_fields_are_named():
    response = APIClient().post(URL, {"email": "not-an-address"}, format="json")
    assert_error(response, 400, "invalid")
    assert set(response.json()["fields"]) == {"email", "password"}


def test_get_is_not_allowed():
    assert_error(APIClient().get(URL), 405, "method_not_allowed")


def test_logins_are_throttled_after_ten_a_minute():
    UserFactory(email="ana@example.com")
    client = APIClient()
    for _ in range(10):
        assert client.post(URL, {"email": "ana@example.com", "password": "guess"}, format="json").status_code == 400
    response = client.post(URL, {"email": "ana@example.com", "password": PASSWORD}, format="json")
    assert_error(response, 429, "throttled")
    assert "Retry-After" in response.headers


def test_logins_to_one_account_are_throttled_whatever_address_they_come_from():
    UserFactory(email="ana@example.com")
    client = APIClient()
    for attempt in range(10):
        response = client.post(
            URL,
            {"email": "ana@example.com", "password": "guess"},
            format="json",
            headers={"X-Forwarded-For": f"203.0.113.{attempt}"},
            REMOTE_ADDR=f"198.51.100.{attempt}",
        )
        assert response.status_code == 400
    response = client.post(
        URL, {"email": "Ana@example.com", "password": PASSWORD}, format="json", REMOTE_ADDR="192.0.2.99"
    )
    assert_error(response, 429, "throttled")
    other = client.post(URL, {"email": "ben@example.com", "password": "x"}, format="json", REMOTE_ADDR="192.0.2.98")
    assert_error(other, 400, "invalid_credentials")
