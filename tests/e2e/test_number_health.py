"""Number health and the business profile in the browser, against the built-in simulator: the simulator
flags the sandbox number, the admin sees it flagged with its countdown, syncs, changes the throughput, then
edits the business profile with a photo."""

import httpx
import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import TIMEOUT, log_in

pytestmark = pytest.mark.e2e

JPEG = bytes.fromhex(
    "ffd8ffe000104a46494600010100000100010000ffdb004300080606070605080707070909080a0c140d0c0b0b0c1912130f141d1a1f1e1d1a1c1c"
    "20242e2720222c231c1c2837292c30313434341f27393d38323c2e333432ffc0000b080001000101011100ffc4001f00000105010101010101"
    "00000000000000000102030405060708090a0bffc400b5100002010303020403050504040000017d010203000411051221314106135161"
    "07227114328191a1082342b1c11552d1f02433627282090a161718191a25262728292a3435363738393a434445464748494a535455565758"
    "595a636465666768696a737475767778797a838485868788898a92939495969798999aa2a3a4a5a6a7a8a9aab2b3b4b5b6b7b8b9bac2c3c4"
    "c5c6c7c8c9cad2d3d4d5d6d7d8d9dae1e2e3e4e5e6e7e8e9eaf1f2f3f4f5f6f7f8f9faffda0008010100003f00fbd3ffd9"
)


def test_an_admin_watches_a_flagged_number_and_edits_its_business_profile(server, chromium, shot, tmp_path):
    from inbox.demo import SANDBOX_PHONE_NUMBER_ID

    base = server.base_url
    flagged = httpx.post(f"{base}/simulator/api/numbers/{SANDBOX_PHONE_NUMBER_ID}/health/flag", json={}, timeout=10)
    assert flagged.status_code == 200, flagged.text

    admin = chromium.new_context(viewport={"width": 1280, "height": 900}).new_page()
    log_in(admin, base, "admin@example.com")
    admin.goto(f"{base}/settings/channels/")
    row = admin.locator("tr", has=admin.get_by_role("link", name="Number health"))
    expect(row.locator(".status-flagged")).to_be_visible(timeout=TIMEOUT)
    row.get_by_role("link", name="Number health").click()

    expect(admin.get_by_role("heading", name="Number health", exact=False)).to_be_visible(timeout=TIMEOUT)
    expect(admin.locator("[data-status]")).to_have_attribute("data-status", "flagged")
    expect(admin.locator(".health-countdown")).to_contain_text("left to recover quality")
    expect(admin.locator("#health-timeline")).to_contain_text("flagged")

    admin.get_by_role("button", name="Sync now").click()
    expect(admin.locator(".settings-message")).to_contain_text("Synced", timeout=TIMEOUT)
    expect(admin.locator(".health-sync")).to_contain_text("Last read from WhatsApp")

    admin.get_by_label("Messages a second").fill("2000")
    admin.locator("#health-throughput").get_by_role("button", name="Save").click()
    expect(admin.locator("#throughput-error")).to_contain_text("at most 1,000", timeout=TIMEOUT)
    admin.get_by_label("Messages a second").fill("60")
    admin.locator("#health-throughput").get_by_role("button", name="Save").click()
    expect(admin.locator(".settings-message")).to_contain_text("Throughput saved.", timeout=TIMEOUT)
    expect(admin.locator("#health-throughput strong")).to_have_text("60")
    shot(admin, "number-health")

    admin.get_by_role("link", name="Business profile").click()
    expect(admin.locator("#profile-form")).to_be_visible(timeout=TIMEOUT)
    admin.get_by_label("Meta app id").fill("1234567890")
    admin.locator("#profile-app").get_by_role("button", name="Save").click()
    expect(admin.locator(".settings-message")).to_contain_text("Meta app id saved.", timeout=TIMEOUT)

    expect(admin.locator("#profile-form")).to_be_visible(timeout=TIMEOUT)
    admin.get_by_label("About", exact=False).first.fill("x" * 150)
    admin.get_by_role("button", name="Save to WhatsApp").click()
    expect(admin.locator("#profile-form .field-error")).to_contain_text("at most 139", timeout=TIMEOUT)

    photo = tmp_path / "logo.jpg"
    photo.write_bytes(JPEG)
    admin.get_by_label("About", exact=False).first.fill("Fresh bread, every morning")
    admin.get_by_label("Websites", exact=False).fill("https://bakery.example")
    admin.get_by_label("Industry").select_option("RETAIL")
    admin.get_by_label("New profile photo", exact=False).set_input_files(str(photo))
    admin.get_by_role("button", name="Save to WhatsApp").click()
    expect(admin.locator(".settings-message")).to_contain_text("WhatsApp accepted", timeout=TIMEOUT)
    expect(admin.get_by_label("About", exact=False).first).to_have_value("Fresh bread, every morning", timeout=TIMEOUT)
    expect(admin.locator(".profile-photo img")).to_be_visible()
    shot(admin, "business-profile")
