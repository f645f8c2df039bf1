"""Every URL of the access matrix that names a conversation, a message, a channel or a team and that an agent
of the right team may open answers 404 to an agent of another team: out of scope looks like nonexistent."""

import re

import pytest
from django.test import Client

from accounts.models import Role
from tests import test_access_matrix as matrix
from tests.factories import ChannelFactory, TeamFactory, UserFactory

SCOPED_NAMES = {"conversation_id", "message_id", "channel_id", "team_id"}
SCOPED_ROUTES = [
    route
    for route, expected in matrix.MATRIX.items()
    if expected["agent"] == 200 and SCOPED_NAMES & set(re.findall(r"<(?:\w+:)?(\w+)>", route))
]


def test_there_are_scoped_routes_to_walk():
    assert "conversations/<int:conversation_id>/" in SCOPED_ROUTES
    assert "api/v1/teams/<int:team_id>/" in SCOPED_ROUTES


@pytest.fixture
def ids(db, settings) -> dict:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.SIMULATOR_ENABLED = True
    return matrix.world.__wrapped__(None)


@pytest.mark.django_db
@pytest.mark.parametrize("route", SCOPED_ROUTES)
def test_an_agent_of_another_team_gets_404(route, ids):
    outsider = UserFactory(role=Role.AGENT)
    TeamFactory(members=[outsider], channels=[ChannelFactory()])
    client = Client()
    client.force_login(outsider)
    path = matrix.concrete_path(route, ids)
    assert client.get(path).status_code == 404, path
