"""Automations in a browser: an admin switches on the sandbox number's welcome reply (its escalation route is
seeded), a new customer gets it with a "Talk to a person" button, asks for a person in their own words and
the conversation is handed to people at once, with the clock in the thread header. The reply is switched off
again at the end: the browser tests share one server."""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import TIMEOUT, customer_writes, log_in, open_conversation

pytestmark = pytest.mark.e2e


def _welcome_switch(page, base_url: str, *, on: bool) -> None:
    page.goto(f"{base_url}/settings/channels/")
    page.get_by_role("link", name="Automations").first.click()
    expect(page.locator("#automation-replies")).to_be_visible(timeout=TIMEOUT)
    name = page.locator("td > bdi", has_text=re.compile(r"^Welcome$"))
    row = page.locator("#automation-replies tbody > tr").filter(has=name)
    toggle = row.get_by_role("button", name="Switch on" if on else "Switch off")
    if toggle.count():
        toggle.click()
    expect(row.locator(".reply-state")).to_have_text("On" if on else "Off", timeout=TIMEOUT)


def test_a_welcome_offers_a_person_and_asking_hands_over(server, chromium, shot):
    page = chromium.new_page(viewport={"width": 1440, "height": 1000})
    log_in(page, server.base_url, "admin@example.com")
    _welcome_switch(page, server.base_url, on=True)
    shot(page, "automation-settings")
    try:
        customer_writes(server.base_url, wa_id="34611222333", name="Lucía Automática", text="Hola, ¿tenéis envíos?")
        page.goto(f"{server.base_url}/")
        open_conversation(page, "Lucía Automática")
        thread = page.locator("#messages")
        expect(thread).to_contain_text("Thanks for writing to us", timeout=TIMEOUT)
        expect(thread).to_contain_text("Talk to a person")

        # The customer asks for a person in Spanish: the handover answers in Spanish.
        customer_writes(server.base_url, wa_id="34611222333", text="agente")
        expect(thread).to_contain_text("una persona", timeout=TIMEOUT)
        expect(page.locator("[data-automation-state=waiting]")).to_contain_text("Handed to people", timeout=TIMEOUT)
        shot(page, "automation-handover")
    finally:
        _welcome_switch(page, server.base_url, on=False)
        page.close()
