"""Rate limits shared by replicas through Redis (handoff/web/rate_limit_redis.py), on the test
run's real Redis (tests/conftest.py)."""

from __future__ import annotations

import logging
import secrets
from collections.abc import AsyncIterator

import pytest
from redis import asyncio as redis_asyncio

from handoff.web.rate_limit import LocalRateLimiter
from handoff.web.rate_limit_redis import RedisRateLimiter
from stack.devservers import free_port


@pytest.fixture
async def two_replicas(redis_url: str) -> AsyncIterator[tuple[RedisRateLimiter, RedisRateLimiter]]:
    clients = [redis_asyncio.Redis.from_url(redis_url) for _ in range(2)]
    prefix = f"test:limit:{secrets.token_hex(4)}:"  # nothing from another test
    yield (
        RedisRateLimiter(clients[0], "messages", 30, burst=5, prefix=prefix),
        RedisRateLimiter(clients[1], "messages", 30, burst=5, prefix=prefix),
    )
    for client in clients:
        await client.aclose()


async def test_two_replicas_spend_one_budget(
    two_replicas: tuple[RedisRateLimiter, RedisRateLimiter],
) -> None:
    """A customer alternating replicas gets the burst once, not once per replica."""
    first, second = two_replicas
    waits = [await (first if i % 2 else second).hit("conversation-1") for i in range(8)]
    assert waits[:5] == [0.0] * 5
    assert all(1.5 < wait <= 2.0 for wait in waits[5:])  # 30 a minute: one every 2 s
    # per key: another conversation has its own budget
    assert await first.hit("conversation-2") == 0.0


async def test_separate_in_process_limits_would_give_the_burst_twice() -> None:
    first, second = LocalRateLimiter(30, burst=5), LocalRateLimiter(30, burst=5)
    waits = [await (first if i % 2 else second).hit("conversation-1") for i in range(8)]
    assert waits == [0.0] * 8  # what the shared limiter prevents


async def test_looking_counts_nothing(
    two_replicas: tuple[RedisRateLimiter, RedisRateLimiter],
) -> None:
    first, second = two_replicas
    for _ in range(20):
        assert await second.wait("conversation-3") == 0.0
    assert [await first.hit("conversation-3") for _ in range(5)] == [0.0] * 5
    assert await second.wait("conversation-3") > 0.0


async def test_without_redis_a_replica_limits_alone_and_says_so_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    client = redis_asyncio.Redis.from_url(
        f"redis://127.0.0.1:{free_port()}/0", socket_connect_timeout=0.5
    )
    limiter = RedisRateLimiter(client, "messages", 30, burst=2)
    with caplog.at_level(logging.WARNING, logger="handoff.store.redis_outage"):
        waits = [await limiter.hit("c") for _ in range(3)]
    await client.aclose()
    assert waits[:2] == [0.0, 0.0] and waits[2] > 0.0  # still limited, in this process
    assert limiter.degraded
    assert len([r for r in caplog.records if "counts alone" in r.getMessage()]) == 1
