from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Role
from tests.api.conftest import assert_error, token_client
from tests.factories import ChannelFactory, ContactFactory, ConversationFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/conversations/"
T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def iso(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def follow_all(client, url: str) -> tuple[list[int], int]:
    """Every id across all pages, following `next`, and the number of pages."""
    ids, pages = [], 0
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.content
        body = response.json()
        ids += [row["id"] for row in body["results"]]
        pages += 1
        url = body["next"]
    return ids, pages


@pytest.mark.parametrize("role", ["agent", "admin", "manager"])
def test_every_role_lists_conversations_in_the_documented_shape(make_client, role):
    # given
    contact = ContactFactory(
        wa_id="16505551234", bsuid="US.13491208655302741918", username="sheena", profile_name="Sheena"
    )
    conversation = ConversationFactory(
        contact=contact,
        activity_at=T0,
        last_message_at=T0,
        last_message_preview="Hi there",
        last_message_direction="inbound",
        unread_count=2,
        last_inbound_at=T0,
        service_window_closes_at=T0 + timedelta(hours=24),
        created_at=T0 - timedelta(days=1),
    )

    # when
    response = make_client(role).get(URL)

    # then
    assert response.status_code == 200
    assert response.json() == {
        "results": [
            {
                "id": conversation.pk,
                "channel": conversation.channel_id,
                "contact": {
                    "id": contact.pk,
                    "wa_id": "16505551234",
                    "bsuid": "US.13491208655302741918",
                    "name": "Sheena",
                    "username": "sheena",
                },
                "status": "open",
                "last_message_at": iso(T0),
                "last_message_preview": "Hi there",
                "last_message_direction": "inbound",
                "unread_count": 2,
                "last_inbound_at": iso(T0),
                "service_window_closes_at": iso(T0 + timedelta(hours=24)),
                "created_at": iso(T0 - timedelta(days=1)),
                "assignee": None,
                "team": None,
                "assigned_at": None,
                "queued_at": None,
                "priority": "none",
                "snoozed_until": None,
                "labels": [],
            }
        ],
        "next": None,
    }


@pytest.mark.parametrize(("who", "code"), [("anonymous", "not_authenticated"), ("inactive", "authentication_failed")])
def test_conversations_need_an_active_person(make_client, who, code):
    ConversationFactory()
    assert_error(make_client(who).get(URL), 401, code)


def test_newest_activity_comes_first_and_equal_times_by_newest_id(agent_client):
    channel = ChannelFactory()
    old = ConversationFactory(channel=channel, activity_at=T0)
    tied_first = ConversationFactory(channel=channel, activity_at=T0 + timedelta(minutes=5))
    tied_second = ConversationFactory(channel=channel, activity_at=T0 + timedelta(minutes=5))
    new = ConversationFactory(channel=channel, activity_at=T0 + timedelta(minutes=9))
    ids = [row["id"] for row in agent_client.get(URL).json()["results"]]
    assert ids == [new.pk, tied_second.pk, tied_first.pk, old.pk]


def test_keyset_pages_cover_every_conversation_once_even_with_equal_times(agent_client):
    # given: 23 conversations, most of them sharing an activity time with others
    channel = ChannelFactory()
    conversations = [
        ConversationFactory(channel=channel, activity_at=T0 + timedelta(seconds=i // 4, microseconds=0))
        for i in range(23)
    ]
    expected = [c.pk for c in sorted(conversations, key=lambda c: (c.activity_at, c.pk), reverse=True)]

    # when
    ids, pages = follow_all(agent_client, f"{URL}?limit=5")

    # then
    assert ids == expected
    assert pages == 5


def test_next_is_an_absolute_link_keeping_filters_and_limit(agent_client):
    channel = ChannelFactory()
    ConversationFactory.create_batch(3, channel=channel, status="pending")
    body = agent_client.get(f"{URL}?channel={channel.pk}&status=pending&limit=2").json()
    assert body["next"].startswith("http://testserver/api/v1/conversations/?")
    assert f"channel={channel.pk}" in body["next"]
    assert "status=pending" in body["next"]
    assert "limit=2" in body["next"]
    assert "cursor=" in body["next"]
    last = agent_client.get(body["next"]).json()
    assert len(last["results"]) == 1
    assert last["next"] is None


def test_a_conversation_changed_between_pages_is_not_repeated(agent_client):
    channel = ChannelFactory()
    first_page_row, *_ = rows = [
        ConversationFactory(channel=channel, activity_at=T0 - timedelta(minutes=i)) for i in range(4)
    ]
    first = agent_client.get(f"{URL}?limit=2").json()
    assert [r["id"] for r in first["results"]] == [rows[0].pk, rows[1].pk]
    # a new message moves the first conversation to the top: it is not seen again on the next page
    first_page_row.activity_at = T0 + timedelta(hours=1)
    first_page_row.save()
    second = agent_client.get(first["next"]).json()
    assert [r["id"] for r in second["results"]] == [rows[2].pk, rows[3].pk]


def test_filter_by_channel(agent_client):
    mine, other = ChannelFactory(), ChannelFactory()
    wanted = ConversationFactory(channel=mine)
    ConversationFactory(channel=other)
    ids = [row["id"] for row in agent_client.get(f"{URL}?channel={mine.pk}").json()["results"]]
    assert ids == [wanted.pk]


def test_filter_by_status(agent_client):
    channel = ChannelFactory()
    ConversationFactory(channel=channel, status="open")
    resolved = ConversationFactory(channel=channel, status="resolved")
    ids = [row["id"] for row in agent_client.get(f"{URL}?status=resolved").json()["results"]]
    assert ids == [resolved.pk]


def test_an_unknown_channel_filter_lists_nothing(agent_client):
    ConversationFactory()
    assert agent_client.get(f"{URL}?channel=987654").json() == {"results": [], "next": None}


@pytest.mark.parametrize(
    "query",
    [
        "channel=abc",
        "channel=1.5",
        "channel=-1",
        "channel=99999999999999999999999",
        "status=closed",
        "status=OPEN",
        "limit=0",
        "limit=-3",
        "limit=ten",
        "cursor=not-a-cursor",
        "cursor=WyJ5ZXN0ZXJkYXkiLDFd",  # ["yesterday",1]
        "cursor=WyIyMDI2LTA1LTAxVDEyOjAwOjAwIiwxXQ",  # a time without a zone
        "cursor=WyIyMDI2LTA1LTAxVDEyOjAwOjAwKzAwOjAwIiwiMSJd",  # id as a string
        "cursor=eyJhIjoxfQ",  # {"a":1}
    ],
)
def test_bad_query_parameters_are_a_clear_400(agent_client, query):
    response = agent_client.get(f"{URL}?{query}")
    assert_error(response, 400, "invalid")
    assert query.split("=")[0] in response.json()["detail"]


def test_limit_is_capped_at_one_hundred(agent_client):
    channel = ChannelFactory()
    contacts = ContactFactory.create_batch(101)
    for contact in contacts:
        ConversationFactory(channel=channel, contact=contact)
    body = agent_client.get(f"{URL}?limit=500").json()
    assert len(body["results"]) == 100
    assert body["next"] is not None


def test_default_page_is_twenty_five(agent_client):
    ConversationFactory.create_batch(26, channel=ChannelFactory())
    body = agent_client.get(URL).json()
    assert len(body["results"]) == 25
    assert body["next"] is not None


def test_query_count_is_the_same_for_5_and_50_rows(agent_client, django_assert_max_num_queries):
    channel = ChannelFactory()
    ConversationFactory.create_batch(5, channel=channel)
    with CaptureQueriesContext(connection) as small:
        assert len(agent_client.get(f"{URL}?limit=100").json()["results"]) == 5
    ConversationFactory.create_batch(45, channel=channel)
    with django_assert_max_num_queries(len(small)), CaptureQueriesContext(connection) as large:
        assert len(agent_client.get(f"{URL}?limit=100").json()["results"]) == 50
    assert len(large) == len(small) <= 3  # the token, then one page with its contacts, then their labels


def test_conversations_on_channels_a_person_may_not_see_are_left_out(db):
    visible, hidden = ChannelFactory(), ChannelFactory()
    shown = ConversationFactory(channel=visible)
    ConversationFactory(channel=hidden)
    agent = UserFactory(role=Role.AGENT)
    TeamFactory(members=[agent], channels=[visible])
    agent_client = token_client(agent)
    assert [row["id"] for row in agent_client.get(URL).json()["results"]] == [shown.pk]
    assert agent_client.get(f"{URL}?channel={hidden.pk}").json()["results"] == []


@pytest.mark.parametrize("role", ["agent", "admin", "manager"])
def test_one_conversation(make_client, role):
    conversation = ConversationFactory()
    response = make_client(role).get(f"{URL}{conversation.pk}/")
    assert response.status_code == 200
    assert response.json()["id"] == conversation.pk
    assert response.json()["contact"]["wa_id"] == conversation.contact.wa_id


@pytest.mark.parametrize("who", ["anonymous", "inactive"])
def test_one_conversation_needs_an_active_person(make_client, who):
    conversation = ConversationFactory()
    assert make_client(who).get(f"{URL}{conversation.pk}/").status_code == 401


def test_an_unknown_conversation_is_not_found(agent_client):
    assert_error(agent_client.get(f"{URL}424242/"), 404, "not_found")


def test_a_conversation_a_person_may_not_see_is_not_found(db):
    visible = ChannelFactory()
    hidden = ConversationFactory()
    agent = UserFactory(role=Role.AGENT)
    TeamFactory(members=[agent], channels=[visible])
    agent_client = token_client(agent)
    assert_error(agent_client.get(f"{URL}{hidden.pk}/"), 404, "not_found")
    assert_error(agent_client.get(f"{URL}{hidden.pk}/messages/"), 404, "not_found")
