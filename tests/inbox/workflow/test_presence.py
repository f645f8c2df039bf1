"""Presence: people whose sockets all went quiet for two minutes go offline; only what changes who sees a
conversation is announced to sockets."""

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone

from accounts.models import Presence, User
from inbox.services import workflow
from tests.factories import TeamFactory
from tests.inbox.workflow.conftest import agent

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


def test_quiet_sockets_set_people_offline_after_two_minutes(db):
    now = timezone.now()
    gone = agent("Gone")
    here = agent("Here")
    just_now = agent("Just now")
    User.objects.filter(pk__in=[gone.pk, here.pk]).update(presence_changed_at=now - timedelta(minutes=10))
    User.objects.filter(pk=just_now.pk).update(presence_changed_at=now - timedelta(seconds=30))
    workflow.socket_seen(user_id=here.pk)

    assert workflow.users_presence_expire(now=now) == 1
    presence = dict(User.objects.values_list("name", "presence"))
    assert presence == {"Gone": Presence.OFFLINE, "Here": Presence.ONLINE, "Just now": Presence.ONLINE}
    # Two minutes after the last socket closed, the next run takes them offline too.
    assert workflow.users_presence_expire(now=now + timedelta(minutes=3)) == 2


def test_the_beat_expires_presence_every_minute(settings):
    assert settings.CELERY_BEAT_SCHEDULE["expire-presence"]["task"] == "inbox.tasks.expire_presence"


def test_moving_a_conversation_to_another_team_tells_only_who_starts_or_stops_seeing_it(
    conversation, team, agents, channel, monkeypatch
):
    told = []
    monkeypatch.setattr(workflow.events, "publish_access_changed", lambda *, user_ids: told.append(set(user_ids)))
    billing_agent = agent("Bill")
    billing = TeamFactory(name="Billing", channels=[channel], members=[billing_agent])

    # With no team both teams saw it; in Billing's hands the support agents stop seeing it. Bill saw it already.
    workflow.conversation_assign(conversation=conversation, actor=agents[0], team=billing)
    assert told == [{a.pk for a in agents}]


@pytest.mark.django_db(transaction=True)
def test_an_open_socket_keeps_its_person_seen():
    from asgiref.sync import async_to_sync
    from channels.testing import WebsocketCommunicator
    from django.test import Client

    from config.asgi import application

    person = agent("Sockets")
    client = Client()
    client.force_login(person)
    headers = [
        (b"origin", b"http://testserver"),
        (b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode()),
    ]

    async def connect_and_ping() -> None:
        communicator = WebsocketCommunicator(application, "/ws/", headers=headers)
        connected, _ = await communicator.connect()
        assert connected
        await communicator.send_json_to({"type": "ping"})
        assert (await communicator.receive_json_from(timeout=5))["type"] == "pong"
        await communicator.disconnect()

    async_to_sync(connect_and_ping)()
    assert cache.get(f"workflow:socket-seen:{person.pk}") is not None
    later = timezone.now() + timedelta(seconds=workflow.SOCKET_QUIET_SECONDS + 1)
    User.objects.filter(pk=person.pk).update(presence_changed_at=timezone.now() - timedelta(hours=1))
    assert workflow.users_presence_expire(now=timezone.now()) == 0
    assert workflow.users_presence_expire(now=later) == 1
