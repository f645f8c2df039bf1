"""The shared send limiter (inbox/limiter.py): GCRA's arithmetic as tables, the in-process limiter with a
clock we move, the rates a send must pass, and the Redis script (skipped cleanly when no Redis answers at
REDIS_URL; CI's real-service run has one)."""

import threading

import pytest
from django.conf import settings

from inbox import limiter
from inbox.limiter import Pace, Rate

# --- GCRA, pure ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tat", "now", "tolerance", "wait"),
    [
        (None, 100.0, 0.0, 0.0),  # never used: go now
        (90.0, 100.0, 0.0, 0.0),  # TAT in the past: go now
        (100.0, 100.0, 0.0, 0.0),  # exactly due
        (100.5, 100.0, 0.0, 0.5),  # half a slot early
        (100.5, 100.0, 0.5, 0.0),  # the tolerance absorbs it (a burst)
        (103.0, 100.0, 2.0, 1.0),  # a burst used up: wait for the rest
    ],
)
def test_gcra_wait(tat, now, tolerance, wait):
    assert limiter.gcra_wait(tat, now=now, tolerance=tolerance) == pytest.approx(wait)


@pytest.mark.parametrize(
    ("tat", "at", "interval", "next_tat"),
    [
        (None, 100.0, 0.2, 100.2),
        (90.0, 100.0, 0.2, 100.2),  # idle time is not banked beyond the tolerance
        (101.0, 100.0, 0.2, 101.2),  # ahead of the rate: the TAT moves on from itself
        (101.0, 101.5, 0.2, 101.7),
    ],
)
def test_gcra_next_tat(tat, at, interval, next_tat):
    assert limiter.gcra_next_tat(tat, at=at, interval=interval) == pytest.approx(next_tat)


def send_times(rates: list[Rate], count: int, *, start: float = 1000.0) -> list[float]:
    """When `count` messages offered all at once at `start` go out, each waiting its turn."""
    tats: dict = {}
    times = []
    for _ in range(count):
        answer, moved = limiter.pace(tats, rates, now=start, max_wait=10_000)
        assert answer.reserved
        tats.update(moved)
        times.append(start + answer.wait)
    return times


def test_a_number_without_burst_is_strictly_spaced():
    times = send_times([Rate("n", interval=0.25)], 5)
    assert times == pytest.approx([1000.0, 1000.25, 1000.5, 1000.75, 1001.0])


def test_a_pair_bursts_then_keeps_the_sustained_rate():
    # A bucket of 3, one more every 6 s.
    times = send_times([Rate("p", interval=6.0, tolerance=12.0)], 6)
    assert times == pytest.approx([1000.0, 1000.0, 1000.0, 1006.0, 1012.0, 1018.0])


def test_the_longest_wait_of_all_keys_decides_and_every_key_moves():
    number, pair = Rate("n", interval=0.25), Rate("p", interval=6.0, tolerance=6.0)
    tats = {"n": 1000.5, "p": 1004.0}
    answer, moved = limiter.pace(tats, [number, pair], now=1000.0, max_wait=1.0)
    assert answer == Pace(wait=0.5, reserved=True)
    assert moved == pytest.approx({"n": 1000.75, "p": 1010.0})


def test_a_wait_longer_than_the_caller_sleeps_reserves_nothing():
    tats = {"p": 1010.0}
    answer, moved = limiter.pace(tats, [Rate("p", interval=6.0, tolerance=6.0)], now=1000.0, max_wait=1.0)
    assert answer == Pace(wait=4.0, reserved=False)
    assert moved == {}


def test_paced_sends_never_put_more_than_the_limit_in_one_second_even_bunched():
    """The provider's fixed one-second window: at 0.95 of the rate, 5 per second, even when each message
    arrives up to 50 ms late or early."""
    limit, margin = 5, 0.95
    times = send_times([Rate("n", interval=1 / (limit * margin))], 40, start=1000.3)
    for shift in (-0.05, 0.0, 0.05):
        jittered = [t + (shift if i % 2 else 0) for i, t in enumerate(times)]
        per_second: dict[int, int] = {}
        for t in jittered:
            per_second[int(t)] = per_second.get(int(t), 0) + 1
        assert max(per_second.values()) <= limit


# --- the rates of one send ------------------------------------------------------------------------------------


def test_send_rates_follow_the_number_and_the_settings(settings):
    settings.PACING_MARGIN = 0.9
    settings.PACING_PAIR_INTERVAL_SECONDS = 6.0
    settings.PACING_PAIR_BURST = 40
    number, pair = limiter.send_rates(phone_number_id="1065", recipient="16505551234", throughput=80)
    assert number == Rate("switchboard:pace:number:1065", interval=pytest.approx(1 / 72))
    assert pair.key == "switchboard:pace:pair:1065:16505551234"
    assert pair.interval == pytest.approx(6 / 0.9)
    assert pair.tolerance == pytest.approx(39 * 6 / 0.9)


@pytest.mark.parametrize(("throughput", "per_second"), [(0, 1), (1, 1), (80, 80), (1000, 1000), (5000, 1000)])
def test_throughput_is_kept_between_1_and_1000(settings, throughput, per_second):
    settings.PACING_MARGIN = 1.0
    (number,) = limiter.send_rates(phone_number_id="1", recipient="", throughput=throughput)
    assert number.interval == pytest.approx(1 / per_second)


# --- the in-process limiter -------------------------------------------------------------------------------------


class FakeClock:
    def __init__(self):
        self.now = 5000.0

    def __call__(self):
        return self.now


def test_in_process_limiter_reserves_and_waits():
    clock = FakeClock()
    pacer = limiter.InProcessLimiter(clock=clock)
    rates = [Rate("n", interval=0.2), Rate("p", interval=1.0, tolerance=1.0)]
    assert pacer.reserve(rates, max_wait=1.0) == Pace(0.0, True)
    assert pacer.reserve(rates, max_wait=1.0) == Pace(pytest.approx(0.2), True)
    # The pair's burst of 2 is used: the third waits for its refill, longer than we sleep.
    third = pacer.reserve(rates, max_wait=0.5)
    assert not third.reserved and third.wait == pytest.approx(1.0)
    clock.now += 1.0
    assert pacer.reserve(rates, max_wait=0.5) == Pace(0.0, True)
    pacer.clear()
    assert pacer.reserve(rates, max_wait=0.0) == Pace(0.0, True)


def test_in_process_limiter_is_exact_across_threads():
    clock = FakeClock()
    pacer = limiter.InProcessLimiter(clock=clock)
    rate = [Rate("n", interval=0.1)]
    waits: list[float] = []

    def take():
        for _ in range(50):
            waits.append(pacer.reserve(rate, max_wait=100).wait)

    threads = [threading.Thread(target=take) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # 200 slots, each its own: 0.0, 0.1, ... 19.9.
    assert sorted(round(w, 6) for w in waits) == [round(i * 0.1, 6) for i in range(200)]


def test_get_gives_the_in_process_limiter_without_redis(settings):
    settings.PACING_REDIS_URL = ""
    assert isinstance(limiter.get(), limiter.InProcessLimiter)
    assert limiter.get() is limiter.get()


# --- the Redis script ------------------------------------------------------------------------------------------


@pytest.fixture
def redis_limiter():
    url = settings.REDIS_URL
    if not url:
        pytest.skip("No Redis: REDIS_URL is unset (CI's real-service run sets it).")
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.RedisError:
        pytest.skip(f"No Redis answers at {url}.")
    pacer = limiter.RedisLimiter(url)
    keys = [f"switchboard:pace:test:{name}:{threading.get_ident()}" for name in ("n", "p")]
    client.delete(*keys)
    yield pacer, keys
    client.delete(*keys)


def test_the_redis_script_paces_like_the_rule(redis_limiter):
    pacer, (number_key, pair_key) = redis_limiter
    rates = [Rate(number_key, interval=0.2), Rate(pair_key, interval=60.0, tolerance=60.0)]
    first = pacer.reserve(rates, max_wait=1.0)
    second = pacer.reserve(rates, max_wait=1.0)
    third = pacer.reserve(rates, max_wait=1.0)
    assert first == Pace(0.0, True)
    # The number's slot: about 0.2 s after the first (less the time the first call took).
    assert second.reserved and 0.1 < second.wait <= 0.2
    # The pair's burst of 2 is used: about a minute to wait, nothing reserved.
    assert not third.reserved and 58 < third.wait <= 60
    # The keys expire by themselves.
    import redis

    client = redis.Redis.from_url(settings.REDIS_URL)
    assert 0 < client.pttl(pair_key) <= 122_000


def test_redis_unreachable_falls_back_to_pacing_in_process():
    pacer = limiter.RedisLimiter("redis://127.0.0.1:1/0")
    rates = [Rate("switchboard:pace:test:down", interval=0.5)]
    assert pacer.reserve(rates, max_wait=1.0) == Pace(0.0, True)
    assert pacer.reserve(rates, max_wait=1.0).wait > 0.4
