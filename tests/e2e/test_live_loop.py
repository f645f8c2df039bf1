"""The full loop a person takes: a customer writes on the simulator's phone page, the agent's open inbox
shows it live (no reload), the agent replies from the composer, the customer's phone shows the reply, and
the agent watches the ticks go to delivered and then read."""

import re
import secrets

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import TIMEOUT, customer_writes, log_in, open_conversation

pytestmark = pytest.mark.e2e


def test_customer_writes_agent_answers_live(server, chromium, shot):
    base = server.base_url
    name = f"Rita E2E {secrets.token_hex(2)}"
    phone = f"+351 91{secrets.randbelow(10**7):07d}"
    customer_text = f"Hello, is my order {secrets.token_hex(3)} on its way?"
    reply_text = f"Yes! It ships today ({secrets.token_hex(3)})."

    agent = chromium.new_context(viewport={"width": 1280, "height": 800}).new_page()
    errors: list[str] = []
    agent.on("pageerror", lambda error: errors.append(str(error)))
    log_in(agent, base, "agent@example.com")
    expect(agent.locator("#live-status")).to_have_attribute("data-state", "live", timeout=TIMEOUT)
    # A marker that survives only as long as the page is never reloaded.
    agent.evaluate("window.__sameDocument = true")
    shot(agent, "e2e-01-inbox-before")

    customer = chromium.new_context(viewport={"width": 1100, "height": 800}).new_page()
    customer.goto(f"{base}/simulator/")
    customer.get_by_test_id("new-customer-name").fill(name)
    customer.get_by_test_id("new-customer-phone").fill(phone)
    customer.get_by_test_id("new-customer-submit").click()
    customer.get_by_test_id("message-input").fill(customer_text)
    customer.get_by_test_id("send-button").click()
    expect(customer.get_by_test_id("message-list")).to_contain_text(customer_text, timeout=TIMEOUT)
    shot(customer, "e2e-02-customer-writes")

    # The agent's inbox shows the new conversation at the top, live.
    row = agent.locator(".conv-row", has_text=name)
    expect(row).to_be_visible(timeout=TIMEOUT)
    expect(agent.locator(".conv-row").first).to_contain_text(name)
    expect(row).to_contain_text(customer_text[:30])
    expect(row.locator(".badge")).to_be_visible()
    assert agent.evaluate("window.__sameDocument") is True
    shot(agent, "e2e-03-inbox-live-row")

    row.locator(".conv-link").click()
    expect(agent.locator("#thread .thread-title")).to_contain_text(name, timeout=TIMEOUT)
    expect(agent.locator("#messages > .msg-in", has_text=customer_text)).to_be_visible()
    expect(row.locator(".badge")).to_have_count(0, timeout=TIMEOUT)
    assert re.search(r"/conversations/\d+/$", agent.url)

    # The customer writes again while the thread is open: the bubble arrives in place.
    follow_up = f"Also, can I change the address? {secrets.token_hex(2)}"
    customer.get_by_test_id("message-input").fill(follow_up)
    customer.get_by_test_id("send-button").click()
    expect(agent.locator("#messages > .msg-in", has_text=follow_up)).to_be_visible(timeout=TIMEOUT)
    shot(agent, "e2e-04-thread-live")

    # The agent replies: Enter sends; the bubble shows at once, then gets its ticks.
    agent.keyboard.press("r")
    expect(agent.locator("#composer-body")).to_be_focused()
    agent.keyboard.type(reply_text)
    agent.keyboard.press("Enter")
    sent = agent.locator("#messages > .msg-out", has_text=reply_text)
    expect(sent).to_have_count(1, timeout=TIMEOUT)
    expect(agent.locator("#composer-body")).to_have_value("")
    expect(sent).to_have_attribute("data-message-id", re.compile(r"^\d+$"), timeout=TIMEOUT)

    # The customer's phone shows the reply; the ticks go to delivered, then read once the phone shows it.
    expect(customer.get_by_test_id("message-list")).to_contain_text(reply_text, timeout=TIMEOUT)
    shot(customer, "e2e-05-customer-sees-reply")
    expect(sent.locator(".ticks")).to_have_class(re.compile(r"ticks-(delivered|read)"), timeout=TIMEOUT)
    expect(sent.locator(".ticks")).to_have_class(re.compile(r"ticks-read"), timeout=TIMEOUT)
    expect(agent.locator("#messages > .msg-out", has_text=reply_text)).to_have_count(1)
    assert agent.evaluate("window.__sameDocument") is True
    shot(agent, "e2e-06-agent-sees-read")
    assert not errors, errors


def test_keyboard_and_shortcuts(server, chromium, shot):
    page = chromium.new_context(viewport={"width": 1280, "height": 800}).new_page()
    log_in(page, server.base_url, "agent@example.com")
    page.keyboard.press("?")
    expect(page.locator("#shortcuts")).to_be_visible()
    shot(page, "e2e-07-shortcuts")
    page.keyboard.press("Escape")
    expect(page.locator("#shortcuts")).to_be_hidden()
    page.keyboard.press("/")
    expect(page.locator("#search")).to_be_focused()
    page.keyboard.press("Escape")
    if page.locator(".conv-row").count():
        page.keyboard.press("j")
        expect(page.locator("#thread")).to_be_visible(timeout=TIMEOUT)


def test_phone_width_is_single_column(server, chromium, shot):
    page = chromium.new_context(viewport={"width": 390, "height": 844}).new_page()
    log_in(page, server.base_url, "manager@example.com")
    expect(page.locator(".list-pane")).to_be_visible()
    expect(page.locator(".thread-pane")).to_be_hidden()
    shot(page, "e2e-08-phone-list")
    if page.locator(".conv-row").count():
        page.locator(".conv-row .conv-link").first.click()
        expect(page.locator("#thread")).to_be_visible(timeout=TIMEOUT)
        expect(page.locator(".list-pane")).to_be_hidden()
        # Managers read; the composer says why they cannot write.
        expect(page.locator(".composer-closed")).to_contain_text("Managers read conversations")
        shot(page, "e2e-09-phone-thread")
        page.locator(".back-btn").click()
        expect(page.locator(".list-pane")).to_be_visible()


def test_a_second_agent_sees_the_reply_live(server, chromium, shot):
    """Two people on the same conversation: what one sends appears in the other's open thread."""
    base = server.base_url
    name = f"Tomas Two {secrets.token_hex(2)}"
    customer_writes(base, wa_id=f"35193{secrets.randbelow(10**7):07d}", name=name, text="Hi")
    pages = []
    for email in ("agent@example.com", "admin@example.com"):
        page = chromium.new_context(viewport={"width": 1280, "height": 800}).new_page()
        log_in(page, base, email)
        open_conversation(page, name)
        page.evaluate("window.__sameDocument = true")
        pages.append(page)
    writer, watcher = pages

    text = f"On it, {secrets.token_hex(3)}"
    writer.locator("#composer-body").fill(text)
    writer.locator("#composer-body").press("Enter")
    expect(writer.locator("#messages > .msg-out", has_text=text)).to_have_count(1, timeout=TIMEOUT)
    bubble = watcher.locator("#messages > .msg-out", has_text=text)
    expect(bubble).to_have_count(1, timeout=TIMEOUT)
    expect(bubble).to_be_in_viewport()
    # The watcher's list moved the conversation to the top with the new preview.
    expect(watcher.locator(".conv-row").first).to_contain_text(text, timeout=TIMEOUT)
    assert watcher.evaluate("window.__sameDocument") is True
    shot(watcher, "e2e-10-second-agent-live")


def test_reactions_edits_and_deletions_arrive_live(server, chromium, shot):
    base = server.base_url
    wa_id = f"35192{secrets.randbelow(10**7):07d}"
    name = f"Edith Edits {secrets.token_hex(2)}"
    first = customer_writes(base, wa_id=wa_id, name=name, text="See you at 10")
    oops = customer_writes(base, wa_id=wa_id, text="wrong chat, sorry")
    page = chromium.new_context(viewport={"width": 1280, "height": 800}).new_page()
    log_in(page, base, "agent@example.com")
    open_conversation(page, name)
    page.evaluate("window.__sameDocument = true")
    first_bubble = page.locator("#messages > .msg-in", has_text="See you at 10")
    expect(first_bubble).to_be_visible()

    customer_writes(base, wa_id=wa_id, type="reaction", message_id=first, emoji="👍")
    expect(first_bubble.locator(".reactions")).to_contain_text("👍", timeout=TIMEOUT)
    customer_writes(base, wa_id=wa_id, type="edit", message_id=first, text="See you at 10:30")
    expect(first_bubble).to_contain_text("See you at 10:30", timeout=TIMEOUT)
    expect(first_bubble.locator(".edited")).to_be_visible()
    expect(first_bubble.locator(".reactions")).to_contain_text("👍")
    customer_writes(base, wa_id=wa_id, type="revoke", message_id=oops)
    deleted = page.locator("#messages > .msg-in.is-revoked")
    expect(deleted).to_contain_text("This message was deleted", timeout=TIMEOUT)
    expect(page.locator("#messages")).not_to_contain_text("wrong chat, sorry")
    # Each change redraws its target: no reaction, edit or deletion shows as a bubble of its own.
    expect(page.locator("#messages > li.msg")).to_have_count(2)
    assert page.evaluate("window.__sameDocument") is True
    shot(page, "e2e-15-reaction-edit-delete-live")
