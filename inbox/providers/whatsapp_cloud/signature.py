"""Meta's webhook signature: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(app_secret, raw body)>`.

Always over the raw bytes: Meta signs its own escaped-unicode serialisation, so re-serialised JSON
would not match for non-ASCII text or `@`."""

import hashlib
import hmac
import re

_HEADER = re.compile(r"^sha256=([0-9a-fA-F]{64})$")


class SignatureRejected(Exception):
    """The delivery's signature is missing, malformed or does not match any known app secret."""


def signature_digest(header_value: str | None) -> str:
    """The hex digest from the header, lower-cased; raise SignatureRejected when missing or malformed."""
    if not header_value:
        raise SignatureRejected("The X-Hub-Signature-256 header is missing.")
    match = _HEADER.match(header_value.strip())
    if not match:
        raise SignatureRejected("The X-Hub-Signature-256 header is not of the form sha256=<64 hex digits>.")
    return match.group(1).lower()


def sign(app_secret: str, raw_body: bytes) -> str:
    """The header value Meta would send for these bytes."""
    return "sha256=" + hmac.new(app_secret.encode(), raw_body, hashlib.sha256).hexdigest()


def verify(header_value: str | None, raw_body: bytes, app_secrets: list[str]) -> str:
    """Return the app secret that signed the body; raise SignatureRejected otherwise."""
    digest = signature_digest(header_value)
    for app_secret in app_secrets:
        expected = hmac.new(app_secret.encode(), raw_body, hashlib.sha256).hexdigest()
        if hmac.compare_digest(expected, digest):
            return app_secret
    raise SignatureRejected("The signature does not match the app secret of the number this delivery names.")
