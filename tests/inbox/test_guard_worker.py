"""The guard in the outbound worker: right before the provider call it asks the policy again with the facts as
they are now. A customer who opted out, an identity change, a restricted number stop the message (no Graph
request, the reason recorded where an admin sees it); the messaging limit makes it wait, visibly, until room
returns, then it goes by itself. Business-initiated messages are counted per WhatsApp account, exactly."""

import contextlib
import itertools
import json
import threading
from datetime import timedelta

import pytest
import respx
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from config import task_queue
from inbox.models import (
    BusinessInitiatedReach,
    ConsentAction,
    ConsentEvent,
    ConsentSource,
    Message,
    NumberStatus,
    OutboxEntry,
)
from inbox.services import outbound, reach
from inbox.services.outbound import PENDING_GRACE, SendRefused
from tests.factories import (
    ChannelFactory,
    ContactFactory,
    ConversationFactory,
    UserFactory,
    consenting,
    live_template,
    worked_by,
)
from tests.inbox.outbound.conftest import CUSTOMER, MESSAGES_URL, PHONE_NUMBER_ID, accepted

pytestmark = pytest.mark.django_db

VALUES = {"header.1": "#77", "body.1": "Ana", "body.2": "#77"}
WABA = "419561257915477"


@pytest.fixture(autouse=True)
def _no_pacing(settings):
    settings.PACING_ENABLED = False  # pacing has its own tests (test_pacing.py)


@pytest.fixture
def graph():
    with respx.mock(assert_all_called=False) as router:
        yield router


@pytest.fixture
def channel(db):
    return ChannelFactory(phone_number_id=PHONE_NUMBER_ID, waba_id=WABA, messaging_limit=250)


@pytest.fixture
def agent(channel):
    agent = UserFactory(role=Role.AGENT)
    worked_by(agent, channel)
    return agent


def closed_conversation(channel, wa_id: str = CUSTOMER, *, consent=("utility",)):
    """The customer wrote two days ago (the window is closed) and opted in to `consent` on the website."""
    wrote_at = timezone.now() - timedelta(days=2)
    contact = ContactFactory(wa_id=wa_id)
    if consent:
        consenting(contact, *consent)
    return ConversationFactory(
        channel=channel,
        contact=contact,
        last_inbound_at=wrote_at,
        service_window_closes_at=wrote_at + timedelta(hours=24),
    )


@pytest.fixture
def conversation(channel):
    return closed_conversation(channel)


@pytest.fixture
def template(channel):
    return live_template(waba_id=channel.waba_id)


@pytest.fixture
def queue(agent, template, django_capture_on_commit_callbacks):
    """Queue a template to a conversation's customer, its task held back: returns (message, release)."""

    def queue_template(conversation, *, author=agent):
        with django_capture_on_commit_callbacks() as callbacks:
            message = outbound.message_send(
                conversation=conversation,
                author=author,
                kind="template",
                payload={"template_id": template.pk, "values": VALUES},
            )

        def release():
            with django_capture_on_commit_callbacks(execute=True):
                for callback in callbacks:
                    callback()
            message.refresh_from_db()

        return message, release

    return queue_template


@pytest.fixture
def countdowns(monkeypatch):
    """The delay of every task handed to the queue ("eager" runs them at once, so tests need not wait)."""
    seen = []
    original = task_queue.dispatch

    def spy(task, args, countdown=0):
        seen.append((task.name, args, countdown))
        original(task, args, countdown)

    monkeypatch.setattr(task_queue, "dispatch", spy)
    return seen


@pytest.fixture
def clock(monkeypatch):
    """Move the clock the worker and the services read (`timezone.now`)."""

    class Clock:
        def __init__(self):
            self.now = timezone.now()
            monkeypatch.setattr(timezone, "now", lambda: self.now)

        def move(self, delta: timedelta):
            self.now += delta

    return Clock()


def accepted_each_time():
    """WhatsApp's success answer with a new wamid each call."""
    numbers = itertools.count(1)
    return lambda request: accepted(f"wamid.OUT{next(numbers)}")


def opt_out(contact, purpose="utility"):
    ConsentEvent.objects.create(
        contact=contact,
        purpose=purpose,
        action=ConsentAction.OPT_OUT,
        source=ConsentSource.KEYWORD,
        occurred_at=timezone.now(),
        evidence="STOP",
    )


def reached(channel, contact, at):
    return BusinessInitiatedReach.objects.create(
        waba_id=channel.waba_id, contact=contact, channel=channel, reached_at=at
    )


# --- facts changed between queueing and sending: not sent, the reason recorded -----------------------------------


def assert_failed_without_a_call(message, route, reason: str, says: str):
    assert route.call_count == 0
    assert message.status == "failed" and message.provider_message_id is None
    entry = message.outbox_entry
    assert (entry.state, entry.failure_reason, entry.attempts) == ("failed", reason, 0)
    assert says in message.error_title
    assert not BusinessInitiatedReach.objects.filter(message=message).exists()


def test_consent_withdrawn_after_queueing_stops_the_message(conversation, queue, graph):
    route = graph.post(MESSAGES_URL).mock(return_value=accepted())
    message, release = queue(conversation)
    opt_out(conversation.contact)  # the customer sent STOP while the message waited in the queue
    release()
    assert_failed_without_a_call(message, route, "opted_out", "asked not to receive this kind of message")


def test_consent_never_given_is_checked_again_by_the_worker(conversation, queue, graph):
    route = graph.post(MESSAGES_URL).mock(return_value=accepted())
    message, release = queue(conversation)
    ConsentEvent.objects.filter(contact=conversation.contact).delete()  # e.g. an import that was undone
    release()
    assert_failed_without_a_call(message, route, "no_consent", "has not agreed")


def test_an_identity_change_after_queueing_holds_the_message(conversation, queue, graph):
    route = graph.post(MESSAGES_URL).mock(return_value=accepted())
    message, release = queue(conversation)
    conversation.contact.identity_held_since = timezone.now()
    conversation.contact.save(update_fields=["identity_held_since"])
    release()
    assert_failed_without_a_call(message, route, "identity_unconfirmed", "must acknowledge it")


def test_a_number_restricted_after_queueing_sends_no_business_initiated_message(conversation, channel, queue, graph):
    route = graph.post(MESSAGES_URL).mock(return_value=accepted())
    message, release = queue(conversation)
    channel.number_status = NumberStatus.RESTRICTED
    channel.save(update_fields=["number_status"])
    release()
    assert_failed_without_a_call(message, route, "number_restricted", "restricted this number")


def test_a_restricted_number_still_answers_inside_the_window(channel, agent, graph, django_capture_on_commit_callbacks):
    route = graph.post(MESSAGES_URL).mock(return_value=accepted())
    channel.number_status = NumberStatus.RESTRICTED
    channel.save(update_fields=["number_status"])
    conversation = ConversationFactory(
        channel=channel,
        contact=ContactFactory(wa_id=CUSTOMER),
        last_inbound_at=timezone.now() - timedelta(minutes=5),
        service_window_closes_at=timezone.now() + timedelta(hours=23),
    )
    with django_capture_on_commit_callbacks(execute=True):
        outbound.message_send(conversation=conversation, author=agent, kind="text", payload={"body": "Hello"})
    assert route.call_count == 1


def test_the_failed_bubble_says_why_for_an_admin(conversation, queue, graph, client):
    graph.post(MESSAGES_URL).mock(return_value=accepted())
    message, release = queue(conversation)
    opt_out(conversation.contact)
    release()
    admin = UserFactory(role=Role.ADMIN)
    client.force_login(admin)
    html = client.get(reverse("inbox:message-bubble", args=[message.pk])).content.decode()
    assert "Not delivered." in html
    assert "asked not to receive this kind of message" in html


# --- the messaging limit: a queued message waits, visibly, then goes by itself ----------------------------------


def test_the_limit_reached_after_queueing_makes_the_message_wait_until_room_returns(
    conversation, channel, queue, graph, clock, countdowns, client, agent
):
    route = graph.post(MESSAGES_URL).mock(return_value=accepted("wamid.LATER"))
    channel.messaging_limit = 2
    channel.save(update_fields=["messaging_limit"])
    message, release = queue(conversation)
    # Meanwhile two other customers were reached (another agent's templates): the account is at its limit.
    oldest = clock.now - timedelta(hours=23)
    reached(channel, ContactFactory(), oldest)
    reached(channel, ContactFactory(), clock.now - timedelta(hours=2))

    release()

    assert route.call_count == 0
    entry = OutboxEntry.objects.get(message=message)
    room_at = oldest + timedelta(hours=24)
    assert (entry.state, entry.waiting_reason, entry.next_attempt_at, entry.attempts) == (
        "pending",
        "messaging_limit_reached",
        room_at,
        0,
    )
    assert message.status == "queued"
    # A task is due when the oldest reach leaves the 24 hours ("eager" ran it at once: it changed nothing).
    deliveries = [countdown for name, _args, countdown in countdowns if name == "inbox.tasks.deliver_message"]
    assert deliveries[-1] == pytest.approx(3600, abs=2)
    # The bubble says so.
    client.force_login(agent)
    html = client.get(reverse("inbox:message-bubble", args=[message.pk])).content.decode()
    assert "Waiting:" in html and "limit of customers contacted first" in html
    assert f'datetime="{timezone.localtime(room_at).isoformat()}' in html or "goes out around" in html
    # The API too.
    api = client.get(f"/api/v1/conversations/{conversation.pk}/messages/").json()["results"][-1]
    assert api["waiting"]["reason"] == "messaging_limit_reached"
    assert api["status"] == "queued"

    # The sweeper does not take it for lost before its time...
    assert outbound.outbox_requeue_stale(now=clock.now + timedelta(minutes=59)) == 0
    # ... and when the time comes, it goes out.
    clock.move(timedelta(hours=1))
    outbound.message_deliver(message_id=message.pk)
    assert route.call_count == 1
    message.refresh_from_db()
    entry.refresh_from_db()
    assert (entry.state, entry.waiting_reason, entry.attempts) == ("sent", "", 1)
    assert message.provider_message_id == "wamid.LATER"
    assert BusinessInitiatedReach.objects.filter(waba_id=WABA, message=message).count() == 1


def test_a_waiting_entry_whose_task_was_lost_is_picked_up_after_its_time(conversation, channel, queue, graph, clock):
    graph.post(MESSAGES_URL).mock(return_value=accepted())
    channel.messaging_limit = 1
    channel.save(update_fields=["messaging_limit"])
    message, release = queue(conversation)
    reached(channel, ContactFactory(), clock.now - timedelta(hours=20))
    release()
    entry = OutboxEntry.objects.get(message=message)
    assert entry.waiting_reason == "messaging_limit_reached"
    assert outbound.outbox_requeue_stale(now=entry.next_attempt_at) == 0
    assert outbound.outbox_requeue_stale(now=entry.next_attempt_at + PENDING_GRACE + timedelta(seconds=1)) == 1


def test_an_early_task_of_a_waiting_message_does_not_send_nor_queue_another(
    conversation, channel, queue, graph, clock, countdowns
):
    route = graph.post(MESSAGES_URL).mock(return_value=accepted())
    channel.messaging_limit = 1
    channel.save(update_fields=["messaging_limit"])
    message, release = queue(conversation)
    reached(channel, ContactFactory(), clock.now - timedelta(hours=20))
    release()
    before = len(countdowns)
    clock.move(timedelta(minutes=30))
    outbound.message_deliver(message_id=message.pk)  # a duplicate delivery of the delayed task
    assert route.call_count == 0 and len(countdowns) == before
    assert OutboxEntry.objects.get(message=message).waiting_reason == "messaging_limit_reached"


def test_a_raised_limit_lets_a_waiting_message_go_at_its_next_look(conversation, channel, queue, graph, clock):
    route = graph.post(MESSAGES_URL).mock(return_value=accepted())
    channel.messaging_limit = 1
    channel.save(update_fields=["messaging_limit"])
    message, release = queue(conversation)
    reached(channel, ContactFactory(), clock.now - timedelta(hours=20))
    release()
    channel.messaging_limit = 2000  # WhatsApp upgraded the tier
    channel.save(update_fields=["messaging_limit"])
    outbound.message_deliver(message_id=message.pk)
    assert route.call_count == 1


def test_a_limit_raised_by_whatsapp_releases_the_waiting_messages_that_now_fit(
    channel, agent, queue, graph, clock, django_capture_on_commit_callbacks
):
    route = graph.post(MESSAGES_URL).mock(side_effect=accepted_each_time())
    channel.messaging_limit = 1
    channel.save(update_fields=["messaging_limit"])
    queued = [queue(closed_conversation(channel, f"1555000010{n}")) for n in range(3)]
    reached(channel, ContactFactory(), clock.now - timedelta(hours=20))
    for _message, release in queued:
        release()
    assert route.call_count == 0
    channel.messaging_limit = 3  # two more places
    channel.save(update_fields=["messaging_limit"])
    with django_capture_on_commit_callbacks(execute=True):
        assert outbound.outbox_limit_raised(waba_id=channel.waba_id) == 3
    assert route.call_count == 2
    states = sorted(OutboxEntry.objects.values_list("state", "waiting_reason"))
    assert states == [("pending", "messaging_limit_reached"), ("sent", ""), ("sent", "")]


def test_the_composer_and_api_refuse_at_the_limit_saying_when_room_returns(
    conversation, channel, agent, template, clock
):
    channel.messaging_limit = 1
    channel.save(update_fields=["messaging_limit"])
    reached(channel, ContactFactory(), clock.now - timedelta(hours=23, minutes=30))
    with pytest.raises(SendRefused) as refused:
        outbound.message_send(
            conversation=conversation,
            author=agent,
            kind="template",
            payload={"template_id": template.pk, "values": VALUES},
        )
    assert refused.value.code == "messaging_limit_reached"
    room_at = timezone.localtime(clock.now + timedelta(minutes=30))
    assert f"returns around {room_at:%H:%M}" in refused.value.detail


# --- counting unique customers per WhatsApp account, exactly ------------------------------------------------------


def test_reaches_count_across_the_numbers_of_one_account_and_not_others(agent, graph, clock, queue):
    graph.post(url__regex=r".*/messages$").mock(side_effect=accepted_each_time())
    first = ChannelFactory(waba_id=WABA, messaging_limit=2)
    second = ChannelFactory(waba_id=WABA, messaging_limit=2)
    elsewhere = ChannelFactory(waba_id="999000999", messaging_limit=2)
    for channel in (first, second, elsewhere):
        worked_by(agent, channel)
    message, release = queue(closed_conversation(first, "15550000001"))
    # While it was queued, each number of the account reached a customer (the other account's does not count).
    reached(first, ContactFactory(), clock.now - timedelta(hours=3))
    reached(second, ContactFactory(), clock.now - timedelta(hours=2))
    reached(elsewhere, ContactFactory(), clock.now - timedelta(hours=1))
    # A reach exactly 24 hours old has left the count.
    reached(second, ContactFactory(), clock.now - timedelta(hours=24))
    release()
    entry = OutboxEntry.objects.get(message=message)
    assert (entry.state, entry.waiting_reason) == ("pending", "messaging_limit_reached")
    assert entry.next_attempt_at == clock.now + timedelta(hours=21)


def test_a_customer_reached_twice_counts_once_and_costs_nothing_at_the_limit(
    conversation, channel, queue, graph, clock
):
    route = graph.post(MESSAGES_URL).mock(side_effect=accepted_each_time())
    channel.messaging_limit = 1
    channel.save(update_fields=["messaging_limit"])
    first, release_first = queue(conversation)
    release_first()
    assert route.call_count == 1
    clock.move(timedelta(hours=5))
    # The account is at its limit, but this customer is already counted: the second one goes too.
    _second, release_second = queue(conversation)
    release_second()
    assert route.call_count == 2
    assert BusinessInitiatedReach.objects.filter(waba_id=WABA).count() == 1
    assert BusinessInitiatedReach.objects.get().message_id == first.pk


def test_messages_inside_the_window_are_not_counted(
    channel, agent, template, graph, django_capture_on_commit_callbacks
):
    graph.post(MESSAGES_URL).mock(side_effect=accepted_each_time())
    conversation = ConversationFactory(
        channel=channel,
        contact=ContactFactory(wa_id=CUSTOMER),
        last_inbound_at=timezone.now() - timedelta(hours=1),
        service_window_closes_at=timezone.now() + timedelta(hours=23),
    )
    with django_capture_on_commit_callbacks(execute=True):
        outbound.message_send(
            conversation=conversation,
            author=agent,
            kind="template",
            payload={"template_id": template.pk, "values": VALUES},
        )
        outbound.message_send(conversation=conversation, author=agent, kind="text", payload={"body": "Hi"})
    assert Message.objects.filter(direction="outbound", status="queued", provider_message_id__isnull=False).count() == 2
    assert not BusinessInitiatedReach.objects.exists()


# --- automations pass the same guard ---------------------------------------------------------------------------


def test_an_automation_answers_inside_the_window_without_consent(channel, graph, django_capture_on_commit_callbacks):
    route = graph.post(MESSAGES_URL).mock(return_value=accepted())
    conversation = ConversationFactory(
        channel=channel,
        contact=ContactFactory(wa_id=CUSTOMER),
        last_inbound_at=timezone.now() - timedelta(minutes=1),
        service_window_closes_at=timezone.now() + timedelta(hours=24),
    )
    with django_capture_on_commit_callbacks(execute=True):
        message = outbound.message_send_automated(conversation=conversation, kind="text", payload={"body": "Hi!"})
    assert message.initiator == "automation" and route.call_count == 1


def test_an_automations_template_outside_the_window_needs_consent(
    channel, template, graph, django_capture_on_commit_callbacks
):
    route = graph.post(MESSAGES_URL).mock(return_value=accepted())
    without = closed_conversation(channel, consent=())
    payload = {"template_id": template.pk, "values": VALUES}
    with pytest.raises(SendRefused) as refused:
        outbound.message_send_automated(conversation=without, kind="template", payload=payload)
    assert refused.value.code == "no_consent"
    with_consent = closed_conversation(channel, "15550000002")
    with django_capture_on_commit_callbacks(execute=True):
        message = outbound.message_send_automated(conversation=with_consent, kind="template", payload=payload)
    assert route.call_count == 1
    assert BusinessInitiatedReach.objects.get().message_id == message.pk


# --- the identity key hash goes with every send ---------------------------------------------------------------


def test_the_identity_key_hash_is_sent_when_known(conversation, queue, graph):
    route = graph.post(MESSAGES_URL).mock(return_value=accepted())
    conversation.contact.identity_key_hash = "DF2lS5v2W6x="
    conversation.contact.save(update_fields=["identity_key_hash"])
    _message, release = queue(conversation)
    release()
    body = json.loads(route.calls[0].request.content)
    assert body["recipient_identity_key_hash"] == "DF2lS5v2W6x="
    assert body["to"] == CUSTOMER and body["messaging_product"] == "whatsapp"


def test_no_identity_key_hash_when_unknown(conversation, queue, graph):
    route = graph.post(MESSAGES_URL).mock(return_value=accepted())
    _message, release = queue(conversation)
    release()
    assert "recipient_identity_key_hash" not in json.loads(route.calls[0].request.content)


# --- two workers, one last place ----------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_workers_cannot_both_take_the_last_place(monkeypatch):
    """Both claims count at the same moment; without the account's lock both would see one free place."""
    monkeypatch.setattr(outbound, "enqueue", lambda *args, **kwargs: None)  # the claims are called by hand
    channel = ChannelFactory(waba_id=WABA, messaging_limit=1)
    agent = UserFactory(role=Role.AGENT)
    worked_by(agent, channel)
    template = live_template(waba_id=WABA)
    messages = [
        outbound.message_send(
            conversation=closed_conversation(channel, f"1555000020{n}"),
            author=agent,
            kind="template",
            payload={"template_id": template.pk, "values": VALUES},
        )
        for n in range(2)
    ]
    counting = threading.Barrier(2, timeout=5)
    original = reach.reach_in_24h

    def slow_count(**kwargs):
        count = original(**kwargs)
        with contextlib.suppress(threading.BrokenBarrierError):
            counting.wait(timeout=1)  # both at once, if the lock lets them
        return count

    monkeypatch.setattr(reach, "reach_in_24h", slow_count)
    claims: dict[int, object] = {}

    def claim(message_id):
        try:
            claims[message_id] = outbound._attempt_claim(message_id=message_id)
        finally:
            connection.close()

    threads = [threading.Thread(target=claim, args=(m.pk,)) for m in messages]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert sum(attempt is not None for attempt in claims.values()) == 1
    assert BusinessInitiatedReach.objects.filter(waba_id=WABA).count() == 1
    states = sorted(OutboxEntry.objects.values_list("state", "waiting_reason"))
    assert states == [("pending", "messaging_limit_reached"), ("sending", "")]
