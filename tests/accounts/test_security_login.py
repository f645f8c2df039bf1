"""The login page: password, then the two-factor code (or its set-up for admins and managers), the demo
exemption, recovery codes and the limit on tries."""

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from accounts import ratelimit
from accounts.models import Role, User
from accounts.views_auth import PENDING
from tests.accounts.two_factor import phone_code, two_factor_on
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery"
LOGIN = "/login/"


@pytest.fixture(autouse=True)
def _fresh_cache():
    # Login tries and used TOTP steps live in the cache, which outlives a test's transaction.
    cache.clear()
    yield
    cache.clear()


def signed_in(client: Client) -> bool:
    return client.get("/").status_code == 200


def password_step(client: Client, email: str, password: str = PASSWORD, *, next: str = "", meta: dict | None = None):
    return client.post(LOGIN, {"username": email, "password": password, "next": next}, **(meta or {}))


# Without two-factor


def test_an_agent_without_two_factor_is_logged_in_by_the_password():
    UserFactory(email="ana@example.com", role=Role.AGENT)
    client = Client()
    response = password_step(client, "ana@example.com")
    assert response.status_code == 302 and response["Location"] == "/"
    assert signed_in(client)


def test_the_email_address_is_matched_whatever_its_case():
    UserFactory(email="ana@example.com")
    client = Client()
    assert password_step(client, " Ana@Example.COM ")["Location"] == "/"
    assert signed_in(client)


def test_a_wrong_password_says_so_and_logs_nobody_in():
    UserFactory(email="ana@example.com")
    client = Client()
    response = password_step(client, "ana@example.com", "wrong")
    assert response.status_code == 200
    assert 'role="alert"' in response.content.decode()
    assert not signed_in(client)


def test_the_next_page_is_kept_but_never_another_site():
    UserFactory(email="ana@example.com")
    assert password_step(Client(), "ana@example.com", next="/conversations/1/")["Location"] == "/conversations/1/"
    assert password_step(Client(), "ana@example.com", next="https://evil.example/")["Location"] == "/"


# With two-factor on


@pytest.mark.parametrize("role", [Role.AGENT, Role.MANAGER, Role.ADMIN])
def test_with_two_factor_on_the_password_leads_to_the_code_step(role):
    # given
    user = UserFactory(email="ana@example.com", role=role)
    secret, _ = two_factor_on(user)
    client = Client()

    # when the password is right
    response = password_step(client, "ana@example.com", next="/conversations/1/")

    # then the code is asked for, and nothing opens before it is right
    assert response.status_code == 302 and response["Location"] == reverse("login-code")
    assert not signed_in(client)
    page = client.get(reverse("login-code")).content.decode()
    assert 'autocomplete="one-time-code"' in page and "ana@example.com" in page
    response = client.post(reverse("login-code"), {"code": phone_code(secret)})
    assert response.status_code == 302 and response["Location"] == "/conversations/1/"
    assert signed_in(client)


def test_a_wrong_code_is_refused_and_the_right_one_still_works():
    user = UserFactory(email="ana@example.com", role=Role.ADMIN)
    secret, _ = two_factor_on(user)
    client = Client()
    password_step(client, "ana@example.com")
    wrong = str((int(phone_code(secret)) + 1) % 1_000_000).zfill(6)
    response = client.post(reverse("login-code"), {"code": wrong})
    assert response.status_code == 200
    assert "That code is not right" in response.content.decode()
    assert not signed_in(client)
    assert client.post(reverse("login-code"), {"code": phone_code(secret)})["Location"] == "/"


def test_a_code_is_good_for_one_login_only():
    user = UserFactory(email="ana@example.com", role=Role.ADMIN)
    secret, _ = two_factor_on(user)
    code = phone_code(secret)
    first, second = Client(), Client()
    password_step(first, "ana@example.com")
    password_step(second, "ana@example.com")
    assert first.post(reverse("login-code"), {"code": code}).status_code == 302
    assert second.post(reverse("login-code"), {"code": code}).status_code == 200
    assert not signed_in(second)


def test_a_recovery_code_logs_in_once():
    user = UserFactory(email="ana@example.com", role=Role.MANAGER)
    _, recovery_codes = two_factor_on(user)
    assert len(recovery_codes) == 10 and len(set(recovery_codes)) == 10
    client = Client()
    password_step(client, "ana@example.com")
    # Typed in capitals and without its dashes, as people do.
    typed = recovery_codes[3].replace("-", "").upper()
    assert client.post(reverse("login-code"), {"code": typed})["Location"] == "/"
    assert user.recovery_codes.filter(used_at__isnull=False).count() == 1

    again = Client()
    password_step(again, "ana@example.com")
    assert again.post(reverse("login-code"), {"code": recovery_codes[3]}).status_code == 200
    assert not signed_in(again)
    # Another, unused one still works.
    assert again.post(reverse("login-code"), {"code": recovery_codes[4]})["Location"] == "/"


def test_the_code_step_without_a_password_first_goes_back_to_the_login_page():
    assert Client().get(reverse("login-code"))["Location"] == reverse("login")
    assert Client().post(reverse("login-code"), {"code": "123456"})["Location"] == reverse("login")


def test_a_pending_login_lapses_after_ten_minutes():
    user = UserFactory(email="ana@example.com", role=Role.ADMIN)
    secret, _ = two_factor_on(user)
    client = Client()
    password_step(client, "ana@example.com")
    session = client.session
    session[PENDING] = session[PENDING] | {"started": session[PENDING]["started"] - 601}
    session.save()
    response = client.post(reverse("login-code"), {"code": phone_code(secret)})
    assert response["Location"] == reverse("login")
    assert not signed_in(client)


def test_a_pending_login_lapses_when_the_password_changes_meanwhile():
    user = UserFactory(email="ana@example.com", role=Role.ADMIN)
    secret, _ = two_factor_on(user)
    client = Client()
    password_step(client, "ana@example.com")
    user.set_password("another long password")
    user.save()
    assert client.post(reverse("login-code"), {"code": phone_code(secret)})["Location"] == reverse("login")


# Mandatory set-up for admins and managers


@pytest.mark.parametrize("role", [Role.ADMIN, Role.MANAGER])
def test_admins_and_managers_without_two_factor_set_it_up_before_getting_in(role):
    # given
    user = UserFactory(email="ana@example.com", role=role)
    client = Client()

    # when the password is right
    response = password_step(client, "ana@example.com")

    # then the set-up step shows the secret as text and as a QR code, and nothing opens yet
    assert response["Location"] == reverse("login-setup")
    page = client.get(reverse("login-setup")).content.decode()
    user.refresh_from_db()
    assert user.otp_secret and user.otp_confirmed_at is None
    assert user.otp_secret[:4] in page and "<svg" in page
    assert not signed_in(client)

    # a wrong code is refused
    wrong = str((int(phone_code(user.otp_secret)) + 1) % 1_000_000).zfill(6)
    assert "That code is not right" in client.post(reverse("login-setup"), {"code": wrong}).content.decode()
    assert not signed_in(client)

    # the first right code turns two-factor on, shows the recovery codes once and logs in
    response = client.post(reverse("login-setup"), {"code": phone_code(user.otp_secret)})
    assert response.status_code == 200
    page = response.content.decode()
    assert "only time they are shown" in page
    assert page.count("<li><code>") == 10
    user.refresh_from_db()
    assert user.otp_confirmed_at is not None
    assert user.recovery_codes.count() == 10
    assert signed_in(client)


def test_reloading_the_set_up_step_keeps_the_secret_but_a_new_login_gets_a_new_one():
    user = UserFactory(email="ana@example.com", role=Role.ADMIN)
    client = Client()
    password_step(client, "ana@example.com")
    client.get(reverse("login-setup"))
    first = User.objects.get(pk=user.pk).otp_secret
    client.get(reverse("login-setup"))
    assert User.objects.get(pk=user.pk).otp_secret == first
    again = Client()
    password_step(again, "ana@example.com")
    again.get(reverse("login-setup"))
    assert User.objects.get(pk=user.pk).otp_secret != first


def test_agents_are_not_asked_to_set_up_two_factor():
    UserFactory(email="ana@example.com", role=Role.AGENT)
    assert password_step(Client(), "ana@example.com")["Location"] == "/"


# The demo exemption


@pytest.mark.parametrize("role", [Role.ADMIN, Role.MANAGER])
def test_demo_admins_and_managers_log_in_without_two_factor(role):
    UserFactory(email="ana@example.com", role=role, is_demo=True)
    client = Client()
    assert password_step(client, "ana@example.com")["Location"] == "/"
    assert signed_in(client)


def test_the_login_page_says_demo_users_skip_two_factor_only_when_the_demo_is_on():
    note = "Demo users of this sandbox skip two-factor."
    assert note not in Client().get(LOGIN).content.decode()
    UserFactory(is_demo=True)
    assert note in Client().get(LOGIN).content.decode()


# The limit on tries


def test_ten_wrong_passwords_lock_the_account_for_fifteen_minutes():
    UserFactory(email="ana@example.com")
    client = Client()
    for attempt in range(10):
        assert (
            password_step(client, "ana@example.com", "guess", meta={"REMOTE_ADDR": f"198.51.100.{attempt}"}).status_code
            == 200
        )
    # Even the right password, from yet another address.
    response = password_step(Client(), "ana@example.com", meta={"REMOTE_ADDR": "192.0.2.1"})
    assert response.status_code == 429
    assert "Too many attempts: try again in 15 minutes." in response.content.decode()
    assert not signed_in(client)


def test_ten_wrong_passwords_from_one_address_lock_that_address():
    for number in range(10):
        password_step(Client(), f"person{number}@example.com", "guess", meta={"REMOTE_ADDR": "198.51.100.1"})
    UserFactory(email="ana@example.com")
    blocked = password_step(Client(), "ana@example.com", meta={"REMOTE_ADDR": "198.51.100.1"})
    assert blocked.status_code == 429
    elsewhere = password_step(Client(), "ana@example.com", meta={"REMOTE_ADDR": "198.51.100.2"})
    assert elsewhere["Location"] == "/"


def test_wrong_codes_count_as_tries_too():
    user = UserFactory(email="ana@example.com", role=Role.ADMIN)
    secret, _ = two_factor_on(user)
    client = Client()
    password_step(client, "ana@example.com")
    for _ in range(10):
        client.post(reverse("login-code"), {"code": "000000"})
    response = client.post(reverse("login-code"), {"code": phone_code(secret)})
    assert response.status_code == 429
    assert "Too many attempts" in response.content.decode()
    assert not signed_in(client)


def test_the_web_and_the_api_share_the_tries():
    UserFactory(email="ana@example.com")
    for _ in range(10):
        Client().post("/api/v1/auth/token/", {"email": "ana@example.com", "password": "guess"})
    assert password_step(Client(), "ana@example.com").status_code == 429


def test_tries_older_than_fifteen_minutes_no_longer_count():
    for _ in range(10):
        ratelimit.failure_record(email="ana@example.com", address="192.0.2.1", now=1_000_000.0)
    assert ratelimit.retry_after(email="ana@example.com", address=None, now=1_000_000.0 + 60) == 15 * 60 - 60
    assert ratelimit.retry_after(email="ana@example.com", address=None, now=1_000_000.0 + 15 * 60 + 1) == 0


@pytest.mark.parametrize(("seconds", "sentence"), [(30, "1 minute."), (61, "2 minutes."), (900, "15 minutes.")])
def test_the_refusal_rounds_up_to_whole_minutes(seconds, sentence):
    assert ratelimit.TooManyAttempts(seconds).message == f"Too many attempts: try again in {sentence}"


def test_a_signed_in_person_is_sent_on_unless_a_page_refused_them():
    client = Client()
    client.force_login(UserFactory())
    assert client.get(LOGIN)["Location"] == "/"
    response = client.get(LOGIN + "?next=/settings/")
    assert response.status_code == 200
    assert "Your account cannot open that page." in response.content.decode()
