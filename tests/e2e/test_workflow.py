"""Teamwork in the browser: an agent takes a conversation with `a` and resolves it with `e`; an admin watching
the Unassigned tab sees it leave live, and watching the thread sees it resolved, without reloading."""

import re
import secrets

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import TIMEOUT, customer_writes, log_in, open_conversation

pytestmark = pytest.mark.e2e


def test_an_agent_takes_and_resolves_while_a_colleague_watches(server, chromium, shot):
    base = server.base_url
    name = f"Tove E2E {secrets.token_hex(2)}"
    wa_id = f"4670{secrets.randbelow(10**7):07d}"

    watcher = chromium.new_context(viewport={"width": 1280, "height": 800}).new_page()
    errors: list[str] = []

    # Scripts of this feature must not throw (other modules' errors are their own tests' business).
    def record(error) -> None:
        if "workflow.js" in (error.stack or ""):
            errors.append(str(error))

    watcher.on("pageerror", record)
    log_in(watcher, base, "admin@example.com")
    expect(watcher.locator("#live-status")).to_have_attribute("data-state", "live", timeout=TIMEOUT)
    watcher.locator(".tab[data-view=unassigned]").click()
    watcher.evaluate("window.__sameDocument = true")

    customer_writes(base, wa_id=wa_id, name=name, text="Can someone help me with a refund?")
    row = watcher.locator(".conv-row", has_text=name)
    expect(row).to_be_visible(timeout=TIMEOUT)

    agent = chromium.new_context(viewport={"width": 1280, "height": 800}).new_page()
    agent.on("pageerror", record)
    log_in(agent, base, "agent@example.com")
    open_conversation(agent, name)
    header = agent.locator("#workflow-header")
    agent.keyboard.press("a")
    expect(header).to_have_attribute("data-assignee-id", re.compile(r"^\d+$"), timeout=TIMEOUT)
    expect(agent.locator("#messages .activity", has_text="took this conversation")).to_be_visible(timeout=TIMEOUT)
    shot(agent, "e2e-workflow-01-taken")

    # The watcher's Unassigned tab lets it go, live.
    expect(row).to_have_count(0, timeout=TIMEOUT)
    assert watcher.evaluate("window.__sameDocument") is True
    conversation_url = agent.url

    # The watcher opens the thread; the agent resolves it with `e`; the watcher's header follows, live.
    watcher.goto(conversation_url)
    expect(watcher.locator("#live-status")).to_have_attribute("data-state", "live", timeout=TIMEOUT)
    watcher.evaluate("window.__sameDocument = true")
    agent.locator("#messages-scroll").click()
    agent.keyboard.press("e")
    expect(header).to_have_attribute("data-status", "resolved", timeout=TIMEOUT)
    expect(agent.locator("#workflow-header [data-wf=reopen]")).to_be_visible()
    expect(watcher.locator("#workflow-header")).to_have_attribute("data-status", "resolved", timeout=TIMEOUT)
    expect(watcher.locator("#messages .activity", has_text="resolved this")).to_be_visible(timeout=TIMEOUT)
    assert watcher.evaluate("window.__sameDocument") is True
    shot(watcher, "e2e-workflow-02-resolved-live")
    assert errors == []
