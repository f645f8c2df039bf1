"""The team services tell exactly the people whose access changed (their open sockets re-check at once)."""

import pytest

from accounts import services
from accounts.models import AuditEntry
from tests.factories import ConversationFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def told(monkeypatch) -> list[set[int]]:
    calls: list[set[int]] = []
    monkeypatch.setattr(services.events, "publish_access_changed", lambda *, user_ids: calls.append(set(user_ids)))
    return calls


def test_member_changes_tell_who_was_added_and_removed(world, told):
    newcomer = UserFactory()
    services.team_set_members(actor=world.admin, team=world.support, members=[newcomer])
    assert told == [{newcomer.pk, world.agent_in.pk}]
    entry = AuditEntry.objects.get()
    assert entry.details == {"added": [newcomer.pk], "removed": [world.agent_in.pk]}


def test_an_unchanged_list_changes_nothing(world, told):
    services.team_set_members(actor=world.admin, team=world.support, members=[world.agent_in])
    services.team_set_channels(actor=world.admin, team=world.support, channels=[world.channel])
    assert told == [] and not AuditEntry.objects.exists()


def test_deleting_a_team_tells_its_members_and_those_who_get_its_conversations_back(world, told):
    world.sales.channels.add(world.channel)
    escalations = TeamFactory(members=[UserFactory()], channels=[world.channel])
    ConversationFactory(channel=world.channel, team=escalations)
    services.team_delete(actor=world.admin, team=escalations)
    (affected,) = told
    assert {world.agent_in.pk, world.agent_out.pk} <= affected


def test_a_conversation_moving_between_teams_tells_both_teams(world, told):
    world.sales.channels.add(world.channel)
    world.conversation.team = world.sales
    services.conversation_access_changed(conversation=world.conversation, previous_team_id=world.support.pk)
    assert told == [{world.agent_in.pk, world.agent_out.pk}]


def test_only_admins_change_teams(world):
    with pytest.raises(services.NotAllowed):
        services.team_create(actor=world.manager, name="Nope")
    with pytest.raises(services.NotAllowed):
        services.team_set_members(actor=world.agent_in, team=world.support, members=[])
