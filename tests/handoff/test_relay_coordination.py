"""Two gateway replicas on one Redis take turns on a conversation and share which sends
are in doubt; without Redis each keeps serving on its own (a real Redis: conftest.py)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import pytest
from redis import asyncio as redis_asyncio

from handoff.conversation.relay_coordination import LocalCoordination, RedisCoordination
from stack.devservers import free_port


@pytest.fixture
async def replicas(redis_url: str) -> AsyncIterator[tuple[RedisCoordination, RedisCoordination]]:
    clients = [redis_asyncio.Redis.from_url(redis_url) for _ in range(2)]
    # a prefix per test: nothing left by another test is seen
    prefix = f"test:relay:{id(clients)}:"
    yield (
        RedisCoordination(clients[0], 0.5, prefix=prefix, lock_seconds=0.3),
        RedisCoordination(clients[1], 0.5, prefix=prefix, lock_seconds=0.3),
    )
    for client in clients:
        await client.aclose()


async def _turns(
    first: LocalCoordination, second: LocalCoordination, hold_seconds: float
) -> list[str]:
    order: list[str] = []

    async def deliver(coordination: LocalCoordination, name: str, delay: float) -> None:
        await asyncio.sleep(delay)
        async with coordination.hold("conversation-1"):
            order.append(f"{name} in")
            await asyncio.sleep(hold_seconds)
            order.append(f"{name} out")

    await asyncio.gather(deliver(first, "a", 0.0), deliver(second, "b", 0.05))
    return order


async def test_replicas_take_turns_even_past_the_lock_lifetime(
    replicas: tuple[RedisCoordination, RedisCoordination],
) -> None:
    """A holds the conversation three times as long as the lock lives: the lock is
    renewed while held, so B gets in only after A is done."""
    first, second = replicas
    assert await _turns(first, second, hold_seconds=0.9) == ["a in", "a out", "b in", "b out"]


async def test_without_a_shared_lock_replicas_would_overlap() -> None:
    """The same two deliveries on two separate in-memory locks overlap (what the shared
    lock prevents)."""
    order = await _turns(LocalCoordination(0.5), LocalCoordination(0.5), hold_seconds=0.2)
    assert order == ["a in", "b in", "a out", "b out"]


async def test_a_send_in_doubt_on_one_replica_is_in_doubt_on_the_other(
    replicas: tuple[RedisCoordination, RedisCoordination],
) -> None:
    first, second = replicas
    await first.mark_in_doubt(7)
    assert await second.in_doubt(7)
    assert not await second.in_doubt(8)
    await asyncio.sleep(0.6)  # in_doubt_seconds have passed: it may be sent again
    assert not await second.in_doubt(7)
    await first.mark_in_doubt(9)
    await second.clear_doubt(9)  # found answered in Rasa's tracker
    assert not await first.in_doubt(9)


async def test_without_redis_a_replica_serves_alone_and_says_so(
    caplog: pytest.LogCaptureFixture,
) -> None:
    client = redis_asyncio.Redis.from_url(
        f"redis://127.0.0.1:{free_port()}/0", socket_connect_timeout=0.5
    )
    coordination = RedisCoordination(client, 0.5)
    with caplog.at_level(logging.WARNING, logger="handoff.store.redis_outage"):
        order = await _turns(coordination, coordination, hold_seconds=0.05)
        await coordination.mark_in_doubt(3)
        assert await coordination.in_doubt(3)  # remembered in memory meanwhile
    await client.aclose()
    assert order == ["a in", "a out", "b in", "b out"]  # still one at a time here
    assert coordination.degraded
    warnings = [r for r in caplog.records if "coordinates alone" in r.getMessage()]
    assert len(warnings) == 1  # once per outage, not per call


async def test_a_lock_that_expired_while_held_is_not_taken_for_an_outage(
    redis_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """The lock's key is deleted under the holder (as if it had expired): letting it go
    is a LockError, which is logged as a lost lock, not as Redis being away."""
    client = redis_asyncio.Redis.from_url(redis_url)
    prefix = f"test:relay:lost:{id(client)}:"
    coordination = RedisCoordination(client, 0.5, prefix=prefix, lock_seconds=5.0)
    with caplog.at_level(logging.WARNING):
        async with coordination.hold("conversation-2"):
            await client.delete(f"{prefix}lock:conversation-2")
    await client.aclose()
    messages = [r.getMessage() for r in caplog.records]
    assert any("relay lock lost" in m for m in messages), messages
    assert not any("unavailable" in m for m in messages), messages
    assert not coordination.degraded
