"""Search finds messages, conversations and contacts, only among what the person may see; matches are
marked after escaping; on PostgreSQL messages go through the GIN-indexed full-text search, never LIKE."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from inbox.services.notes import note_add
from inbox.together_selectors import highlight, search
from tests.factories import MessageFactory
from tests.inbox.together.conftest import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def said(world):
    MessageFactory(conversation=world.conversation, text="Where is my parcel? Tracking number 4417")
    MessageFactory(conversation=world.support_conversation, text="My parcel arrived broken")
    MessageFactory(conversation=world.conversation, type="reaction", text="parcel")
    note_add(conversation=world.conversation, author=world.sam, body="Parcel lost by the courier, refund")
    return world


def test_an_agent_never_finds_another_teams_messages(said):
    world = said
    sam = search(user=world.sam, query="parcel")
    assert {m.conversation_id for m in sam.messages} == {world.conversation.pk}
    assert len(sam.messages) == 2  # the message and the note; never the reaction
    olga = search(user=world.olga, query="parcel")
    assert [m.text for m in olga.messages] == ["My parcel arrived broken"]
    assert {m.conversation_id for m in search(user=world.ada, query="parcel").messages} == {
        world.conversation.pk,
        world.support_conversation.pk,
    }


def test_every_word_must_match_and_words_match_as_prefixes(said):
    assert [m.text for m in search(user=said.sam, query="parcel 4417").messages] == [
        "Where is my parcel? Tracking number 4417"
    ]
    assert len(search(user=said.sam, query="parc").messages) == 2
    assert search(user=said.sam, query="parcel broken").messages == []


def test_conversations_and_contacts_are_scoped_too(said):
    world = said
    sam = search(user=world.sam, query="ana")
    assert [c.pk for c in sam.conversations] == [world.conversation.pk]
    assert [c.pk for c in sam.contacts] == [world.conversation.contact_id]
    assert sam.contacts[0].latest_conversation_id == world.conversation.pk
    assert search(user=world.sam, query="bruno").empty
    assert [c.pk for c in search(user=world.olga, query="bruno").conversations] == [world.support_conversation.pk]
    assert search(user=world.sam, query="351912").contacts


def test_kind_narrows_the_search(said):
    results = search(user=said.sam, query="ana", kind="contacts")
    assert results.contacts and not results.conversations and not results.messages


def test_punctuation_only_finds_nothing(said):
    assert search(user=said.sam, query="%%% '&:*!").empty


@pytest.mark.parametrize(
    ("text", "terms", "expected"),
    [
        ("Parcel here", ["parcel"], "<mark>Parcel</mark> here"),
        ("<b>parcel</b>", ["parcel"], "&lt;b&gt;<mark>parcel</mark>&lt;/b&gt;"),
        ("Tom & Amp", ["amp"], "Tom &amp; <mark>Amp</mark>"),
        ("<script>", ["script"], "&lt;<mark>script</mark>&gt;"),
        ("nothing", [], "nothing"),
    ],
)
def test_highlighting_escapes_first(text, terms, expected):
    assert str(highlight(text, terms)) == expected


def test_the_page_and_its_htmx_results(said):
    client = client_for(said.sam)
    page = client.get("/search?q=parcel")
    assert page.status_code == 200
    html = page.content.decode()
    assert "<mark>parcel</mark>" in html and "broken" not in html
    partial = client.get("/search?q=parcel", headers={"HX-Request": "true"})
    assert "<html" not in partial.content.decode() and "<mark>" in partial.content.decode()
    assert "Nothing you may see matches" in client.get("/search?q=zebra").content.decode()


def test_the_api(said, api_client):
    api_client.force_authenticate(said.olga)
    body = api_client.get("/api/v1/search/?q=parcel").json()
    assert [m["text"] for m in body["messages"]] == ["My parcel arrived broken"]
    assert api_client.get("/api/v1/search/?q=parcel&kind=contacts").json()["messages"] == []
    assert api_client.get("/api/v1/search/?q=parcel&kind=nope").status_code == 400


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's full-text search")
def test_postgresql_uses_the_indexed_full_text_search(said):
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'message_text_search'")
        (definition,) = cursor.fetchone()
    assert "gin" in definition and "to_tsvector('simple'::regconfig, COALESCE(text, ''::text))" in definition
    with CaptureQueriesContext(connection) as queries:
        search(user=said.sam, query="parcel", kind="messages")
    sql = " ".join(query["sql"] for query in queries)
    assert "to_tsvector('simple'::regconfig, COALESCE(\"inbox_message\".\"text\", ''))" in sql
    assert "LIKE" not in sql.upper()
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
        cursor.execute(
            "EXPLAIN SELECT id FROM inbox_message WHERE "
            "to_tsvector('simple'::regconfig, COALESCE(text, '')) @@ to_tsquery('simple'::regconfig, 'parcel:*')"
        )
        plan = " ".join(row[0] for row in cursor.fetchall())
    assert "message_text_search" in plan
