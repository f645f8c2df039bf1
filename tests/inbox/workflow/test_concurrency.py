"""Automatic assignment stays fair and within capacity when many conversations arrive at once: the team row
is the rotation lock. Runs on SQLite and on PostgreSQL (DATABASE_URL=postgres://...)."""

import threading
from collections import Counter

import pytest
from django.db import connection

from accounts.models import Presence, Role
from inbox.models import Conversation
from inbox.services import workflow
from tests.factories import ChannelFactory, ConversationFactory, TeamFactory, UserFactory

THREADS = 12


def _assign_all_at_once(conversation_ids: list[int]) -> list[BaseException]:
    start = threading.Barrier(len(conversation_ids))
    errors: list[BaseException] = []

    def work(conversation_id: int) -> None:
        try:
            start.wait()
            workflow.conversation_auto_assign(conversation_id=conversation_id)
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(pk,)) for pk in conversation_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return errors


def _team_of_three(capacity: int):
    channel = ChannelFactory()
    people = [
        UserFactory(name=name, role=Role.AGENT, presence=Presence.ONLINE, max_open_conversations=capacity)
        for name in ("Alex", "Bea", "Cy")
    ]
    team = TeamFactory(channels=[channel], members=people)
    return channel, people, team


@pytest.mark.django_db(transaction=True)
def test_concurrent_arrivals_are_shared_evenly():
    channel, people, _team = _team_of_three(capacity=10)
    conversations = [ConversationFactory(channel=channel).pk for _ in range(THREADS)]

    assert _assign_all_at_once(conversations) == []

    load = Counter(Conversation.objects.filter(pk__in=conversations).values_list("assignee", flat=True))
    assert load == {person.pk: THREADS // 3 for person in people}


@pytest.mark.django_db(transaction=True)
def test_concurrent_arrivals_never_exceed_capacity_and_the_rest_wait_in_the_queue():
    channel, people, team = _team_of_three(capacity=3)
    conversations = [ConversationFactory(channel=channel).pk for _ in range(THREADS)]

    assert _assign_all_at_once(conversations) == []

    rows = Conversation.objects.filter(pk__in=conversations)
    load = Counter(rows.exclude(assignee=None).values_list("assignee", flat=True))
    assert load == {person.pk: 3 for person in people}
    waiting = rows.filter(assignee=None)
    assert waiting.count() == THREADS - 9
    assert all(row.queued_at is not None and row.team_id == team.pk for row in waiting)
