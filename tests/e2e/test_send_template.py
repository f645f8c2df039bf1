"""Templates in a browser: the window closes, the agent presses `t`, filters the picker, fills the form
(the contact's first name is prefilled) while the preview follows, sends, and the template shows in the
thread as WhatsApp shows it. A refusal is said in the form, which keeps what was typed. From the contact
page, "Start a conversation" sends a template and lands in the conversation.

The template is approved on both sides: in the simulator's registry (its control API) and in Switchboard's
database (written directly, as a sync would).
"""

import json
import os
import re
import secrets
import subprocess
import sys
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import ROOT, TIMEOUT, _real_services_requested, customer_writes, log_in, open_conversation

pytestmark = pytest.mark.e2e

COMPONENTS = [
    {"type": "HEADER", "format": "TEXT", "text": "Parcel {{1}}", "example": {"header_text": ["#A-1"]}},
    {
        "type": "BODY",
        "text": "Hi {{1}}, your parcel {{2}} is on its way and arrives tomorrow.",
        "example": {"body_text": [["Ana", "#A-1"]]},
    },
    {"type": "FOOTER", "text": "Reply here with any question."},
    {
        "type": "BUTTONS",
        "buttons": [
            {"type": "QUICK_REPLY", "text": "Thanks!"},
            {
                "type": "URL",
                "text": "Track the parcel",
                "url": "https://shop.example/track/{{1}}",
                "example": ["https://shop.example/track/A1"],
            },
        ],
    },
]


def server_env(server) -> dict[str, str]:
    """The environment the server runs with (tests/e2e/conftest.py), to reach its database."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DATABASE_URL", "REDIS_URL", "TASK_RUNNER", "DJANGO_ALLOW_ASYNC_UNSAFE")
    }
    env.update(DJANGO_SETTINGS_MODULE="config.settings", SWITCHBOARD_VAR_DIR=str(server.log.parent), DEBUG="false")
    if _real_services_requested():
        parts = urlsplit(os.environ["DATABASE_URL"])
        env.update(DATABASE_URL=urlunsplit(parts._replace(path="/switchboard_e2e")), REDIS_URL=os.environ["REDIS_URL"])
    return env


def in_server(server, code: str) -> None:
    subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code], cwd=ROOT, env=server_env(server), check=True, timeout=60
    )


def consent_recorded(server, wa_id: str, purpose: str = "utility") -> None:
    """The customer opted in on the website: a template of `purpose` may go to them outside the window."""
    in_server(
        server,
        "from django.utils import timezone; from inbox.models import Contact, ConsentEvent; "
        f"ConsentEvent.objects.create(contact=Contact.objects.get(wa_id={wa_id!r}), purpose={purpose!r}, "
        "action='opt_in', source='website_form', occurred_at=timezone.now(), evidence='Website sign-up form')",
    )


def approved_template(server, name: str, components: list | None = None) -> None:
    """Register the template in the simulator (approved) and in Switchboard's database (approved, live)."""
    components = components or COMPONENTS
    from inbox.demo import SANDBOX_PHONE_NUMBER_ID, SANDBOX_WABA_ID

    registered = httpx.post(
        f"{server.base_url}/simulator/api/templates",
        json={
            "phone_number_id": SANDBOX_PHONE_NUMBER_ID,
            "name": name,
            "language": "en_US",
            "category": "UTILITY",
            "components": components,
        },
        timeout=10,
    )
    assert registered.status_code == 201, registered.text
    provider_id = str(registered.json().get("id", ""))
    # As the simulator stores them (Meta's Graph object): the sync then finds nothing to change.
    components = registered.json().get("components") or components
    # The server's template sync (at start, then hourly) may import the simulator's copy at any moment:
    # update whatever row names the template, or create it.
    in_server(
        server,
        f"""
import json
from django.db import IntegrityError, transaction
from django.db.models import Max, Q
from templates_app.models import MessageTemplate, TemplateRevision
for attempt in range(5):
    try:
        with transaction.atomic():
            same = Q(provider_template_id={provider_id!r}) | Q(name={name!r}, language="en_US")
            template = MessageTemplate.objects.filter(same, waba_id={SANDBOX_WABA_ID!r}).first() or MessageTemplate(
                waba_id={SANDBOX_WABA_ID!r}, name={name!r}, language="en_US"
            )
            template.category = "UTILITY"
            template.status = "APPROVED"
            template.provider_template_id = {provider_id!r}
            template.save()
            number = (template.revisions.aggregate(last=Max("number"))["last"] or 0) + 1
            revision = TemplateRevision.objects.create(
                template=template, number=number, state="live", category="UTILITY",
                components=json.loads({json.dumps(components)!r}), variable_fields={{"body.1": "contact.first_name"}},
            )
            template.live_revision = revision
            template.save(update_fields=["live_revision"])
        break
    except IntegrityError:
        continue
else:
    raise SystemExit("could not store the template")
""",
    )


def age(server, wa_id: str) -> None:
    from inbox.demo import SANDBOX_PHONE_NUMBER_ID

    aged = httpx.post(
        f"{server.base_url}/simulator/api/age",
        json={"phone_number_id": SANDBOX_PHONE_NUMBER_ID, "wa_id": wa_id, "hours": 25},
        timeout=10,
    )
    assert aged.status_code == 200, aged.text


@pytest.fixture
def closed_thread(server, chromium):
    """An agent looking at a conversation whose 24-hour window has closed, with a fresh approved template."""
    suffix = secrets.token_hex(3)
    template_name = f"parcel_on_its_way_{suffix}"
    approved_template(server, template_name)
    name = f"Bea Template {suffix}"
    wa_id = f"35197{secrets.randbelow(10**7):07d}"
    customer_writes(server.base_url, wa_id=wa_id, name=name, text="Where is my parcel?")
    page = chromium.new_context(viewport={"width": 1280, "height": 800}).new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    log_in(page, server.base_url, "agent@example.com")
    open_conversation(page, name)
    consent_recorded(server, wa_id)  # they opted in on the website
    age(server, wa_id)
    closed = page.locator(".composer-closed")
    expect(closed).to_be_visible(timeout=TIMEOUT)
    yield page, template_name, name
    assert not errors, errors


def pick(page, template_name: str, shot=None) -> None:
    """`t`, then filter the picker down to the template and choose it with the keyboard."""
    page.locator("#messages-scroll").click(position={"x": 5, "y": 5})
    page.keyboard.press("t")
    dialog = page.locator("#template-picker")
    expect(dialog).to_be_visible()
    expect(page.locator("#tpl-filter")).to_be_focused(timeout=TIMEOUT)
    if shot:
        shot(page, "e2e-templates-0-picker-list")
    page.keyboard.type(template_name.rsplit("_", 1)[0] + " " + template_name.rsplit("_", 1)[1])
    options = dialog.locator(".tpl-option:visible")
    expect(options).to_have_count(1)
    expect(options.first).to_have_class(re.compile("is-active"))
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    expect(dialog.locator(".tpl-form")).to_be_visible(timeout=TIMEOUT)


def test_send_a_template_when_the_window_is_closed(closed_thread, shot):
    page, template_name, name = closed_thread
    closed = page.locator(".composer-closed")
    expect(closed).to_contain_text("24-hour customer-service window has closed")
    expect(closed.get_by_role("button", name="Send a template")).to_be_enabled()

    pick(page, template_name, shot)

    dialog = page.locator("#template-picker")
    first_name = name.split(" ")[0]
    expect(dialog.locator("#tpl-var-body-1")).to_have_value(first_name)  # prefilled from the contact
    preview = dialog.locator("[data-tpl-preview]")
    expect(preview).to_contain_text(f"Hi {first_name}, your parcel #A-1 is on its way")  # the sample stands in
    dialog.locator("#tpl-var-header-1").fill("#B-52")
    dialog.locator("#tpl-var-body-2").fill("#B-52")
    dialog.locator("#tpl-var-buttons-1-1").fill("B52")
    expect(preview.locator(".tpl-header")).to_have_text("Parcel #B-52")
    expect(preview).to_contain_text(f"Hi {first_name}, your parcel #B-52 is on its way and arrives tomorrow.")
    expect(preview.locator("a.tpl-button")).to_have_attribute("href", "https://shop.example/track/B52")
    page.screenshot(path="/tmp/picker.png")
    shot(page, "e2e-templates-1-picker-form")

    dialog.locator("#tpl-var-body-2").press("Enter")

    expect(dialog).to_be_hidden(timeout=TIMEOUT)
    bubble = page.locator("#messages > .msg-out.kind-template")
    expect(bubble).to_have_count(1, timeout=TIMEOUT)
    expect(bubble.locator(".tpl-meta")).to_contain_text(f"Template · {template_name} (en_US)")
    expect(bubble.locator(".tpl-header")).to_have_text("Parcel #B-52")
    expect(bubble).to_contain_text(f"Hi {first_name}, your parcel #B-52 is on its way and arrives tomorrow.")
    expect(bubble.locator(".tpl-footer")).to_have_text("Reply here with any question.")
    expect(bubble.locator(".tpl-buttons li")).to_have_count(2)
    link = bubble.locator("a.tpl-button")
    expect(link).to_have_attribute("href", "https://shop.example/track/B52")
    expect(link).to_have_attribute("rel", "noopener noreferrer")
    expect(bubble.locator(".ticks")).to_have_class(re.compile("ticks-(sent|delivered|read)"), timeout=TIMEOUT)
    # Still only templates: the composer keeps saying why.
    expect(page.locator(".composer-closed")).to_be_visible()
    page.screenshot(path="/tmp/thread_template.png")
    shot(page, "e2e-templates-2-thread")


def test_a_refusal_is_said_in_the_form_which_keeps_what_was_typed(closed_thread, server):
    page, template_name, _ = closed_thread
    pick(page, template_name)
    dialog = page.locator("#template-picker")
    dialog.locator("#tpl-var-header-1").fill("#C-3")
    dialog.locator("#tpl-var-body-2").fill("#C-3")
    dialog.locator("#tpl-var-buttons-1-1").fill("C3")
    # WhatsApp paused the template while the form was open.
    in_server(
        server,
        f"from templates_app.models import MessageTemplate; "
        f"MessageTemplate.objects.filter(name={template_name!r}).update(status='PAUSED')",
    )
    dialog.get_by_role("button", name="Send template").click()
    error = dialog.locator(".tpl-error")
    expect(error).to_be_visible(timeout=TIMEOUT)
    expect(error).to_contain_text("paused")
    expect(dialog.locator("#tpl-var-body-2")).to_have_value("#C-3")
    expect(page.locator("#messages > .msg-out.kind-template")).to_have_count(0)
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()


def test_start_a_conversation_from_the_contact_page(closed_thread, shot):
    page, template_name, name = closed_thread
    page.locator(".contact-name a").click()
    expect(page.locator("h1")).to_contain_text(name, timeout=TIMEOUT)
    shot(page, "e2e-templates-3-contact-page")
    page.get_by_role("button", name="Choose a template").click()
    dialog = page.locator("#template-picker")
    expect(page.locator("#tpl-filter")).to_be_focused(timeout=TIMEOUT)
    page.keyboard.type(template_name)
    page.keyboard.press("Enter")
    expect(dialog.locator(".tpl-form")).to_be_visible(timeout=TIMEOUT)
    dialog.locator("#tpl-var-header-1").fill("#D-4")
    dialog.locator("#tpl-var-body-2").fill("#D-4")
    dialog.locator("#tpl-var-buttons-1-1").fill("D4")
    dialog.get_by_role("button", name="Send template").click()
    page.wait_for_url(re.compile(r"/conversations/\d+/$"), timeout=TIMEOUT)
    bubble = page.locator("#messages > .msg-out.kind-template", has_text="#D-4")
    expect(bubble).to_have_count(1, timeout=TIMEOUT)
    expect(page.locator("#thread .thread-title")).to_contain_text(name)


def test_a_header_image_is_checked_before_upload_and_shown(closed_thread, server, tmp_path, shot):
    from tests.e2e.test_media import png

    page, _, _ = closed_thread
    name = f"receipt_{secrets.token_hex(3)}"
    approved_template(
        server,
        name,
        [
            {"type": "HEADER", "format": "IMAGE", "example": {"header_handle": ["4::aW1hZ2U="]}},
            {
                "type": "BODY",
                "text": "Hi {{1}}, here is the receipt for your order.",
                "example": {"body_text": [["Ana"]]},
            },
        ],
    )
    pick(page, name)
    dialog = page.locator("#template-picker")
    posts = []
    page.on("request", lambda request: posts.append(request.url) if request.method == "POST" else None)
    dialog.locator("#tpl-header-media").set_input_files(
        files=[{"name": "receipt.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4\n" + b"0" * 64}]
    )
    expect(dialog.locator(".tpl-error")).to_have_text("The header needs a JPEG or PNG image.")
    assert not posts
    image = tmp_path / "receipt.png"
    image.write_bytes(png(120, 80, (30, 110, 200)))
    dialog.locator("#tpl-header-media").set_input_files(str(image))
    expect(dialog.locator(".tpl-error")).to_be_hidden()
    expect(dialog.locator("[data-tpl-preview] img.media")).to_be_visible()
    dialog.get_by_role("button", name="Send template").click()
    expect(dialog).to_be_hidden(timeout=TIMEOUT)
    bubble = page.locator("#messages > .msg-out.kind-template", has_text="here is the receipt")
    expect(bubble).to_have_count(1, timeout=TIMEOUT)
    header = bubble.locator(".tpl-media img.media")
    expect(header).to_be_visible()
    page.wait_for_function("img => img.complete && img.naturalWidth === 120", arg=header.element_handle())
    shot(page, "e2e-templates-4-image-header")
    expect(bubble.locator(".ticks")).to_have_class(re.compile("ticks-(sent|delivered|read)"), timeout=TIMEOUT)
