"""The whole life of a template, in browsers, on the product as `make run` serves it: an agent drafts it,
an admin approves it, the simulator (playing WhatsApp) reviews and approves it and says so by webhook, the
agent sends it to a customer whose window has closed, the customer's phone shows the rendered template
with its buttons, and the customer's quick-reply tap comes back into the agent's thread."""

import re
import secrets

import httpx
import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import TIMEOUT, customer_writes, log_in, open_conversation
from tests.e2e.test_send_template import consent_recorded

pytestmark = pytest.mark.e2e


def test_draft_approve_review_send_and_tap(server, chromium, shot):
    from inbox.demo import SANDBOX_PHONE_NUMBER_ID

    base = server.base_url
    suffix = secrets.token_hex(3)
    name = f"delivery_slot_{suffix}"
    customer = f"Caio Lifecycle {suffix}"
    wa_id = f"55119{secrets.randbelow(10**8):08d}"
    errors: list[str] = []

    # 1. The agent (allowed to write templates) drafts it and asks for approval.
    agent = chromium.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    agent.on("pageerror", lambda error: errors.append(str(error)))
    log_in(agent, base, "agent@example.com")
    agent.goto(f"{base}/templates/new")
    agent.get_by_label("Name", exact=True).fill(name)
    agent.locator("input[name=category][value=UTILITY]").check()
    body = agent.get_by_label("Body text")
    body.click()
    body.press_sequentially("Hi {{1}}, your delivery slot is tomorrow morning. Does it suit you?", delay=2)
    agent.locator("#sample-body-1").fill("Ana")
    agent.locator("#prefill-body-1").select_option("contact.first_name")
    agent.get_by_role("button", name="Quick reply").click()
    agent.locator("#button-0-text").fill("Yes, it suits me")
    expect(agent.locator("#lint-findings")).to_contain_text("No problems found", timeout=TIMEOUT)
    agent.get_by_role("button", name="Save and ask for approval").click()
    expect(agent.locator(".flash")).to_contain_text("Sent for approval", timeout=TIMEOUT)
    detail_url = agent.url

    # 2. An admin approves it (the agent could not: four eyes).
    admin = chromium.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    admin.on("pageerror", lambda error: errors.append(str(error)))
    log_in(admin, base, "admin@example.com")
    admin.goto(detail_url)
    admin.get_by_role("button", name="Approve and submit to WhatsApp").click()

    # 3. The simulator reviews it after a short delay and its webhook makes it sendable.
    for _ in range(60):
        admin.reload()
        if admin.locator(".tpl-notice-ok").count():
            break
        admin.wait_for_timeout(500)
    expect(admin.locator(".tpl-notice-ok")).to_contain_text("Can be sent")
    timeline = admin.locator(".tpl-timeline")
    expect(timeline).to_contain_text("Approved for submission")
    expect(timeline).to_contain_text("Submitted to WhatsApp")
    shot(admin, "e2e-lifecycle-1-approved")

    # 4. A customer wrote more than 24 hours ago: only a template may go out, and the agent sends ours.
    customer_writes(base, wa_id=wa_id, name=customer, text="Can I change my delivery?")
    agent.goto(f"{base}/")
    open_conversation(agent, customer)
    consent_recorded(server, wa_id)  # they opted in on the website
    aged = httpx.post(
        f"{base}/simulator/api/age",
        json={"phone_number_id": SANDBOX_PHONE_NUMBER_ID, "wa_id": wa_id, "hours": 25},
        timeout=10,
    )
    assert aged.status_code == 200, aged.text
    agent.reload()
    expect(agent.locator(".composer-closed")).to_be_visible(timeout=TIMEOUT)
    agent.locator("#messages-scroll").click(position={"x": 5, "y": 5})
    agent.keyboard.press("t")
    picker = agent.locator("#template-picker")
    expect(agent.locator("#tpl-filter")).to_be_focused(timeout=TIMEOUT)
    agent.keyboard.type(name)
    expect(picker.locator(".tpl-option:visible")).to_have_count(1)
    agent.keyboard.press("Enter")
    expect(picker.locator("#tpl-var-body-1")).to_have_value("Caio", timeout=TIMEOUT)  # from the contact
    picker.get_by_role("button", name="Send template").click()
    expect(picker).to_be_hidden(timeout=TIMEOUT)
    bubble = agent.locator("#messages > .msg-out.kind-template")
    expect(bubble).to_contain_text("Hi Caio, your delivery slot is tomorrow morning.", timeout=TIMEOUT)
    expect(bubble.locator(".ticks")).to_have_class(re.compile("ticks-(delivered|read)"), timeout=TIMEOUT)

    # 5. The customer's phone shows the rendered template with its button; the tap comes back.
    phone = chromium.new_context(viewport={"width": 1200, "height": 900}).new_page()
    phone.goto(f"{base}/simulator/?number={SANDBOX_PHONE_NUMBER_ID}&customer={wa_id}")
    received = phone.locator(".sim-bubble", has_text="your delivery slot is tomorrow morning")
    expect(received).to_be_visible(timeout=TIMEOUT)
    expect(received).to_contain_text("Hi Caio")
    shot(phone, "e2e-lifecycle-2-phone")
    phone.get_by_test_id("reply-button").filter(has_text="Yes, it suits me").click()

    tap = agent.locator("#messages > .msg-in", has_text="Yes, it suits me")
    expect(tap).to_be_visible(timeout=TIMEOUT)
    # The tap opened the window again: free text is allowed.
    expect(agent.locator(".composer-closed")).to_have_count(0, timeout=TIMEOUT)
    shot(agent, "e2e-lifecycle-3-tap")
    assert not errors, errors
