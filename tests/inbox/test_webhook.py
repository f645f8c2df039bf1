"""`GET|POST /webhooks/whatsapp`: Meta's handshake, the signature over the raw bytes, storing first."""

import json

import pytest

from inbox.models import Contact, Conversation, Message, WebhookEvent, WebhookEventState
from inbox.providers.whatsapp_cloud.signature import sign
from tests.factories import TEST_APP_SECRET, ChannelFactory
from tests.inbox import whatsapp_payloads as wa

pytestmark = pytest.mark.django_db


@pytest.fixture
def channel():
    return ChannelFactory(phone_number_id=wa.PHONE_NUMBER_ID, waba_id=wa.WABA_ID, verify_token="s3cret-verify")


def nothing_stored() -> bool:
    return not (
        WebhookEvent.objects.exists()
        or Message.objects.exists()
        or Contact.objects.exists()
        or Conversation.objects.exists()
    )


# --- GET: the verification handshake ------------------------------------------------------------------------


def test_handshake_answers_the_bare_challenge(client, channel):
    response = client.get(
        wa.WEBHOOK_URL, {"hub.mode": "subscribe", "hub.verify_token": "s3cret-verify", "hub.challenge": "1158201444"}
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    assert response.content == b"1158201444"


def test_handshake_echoes_the_challenge_byte_for_byte(client, channel):
    challenge = "a b+c/d=é"
    response = client.get(
        wa.WEBHOOK_URL, {"hub.mode": "subscribe", "hub.verify_token": "s3cret-verify", "hub.challenge": challenge}
    )
    assert response.status_code == 200
    assert response.content.decode() == challenge


def test_handshake_accepts_the_verify_token_of_any_channel(client, channel):
    ChannelFactory(verify_token="other-number-token")
    response = client.get(
        wa.WEBHOOK_URL, {"hub.mode": "subscribe", "hub.verify_token": "other-number-token", "hub.challenge": "42"}
    )
    assert response.status_code == 200
    assert response.content == b"42"


@pytest.mark.parametrize(
    "query",
    [
        {"hub.mode": "subscribe", "hub.verify_token": "wrong", "hub.challenge": "42"},
        {"hub.mode": "unsubscribe", "hub.verify_token": "s3cret-verify", "hub.challenge": "42"},
        {"hub.verify_token": "s3cret-verify", "hub.challenge": "42"},
        {"hub.mode": "subscribe", "hub.verify_token": "s3cret-verify"},
        {"hub.mode": "subscribe", "hub.verify_token": "s3cret-verify", "hub.challenge": ""},
        {"hub.mode": "subscribe", "hub.challenge": "42"},
        {"hub.mode": "subscribe", "hub.verify_token": "", "hub.challenge": "42"},
        {},
    ],
    ids=["wrong-token", "wrong-mode", "no-mode", "no-challenge", "empty-challenge", "no-token", "empty-token", "none"],
)
def test_handshake_refused(client, channel, query):
    response = client.get(wa.WEBHOOK_URL, query)
    assert response.status_code == 403
    assert b"42" not in response.content


def test_handshake_refused_when_no_channel_is_connected(client):
    response = client.get(wa.WEBHOOK_URL, {"hub.mode": "subscribe", "hub.verify_token": "", "hub.challenge": "1"})
    assert response.status_code == 403


def test_other_methods_are_not_allowed(client, channel):
    assert client.put(wa.WEBHOOK_URL, b"{}", content_type="application/json").status_code == 405


# --- POST: signature ----------------------------------------------------------------------------------------

TEXT_DELIVERY = wa.inbound(wa.text("Does it come in another color?", id="wamid.SIGNED"))


@pytest.mark.parametrize(
    "signature",
    [
        "",
        "sha256=",
        "sha1=" + "0" * 40,
        "sha256=" + "z" * 64,
        "sha256=" + "0" * 63,
        "0" * 64,
        "sha256=" + "0" * 64,
    ],
    ids=["missing", "empty-digest", "sha1", "not-hex", "short", "no-prefix", "wrong-digest"],
)
def test_missing_malformed_or_wrong_signature_is_refused_and_nothing_stored(
    client, channel, signature, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = wa.post(client, TEXT_DELIVERY, signature=signature)
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_signature"
    assert callbacks == []
    assert nothing_stored()


def test_signed_with_a_secret_we_do_not_hold_is_refused(client, channel, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = wa.post(client, TEXT_DELIVERY, secret="some-other-app")
    assert response.status_code == 401
    assert nothing_stored()


def test_signature_over_different_bytes_is_refused(client, channel, django_capture_on_commit_callbacks):
    # The same JSON, re-serialised with other whitespace: the signature covers the bytes, not the meaning.
    signed_form = wa.encode(TEXT_DELIVERY)
    sent_form = json.dumps(TEXT_DELIVERY, indent=1).encode()
    with django_capture_on_commit_callbacks(execute=True):
        response = wa.post(client, sent_form, signature=sign(TEST_APP_SECRET, signed_form))
    assert response.status_code == 401
    assert nothing_stored()


def test_upper_case_hex_digest_is_accepted(client, channel, django_capture_on_commit_callbacks):
    body = wa.encode(TEXT_DELIVERY)
    header = "sha256=" + sign(TEST_APP_SECRET, body).removeprefix("sha256=").upper()
    with django_capture_on_commit_callbacks(execute=True):
        response = wa.post(client, body, signature=header)
    assert response.status_code == 200


def test_valid_delivery_is_stored_then_processed(client, channel, django_capture_on_commit_callbacks):
    body = wa.encode(TEXT_DELIVERY)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = wa.post(client, body)

    # Answered and stored before any processing: one row, pending, the raw bytes and the signature kept.
    assert response.status_code == 200
    assert response.json()["code"] == "stored"
    event = WebhookEvent.objects.get()
    assert event.state == WebhookEventState.PENDING
    assert bytes(event.raw_body) == body
    assert event.signature == sign(TEST_APP_SECRET, body)
    assert event.routing_ids == sorted([wa.PHONE_NUMBER_ID, wa.WABA_ID])
    assert not Message.objects.exists()
    assert len(callbacks) == 1

    # The queued task (run after commit) does the work.
    callbacks[0]()
    event.refresh_from_db()
    assert event.state == WebhookEventState.PROCESSED
    assert event.attempts == 1
    assert event.processed_at is not None
    assert event.error == ""
    assert Message.objects.get().text == "Does it come in another color?"


def test_signature_is_checked_with_the_secret_of_the_channel_named(client, django_capture_on_commit_callbacks):
    first = ChannelFactory(phone_number_id="111", waba_id="waba-1", app_secret="secret-of-app-one")
    second = ChannelFactory(phone_number_id="222", waba_id="waba-2", app_secret="secret-of-app-two")
    to_second = wa.inbound(wa.text("Hi two", id="wamid.TWO"), phone_number_id="222", waba_id="waba-2")

    with django_capture_on_commit_callbacks(execute=True):
        wrong = wa.post(client, to_second, secret="secret-of-app-one")
    assert wrong.status_code == 401
    assert nothing_stored()

    with django_capture_on_commit_callbacks(execute=True):
        right = wa.post(client, to_second, secret="secret-of-app-two")
    assert right.status_code == 200
    assert Message.objects.get().channel == second
    assert not Conversation.objects.filter(channel=first).exists()


def test_a_delivery_signed_by_one_app_never_writes_into_a_number_of_another_app(
    client, django_capture_on_commit_callbacks
):
    # Both numbers under one WABA but served by two Meta apps: the delivery names number two, the
    # signature is app one's. It is kept (some secret we hold signed it) but not routed to number two.
    ChannelFactory(phone_number_id="111", waba_id=wa.WABA_ID, app_secret="secret-of-app-one")
    ChannelFactory(phone_number_id="222", waba_id=wa.WABA_ID, app_secret="secret-of-app-two")
    to_second = wa.inbound(wa.text("Hi two", id="wamid.TWO"), phone_number_id="222")

    with django_capture_on_commit_callbacks(execute=True):
        response = wa.post(client, to_second, secret="secret-of-app-one")

    assert response.status_code == 200
    event = WebhookEvent.objects.get()
    assert event.state == WebhookEventState.UNROUTABLE
    assert not Message.objects.exists()
    assert not Conversation.objects.exists()


# --- POST: bodies -------------------------------------------------------------------------------------------


def test_malformed_json_with_a_valid_signature_is_kept_as_malformed(
    client, channel, django_capture_on_commit_callbacks
):
    body = b'{"object":"whatsapp_business_account","entry":[{"id":'
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = wa.post(client, body)
    assert response.status_code == 400
    assert response.json()["code"] == "malformed_payload"
    event = WebhookEvent.objects.get()
    assert event.state == WebhookEventState.MALFORMED
    assert bytes(event.raw_body) == body
    assert event.error
    assert callbacks == []


@pytest.mark.parametrize("body", [b"[]", b'"text"', b'{"object":"whatsapp_business_account"}', b"\xff\xfe"])
def test_json_that_is_not_a_delivery_is_kept_as_malformed(client, channel, body):
    response = wa.post(client, body)
    assert response.status_code == 400
    assert WebhookEvent.objects.get().state == WebhookEventState.MALFORMED


def test_malformed_json_with_a_wrong_signature_is_refused_and_not_kept(client, channel):
    response = wa.post(client, b"{not json", secret="not-ours")
    assert response.status_code == 401
    assert nothing_stored()


def test_unknown_phone_number_id_is_kept_unroutable_and_never_routed_elsewhere(
    client, channel, django_capture_on_commit_callbacks
):
    # Signed with the app secret we hold (one app serves many numbers), naming a number nobody connected.
    stranger = wa.inbound(wa.text("Hello?", id="wamid.STRANGER"), phone_number_id="999000999", waba_id="888000888")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = wa.post(client, stranger)
    assert response.status_code == 200
    event = WebhookEvent.objects.get()
    assert event.state == WebhookEventState.UNROUTABLE
    assert event.routing_ids == ["888000888", "999000999"]
    assert "No connected channel" in event.error
    assert callbacks == []
    assert not Contact.objects.exists()
    assert not Conversation.objects.exists()
    assert not Message.objects.exists()


def test_unknown_phone_number_id_of_a_known_waba_is_unroutable_after_processing(
    client, channel, django_capture_on_commit_callbacks
):
    # The WABA is ours, the number is not (yet) connected: still never given to the WABA's other number.
    stranger = wa.inbound(wa.text("Hello?", id="wamid.STRANGER"), phone_number_id="999000999")
    with django_capture_on_commit_callbacks(execute=True):
        response = wa.post(client, stranger)
    assert response.status_code == 200
    assert WebhookEvent.objects.get().state == WebhookEventState.UNROUTABLE
    assert not Conversation.objects.exists()


def test_unroutable_delivery_signed_by_nobody_we_know_is_refused(client, channel):
    stranger = wa.inbound(wa.text("Hello?", id="wamid.STRANGER"), phone_number_id="999000999", waba_id="888000888")
    response = wa.post(client, stranger, secret="attacker")
    assert response.status_code == 401
    assert nothing_stored()


def many_messages_body(target_size: int) -> bytes:
    """A batch of emoji-heavy text messages (12 bytes per emoji once escaped) whose encoded body is exactly
    `target_size` bytes."""

    def batch_of(count: int, padding: str = "") -> bytes:
        messages = [wa.text("😀" * 1000, id=f"wamid.BIG{n:05d}", timestamp=wa.T0 + n) for n in range(count)]
        messages[-1]["text"]["body"] += padding
        return wa.encode(wa.inbound(*messages))

    one, two = len(batch_of(1)), len(batch_of(2))
    count = 1 + (target_size - one) // (two - one)
    body = batch_of(count)
    body = batch_of(count, padding="y" * (target_size - len(body)))
    assert len(body) == target_size
    return body


def test_a_3_mb_batch_is_accepted_and_every_message_stored(client, channel, django_capture_on_commit_callbacks):
    body = many_messages_body(3 * 1024 * 1024)
    count = len(json.loads(body)["entry"][0]["changes"][0]["value"]["messages"])
    with django_capture_on_commit_callbacks(execute=True):
        response = wa.post(client, body)
    assert response.status_code == 200
    assert bytes(WebhookEvent.objects.get().raw_body) == body
    assert Message.objects.count() == count
    assert Conversation.objects.get().unread_count == count


def test_a_body_just_under_the_limit_is_accepted(client, channel, settings):
    body = many_messages_body(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
    response = wa.post(client, body)
    assert response.status_code == 200


def test_a_body_over_3_mb_and_a_kilobyte_is_refused_and_not_kept(client, channel, settings):
    body = many_messages_body(settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)
    response = wa.post(client, body)
    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"
    assert nothing_stored()


def test_an_oversized_body_with_a_lying_content_length_is_refused(channel, rf):
    from inbox.views.webhooks import whatsapp_webhook

    body = b" " * (3 * 1024 * 1024 + 4096)
    request = rf.post(wa.WEBHOOK_URL, body, content_type="application/json")
    # A chunked upload has no Content-Length; the view must bound its read all the same.
    request.META["CONTENT_LENGTH"] = ""
    request._stream = __import__("io").BytesIO(body)
    response = whatsapp_webhook(request)
    assert response.status_code == 413
    assert nothing_stored()


# --- POST: bytes Meta escapes --------------------------------------------------------------------------------


@pytest.mark.parametrize("meta_escaped", [True, False], ids=["meta-escaped", "raw-utf8"])
def test_non_ascii_and_at_sign_bodies_verify_over_the_raw_bytes(
    client, channel, meta_escaped, django_capture_on_commit_callbacks
):
    words = "Grüße aus Köln — ça va? 😀 write to ana@example.com or <b>http://x.y/%20</b>"
    document = wa.inbound(wa.text(words, id="wamid.UNICODE"), contacts=[wa.contact(name="Zoë Ñandú 李")])
    body = wa.encode(document, meta_escaped=meta_escaped)
    if meta_escaped:
        assert b"\\u00fc" in body and b"\\u0040" in body and b"\\/" in body and b"\\ud83d\\ude00" in body
        assert body.isascii()
    else:
        assert "ü".encode() in body
    with django_capture_on_commit_callbacks(execute=True):
        response = wa.post(client, body)
    assert response.status_code == 200
    assert bytes(WebhookEvent.objects.get().raw_body) == body
    message = Message.objects.get()
    assert message.text == words
    assert message.conversation.contact.profile_name == "Zoë Ñandú 李"


def test_acknowledging_a_delivery_is_one_channel_lookup_and_one_insert(
    client, channel, django_assert_num_queries, django_capture_on_commit_callbacks
):
    body = wa.encode(TEXT_DELIVERY)
    # The insert runs in its own (here: nested) atomic block, hence the savepoint and its release.
    with (
        django_capture_on_commit_callbacks(execute=False) as callbacks,
        django_assert_num_queries(4) as captured,
    ):
        response = wa.post(client, body)
    assert response.status_code == 200
    statements = [query["sql"].split()[0] for query in captured.captured_queries]
    assert statements == ["SELECT", "SAVEPOINT", "INSERT", "RELEASE"]
    assert len(callbacks) == 1
