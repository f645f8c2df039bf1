"""Accepting an invitation at /invite/<token>/: the invitee sets a name and a password and joins with the
invitation's role and teams; admins and managers set up two-factor first; used and expired links refuse."""

import hashlib
import secrets
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import Invitation, Role, Team, User
from tests.accounts.two_factor import phone_code

pytestmark = pytest.mark.django_db

PASSWORD = "a long enough passphrase"


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


def invite(*, email: str = "new@example.com", role: str = Role.AGENT, expires_in=timedelta(days=7), teams=()):
    """As the admin pages do: the token goes into the link, only its SHA-256 into the database."""
    token = secrets.token_urlsafe(32)
    invitation = Invitation.objects.create(
        email=email,
        role=role,
        token_hash=hashlib.sha256(token.encode()).hexdigest(),
        expires_at=timezone.now() + expires_in,
    )
    invitation.teams.set(teams)
    return token, invitation


def accept(client: Client, token: str, *, name: str = "Nia New", password: str = PASSWORD, again: str | None = None):
    body = {"name": name, "password": password, "password_again": password if again is None else again}
    return client.post(f"/invite/{token}/", body)


def test_an_agent_accepts_and_is_logged_in_with_the_invitations_role_and_teams():
    # given
    support, sales = Team.objects.create(name="Support"), Team.objects.create(name="Sales")
    token, invitation = invite(teams=[support, sales])
    client = Client()
    page = client.get(f"/invite/{token}/").content.decode()
    assert "new@example.com" in page and "Agent" in page

    # when
    response = accept(client, token)

    # then
    assert response.status_code == 302 and response["Location"] == "/"
    user = User.objects.get(email="new@example.com")
    assert (user.name, user.role) == ("Nia New", Role.AGENT)
    assert user.check_password(PASSWORD)
    assert set(user.teams.all()) == {support, sales}
    invitation.refresh_from_db()
    assert invitation.accepted_at is not None
    assert client.get("/").status_code == 200


@pytest.mark.parametrize("role", [Role.MANAGER, Role.ADMIN])
def test_admins_and_managers_set_up_two_factor_before_getting_in(role):
    token, _ = invite(role=role)
    client = Client()
    assert "two-factor" in client.get(f"/invite/{token}/").content.decode()
    response = accept(client, token)
    assert response["Location"] == reverse("login-setup")
    assert client.get("/").status_code == 302
    client.get(reverse("login-setup"))
    user = User.objects.get(email="new@example.com")
    assert user.role == role
    response = client.post(reverse("login-setup"), {"code": phone_code(user.otp_secret)})
    assert response.content.decode().count("<li><code>") == 10
    assert client.get("/").status_code == 200


def test_a_used_invitation_cannot_be_used_again():
    token, _ = invite()
    accept(Client(), token)
    response = Client().get(f"/invite/{token}/")
    assert response.status_code == 410
    assert "already been used" in response.content.decode()
    assert accept(Client(), token, name="Someone Else").status_code == 410
    assert User.objects.filter(email="new@example.com").count() == 1


def test_an_expired_invitation_is_refused_with_the_reason():
    token, _ = invite(expires_in=timedelta(seconds=-1))
    response = Client().get(f"/invite/{token}/")
    assert response.status_code == 410
    assert "expired" in response.content.decode()
    assert accept(Client(), token).status_code == 410
    assert not User.objects.filter(email="new@example.com").exists()


def test_an_unknown_link_is_refused():
    invite()
    response = Client().get(f"/invite/{secrets.token_urlsafe(32)}/")
    assert response.status_code == 404
    assert "not valid" in response.content.decode()


@pytest.mark.parametrize(
    ("password", "again", "says"),
    [("short", None, "too short"), ("password123", None, "too common"), (PASSWORD, PASSWORD + "!", "differ")],
)
def test_the_password_must_pass_the_rules(password, again, says):
    token, invitation = invite()
    response = accept(Client(), token, password=password, again=again)
    assert response.status_code == 400
    assert says in response.content.decode()
    assert not User.objects.filter(email="new@example.com").exists()
    invitation.refresh_from_db()
    assert invitation.accepted_at is None


def test_a_password_like_the_persons_name_is_refused():
    token, _ = invite(email="nia.newcomer@example.com")
    response = accept(Client(), token, name="Nia Newcomer", password="nia.newcomer")
    assert response.status_code == 400
    assert "too similar" in response.content.decode()


def test_an_address_that_already_has_an_account_is_refused():
    token, _ = invite(email="taken@example.com")
    User.objects.create_user("taken@example.com", "whatever password")
    response = accept(Client(), token)
    assert response.status_code == 400
    assert "already has an account" in response.content.decode()
