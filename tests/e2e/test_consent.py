"""Consent in a browser: a customer's first message shows as a utility opt-in on the contact panel; the agent
records a marketing opt-in with the keyboard (not without a reason); the customer's
STOP redraws the open panel live and the confirmation arrives in the thread once."""

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import TIMEOUT, customer_writes, log_in, open_conversation

pytestmark = pytest.mark.e2e


def test_consent_on_the_contact_panel(server, chromium, shot):
    customer_writes(server.base_url, wa_id="393471112233", name="Giulia Consent", text="Ciao, info sull'ordine?")
    page = chromium.new_page(viewport={"width": 1440, "height": 1000})
    log_in(page, server.base_url, "agent@example.com")
    open_conversation(page, "Giulia Consent")
    panel = page.locator(".consent-panel")
    utility = panel.locator(".consent-state", has_text="Utility")
    expect(utility.locator(".consent-chip-in")).to_be_visible(timeout=TIMEOUT)
    expect(utility).to_contain_text("The customer wrote first")
    expect(panel.locator(".consent-state", has_text="Marketing")).to_contain_text("Not asked")

    # Record a marketing opt-in from the keyboard; first without a reason.
    panel.locator(".consent-record > summary").focus()
    page.keyboard.press("Enter")
    form = panel.locator(".consent-form")
    form.locator("select[name=purpose]").select_option("marketing")
    form.locator("input[name=action][value=opt_in]").check()
    form.locator("select[name=source]").select_option("website_form")
    form.locator("textarea[name=evidence]").fill("Newsletter box ticked on checkout")
    # The reason is required: the browser says so before anything is sent (the server says it too).
    form.locator("button[type=submit]").click()
    assert form.evaluate("form => !form.checkValidity()")
    expect(panel.locator(".consent-saved")).to_have_count(0)
    shot(page, "consent-record-form")
    panel.locator("textarea[name=reason]").fill("She ticked it on the order form")
    panel.locator("textarea[name=reason]").press("Tab")
    page.keyboard.press("Enter")  # the Record button
    marketing = panel.locator(".consent-state", has_text="Marketing")
    expect(marketing.locator(".consent-chip-in")).to_be_visible(timeout=TIMEOUT)
    expect(panel.locator(".consent-entry").first).to_contain_text("She ticked it on the order form")

    # The customer sends STOP: the open panel redraws by itself, the thread gets one confirmation.
    customer_writes(server.base_url, wa_id="393471112233", text="STOP")
    expect(marketing.locator(".consent-chip-out")).to_be_visible(timeout=TIMEOUT)
    expect(utility.locator(".consent-chip-out")).to_be_visible()
    expect(page.locator("#messages")).to_contain_text("You will no longer get marketing", timeout=TIMEOUT)
    shot(page, "consent-after-stop")

    # The contact page shows the same panel.
    page.locator("#thread .thread-title a, .contact-name a").first.click()
    expect(page.locator(".contact-page .consent-panel .consent-chip-out").first).to_be_visible(timeout=TIMEOUT)
    shot(page, "consent-contact-page")
    page.close()
