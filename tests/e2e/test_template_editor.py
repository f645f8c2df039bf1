"""The template editor in the browser: an author types a body with a variable, its example field appears,
the preview follows the typing, lint findings come and go as the text is fixed (a click on one focuses
the field it names), and the template is saved and sent for approval."""

import re
import secrets

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import TIMEOUT, log_in

pytestmark = pytest.mark.e2e

SCREENSHOT = "/tmp/template_editor.png"


def test_an_author_writes_a_template_and_asks_for_approval(server, chromium, shot):
    base = server.base_url
    name = f"e2e_order_{secrets.token_hex(3)}"
    page = chromium.new_context(viewport={"width": 1440, "height": 1000}).new_page()
    log_in(page, base, "admin@example.com")

    page.get_by_role("link", name="Templates").first.click()
    expect(page.get_by_role("heading", name="Message templates")).to_be_visible(timeout=TIMEOUT)
    page.get_by_role("link", name="New template").click()
    expect(page.get_by_role("heading", name="New template")).to_be_visible(timeout=TIMEOUT)

    findings = page.locator("#lint-findings")
    preview = page.locator("#live-preview")

    # A name WhatsApp would refuse: the finding appears, and a click on it goes to the field.
    page.get_by_label("Name", exact=True).fill("Order Update")
    name_finding = findings.locator('[data-part="name"]')
    expect(name_finding).to_contain_text("lowercase", timeout=TIMEOUT)
    page.get_by_label("Footer text").focus()
    name_finding.first.click()
    expect(page.get_by_label("Name", exact=True)).to_be_focused()
    page.get_by_label("Name", exact=True).fill(name)
    expect(name_finding).to_have_count(0, timeout=TIMEOUT)

    # The body with a variable: its example field appears as it is typed, the preview follows.
    body = page.get_by_label("Body text")
    body.click()
    body.press_sequentially("Hi {{1}}, your order is on its way and arrives tomorrow.", delay=5)
    sample = page.locator("#sample-body-1")
    expect(sample).to_be_visible()
    expect(preview.locator(".wa-variable")).to_have_text("{{1}}")
    sample_finding = findings.locator('[data-part="samples.body.1"]')
    expect(sample_finding).to_be_visible(timeout=TIMEOUT)
    sample_finding.click()
    expect(sample).to_be_focused()
    sample.press_sequentially("Ana")
    expect(preview.locator(".wa-body")).to_have_text("Hi Ana, your order is on its way and arrives tomorrow.")
    expect(sample_finding).to_have_count(0, timeout=TIMEOUT)
    page.locator("#prefill-body-1").select_option("contact.first_name")

    page.get_by_label("Footer text").fill("Questions? Just reply to this message")
    page.get_by_role("button", name="Quick reply").click()
    page.locator("#button-0-text").fill("Track my order")
    page.get_by_role("button", name="Website").click()
    page.locator("#button-1-text").fill("See the order")
    page.locator("#button-1-url").fill("https://shop.example/orders/{{1}}")
    page.locator("#button-1-urlSample").fill("1042")
    expect(preview.locator(".wa-button")).to_have_count(2)
    expect(preview.locator(".wa-footer")).to_have_text("Questions? Just reply to this message")
    expect(findings).to_contain_text("No problems found", timeout=TIMEOUT)

    # The whole editor at once for the screenshot: the page scrolls inside its main area.
    page.set_viewport_size({"width": 1440, "height": 1480})
    page.evaluate("document.getElementById('main').scrollTo(0, 0)")
    page.screenshot(path=SCREENSHOT)
    shot(page, "template-editor")
    page.set_viewport_size({"width": 1440, "height": 1000})

    page.get_by_role("button", name="Save draft").click()
    expect(page.locator(".flash")).to_contain_text("Draft saved.", timeout=TIMEOUT)
    # What was saved comes back: the example and the buttons are drawn again from the stored template.
    expect(page.locator("#sample-body-1")).to_have_value("Ana")
    expect(page.locator("#button-1-url")).to_have_value("https://shop.example/orders/{{1}}")
    expect(page.locator("#prefill-body-1")).to_have_value("contact.first_name")

    page.get_by_role("button", name="Save and ask for approval").click()
    expect(page.locator(".flash")).to_contain_text("Sent for approval", timeout=TIMEOUT)
    expect(page.get_by_role("heading", name=name)).to_be_visible()
    expect(page.locator("#on-its-way")).to_contain_text("Waiting for approval")
    # Four eyes: the author is told another admin must approve.
    expect(page.locator("#on-its-way")).to_contain_text("Another admin must review this template")
    expect(page.locator("#on-its-way .wa-body")).to_have_text("Hi Ana, your order is on its way and arrives tomorrow.")
    page.screenshot(path="/tmp/template_detail.png")

    page.get_by_role("link", name="Templates").first.click()
    row = page.locator(".tpl-table tr", has_text=name)
    expect(row).to_contain_text("r1 waiting for approval", timeout=TIMEOUT)
    page.screenshot(path="/tmp/template_list.png")


def test_asking_for_approval_from_the_template_page_answers_in_place(server, chromium):
    base = server.base_url
    name = f"e2e_reminder_{secrets.token_hex(3)}"
    page = chromium.new_context(viewport={"width": 1280, "height": 900}).new_page()
    log_in(page, base, "admin@example.com")
    page.goto(f"{base}/templates/new")
    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_label("Body text").fill("Your appointment is tomorrow at {{1}}. Reply to change it.")
    page.locator("#sample-body-1").fill("10:30")
    page.get_by_role("button", name="Save draft").click()
    expect(page.locator(".flash")).to_contain_text("Draft saved.", timeout=TIMEOUT)

    page.get_by_role("link", name=name).click()
    expect(page.locator("#on-its-way")).to_contain_text("Draft", timeout=TIMEOUT)
    page.evaluate("window.__sameDocument = true")
    page.locator("#on-its-way").get_by_role("button", name="Ask for approval").click()
    expect(page.locator(".flash")).to_contain_text("Sent for approval", timeout=TIMEOUT)
    expect(page.locator("#on-its-way")).to_contain_text("Waiting for approval")
    # htmx swapped the page's main area: no reload.
    assert page.evaluate("window.__sameDocument") is True

    # The list's filters answer in place too.
    page.get_by_role("link", name="Templates").first.click()
    page.get_by_label("Search by name").fill(name[:14])
    expect(page.locator(".tpl-table tbody tr")).to_have_count(1, timeout=TIMEOUT)
    expect(page.locator(".tpl-table")).to_contain_text(name)
    expect(page).to_have_url(re.compile(rf"^{re.escape(base)}/templates/\?q={name[:14]}(&|$)"), timeout=TIMEOUT)
