"""accounts.totp against the RFCs' own test vectors, and the window of steps a code is accepted in."""

import base64
from urllib.parse import parse_qs, urlsplit

import pytest

from accounts import totp

SEEDS = {
    "sha1": b"12345678901234567890",
    "sha256": b"12345678901234567890123456789012",
    "sha512": b"1234567890123456789012345678901234567890123456789012345678901234",
}


def b32(seed: bytes) -> str:
    return base64.b32encode(seed).decode().rstrip("=")


# RFC 6238, Appendix B: 8-digit codes, 30-second steps.
@pytest.mark.parametrize(
    ("at", "sha1", "sha256", "sha512"),
    [
        (59, "94287082", "46119246", "90693936"),
        (1111111109, "07081804", "68084774", "25091201"),
        (1111111111, "14050471", "67062674", "99943326"),
        (1234567890, "89005924", "91819424", "93441116"),
        (2000000000, "69279037", "90698825", "38618901"),
        (20000000000, "65353130", "77737706", "47863826"),
    ],
)
def test_rfc_6238_vectors(at, sha1, sha256, sha512):
    for algorithm, expected in (("sha1", sha1), ("sha256", sha256), ("sha512", sha512)):
        assert totp.totp(b32(SEEDS[algorithm]), at, digits=8, algorithm=algorithm) == expected, algorithm


# RFC 4226, Appendix D: HOTP with 6 digits for counters 0 to 9.
@pytest.mark.parametrize(
    ("counter", "expected"),
    list(
        enumerate(["755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583", "399871", "520489"])
    ),
)
def test_rfc_4226_vectors(counter, expected):
    assert totp.hotp(SEEDS["sha1"], counter) == expected


SECRET = b32(SEEDS["sha1"])
NOW = 1_700_000_000.0  # a step boundary plus 20 s (1_700_000_000 = 56_666_666 * 30 + 20)
STEP = totp.time_step(NOW)


@pytest.mark.parametrize(
    ("offset_seconds", "matches"),
    [
        (0, True),
        (-30, True),  # the previous code: typed just as the phone turned over
        (30, True),  # the next code: the phone's clock is a little ahead
        (-60, False),
        (60, False),
        (-3600, False),
    ],
)
def test_codes_are_accepted_one_step_either_side(offset_seconds, matches):
    code = totp.totp(SECRET, NOW + offset_seconds)
    expected_step = STEP + offset_seconds // 30 if matches else None
    assert totp.totp_match(SECRET, code, NOW) == expected_step


@pytest.mark.parametrize("typed", ["", "12345", "1234567", "abcdef", "12 34 5x"])
def test_malformed_codes_never_match(typed):
    assert totp.totp_match(SECRET, typed, NOW) is None


def test_spaces_in_a_typed_code_are_ignored():
    code = totp.totp(SECRET, NOW)
    assert totp.totp_match(SECRET, f" {code[:3]} {code[3:]} ", NOW) == STEP


def test_a_new_secret_is_160_random_bits_in_base32():
    first, second = totp.secret_generate(), totp.secret_generate()
    assert first != second
    assert len(first) == 32 and set(first) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
    assert len(base64.b32decode(first)) == 20


def test_lower_case_and_spaced_secrets_work_as_apps_accept_them():
    spaced = " ".join(SECRET[i : i + 4] for i in range(0, len(SECRET), 4)).lower()
    assert totp.totp(spaced, 59, digits=8) == "94287082"


def test_the_provisioning_uri_is_what_authenticator_apps_read():
    uri = totp.provisioning_uri(SECRET, account="ana@example.com", issuer="Switchboard")
    parts = urlsplit(uri)
    assert (parts.scheme, parts.netloc, parts.path) == ("otpauth", "totp", "/Switchboard%3Aana%40example.com")
    query = parse_qs(parts.query)
    assert query == {
        "secret": [SECRET],
        "issuer": ["Switchboard"],
        "algorithm": ["SHA1"],
        "digits": ["6"],
        "period": ["30"],
    }
