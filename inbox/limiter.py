"""The shared send limiter: WhatsApp's throughput per number and pair rate per customer, paced before the
provider sees them, so its 130429 (throughput) and 131056 (pair rate) never happen in the first place.

The rule is GCRA, the "generic cell rate algorithm": each key keeps one number, its theoretical arrival time
(TAT), the moment the next message would be due if messages went out exactly at the rate. A message may go
when `now >= TAT - tolerance`; going moves TAT to `max(TAT, at) + interval`. `interval` is the time per
message at the paced rate, `tolerance` how far ahead of the rate a burst may run (`(burst - 1) * interval`).
It needs no timers and no per-message state, and is exact with any number of workers as long as the check
and the update are one atomic step: a Lua script on Redis in production (`PACING_REDIS_URL`, else
`REDIS_URL`), a lock in this process in the embedded mode (where every task runs in this one process).

What we pace, and why a little under WhatsApp's own figures (`PACING_MARGIN`): the provider counts when a
request *arrives*, in fixed one-second windows for throughput, so network jitter can bunch messages we sent
evenly. Spaced at `1 / (margin * limit)`, `limit` consecutive messages span `1 / margin` seconds: with a
margin of 0.95 they may be bunched by up to 50 ms and still never fit `limit + 1` into one second.

- a number's throughput (`Channel.throughput_per_second`, 80 by default, up to 1,000): no burst at all, one
  message every `1 / (margin * throughput)` seconds;
- the pair rate to one customer (1 message per 6 seconds sustained, bursts of up to 45 borrowed, §12): one
  every `PACING_PAIR_INTERVAL_SECONDS / margin`, bursts of `PACING_PAIR_BURST` (a few under 45, so a burst
  that arrives bunched still finds tokens).
"""

import logging
import threading
import time
from dataclasses import dataclass
from typing import Protocol

from django.conf import settings

logger = logging.getLogger(__name__)

KEY_PREFIX = "switchboard:pace:"
MAX_THROUGHPUT = 1000


@dataclass(frozen=True)
class Rate:
    """One GCRA key: `interval` seconds per message at the paced rate, `tolerance` seconds a burst may run
    ahead of it (0: strictly spaced)."""

    key: str
    interval: float
    tolerance: float = 0.0


@dataclass(frozen=True)
class Pace:
    """The limiter's answer: wait `wait` seconds, then send (`reserved`: the slot is taken), or, when the
    wait is longer than the caller would sleep, nothing was taken and the message should come back later."""

    wait: float
    reserved: bool


# --- The pure rule ------------------------------------------------------------------------------------------


def gcra_wait(tat: float | None, *, now: float, tolerance: float) -> float:
    """Seconds until one more message conforms (0: now). `tat` None: the key is unused (or expired)."""
    if tat is None:
        return 0.0
    return max(0.0, tat - tolerance - now)


def gcra_next_tat(tat: float | None, *, at: float, interval: float) -> float:
    """The key's TAT after a message goes out at `at`."""
    return max(tat if tat is not None else at, at) + interval


def pace(tats: dict[str, float | None], rates: list[Rate], *, now: float, max_wait: float) -> tuple[Pace, dict]:
    """Every key at once: the wait is the longest of them; if it is within `max_wait` every key is moved
    as if the message went out at `now + wait`. Returns the answer and the keys' new TATs (empty when
    nothing was reserved)."""
    wait = max((gcra_wait(tats.get(rate.key), now=now, tolerance=rate.tolerance) for rate in rates), default=0.0)
    if wait > max_wait:
        return Pace(wait=wait, reserved=False), {}
    at = now + wait
    return Pace(wait=wait, reserved=True), {
        rate.key: gcra_next_tat(tats.get(rate.key), at=at, interval=rate.interval) for rate in rates
    }


def send_rates(*, phone_number_id: str, recipient: str, throughput: int) -> list[Rate]:
    """The two keys one send must pass: the number's throughput and the pair rate to `recipient`."""
    margin = settings.PACING_MARGIN
    per_second = min(max(int(throughput or 0), 1), MAX_THROUGHPUT) * margin
    pair_interval = settings.PACING_PAIR_INTERVAL_SECONDS / margin
    pair_burst = max(1, settings.PACING_PAIR_BURST)
    rates = [Rate(f"{KEY_PREFIX}number:{phone_number_id}", interval=1.0 / per_second)]
    if recipient:
        rates.append(
            Rate(
                f"{KEY_PREFIX}pair:{phone_number_id}:{recipient}",
                interval=pair_interval,
                tolerance=(pair_burst - 1) * pair_interval,
            )
        )
    return rates


# --- Where the TATs live ------------------------------------------------------------------------------------


class Limiter(Protocol):
    def reserve(self, rates: list[Rate], *, max_wait: float) -> Pace: ...


class InProcessLimiter:
    """TATs in this process's memory, behind a lock: exact when every send happens in this process (the
    embedded mode), and the fallback when Redis cannot be reached."""

    def __init__(self, clock=time.monotonic):
        self._clock = clock
        self._lock = threading.Lock()
        self._tats: dict[str, float] = {}

    def reserve(self, rates: list[Rate], *, max_wait: float) -> Pace:
        with self._lock:
            now = self._clock()
            answer, moved = pace(
                {rate.key: self._tats.get(rate.key) for rate in rates}, rates, now=now, max_wait=max_wait
            )
            self._tats.update(moved)
            if len(self._tats) > 10_000:
                # Keys whose TAT has passed are the same as unused ones: forget them.
                self._tats = {key: tat for key, tat in self._tats.items() if tat > now}
            return answer

    def clear(self) -> None:
        with self._lock:
            self._tats.clear()


# KEYS: the rates' keys. ARGV[1]: the longest wait the caller sleeps; then interval and tolerance per key.
# Redis's own clock (TIME) is every worker's clock, so machines whose clocks differ still pace as one.
# Returns {1 if reserved else 0, wait as a string} (Lua numbers would come back truncated to integers).
_GCRA_SCRIPT = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local max_wait = tonumber(ARGV[1])
local wait = 0
local tats = {}
for i, key in ipairs(KEYS) do
  local tolerance = tonumber(ARGV[2 * i + 1])
  local stored = redis.call('GET', key)
  local tat = now
  if stored then tat = math.max(tonumber(stored), now) end
  tats[i] = tat
  if tat - tolerance - now > wait then wait = tat - tolerance - now end
end
if wait > max_wait then
  return {0, string.format('%.6f', wait)}
end
local at = now + wait
for i, key in ipairs(KEYS) do
  local interval = tonumber(ARGV[2 * i])
  local tat = math.max(tats[i], at) + interval
  -- Once its TAT has passed a key means the same as no key: let Redis forget it then.
  local ttl = math.ceil((tat - now) * 1000) + 1000
  redis.call('SET', key, string.format('%.6f', tat), 'PX', ttl)
end
return {1, string.format('%.6f', wait)}
"""


class RedisLimiter:
    """TATs in Redis, checked and moved by one Lua script (atomic: Redis runs one script at a time), shared
    by every worker. If Redis cannot be reached the process paces on its own rather than not at all."""

    def __init__(self, url: str):
        import redis

        self._client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self._script = self._client.register_script(_GCRA_SCRIPT)
        self._fallback = InProcessLimiter()

    def reserve(self, rates: list[Rate], *, max_wait: float) -> Pace:
        args: list[float] = [max_wait]
        for rate in rates:
            args += [rate.interval, rate.tolerance]
        try:
            reserved, wait = self._script(keys=[rate.key for rate in rates], args=args)
        except Exception:
            logger.warning("The send limiter's Redis is unreachable: pacing in this process only", exc_info=True)
            return self._fallback.reserve(rates, max_wait=max_wait)
        return Pace(wait=float(wait), reserved=bool(int(reserved)))


_limiters: dict[str, Limiter] = {}
_limiters_lock = threading.Lock()


def get() -> Limiter:
    """The limiter this process uses: Redis when `PACING_REDIS_URL` (or `REDIS_URL`) is set, else in-process."""
    url = settings.PACING_REDIS_URL
    with _limiters_lock:
        if url not in _limiters:
            _limiters[url] = RedisLimiter(url) if url else InProcessLimiter()
        return _limiters[url]
