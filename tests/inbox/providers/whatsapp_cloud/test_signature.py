"""Meta's `X-Hub-Signature-256` check: always over the raw bytes Meta sent (contract §7, §14.1)."""

import hashlib
import hmac
import json
from pathlib import Path

import pytest

from inbox.providers.whatsapp_cloud.parse import parse
from inbox.providers.whatsapp_cloud.signature import SignatureRejected, sign, signature_digest, verify

APP_SECRET = "3f1c9a7e5b2d4f60a8e1c7b9d2f4a6e8"
OTHER_APP_SECRET = "b7e2d9c41f0a6385e2c7d1b9a4f6e803"

# Meta's own serialisation of an inbound text: compact, `/` as `\/`, non-ASCII and `@` as `\uXXXX`.
META_ESCAPED_BODY = (Path(__file__).parent / "payloads" / "text_meta_escaped.json").read_bytes()


def hex_hmac(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def test_the_fixture_is_in_metas_escaped_form():
    assert rb"Gr\u00fc\u00dfe aus M\u00fcnchen" in META_ESCAPED_BODY
    assert rb"testing\u0040gmail.com" in META_ESCAPED_BODY
    assert rb"https:\/\/example.com\/caf\u00e9" in META_ESCAPED_BODY
    assert rb"\ud83d\ude00" in META_ESCAPED_BODY
    assert META_ESCAPED_BODY.isascii()


def test_sign_is_hmac_sha256_of_the_raw_bytes_in_lower_case_hex():
    assert sign(APP_SECRET, META_ESCAPED_BODY) == "sha256=" + hex_hmac(APP_SECRET, META_ESCAPED_BODY)


def test_the_raw_escaped_bytes_verify_and_still_parse_to_the_readable_text():
    header = "sha256=" + hex_hmac(APP_SECRET, META_ESCAPED_BODY)

    assert verify(header, META_ESCAPED_BODY, [APP_SECRET]) == APP_SECRET
    (message,) = parse(META_ESCAPED_BODY).messages
    assert message.text == "Grüße aus München! Schreib an testing@gmail.com oder https://example.com/café 😀"


@pytest.mark.parametrize(
    "reserialise",
    [
        # Even compact, ASCII-escaped and in the same key order, Python writes `/` and `@` unescaped.
        pytest.param(lambda doc: json.dumps(doc, separators=(",", ":")), id="compact-ascii"),
        pytest.param(lambda doc: json.dumps(doc, separators=(",", ":"), ensure_ascii=False), id="compact-utf8"),
        pytest.param(lambda doc: json.dumps(doc), id="default"),
        pytest.param(lambda doc: json.dumps(doc, indent=2, ensure_ascii=False), id="pretty"),
    ],
)
def test_reserialised_json_of_the_same_document_does_not_verify(reserialise):
    header = sign(APP_SECRET, META_ESCAPED_BODY)
    reserialised = reserialise(json.loads(META_ESCAPED_BODY)).encode()

    assert json.loads(reserialised) == json.loads(META_ESCAPED_BODY)
    with pytest.raises(SignatureRejected):
        verify(header, reserialised, [APP_SECRET])


def test_upper_case_hex_is_accepted():
    header = "sha256=" + hex_hmac(APP_SECRET, META_ESCAPED_BODY).upper()

    assert verify(header, META_ESCAPED_BODY, [APP_SECRET]) == APP_SECRET


def test_signature_digest_is_lower_cased():
    digest = hex_hmac(APP_SECRET, META_ESCAPED_BODY)

    assert signature_digest("sha256=" + digest.upper()) == digest


@pytest.mark.parametrize(
    "header",
    [
        pytest.param(None, id="missing"),
        pytest.param("", id="empty"),
        pytest.param(hex_hmac(APP_SECRET, META_ESCAPED_BODY), id="no-prefix"),
        pytest.param("sha1=" + hashlib.sha1(META_ESCAPED_BODY).hexdigest(), id="sha1-prefix"),
        pytest.param("sha512=" + hex_hmac(APP_SECRET, META_ESCAPED_BODY), id="wrong-prefix"),
        pytest.param("sha256=" + hex_hmac(APP_SECRET, META_ESCAPED_BODY)[:-1], id="short-digest"),
        pytest.param("sha256=" + hex_hmac(APP_SECRET, META_ESCAPED_BODY) + "0", id="long-digest"),
        pytest.param("sha256=" + "g" * 64, id="not-hex"),
        pytest.param("sha256=", id="prefix-only"),
    ],
)
def test_malformed_headers_are_rejected(header):
    with pytest.raises(SignatureRejected):
        signature_digest(header)
    with pytest.raises(SignatureRejected):
        verify(header, META_ESCAPED_BODY, [APP_SECRET])


def test_a_wrong_secret_is_rejected():
    header = sign(OTHER_APP_SECRET, META_ESCAPED_BODY)

    with pytest.raises(SignatureRejected, match="does not match"):
        verify(header, META_ESCAPED_BODY, [APP_SECRET])


def test_one_changed_byte_is_rejected():
    header = sign(APP_SECRET, META_ESCAPED_BODY)
    tampered = META_ESCAPED_BODY.replace(b"testing\\u0040gmail.com", b"testinG\\u0040gmail.com")

    assert tampered != META_ESCAPED_BODY
    with pytest.raises(SignatureRejected):
        verify(header, tampered, [APP_SECRET])


def test_no_candidate_secrets_rejects():
    with pytest.raises(SignatureRejected):
        verify(sign(APP_SECRET, META_ESCAPED_BODY), META_ESCAPED_BODY, [])


@pytest.mark.parametrize(
    ("signed_with", "candidates"),
    [
        (APP_SECRET, [APP_SECRET, OTHER_APP_SECRET]),
        (OTHER_APP_SECRET, [APP_SECRET, OTHER_APP_SECRET]),
        (OTHER_APP_SECRET, ["", "old-rotated-secret", OTHER_APP_SECRET]),
    ],
)
def test_the_secret_that_signed_is_found_among_several(signed_with, candidates):
    header = sign(signed_with, META_ESCAPED_BODY)

    assert verify(header, META_ESCAPED_BODY, candidates) == signed_with


def test_several_candidates_none_of_which_signed_are_rejected():
    header = sign("a-third-app-secret", META_ESCAPED_BODY)

    with pytest.raises(SignatureRejected):
        verify(header, META_ESCAPED_BODY, [APP_SECRET, OTHER_APP_SECRET])


def test_non_ascii_secret_is_used_as_utf8():
    secret = "sécret-🔑"
    header = "sha256=" + hmac.new(secret.encode("utf-8"), META_ESCAPED_BODY, hashlib.sha256).hexdigest()

    assert verify(header, META_ESCAPED_BODY, [secret]) == secret
