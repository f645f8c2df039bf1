"""Notifications: created for the right people only, pushed live to their own tabs, read through the API,
and the list's unread counts per view in one query."""

import asyncio

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import connection
from django.test.utils import CaptureQueriesContext

from inbox import events
from inbox.models import Conversation, Notification
from inbox.providers.whatsapp_cloud.types import InboundMessage
from inbox.services.ingest import message_receive
from inbox.services.notifications import notification_create
from inbox.together_selectors import unread_counts
from tests.inbox.together.conftest import client_for

pytestmark = pytest.mark.django_db


def listen(user) -> str:
    layer = get_channel_layer()
    name = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(events.user_group(user.pk), name)
    return name


def test_a_notification_is_stored_and_pushed_to_its_person_only(world, django_capture_on_commit_callbacks):
    sky_inbox, sam_inbox = listen(world.sky), listen(world.sam)
    with django_capture_on_commit_callbacks(execute=True):
        notification = notification_create(
            user=world.sky, kind="assigned", conversation=world.conversation, actor=world.sam, text="Take this one"
        )
    assert notification is not None and notification.read_at is None
    layer = get_channel_layer()
    pushed = async_to_sync(layer.receive)(sky_inbox)["event"]
    assert pushed["type"] == "notification.created"
    assert pushed["data"] | {"created_at": None} == {
        "id": notification.pk,
        "kind": "assigned",
        "kind_label": "Assigned to you",
        "text": "Take this one",
        "conversation_id": world.conversation.pk,
        "template_id": None,
        "contact_name": "Ana Sousa",
        "actor_name": "Sam Lee",
        "created_at": None,
        "read": False,
    }
    # Nothing for Sam: waiting for his channel times out.
    with pytest.raises(TimeoutError):
        async_to_sync(_receive_quickly)(layer, sam_inbox)


async def _receive_quickly(layer, name):
    return await asyncio.wait_for(layer.receive(name), timeout=0.2)


def test_nobody_is_notified_of_what_they_may_not_see_or_did_themselves(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert notification_create(user=world.olga, kind="mention", conversation=world.conversation) is None
        assert (
            notification_create(user=world.sam, kind="assigned", conversation=world.conversation, actor=world.sam)
            is None
        )
    assert not Notification.objects.exists()
    assert not callbacks


def test_a_new_customer_message_notifies_the_assignee(world, django_capture_on_commit_callbacks):
    Conversation.objects.filter(pk=world.conversation.pk).update(assignee=world.sam)
    inbound = InboundMessage(
        phone_number_id=world.sales_line.phone_number_id,
        waba_id=world.sales_line.waba_id,
        provider_message_id="wamid.NEW1",
        sender_wa_id=world.conversation.contact.wa_id,
        sender_user_id=None,
        profile=None,
        timestamp=1_700_000_000,
        type="text",
        text="Any news?",
        content={"body": "Any news?"},
    )
    with django_capture_on_commit_callbacks(execute=True):
        message, created = message_receive(channel=world.sales_line, inbound=inbound)
    assert created
    notification = Notification.objects.get()
    assert (notification.user, notification.kind, notification.message, notification.text) == (
        world.sam,
        "new_message",
        message,
        "Any news?",
    )


def test_an_unassigned_conversation_notifies_nobody(world):
    inbound = InboundMessage(
        phone_number_id=world.sales_line.phone_number_id,
        waba_id=world.sales_line.waba_id,
        provider_message_id="wamid.NEW2",
        sender_wa_id=world.conversation.contact.wa_id,
        sender_user_id=None,
        profile=None,
        timestamp=1_700_000_000,
        type="text",
        text="Hello",
        content={"body": "Hello"},
    )
    message_receive(channel=world.sales_line, inbound=inbound)
    assert not Notification.objects.exists()


def test_the_api_lists_and_marks_read_only_your_own(world, api_client):
    first = notification_create(user=world.sam, kind="mention", conversation=world.conversation, actor=world.sky)
    second = notification_create(user=world.sam, kind="assigned", conversation=world.conversation, actor=world.ada)
    others = notification_create(user=world.sky, kind="mention", conversation=world.conversation, actor=world.sam)
    api_client.force_authenticate(world.sam)
    listed = api_client.get("/api/v1/notifications/").json()
    assert [row["id"] for row in listed["results"]] == [second.pk, first.pk]
    assert listed["unread"] == 2 and listed["next"] is None
    paged = api_client.get("/api/v1/notifications/?limit=1").json()
    assert [row["id"] for row in paged["results"]] == [second.pk] and paged["next"]
    assert [row["id"] for row in api_client.get(paged["next"]).json()["results"]] == [first.pk]
    read = api_client.post(f"/api/v1/notifications/{first.pk}/read/")
    assert read.status_code == 200 and read.json()["read"] is True
    assert api_client.get("/api/v1/notifications/?unread=1").json()["unread"] == 1
    assert api_client.post(f"/api/v1/notifications/{others.pk}/read/").status_code == 404
    assert api_client.post("/api/v1/notifications/read-all/").json() == {"marked": 1}
    assert not Notification.objects.filter(user=world.sam, read_at__isnull=True).exists()
    assert Notification.objects.get(pk=others.pk).read_at is None


def test_opening_the_conversation_reads_its_notifications(world):
    notification_create(user=world.sam, kind="mention", conversation=world.conversation, actor=world.sky)
    client = client_for(world.sam)
    assert "data-bell-count>1<" in client.get("/").content.decode()
    client.get(f"/conversations/{world.conversation.pk}/")
    assert Notification.objects.get().read_at is not None


def test_the_bell_panel(world):
    notification_create(
        user=world.sam, kind="mention", conversation=world.conversation, actor=world.sky, text="<b>x</b>"
    )
    html = client_for(world.sam).get("/inbox/notifications/").content.decode()
    assert "Mentioned you" in html and "Sky Park" in html and "&lt;b&gt;x&lt;/b&gt;" in html
    counts = client_for(world.sam).get("/inbox/unread-counts").json()
    assert counts["notifications"] == 1


def test_unread_counts_per_view_in_one_query(world):
    Conversation.objects.filter(pk=world.conversation.pk).update(assignee=world.sam)
    other = Conversation.objects.create(
        channel=world.sales_line, contact=world.support_conversation.contact, unread_count=3
    )
    with CaptureQueriesContext(connection) as queries:
        counts = unread_counts(world.sam)
    assert len(queries) == 1
    assert counts == {"mine": 1, "unassigned": 1, "all": 2}
    # Olga sees only the support line.
    assert unread_counts(world.olga) == {"mine": 0, "unassigned": 1, "all": 1}
    assert other.pk
