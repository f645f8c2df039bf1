"""The outbound worker (`message_deliver`) and the outbox sweeper: one send per message whatever the task
does, the policy asked again, retries with backoff, final failures with WhatsApp's error, statuses that
beat the send answer, `message_retry`, and recovery of lost or interrupted deliveries."""

import json
from datetime import timedelta

import httpx
import pytest
from django.conf import settings
from django.utils import timezone

from config import task_queue
from inbox import tasks
from inbox.models import Conversation, LiveEvent, Message, OutboxEntry
from inbox.providers.whatsapp_cloud import errors
from inbox.providers.whatsapp_cloud.types import ProviderError, StatusReport
from inbox.services import ingest, outbound
from inbox.services.outbound import SEND_ATTEMPTS, SENDING_TIMEOUT, SendRefused
from tests.inbox.outbound.conftest import MESSAGES_URL, PHONE_NUMBER_ID, accepted, graph_error

pytestmark = pytest.mark.django_db


@pytest.fixture
def queued(conversation, agent, django_capture_on_commit_callbacks):
    """A message stored and queued, its task (and events) held back: `run(callbacks)` lets them go."""
    with django_capture_on_commit_callbacks() as callbacks:
        message = outbound.message_send(conversation=conversation, author=agent, kind="text", payload={"body": "Hi"})
    return message, callbacks


@pytest.fixture
def run(django_capture_on_commit_callbacks):
    def run_callbacks(callbacks):
        with django_capture_on_commit_callbacks(execute=True):
            for callback in callbacks:
                callback()

    return run_callbacks


@pytest.fixture
def countdowns(monkeypatch):
    """The delay of every task handed to the queue ("eager" runs them at once, so tests need not wait)."""
    seen = []
    original = task_queue.dispatch

    def spy(task, args, countdown=0):
        seen.append((task.name, countdown))
        original(task, args, countdown)

    monkeypatch.setattr(task_queue, "dispatch", spy)
    return seen


def status(wamid: str, name: str, *, at: int = 1_750_030_073, callback: str = "", errors_=()) -> StatusReport:
    raw = {"id": wamid, "status": name, "timestamp": str(at), "recipient_id": "16505551234"}
    if callback:
        raw["biz_opaque_callback_data"] = callback
    return StatusReport(
        phone_number_id=PHONE_NUMBER_ID,
        waba_id="419561257915477",
        provider_message_id=wamid,
        status=name,
        timestamp=at,
        recipient_id="16505551234",
        biz_opaque_callback_data=callback,
        errors=tuple(errors_),
        raw=raw,
    )


def test_the_worker_sends_and_records_the_provider_id(queued, graph, run):
    message, callbacks = queued
    route = graph.post(MESSAGES_URL).mock(return_value=accepted("wamid.OUT1"))
    run(callbacks)
    assert route.call_count == 1
    message.refresh_from_db()
    entry = message.outbox_entry
    assert (entry.state, entry.attempts, entry.last_error) == ("sent", 1, "")
    assert message.provider_message_id == "wamid.OUT1"
    # A clock until WhatsApp's "sent" webhook arrives.
    assert message.status == "queued"
    body = json.loads(route.calls.last.request.content)
    assert body == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "16505551234",
        "type": "text",
        "text": {"body": "Hi"},
        "biz_opaque_callback_data": f"sb:{entry.pk}:1",
    }
    assert LiveEvent.objects.filter(type="message.updated", data__message_id=message.pk).exists()


def test_a_task_delivered_twice_sends_once(queued, graph, run):
    message, callbacks = queued
    route = graph.post(MESSAGES_URL).mock(return_value=accepted())
    run(callbacks)
    run([lambda: tasks.deliver_message.apply(args=(message.pk,), throw=True)])
    outbound.message_deliver(message_id=message.pk)
    assert route.call_count == 1


def test_an_entry_claimed_by_another_worker_is_left_alone(queued, graph):
    message, _ = queued
    route = graph.post(MESSAGES_URL).mock(return_value=accepted())
    OutboxEntry.objects.filter(message=message).update(state="sending", attempts=1)
    outbound.message_deliver(message_id=message.pk)
    assert route.call_count == 0
    assert OutboxEntry.objects.get(message=message).state == "sending"


def test_the_claim_is_committed_before_the_network_call(queued, graph):
    message, _ = queued

    def answer(request):
        # What another worker would read while this one waits for WhatsApp.
        entry = OutboxEntry.objects.get(message=message)
        assert (entry.state, entry.attempts) == ("sending", 1)
        return accepted()

    graph.post(MESSAGES_URL).mock(side_effect=answer)
    outbound.message_deliver(message_id=message.pk)
    assert OutboxEntry.objects.get(message=message).state == "sent"


def test_statuses_that_arrive_before_the_send_answer_are_applied(queued, graph, run, channel):
    message, callbacks = queued
    # Meta's webhooks can beat the HTTP answer: "sent" and "delivered" for a wamid nobody knows yet.
    ingest.status_receive(channel=channel, report=status("wamid.FAST", "sent", at=1_750_030_073))
    ingest.status_receive(channel=channel, report=status("wamid.FAST", "delivered", at=1_750_030_075))
    graph.post(MESSAGES_URL).mock(return_value=accepted("wamid.FAST"))
    run(callbacks)
    message.refresh_from_db()
    assert (message.provider_message_id, message.status) == ("wamid.FAST", "delivered")
    assert LiveEvent.objects.filter(type="message.updated", data__status="delivered").exists()


def test_the_policy_is_asked_again_at_send_time(queued, graph, run):
    message, callbacks = queued
    route = graph.post(MESSAGES_URL).mock(return_value=accepted())
    # The message waited in the queue while the window closed.
    Conversation.objects.filter(pk=message.conversation_id).update(last_inbound_at=timezone.now() - timedelta(hours=25))
    run(callbacks)
    assert route.call_count == 0
    message.refresh_from_db()
    entry = message.outbox_entry
    assert (entry.state, entry.failure_reason, entry.attempts) == ("failed", "window_closed", 0)
    assert message.status == "failed" and message.error_code is None
    assert message.error_title.startswith("The customer last wrote more than 24 hours ago")
    assert outbound.message_failure_reason(message) == message.error_title
    event = LiveEvent.objects.get(type="message.updated")
    assert event.data["status"] == "failed" and event.data["error_reason"] == message.error_title


def test_retryable_errors_back_off_then_a_final_error_is_stored(queued, graph, run, countdowns):
    message, callbacks = queued
    details = "Message failed to send because more than 24 hours have passed since the customer last replied."
    route = graph.post(MESSAGES_URL).mock(
        side_effect=[
            graph_error(130429, title="Rate limit hit"),
            httpx.Response(503),
            graph_error(131047, title="Re-engagement message", details=details),
        ]
    )
    run(callbacks)
    assert route.call_count == 3
    retries = [delay for name, delay in countdowns if name == "inbox.tasks.deliver_message" and delay]
    assert len(retries) == 2
    assert 2 <= retries[0] <= 4 and 8 <= retries[1] <= 16
    message.refresh_from_db()
    assert (message.status, message.error_code, message.error_title, message.error_details) == (
        "failed",
        131047,
        "Re-engagement message",
        details,
    )
    assert outbound.message_failure_reason(message) == errors.describe(131047).reason
    assert outbound.message_failure_reason(message) == "More than 24 hours since the customer wrote: send a template."
    entry = message.outbox_entry
    assert (entry.state, entry.attempts, entry.failure_reason) == ("failed", 3, "provider_error")
    assert entry.last_error == "Re-engagement message (code 131047)"
    event = LiveEvent.objects.filter(type="message.updated").last()
    assert (event.data["error_code"], event.data["error_reason"]) == (131047, errors.describe(131047).reason)


def test_a_retry_is_scheduled_for_later(queued, graph):
    message, _ = queued
    graph.post(MESSAGES_URL).mock(return_value=httpx.Response(500))
    before = timezone.now()
    outbound.message_deliver(message_id=message.pk)
    entry = OutboxEntry.objects.get(message=message)
    assert (entry.state, entry.attempts, entry.last_error) == ("pending", 1, "WhatsApp answered HTTP 500.")
    assert before + timedelta(seconds=2) <= entry.next_attempt_at <= timezone.now() + timedelta(seconds=4)
    assert Message.objects.get(pk=message.pk).status == "queued"


def test_retries_stop_after_the_last_attempt(queued, graph, run):
    message, callbacks = queued
    route = graph.post(MESSAGES_URL).mock(side_effect=httpx.ConnectError("unreachable"))
    run(callbacks)
    assert route.call_count == SEND_ATTEMPTS
    message.refresh_from_db()
    assert message.status == "failed" and message.error_code is None
    assert message.error_title == "Could not reach WhatsApp (ConnectError)."
    entry = message.outbox_entry
    assert (entry.state, entry.attempts, entry.failure_reason) == ("failed", SEND_ATTEMPTS, "retries_exhausted")


def test_a_failed_message_is_really_sent_again(queued, graph, run, agent, django_capture_on_commit_callbacks):
    message, callbacks = queued
    route = graph.post(MESSAGES_URL).mock(
        side_effect=[graph_error(131009, title="Parameter value is not valid"), accepted("wamid.SECOND")]
    )
    run(callbacks)
    message.refresh_from_db()
    first_entry = message.outbox_entry
    assert message.status == "failed"
    with django_capture_on_commit_callbacks(execute=True):
        retried = outbound.message_retry(message=message, author=agent)
    assert route.call_count == 2
    retried.refresh_from_db()
    assert (retried.status, retried.provider_message_id, retried.error_code, retried.error_title) == (
        "queued",
        "wamid.SECOND",
        None,
        "",
    )
    entry = OutboxEntry.objects.get(message=retried)
    assert entry.pk != first_entry.pk and (entry.state, entry.attempts) == ("sent", 1)
    assert json.loads(route.calls.last.request.content)["biz_opaque_callback_data"] == f"sb:{entry.pk}:1"


def test_a_message_that_failed_at_whatsapp_gets_a_new_provider_id(
    queued, graph, run, agent, channel, django_capture_on_commit_callbacks
):
    message, callbacks = queued
    route = graph.post(MESSAGES_URL).mock(side_effect=[accepted("wamid.FIRST"), accepted("wamid.SECOND")])
    run(callbacks)
    failure = ProviderError(
        code=131026, title="Message undeliverable", details="Receiver is incapable of receiving this message"
    )
    ingest.status_receive(channel=channel, report=status("wamid.FIRST", "failed", errors_=[failure]))
    message.refresh_from_db()
    assert (message.status, message.error_code) == ("failed", 131026)
    with django_capture_on_commit_callbacks(execute=True):
        outbound.message_retry(message=message, author=agent)
    message.refresh_from_db()
    assert route.call_count == 2
    assert (message.status, message.provider_message_id) == ("queued", "wamid.SECOND")


@pytest.mark.parametrize("state", ["queued", "sent", "delivered"])
def test_only_failed_outbound_messages_can_be_retried(queued, agent, state):
    message, _ = queued
    Message.objects.filter(pk=message.pk).update(status=state)
    message.refresh_from_db()
    with pytest.raises(SendRefused) as refused:
        outbound.message_retry(message=message, author=agent)
    assert refused.value.code == "not_retryable"


def test_a_retry_obeys_the_window_too(queued, agent):
    message, _ = queued
    Message.objects.filter(pk=message.pk).update(status="failed")
    Conversation.objects.filter(pk=message.conversation_id).update(last_inbound_at=timezone.now() - timedelta(days=2))
    message.refresh_from_db()
    with pytest.raises(SendRefused) as refused:
        outbound.message_retry(message=message, author=agent)
    assert refused.value.code == "window_closed"


# --- The outbox sweeper -----------------------------------------------------------------------------------


def test_a_lost_task_is_queued_again(queued, graph, django_capture_on_commit_callbacks):
    message, _ = queued  # its task never ran
    route = graph.post(MESSAGES_URL).mock(return_value=accepted())
    with django_capture_on_commit_callbacks(execute=True):
        assert outbound.outbox_requeue_stale(now=timezone.now() + timedelta(minutes=1)) == 0
    assert route.call_count == 0
    with django_capture_on_commit_callbacks(execute=True):
        assert outbound.outbox_requeue_stale(now=timezone.now() + timedelta(minutes=3)) == 1
    assert route.call_count == 1
    assert OutboxEntry.objects.get(message=message).state == "sent"


def interrupted(message: Message) -> OutboxEntry:
    """A worker claimed the entry and died before recording any outcome."""
    OutboxEntry.objects.filter(message=message).update(
        state="sending", attempts=1, updated_at=timezone.now() - SENDING_TIMEOUT - timedelta(seconds=1)
    )
    return OutboxEntry.objects.get(message=message)


def test_an_interrupted_send_that_reached_whatsapp_is_not_sent_again(
    queued, graph, channel, django_capture_on_commit_callbacks
):
    message, _ = queued
    entry = interrupted(message)
    route = graph.post(MESSAGES_URL).mock(return_value=accepted())
    # WhatsApp had accepted it: its "sent" webhook carries the attempt's callback data.
    ingest.status_receive(channel=channel, report=status("wamid.LOST", "sent", callback=f"sb:{entry.pk}:1"))
    with django_capture_on_commit_callbacks(execute=True):
        assert outbound.outbox_requeue_stale() == 0
    assert route.call_count == 0
    message.refresh_from_db()
    assert (message.provider_message_id, message.status) == ("wamid.LOST", "sent")
    assert OutboxEntry.objects.get(pk=entry.pk).state == "sent"


def test_an_interrupted_send_that_never_reached_whatsapp_is_tried_again(
    queued, graph, channel, django_capture_on_commit_callbacks
):
    message, _ = queued
    entry = interrupted(message)
    # A status for another attempt (or another message) does not count.
    ingest.status_receive(channel=channel, report=status("wamid.OTHER", "sent", callback=f"sb:{entry.pk}:7"))
    route = graph.post(MESSAGES_URL).mock(return_value=accepted("wamid.NEW"))
    with django_capture_on_commit_callbacks(execute=True):
        assert outbound.outbox_requeue_stale() == 1
    assert route.call_count == 1
    assert json.loads(route.calls.last.request.content)["biz_opaque_callback_data"] == f"sb:{entry.pk}:2"
    entry.refresh_from_db()
    assert (entry.state, entry.attempts) == ("sent", 2)


def test_a_send_still_in_progress_is_not_touched(queued, graph, django_capture_on_commit_callbacks):
    message, _ = queued
    OutboxEntry.objects.filter(message=message).update(state="sending", attempts=1, updated_at=timezone.now())
    route = graph.post(MESSAGES_URL).mock(return_value=accepted())
    with django_capture_on_commit_callbacks(execute=True):
        assert outbound.outbox_requeue_stale() == 0
    assert route.call_count == 0
    assert OutboxEntry.objects.get(message=message).state == "sending"


def test_an_interrupted_last_attempt_fails_for_a_person_to_decide(queued, graph, django_capture_on_commit_callbacks):
    message, _ = queued
    interrupted(message)
    OutboxEntry.objects.filter(message=message).update(attempts=SEND_ATTEMPTS)
    with django_capture_on_commit_callbacks(execute=True):
        outbound.outbox_requeue_stale()
    message.refresh_from_db()
    assert message.status == "failed"
    assert message.outbox_entry.failure_reason == "retries_exhausted"


def test_a_late_outcome_of_a_superseded_attempt_is_dropped(queued, graph):
    """The sweeper gave the entry to attempt 2; attempt 1's answer then arrives and must not settle it."""
    message, _ = queued
    OutboxEntry.objects.filter(message=message).update(state="sending", attempts=2)
    entry = OutboxEntry.objects.get(message=message)
    stale = outbound._Attempt(entry_id=entry.pk, number=1, message=message)
    outbound._attempt_settle(stale, outbound.client.SendResult(provider_message_id="wamid.LATE"))
    message.refresh_from_db()
    assert message.provider_message_id is None
    assert OutboxEntry.objects.get(pk=entry.pk).state == "sending"


def test_the_sweeper_and_the_outbound_queue_are_wired():
    assert settings.CELERY_TASK_ROUTES["inbox.tasks.deliver_message"] == {"queue": "outbound"}
    assert settings.CELERY_TASK_ROUTES["inbox.tasks.mark_conversation_read"] == {"queue": "outbound"}
    schedule = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "inbox.tasks.requeue_stale_outbox" in schedule
    assert tasks.requeue_stale_outbox.name == "inbox.tasks.requeue_stale_outbox"


def test_a_retry_after_a_lost_answer_settles_from_the_status_webhook(queued, graph, channel):
    """A read timeout hid an accepted message; its "sent" webhook came during the backoff: no second send."""
    message, _ = queued
    route = graph.post(MESSAGES_URL).mock(side_effect=[httpx.ReadTimeout("no answer"), accepted("wamid.TWICE")])
    outbound.message_deliver(message_id=message.pk)
    entry = OutboxEntry.objects.get(message=message)
    assert (entry.state, entry.attempts) == ("pending", 1)
    ingest.status_receive(channel=channel, report=status("wamid.REAL", "sent", callback=f"sb:{entry.pk}:1"))
    outbound.message_deliver(message_id=message.pk)
    assert route.call_count == 1
    message.refresh_from_db()
    assert (message.provider_message_id, message.status) == ("wamid.REAL", "sent")
    assert OutboxEntry.objects.get(pk=entry.pk).state == "sent"
