"""`seed_demo` puts the demo agent in the team "Support", which works the sandbox number; run twice, it
changes nothing more."""

import pytest
from django.core.management import call_command

from accounts.models import Team, User
from inbox import access
from inbox.demo import SANDBOX_PHONE_NUMBER_ID
from inbox.models import Channel

pytestmark = pytest.mark.django_db


def test_the_demo_agent_works_the_sandbox_number_and_seeding_is_idempotent(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    call_command("seed_demo")
    call_command("seed_demo")
    sandbox = Channel.objects.get(phone_number_id=SANDBOX_PHONE_NUMBER_ID)
    team = Team.objects.get(name="Support")
    assert Team.objects.count() == 1
    assert list(team.channels.all()) == [sandbox]
    agent = User.objects.get(email="agent@example.com")
    assert list(team.members.all()) == [agent]
    assert access.can_view_channel(agent, sandbox.pk)
    assert all(User.objects.values_list("is_demo", flat=True))
