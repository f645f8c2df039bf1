"""The Security page: turning two-factor on and off, new recovery codes, and changing the password (which
ends the person's other sessions, API tokens and open sockets)."""

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from rest_framework.authtoken.models import Token

from accounts import security
from accounts.models import AuditEntry, Role
from tests.accounts.two_factor import phone_code, two_factor_on
from tests.factories import UserFactory

PASSWORD = "correct horse battery"
NEW_PASSWORD = "a brand new long passphrase"


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


def client_of(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.django_db
def test_anonymous_people_are_sent_to_the_login_page():
    assert Client().get(reverse("security"))["Location"].startswith(reverse("login"))


@pytest.mark.django_db
def test_the_page_is_linked_from_the_user_menu():
    assert f'href="{reverse("security")}"' in client_of(UserFactory()).get("/").content.decode()


@pytest.mark.django_db
def test_an_agent_turns_two_factor_on_and_off():
    # given
    user = UserFactory(role=Role.AGENT)
    client = client_of(user)
    assert "Turn on two-factor login" in client.get(reverse("security")).content.decode()

    # when they start, scan and confirm
    assert client.post(reverse("security-two-factor-start"))["Location"] == reverse("security-two-factor-setup")
    page = client.get(reverse("security-two-factor-setup")).content.decode()
    user.refresh_from_db()
    assert "<svg" in page and user.otp_secret[:4] in page
    response = client.post(reverse("security-two-factor-setup"), {"code": phone_code(user.otp_secret)})

    # then the recovery codes are shown once and two-factor is on
    assert response.content.decode().count("<li><code>") == 10
    user.refresh_from_db()
    assert security.two_factor_enabled(user)
    assert "10 recovery codes left." in client.get(reverse("security")).content.decode()
    assert client.get(reverse("security-two-factor-setup"))["Location"] == reverse("security")

    # a wrong password does not turn it off; the right one does
    response = client.post(reverse("security-two-factor-disable"), {"password": "wrong"})
    assert response.status_code == 400 and "not right" in response.content.decode()
    assert client.post(reverse("security-two-factor-disable"), {"password": PASSWORD}).status_code == 302
    user.refresh_from_db()
    assert not security.two_factor_enabled(user) and user.otp_secret == ""
    assert user.recovery_codes.count() == 0
    actions = set(AuditEntry.objects.filter(target_id=str(user.pk)).values_list("action", flat=True))
    assert {"user.two_factor_enabled", "user.two_factor_disabled"} <= actions


@pytest.mark.django_db
@pytest.mark.parametrize("role", [Role.ADMIN, Role.MANAGER])
def test_admins_and_managers_cannot_turn_two_factor_off(role):
    user = UserFactory(role=role)
    two_factor_on(user)
    client = client_of(user)
    page = client.get(reverse("security")).content.decode()
    assert "must keep two-factor login on" in page
    assert reverse("security-two-factor-disable") not in page
    response = client.post(reverse("security-two-factor-disable"), {"password": PASSWORD})
    assert response.status_code == 400
    user.refresh_from_db()
    assert security.two_factor_enabled(user)


@pytest.mark.django_db
def test_a_wrong_first_code_does_not_turn_two_factor_on():
    user = UserFactory()
    client = client_of(user)
    client.post(reverse("security-two-factor-start"))
    user.refresh_from_db()
    wrong = str((int(phone_code(user.otp_secret)) + 1) % 1_000_000).zfill(6)
    response = client.post(reverse("security-two-factor-setup"), {"code": wrong})
    assert "That code is not right" in response.content.decode()
    user.refresh_from_db()
    assert not security.two_factor_enabled(user)


@pytest.mark.django_db
def test_new_recovery_codes_replace_the_old_ones():
    user = UserFactory(role=Role.ADMIN)
    _, old_codes = two_factor_on(user)
    response = client_of(user).post(reverse("security-recovery-codes"))
    page = response.content.decode()
    assert page.count("<li><code>") == 10
    assert not any(code in page for code in old_codes)
    assert not security.two_factor_verify(user=user, code=old_codes[0])
    new_code = page.split("<li><code>")[1].split("</code>")[0]
    assert security.two_factor_verify(user=user, code=new_code)


@pytest.mark.django_db
def test_the_password_change_checks_the_current_password_and_the_rules():
    user = UserFactory()
    client = client_of(user)
    wrong_current = {"current_password": "wrong", "new_password": NEW_PASSWORD, "new_password_again": NEW_PASSWORD}
    assert "not right" in client.post(reverse("security-password"), wrong_current).content.decode()
    weak = {"current_password": PASSWORD, "new_password": "short", "new_password_again": "short"}
    response = client.post(reverse("security-password"), weak)
    assert response.status_code == 400 and "too short" in response.content.decode()
    differ = {"current_password": PASSWORD, "new_password": NEW_PASSWORD, "new_password_again": NEW_PASSWORD + "!"}
    assert "differ" in client.post(reverse("security-password"), differ).content.decode()
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


@pytest.mark.django_db
def test_a_password_change_ends_the_other_sessions_and_the_api_tokens_but_not_this_one():
    # given a person signed in on two browsers, with an API token
    user = UserFactory()
    here, elsewhere = client_of(user), client_of(user)
    Token.objects.create(user=user)

    # when they change the password here
    body = {"current_password": PASSWORD, "new_password": NEW_PASSWORD, "new_password_again": NEW_PASSWORD}
    response = here.post(reverse("security-password"), body)

    # then this browser stays in, the other is out, and the token is gone
    assert response["Location"] == reverse("security")
    assert "logged out everywhere else" in here.get(reverse("security")).content.decode()
    assert here.get("/").status_code == 200
    assert elsewhere.get("/").status_code == 302
    assert not Token.objects.filter(user=user).exists()
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert AuditEntry.objects.filter(action="user.password_changed", target_id=str(user.pk)).exists()


@pytest.mark.django_db
def test_other_peoples_sessions_are_left_alone():
    user, other = UserFactory(), UserFactory()
    others_browser = client_of(other)
    security.password_change(user=user, current_password=PASSWORD, new_password=NEW_PASSWORD, keep_session_key=None)
    assert others_browser.get("/").status_code == 200


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_a_password_change_closes_the_persons_open_sockets_at_once():
    from config.asgi import application

    # given an open socket of the person's other browser
    user = await database_sync_to_async(UserFactory)()
    elsewhere = await database_sync_to_async(client_of)(user)
    headers = [
        (b"origin", b"http://testserver"),
        (b"cookie", f"sessionid={elsewhere.cookies['sessionid'].value}".encode()),
    ]
    communicator = WebsocketCommunicator(application, "/ws/", headers=headers)
    connected, _ = await communicator.connect()
    assert connected
    assert await communicator.receive_nothing(timeout=0.2)

    # when the password changes (in this browser)
    await database_sync_to_async(security.password_change)(
        user=user, current_password=PASSWORD, new_password=NEW_PASSWORD, keep_session_key=None
    )

    # then the socket closes as "not signed in" without waiting for an event or a ping
    output = await communicator.receive_output(timeout=1)
    assert output == {"type": "websocket.close", "code": 4401}
    await communicator.wait()


@pytest.mark.django_db
def test_guessing_the_current_password_is_limited_like_the_login():
    user = UserFactory()
    client = client_of(user)
    guess = {"current_password": "guess", "new_password": NEW_PASSWORD, "new_password_again": NEW_PASSWORD}
    for _ in range(10):
        assert client.post(reverse("security-password"), guess).status_code == 400
    right = guess | {"current_password": PASSWORD}
    response = client.post(reverse("security-password"), right)
    assert response.status_code == 429
    assert "Too many attempts: try again in 15 minutes." in response.content.decode()
    user.refresh_from_db()
    assert user.check_password(PASSWORD)
