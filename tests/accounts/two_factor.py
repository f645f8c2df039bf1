"""Helpers for tests that log in with two-factor: turn it on for a person and read their phone's code."""

import time

from accounts import security, totp
from accounts.models import User


def two_factor_on(user: User) -> tuple[str, list[str]]:
    """Turn two-factor on as the Security page does; returns the secret and the recovery codes."""
    secret = security.two_factor_enable(user=user)
    codes = security.two_factor_confirm(user=user, code=phone_code(secret, steps_ahead=-1))
    return secret, codes


def phone_code(secret: str, *, steps_ahead: int = 0) -> str:
    """The code an authenticator app shows now (or `steps_ahead` 30-second steps later or earlier).

    A code is accepted once: a test that logs in twice uses the next step's code the second time."""
    return totp.totp(secret, time.time() + steps_ahead * totp.STEP_SECONDS)
