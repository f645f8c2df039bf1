"""Login tries: at most `ATTEMPTS` failed tries in `WINDOW_SECONDS`, counted per account and per client address.

One budget for the whole login: a wrong password, a wrong two-factor code (on the login page or in the API's
`otp` field) and a wrong confirmation code during setup all count, on the web and through the API alike, so
neither path is a way around the other. Counting failures only (not successes) keeps an office behind one
address able to log in together in the morning. The counters live in Django's cache.
"""

import hashlib
import math
import time
from dataclasses import dataclass

from django.core.cache import cache
from django.http import HttpRequest
from django.utils.translation import ngettext
from rest_framework.throttling import BaseThrottle

ATTEMPTS = 10
WINDOW_SECONDS = 15 * 60


@dataclass(frozen=True)
class TooManyAttempts(Exception):
    retry_after_seconds: int

    @property
    def message(self) -> str:
        minutes = max(1, math.ceil(self.retry_after_seconds / 60))
        return ngettext(
            "Too many attempts: try again in %(minutes)d minute.",
            "Too many attempts: try again in %(minutes)d minutes.",
            minutes,
        ) % {"minutes": minutes}


def client_address(request: HttpRequest) -> str:
    """The client's address as DRF's throttles see it (honouring NUM_PROXIES), for pages and API alike."""
    return BaseThrottle().get_ident(request)


def _keys(*, email: str | None, address: str | None) -> list[str]:
    keys = []
    if email:
        keys.append("login-tries:account:" + hashlib.sha256(email.strip().lower().encode()).hexdigest())
    if address:
        keys.append("login-tries:address:" + hashlib.sha256(address.encode()).hexdigest())
    return keys


def _recent(key: str, now: float) -> list[float]:
    return [at for at in cache.get(key, []) if at > now - WINDOW_SECONDS]


def retry_after(*, email: str | None, address: str | None, now: float | None = None) -> int:
    """Seconds until the next try is allowed; 0 when it is allowed now."""
    now = time.time() if now is None else now
    wait = 0.0
    for key in _keys(email=email, address=address):
        recent = _recent(key, now)
        if len(recent) >= ATTEMPTS:
            # The oldest try that still counts leaves the window first.
            wait = max(wait, sorted(recent)[-ATTEMPTS] + WINDOW_SECONDS - now)
    return math.ceil(wait)


def check(*, email: str | None, address: str | None) -> None:
    """Raise TooManyAttempts when the account or the address has used up its tries."""
    wait = retry_after(email=email, address=address)
    if wait:
        raise TooManyAttempts(wait)


def failure_record(*, email: str | None, address: str | None, now: float | None = None) -> None:
    """Count one failed try against the account and the address."""
    now = time.time() if now is None else now
    for key in _keys(email=email, address=address):
        cache.set(key, [*_recent(key, now), now][-ATTEMPTS:], WINDOW_SECONDS)
