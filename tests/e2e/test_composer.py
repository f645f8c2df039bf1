"""The composer in a browser: replying to a message, the emoji picker, the size check before any upload,
and the window closing while the thread is open (the reason replaces the text box, live)."""

import secrets

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import TIMEOUT, customer_writes, log_in, open_conversation

pytestmark = pytest.mark.e2e


@pytest.fixture
def agent_in_thread(server, chromium):
    name = f"Composer {secrets.token_hex(2)}"
    wa_id = f"35196{secrets.randbelow(10**7):07d}"
    customer_writes(server.base_url, wa_id=wa_id, name=name, text="Can you help me?")
    page = chromium.new_context(viewport={"width": 1280, "height": 800}).new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    log_in(page, server.base_url, "agent@example.com")
    open_conversation(page, name)
    page.evaluate("window.__sameDocument = true")
    yield page, wa_id
    assert not errors, errors
    assert page.evaluate("window.__sameDocument") is True


def test_reply_to_a_message_with_an_emoji(agent_in_thread, shot):
    page, _ = agent_in_thread
    customer_bubble = page.locator("#messages > .msg-in", has_text="Can you help me?")
    customer_bubble.hover()
    customer_bubble.locator("[data-action=reply]").click()
    chip = page.locator(".reply-chip")
    expect(chip).to_be_visible()
    expect(chip).to_contain_text("Can you help me?")
    expect(page.locator("#composer-body")).to_be_focused()
    page.keyboard.type("Of course")
    page.locator("[data-action=emoji]").click()
    expect(page.locator("#emoji-picker")).to_be_visible()
    shot(page, "e2e-11-reply-chip-and-emoji")
    page.locator('#emoji-picker [data-emoji="👍"]').click()
    expect(page.locator("#emoji-picker")).to_be_hidden()
    expect(page.locator("#composer-body")).to_have_value("Of course👍")
    page.keyboard.press("Shift+Enter")
    page.keyboard.type("What do you need?")
    page.keyboard.press("Enter")
    sent = page.locator("#messages > .msg-out", has_text="What do you need?")
    expect(sent).to_have_count(1, timeout=TIMEOUT)
    expect(sent).to_contain_text("Of course👍")
    expect(sent.locator(".quote")).to_contain_text("Can you help me?")
    expect(chip).to_be_hidden()
    shot(page, "e2e-12-reply-sent")


def test_a_file_too_large_is_refused_before_upload(agent_in_thread):
    page, _ = agent_in_thread
    uploads = []
    page.on("request", lambda request: uploads.append(request.url) if request.method == "POST" else None)
    page.locator(".file-input").set_input_files(
        files=[{"name": "huge.png", "mimeType": "image/png", "buffer": b"\x89PNG" + b"\x00" * (5 * 1024 * 1024 + 1)}]
    )
    error = page.locator(".composer-error")
    expect(error).to_be_visible()
    expect(error).to_contain_text("huge.png is too large")
    expect(error).to_contain_text("5 MB")
    expect(page.locator(".attachment-chip")).to_be_hidden()
    assert not [url for url in uploads if "/send" in url]


def test_the_window_closing_switches_the_composer_live(agent_in_thread, server, shot):
    import httpx

    from inbox.demo import SANDBOX_PHONE_NUMBER_ID

    page, wa_id = agent_in_thread
    expect(page.locator("#composer-body")).to_be_visible()
    page.locator("#composer-body").fill("Still there?")
    aged = httpx.post(
        f"{server.base_url}/simulator/api/age",
        json={"phone_number_id": SANDBOX_PHONE_NUMBER_ID, "wa_id": wa_id, "hours": 25},
        timeout=10,
    )
    assert aged.status_code == 200, aged.text
    closed = page.locator(".composer-closed")
    expect(closed).to_be_visible(timeout=TIMEOUT)
    expect(closed).to_contain_text("24-hour customer-service window has closed")
    expect(closed.get_by_role("button", name="Send a template")).to_be_enabled()
    # No reply box: only the private-note box remains, hidden until the Note tab is chosen.
    expect(page.locator("#composer-body")).to_be_hidden()
    shot(page, "e2e-13-window-closed")


def test_a_refused_send_says_why_where_the_person_tried(agent_in_thread, server, shot):
    import httpx

    from inbox.demo import SANDBOX_PHONE_NUMBER_ID

    page, wa_id = agent_in_thread
    # The page misses the live update (socket down), so only the server's refusal can tell it.
    page.evaluate("window.switchboardLive.stopped = true; window.switchboardLive.socket.close()")
    aged = httpx.post(
        f"{server.base_url}/simulator/api/age",
        json={"phone_number_id": SANDBOX_PHONE_NUMBER_ID, "wa_id": wa_id, "hours": 25},
        timeout=10,
    )
    assert aged.status_code == 200, aged.text
    page.locator("#composer-body").fill("Hello again")
    page.locator("#composer-body").press("Enter")
    refused = page.locator("#messages > .is-refused", has_text="Hello again")
    expect(refused).to_be_visible(timeout=TIMEOUT)
    expect(refused.locator(".failure")).to_contain_text("Not sent.")
    expect(refused.locator(".failure")).to_contain_text("24 hours")
    expect(page.locator(".composer-closed")).to_be_visible()
    shot(page, "e2e-14-refused-send")
    refused.get_by_role("button", name="Dismiss").click()
    expect(refused).to_have_count(0)
