"""The customer rate limiters (handoff/web/rate_limit.py), on a clock the test moves."""

from __future__ import annotations

import itertools

import pytest

from handoff.web.rate_limit import LocalConcurrencyLimiter, LocalRateLimiter, retry_after_header


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_a_burst_then_the_sustained_rate() -> None:
    clock = Clock()
    limiter = LocalRateLimiter(30, period=60.0, burst=10, clock=clock)
    assert [await limiter.hit("c") for _ in range(10)] == [0.0] * 10
    wait = await limiter.hit("c")
    assert wait == pytest.approx(2.0)  # 30 a minute: one every 2 s
    assert await limiter.hit("c") == pytest.approx(2.0)  # a refusal is not counted
    clock.now += 1.9
    assert await limiter.hit("c") == pytest.approx(0.1)
    clock.now += 0.1
    assert await limiter.hit("c") == 0.0
    assert await limiter.hit("c") == pytest.approx(2.0)


async def test_a_steady_hammer_gets_the_sustained_rate_and_one_burst() -> None:
    clock = Clock()
    limiter = LocalRateLimiter(20, period=60.0, burst=5, clock=clock)
    allowed = []
    for step in range(6000):  # ten minutes, ten tries a second
        clock.now = 1000.0 + step / 10
        if await limiter.hit("addr") == 0.0:
            allowed.append(clock.now)
    # a token bucket: any minute holds at most the burst plus a minute's refill
    for start in allowed:
        assert sum(1 for t in allowed if start <= t < start + 60.0) <= 5 + 20
    assert 5 + 200 - 2 <= len(allowed) <= 5 + 200
    later = allowed[5:]
    gaps = [b - a for a, b in itertools.pairwise(later)]
    assert min(gaps) == pytest.approx(3.0)  # one every 3 s once the burst is spent


async def test_keys_are_independent_and_idle_ones_are_forgotten() -> None:
    clock = Clock()
    limiter = LocalRateLimiter(2, period=60.0, clock=clock)
    assert await limiter.hit("a") == 0.0
    assert await limiter.hit("a") == 0.0
    assert await limiter.hit("a") > 0
    assert await limiter.hit("b") == 0.0
    assert len(limiter) == 2
    clock.now += 61.0
    assert await limiter.hit("c") == 0.0  # the sweep drops a and b, back at full buckets
    assert len(limiter) == 1
    assert await limiter.hit("a") == 0.0
    assert await limiter.hit("a") == 0.0


async def test_zero_means_unlimited() -> None:
    limiter = LocalRateLimiter(0)
    assert all([await limiter.hit("k") == 0.0 for _ in range(1000)])
    sockets = LocalConcurrencyLimiter(0)
    assert all([await sockets.acquire("k") for _ in range(1000)])


async def test_concurrency_slots_come_back_on_release() -> None:
    sockets = LocalConcurrencyLimiter(2)
    assert await sockets.acquire("1.2.3.4")
    assert await sockets.acquire("1.2.3.4")
    assert not await sockets.acquire("1.2.3.4")
    assert await sockets.acquire("5.6.7.8")
    await sockets.release("1.2.3.4")
    assert sockets.held("1.2.3.4") == 1
    assert await sockets.acquire("1.2.3.4")
    for _ in range(3):
        await sockets.release("1.2.3.4")
    assert sockets.held("1.2.3.4") == 0


def test_retry_after_is_whole_seconds_rounded_up() -> None:
    assert retry_after_header(0.01) == "1"
    assert retry_after_header(2.0) == "2"
    assert retry_after_header(2.1) == "3"


async def test_wait_tells_without_counting() -> None:
    clock = Clock()
    limiter = LocalRateLimiter(30, period=60.0, burst=2, clock=clock)
    assert [await limiter.wait("c") for _ in range(5)] == [0.0] * 5
    assert await limiter.hit("c") == 0.0
    assert await limiter.hit("c") == 0.0
    assert await limiter.wait("c") == pytest.approx(2.0)
    assert await limiter.wait("c") == pytest.approx(2.0)
    clock.now += 2.0
    assert await limiter.wait("c") == 0.0
    assert await LocalRateLimiter(0).wait("c") == 0.0
