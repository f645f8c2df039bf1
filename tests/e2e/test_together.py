"""Two people on the same conversation, side by side: each sees the other viewing and typing, the soft claim
asks before a double reply, and a private note with an @mention lights the other's bell."""

import re
import secrets

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import TIMEOUT, customer_writes, log_in, open_conversation

pytestmark = pytest.mark.e2e


@pytest.fixture
def side_by_side(server, chromium):
    name = f"Together {secrets.token_hex(2)}"
    customer_writes(server.base_url, wa_id=f"35193{secrets.randbelow(10**7):07d}", name=name, text="Anyone there?")
    pages, errors = [], []
    for email in ("agent@example.com", "admin@example.com"):
        page = chromium.new_context(viewport={"width": 1280, "height": 800}).new_page()
        page.on("pageerror", lambda error: errors.append(str(error)))
        log_in(page, server.base_url, email)
        open_conversation(page, name)
        pages.append(page)
    yield pages[0], pages[1]
    assert not errors, errors
    for page in pages:
        page.context.close()


def test_typing_is_seen_and_the_claim_asks_before_a_double_reply(side_by_side, shot):
    alex, ada = side_by_side
    expect(alex.locator("#thread .presence-line")).to_contain_text("Ada Admin viewing", timeout=TIMEOUT)
    expect(ada.locator("#thread .presence-line")).to_contain_text("Alex Agent viewing", timeout=TIMEOUT)
    alex.locator("#composer-body").click()
    alex.keyboard.type("Hello! Let me check")
    expect(ada.locator("#thread .presence-line")).to_contain_text("Alex Agent typing", timeout=TIMEOUT)
    warning = ada.locator("[data-claim-warning]")
    expect(warning).to_be_visible()
    expect(warning).to_contain_text("Alex Agent is replying")
    shot(ada, "e2e-together-1-someone-typing")
    ada.locator("#composer-body").fill("Hi, I am on it")
    asked = []

    def dismiss(dialog):
        asked.append(dialog.message)
        dialog.dismiss()

    ada.once("dialog", dismiss)
    ada.locator("#composer-body").press("Enter")
    expect(ada.locator("#composer-body")).to_have_value("Hi, I am on it")
    assert asked and "Alex Agent is replying" in asked[0]
    expect(ada.locator("#messages > .msg-out", has_text="Hi, I am on it")).to_have_count(0)
    ada.once("dialog", lambda dialog: dialog.accept())
    ada.locator("#composer-body").press("Enter")
    expect(ada.locator("#messages > .msg-out", has_text="Hi, I am on it")).to_have_count(1, timeout=TIMEOUT)
    # Alex, still typing his own answer, is asked in turn: Ada just replied.
    alex_asked = []
    alex.once("dialog", lambda dialog: (alex_asked.append(dialog.message), dialog.dismiss()))
    alex.locator("#composer-body").press("Enter")
    expect(alex.locator("#composer-body")).to_have_value("Hello! Let me check")
    assert alex_asked and "Ada Admin is replying" in alex_asked[0]
    shot(alex, "e2e-together-2-claim-asked")


def test_a_note_with_a_mention_rings_the_other_bell(side_by_side, shot):
    alex, ada = side_by_side
    # Other browser tests on this server may have told the admin things already (templates to approve).
    bell = ada.locator("[data-bell-count]")
    unread_before = int(bell.inner_text() or 0) if bell.is_visible() else 0
    alex.locator("#messages-scroll").click()
    alex.keyboard.press("n")
    expect(alex.locator("#composer")).to_have_class(re.compile(r"\bis-note\b"))
    expect(alex.locator("#composer-body")).to_be_focused()
    alex.keyboard.type("Please call her @ad")
    option = alex.locator("[data-picker] .picker-option", has_text="Ada Admin")
    expect(option).to_be_visible(timeout=TIMEOUT)
    alex.keyboard.press("Enter")
    expect(alex.locator("#composer-body")).to_have_value(re.compile(r"Please call her @admin $"))
    alex.keyboard.type("today")
    alex.keyboard.press("Enter")
    note = alex.locator("#messages > .msg-note", has_text="Please call her")
    expect(note).to_have_count(1, timeout=TIMEOUT)
    expect(note.locator(".mention")).to_have_text("@admin")
    expect(ada.locator("#messages > .msg-note", has_text="Please call her")).to_have_count(1, timeout=TIMEOUT)
    expect(bell).to_have_text(str(unread_before + 1), timeout=TIMEOUT)
    ada.locator("[data-together=bell]").click()
    panel = ada.locator("#notifications-panel")
    expect(panel).to_contain_text("Mentioned you")
    expect(panel).to_contain_text("Please call her @admin today")
    shot(ada, "e2e-together-3-bell")
    panel.locator("[data-together=read-all]").click()
    expect(ada.locator("[data-bell-count]")).to_be_hidden(timeout=TIMEOUT)


def test_the_canned_picker_inserts_with_variables(side_by_side, server):
    alex, _ = side_by_side
    alex.goto(f"{server.base_url}/canned/")
    alex.fill("#canned-shortcut", "greet")
    alex.fill("#canned-text", "Hi {{contact.first_name}}, {{agent.name}} here.")
    alex.click(".canned-form .btn-primary")
    expect(alex.locator(".flash")).to_contain_text("/greet is ready")
    alex.go_back()
    alex.go_back()
    alex.locator("#composer-body").click()
    alex.keyboard.type("/gre")
    expect(alex.locator("[data-picker] .picker-option", has_text="/greet")).to_be_visible(timeout=TIMEOUT)
    alex.keyboard.press("Enter")
    expect(alex.locator("#composer-body")).to_have_value(re.compile(r"^Hi Together, Alex Agent here\.$"))
