"""Identity changes in a browser: the customer reinstalls WhatsApp (the simulator sends
`customer_identity_changed`), the open contact panel shows the warning and the composer says sending is held,
live; the agent acknowledges with the confirmation step, the composer opens again and the next message
reaches the customer (it carries the new identity key hash, which the simulator checks)."""

import httpx
import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import TIMEOUT, customer_writes, log_in, open_conversation

pytestmark = pytest.mark.e2e

WA_ID = "393479990001"


def test_an_identity_change_holds_until_acknowledged(server, chromium, shot):
    from inbox.demo import SANDBOX_PHONE_NUMBER_ID

    customer_writes(server.base_url, wa_id=WA_ID, name="Marco Identity", text="Ciao, è arrivato il pacco?")
    page = chromium.new_page(viewport={"width": 1440, "height": 1000})
    log_in(page, server.base_url, "agent@example.com")
    open_conversation(page, "Marco Identity")
    panel = page.locator(".identity-panel")
    expect(panel).to_contain_text("No change to check", timeout=TIMEOUT)

    # The customer reinstalls WhatsApp: the panel and the composer change by themselves.
    answer = httpx.post(
        f"{server.base_url}/simulator/api/customers/new_identity",
        json={"phone_number_id": SANDBOX_PHONE_NUMBER_ID, "wa_id": WA_ID},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    held = panel.locator(".identity-held")
    expect(held).to_contain_text("Sending is held: Their WhatsApp identity changed", timeout=TIMEOUT)
    expect(held).to_contain_text("Check it is still the same person")
    expect(page.locator("#composer [data-guard=identity_unconfirmed]")).to_be_visible(timeout=TIMEOUT)
    expect(page.locator("#messages")).to_contain_text("Sending is held", timeout=TIMEOUT)
    shot(page, "identity-held")

    # Acknowledge, with the confirmation step, from the keyboard.
    panel.locator(".identity-ack > summary").focus()
    page.keyboard.press("Enter")
    panel.locator("textarea[name=note]").fill("He told me the order number")
    shot(page, "identity-confirm")
    panel.get_by_role("button", name="Yes, it is the same person: acknowledge").click()
    # (The answer says "Acknowledged"; the live redraw that follows may replace it with the settled panel.)
    expect(panel).to_contain_text("Last change acknowledged by", timeout=TIMEOUT)
    expect(panel).to_contain_text("No change to check")
    expect(panel).to_contain_text("WhatsApp identity key known")
    expect(page.locator("#composer-body")).to_be_visible(timeout=TIMEOUT)
    shot(page, "identity-acknowledged")

    # The next message goes, with the new identity key hash (the simulator refuses a stale one with 137000).
    page.locator("#composer-body").fill("Sì, consegnato stamattina")
    page.locator("#composer-body").press("Enter")
    bubble = page.locator("#messages .bubble", has_text="Sì, consegnato stamattina")
    expect(bubble).to_be_visible(timeout=TIMEOUT)
    for _ in range(40):
        outbound = httpx.get(
            f"{server.base_url}/simulator/api/outbound",
            params={"phone_number_id": SANDBOX_PHONE_NUMBER_ID, "to": WA_ID},
            timeout=10,
        ).json()["messages"]
        if any("consegnato" in str(message) for message in outbound):
            break
        page.wait_for_timeout(250)
    else:
        pytest.fail(f"The simulator never received the message: {outbound}")
    expect(bubble).not_to_have_class("is-failed")
    page.close()
