"""Teams in the browser: an admin removes an agent from the team working the number, and the agent's open
inbox drops the conversation at once, without reloading; put back, it returns."""

import secrets

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import TIMEOUT, customer_writes, log_in

pytestmark = pytest.mark.e2e


def set_support_membership(admin, base: str, *, agent_member: bool) -> None:
    admin.goto(f"{base}/settings/teams/")
    admin.get_by_role("link", name="Support").click()
    checkbox = admin.get_by_role("checkbox", name="Alex Agent")
    checkbox.set_checked(agent_member)
    admin.get_by_role("button", name="Save members").click()
    if not agent_member:
        # Removing someone asks first and says what happens.
        expect(admin.get_by_role("alertdialog")).to_contain_text("stop seeing", timeout=TIMEOUT)
        admin.get_by_role("button", name="Save members").click()
    expect(admin.locator(".settings-message")).to_contain_text("Members saved.", timeout=TIMEOUT)


def test_removing_an_agent_from_the_team_empties_their_open_inbox_live(server, chromium, shot):
    base = server.base_url
    name = f"Ines E2E {secrets.token_hex(2)}"
    customer_writes(base, wa_id=f"3519{secrets.randbelow(10**7):07d}", name=name, text="Hello?")

    agent = chromium.new_context(viewport={"width": 1280, "height": 800}).new_page()
    log_in(agent, base, "agent@example.com")
    expect(agent.locator("#live-status")).to_have_attribute("data-state", "live", timeout=TIMEOUT)
    row = agent.locator(".conv-row", has_text=name)
    for _ in range(40):
        if row.count():
            break
        agent.wait_for_timeout(250)
        agent.reload()
    expect(row).to_be_visible(timeout=TIMEOUT)
    agent.evaluate("window.__sameDocument = true")

    admin = chromium.new_context(viewport={"width": 1280, "height": 800}).new_page()
    log_in(admin, base, "admin@example.com")
    admin.get_by_role("link", name="Settings").click()
    expect(admin.get_by_role("heading", name="Users")).to_be_visible(timeout=TIMEOUT)
    try:
        set_support_membership(admin, base, agent_member=False)
        expect(row).to_have_count(0, timeout=TIMEOUT)
        shot(agent, "teams-agent-removed")
    finally:
        # Put the demo agent back whatever happened: the other browser tests rely on it.
        set_support_membership(admin, base, agent_member=True)
    expect(row).to_be_visible(timeout=TIMEOUT)
    # The page never reloaded: the socket told it to redraw its panes.
    assert agent.evaluate("window.__sameDocument") is True
    admin.goto(f"{base}/settings/audit/")
    expect(admin.locator(".audit-table")).to_contain_text("team.members_changed")
