import pytest
from rest_framework.test import APIClient

from accounts.models import Role
from tests.accounts.two_factor import phone_code, two_factor_on
from tests.api.conftest import assert_error
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/auth/token/"
PASSWORD = "correct horse battery"


@pytest.mark.parametrize("role", [Role.AGENT, Role.ADMIN, Role.MANAGER])
def test_a_token_from_email_and_password_authenticates_api_calls(role):
    # given: admins and managers must use two-factor, so they send their app's code too
    user = UserFactory(email="ana@example.com", role=role)
    credentials = {"email": "ana@example.com", "password": PASSWORD}
    if role != Role.AGENT:
        secret, _ = two_factor_on(user)
        credentials["otp"] = phone_code(secret)
    client = APIClient()

    # when
    response = client.post(URL, credentials, format="json")

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


def test_logins_are_throttled_after_ten_failed_tries():
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


def test_the_refusal_says_when_to_try_again():
    UserFactory(email="ana@example.com")
    client = APIClient()
    for _ in range(10):
        client.post(URL, {"email": "ana@example.com", "password": "guess"}, format="json")
    response = client.post(URL, {"email": "ana@example.com", "password": PASSWORD}, format="json")
    assert response.json()["detail"] == "Too many attempts: try again in 15 minutes."
    assert 14 * 60 < int(response.headers["Retry-After"]) <= 15 * 60


def test_successful_logins_do_not_use_up_the_tries():
    UserFactory(email="ana@example.com")
    for _ in range(12):
        response = APIClient().post(URL, {"email": "ana@example.com", "password": PASSWORD}, format="json")
        assert response.status_code == 200


# Two-factor


@pytest.fixture
def ana_with_two_factor():
    user = UserFactory(email="ana@example.com", role=Role.AGENT)
    secret, recovery_codes = two_factor_on(user)
    return user, secret, recovery_codes


def test_with_two_factor_on_the_code_is_required(ana_with_two_factor):
    response = APIClient().post(URL, {"email": "ana@example.com", "password": PASSWORD}, format="json")
    assert_error(response, 400, "otp_required")
    assert "token" not in response.json()


def test_a_wrong_code_is_refused(ana_with_two_factor):
    _, secret, _ = ana_with_two_factor
    wrong = str((int(phone_code(secret)) + 1) % 1_000_000).zfill(6)
    response = APIClient().post(URL, {"email": "ana@example.com", "password": PASSWORD, "otp": wrong}, format="json")
    assert_error(response, 400, "invalid_otp")


def test_the_right_code_gives_a_token_once(ana_with_two_factor):
    _, secret, _ = ana_with_two_factor
    body = {"email": "ana@example.com", "password": PASSWORD, "otp": phone_code(secret)}
    assert APIClient().post(URL, body, format="json").status_code == 200
    # The same code seen again (someone looking over a shoulder) is refused.
    assert_error(APIClient().post(URL, body, format="json"), 400, "invalid_otp")


def test_a_recovery_code_works_once(ana_with_two_factor):
    _, _, recovery_codes = ana_with_two_factor
    body = {"email": "ana@example.com", "password": PASSWORD, "otp": recovery_codes[0]}
    assert APIClient().post(URL, body, format="json").status_code == 200
    assert_error(APIClient().post(URL, body, format="json"), 400, "invalid_otp")


def test_a_wrong_password_is_refused_before_the_code_is_asked_for(ana_with_two_factor):
    response = APIClient().post(URL, {"email": "ana@example.com", "password": "guess"}, format="json")
    assert_error(response, 400, "invalid_credentials")


def test_wrong_codes_use_up_the_login_tries(ana_with_two_factor):
    client = APIClient()
    for _ in range(10):
        body = {"email": "ana@example.com", "password": PASSWORD, "otp": "000000"}
        client.post(URL, body, format="json", REMOTE_ADDR="198.51.100.7")
    _, secret, _ = ana_with_two_factor
    body = {"email": "ana@example.com", "password": PASSWORD, "otp": phone_code(secret)}
    assert_error(client.post(URL, body, format="json", REMOTE_ADDR="192.0.2.1"), 429, "throttled")


@pytest.mark.parametrize("role", [Role.ADMIN, Role.MANAGER])
def test_admins_and_managers_without_two_factor_must_set_it_up_first(role):
    UserFactory(email="ana@example.com", role=role)
    response = APIClient().post(URL, {"email": "ana@example.com", "password": PASSWORD}, format="json")
    assert_error(response, 400, "two_factor_setup_required")


@pytest.mark.parametrize("role", [Role.ADMIN, Role.MANAGER])
def test_demo_admins_and_managers_are_exempt(role):
    UserFactory(email="ana@example.com", role=role, is_demo=True)
    response = APIClient().post(URL, {"email": "ana@example.com", "password": PASSWORD}, format="json")
    assert response.status_code == 200
