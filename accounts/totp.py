"""Time-based one-time passwords (RFC 6238 over RFC 4226's HOTP): the codes of authenticator apps.

Pure functions, no Django: secrets are base32 text as apps expect them, times are Unix seconds. The
defaults are what every authenticator app uses (SHA-1, 30-second steps, 6 digits).
"""

import base64
import hashlib
import hmac
import secrets
import struct
from urllib.parse import quote, urlencode

STEP_SECONDS = 30
DIGITS = 6
# How many steps before and after the current one still count: phones' clocks drift and people type slowly.
WINDOW = 1


def secret_generate() -> str:
    """A new random secret: 160 bits (RFC 4226's recommended length) as unpadded base32."""
    return base64.b32encode(secrets.token_bytes(20)).decode().rstrip("=")


def _secret_bytes(secret: str) -> bytes:
    cleaned = secret.replace(" ", "").upper()
    return base64.b32decode(cleaned + "=" * (-len(cleaned) % 8))


def hotp(key: bytes, counter: int, *, digits: int = DIGITS, algorithm: str = "sha1") -> str:
    """RFC 4226: HMAC of the big-endian counter, dynamically truncated to `digits` decimal digits."""
    digest = hmac.new(key, struct.pack(">Q", counter), getattr(hashlib, algorithm)).digest()
    offset = digest[-1] & 0x0F
    number = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(number % 10**digits).zfill(digits)


def time_step(at: float, *, step: int = STEP_SECONDS) -> int:
    return int(at // step)


def totp(secret: str, at: float, *, digits: int = DIGITS, algorithm: str = "sha1", step: int = STEP_SECONDS) -> str:
    """The code a phone shows at Unix time `at` for a base32 `secret`."""
    return hotp(_secret_bytes(secret), time_step(at, step=step), digits=digits, algorithm=algorithm)


def totp_match(secret: str, code: str, at: float, *, window: int = WINDOW) -> int | None:
    """The time step `code` belongs to, within `window` steps of `at`; None when it matches none.

    Callers refuse a step they already accepted once (RFC 6238 §5.2: a code is good for one login only)."""
    code = code.replace(" ", "").strip()
    if len(code) != DIGITS or not code.isdigit():
        return None
    key = _secret_bytes(secret)
    current = time_step(at)
    for step in range(current - window, current + window + 1):
        if hmac.compare_digest(hotp(key, step), code):
            return step
    return None


def provisioning_uri(secret: str, *, account: str, issuer: str) -> str:
    """The `otpauth://` address an authenticator app reads from the QR code."""
    label = quote(f"{issuer}:{account}")
    query = urlencode(
        {"secret": secret, "issuer": issuer, "algorithm": "SHA1", "digits": DIGITS, "period": STEP_SECONDS}
    )
    return f"otpauth://totp/{label}?{query}"
