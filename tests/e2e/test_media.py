"""Media both ways in a browser: the customer's photo shows in the thread (fetched through the
access-checked media view from the simulator's Graph API), and the agent's attachment reaches the phone."""

import base64
import secrets
import struct
import zlib

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import TIMEOUT, customer_writes, log_in, open_conversation

pytestmark = pytest.mark.e2e


def png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    """A real PNG of one colour, written by hand (no imaging library needed)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    rows = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def test_photos_both_ways(server, chromium, shot, tmp_path):
    base = server.base_url
    wa_id = f"35194{secrets.randbelow(10**7):07d}"
    name = f"Paula Photo {secrets.token_hex(2)}"
    customer_writes(base, wa_id=wa_id, name=name, text="Look at this")
    customer_writes(
        base,
        wa_id=wa_id,
        type="image",
        caption="The box arrived dented",
        file_base64=base64.b64encode(png(64, 48, (200, 60, 40))).decode(),
        filename="box.png",
        mime_type="image/png",
    )
    page = chromium.new_context(viewport={"width": 1280, "height": 800}).new_page()
    log_in(page, base, "agent@example.com")
    open_conversation(page, name)
    photo = page.locator("#messages > .msg-in.kind-image img.media")
    expect(photo).to_be_visible(timeout=TIMEOUT)
    page.wait_for_function("img => img.complete && img.naturalWidth === 64", arg=photo.element_handle())
    expect(page.locator("#messages > .msg-in.kind-image")).to_contain_text("The box arrived dented")

    attachment = tmp_path / "label.png"
    attachment.write_bytes(png(32, 32, (20, 120, 90)))
    page.locator(".file-input").set_input_files(str(attachment))
    expect(page.locator(".attachment-chip")).to_contain_text("label.png")
    page.locator("#composer-body").fill("Here is the return label")
    page.locator("#composer-body").press("Enter")
    sent = page.locator("#messages > .msg-out.kind-image")
    expect(sent).to_have_count(1, timeout=TIMEOUT)
    expect(sent).to_contain_text("Here is the return label")
    page.wait_for_function("img => img.complete && img.naturalWidth === 32", arg=sent.locator("img").element_handle())
    expect(sent.locator(".ticks")).to_have_class("ticks ticks-delivered", timeout=TIMEOUT)
    shot(page, "e2e-16-photos-both-ways")

    phone = chromium.new_context(viewport={"width": 1100, "height": 800}).new_page()
    phone.goto(f"{base}/simulator/?number=100000000000001&customer={wa_id}")
    expect(phone.get_by_test_id("message-list")).to_contain_text("Here is the return label", timeout=TIMEOUT)
    expect(phone.locator('[data-testid="message-bubble"][data-direction="business"] img')).to_be_visible()
