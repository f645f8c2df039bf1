"""Two-factor login in a browser: turning it on from the Security page (QR code and key, first code, the
recovery codes shown once), then logging in with the app's code and with a recovery code."""

import time

import pytest
from playwright.sync_api import expect

from accounts import totp
from tests.e2e.conftest import DEMO_PASSWORD, TIMEOUT, log_in

pytestmark = pytest.mark.e2e

# The demo admin: exempt from two-factor (so it may turn it off again afterwards) and used by no other browser test.
EMAIL = "admin@example.com"


def code_from_the_phone(secret: str, *, steps_ahead: int = 0) -> str:
    return totp.totp(secret, time.time() + steps_ahead * totp.STEP_SECONDS)


def password_step(page, base_url: str) -> None:
    page.goto(f"{base_url}/login/")
    page.fill("#id_username", EMAIL)
    page.fill("#id_password", DEMO_PASSWORD)
    page.click("button[type=submit]")


def test_turn_on_two_factor_then_log_in_with_a_code_and_with_a_recovery_code(server, chromium, shot):
    base_url = server.base_url
    settings_page = chromium.new_context(viewport={"width": 1280, "height": 900}).new_page()
    log_in(settings_page, base_url, EMAIL)
    try:
        # Turn it on from the Security page (linked from the user menu).
        settings_page.goto(f"{base_url}/security/")
        settings_page.click("text=Turn on two-factor login")
        expect(settings_page.locator(".qr-code svg")).to_be_visible(timeout=TIMEOUT)
        secret = settings_page.inner_text("#otp-secret").replace(" ", "")
        shot(settings_page, "two-factor-setup")
        settings_page.fill("#id_code", code_from_the_phone(secret))
        settings_page.click("button[type=submit]")
        expect(settings_page.locator("h1")).to_have_text("Your recovery codes", timeout=TIMEOUT)
        recovery_codes = settings_page.locator(".recovery-codes code").all_inner_texts()
        assert len(recovery_codes) == 10
        settings_page.click("text=I have saved them")
        expect(settings_page.locator(".chip-on")).to_be_visible(timeout=TIMEOUT)

        # Another browser: the password leads to the code step; the app's next code gets in.
        page = chromium.new_context(viewport={"width": 1280, "height": 800}).new_page()
        password_step(page, base_url)
        page.wait_for_url(f"{base_url}/login/code/", timeout=TIMEOUT)
        page.fill("#id_code", "000000")
        page.click("button[type=submit]")
        expect(page.locator(".form-error")).to_contain_text("That code is not right", timeout=TIMEOUT)
        shot(page, "two-factor-code-refused")
        page.fill("#id_code", code_from_the_phone(secret, steps_ahead=1))
        page.click("button[type=submit]")
        page.wait_for_url(f"{base_url}/", timeout=TIMEOUT)

        # A third: a recovery code instead of the phone.
        page = chromium.new_context(viewport={"width": 1280, "height": 800}).new_page()
        password_step(page, base_url)
        page.wait_for_url(f"{base_url}/login/code/", timeout=TIMEOUT)
        page.fill("#id_code", recovery_codes[0])
        page.click("button[type=submit]")
        page.wait_for_url(f"{base_url}/", timeout=TIMEOUT)
    finally:
        # Leave the demo admin as the other browser tests expect it: without two-factor.
        settings_page.goto(f"{base_url}/security/")
        if settings_page.locator("#id_disable_password").count():
            settings_page.fill("#id_disable_password", DEMO_PASSWORD)
            settings_page.click("text=Turn off")
            expect(settings_page.locator(".form-success")).to_contain_text("off", timeout=TIMEOUT)
