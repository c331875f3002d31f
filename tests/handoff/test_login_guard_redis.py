"""Sign-in counters shared by gateway replicas through Redis
(handoff/agent/login_counters_redis.py): two LoginGuards on one Redis spend one budget.
On the test run's Redis (tests/conftest.py) and Redis's own clock; a test that stops
Redis starts its own."""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from redis import asyncio as redis_asyncio

from handoff.agent.login_counters_redis import RedisLoginCounters
from handoff.agent.login_guard import Attempt, LoginGuard, LoginPolicy, Refusal
from handoff.store.sqlite import SQLiteStore
from handoff.store.sqlite_handoffs import HandoffStore
from stack.devservers import RedisServer
from tests.handoff.test_login_guard import (
    HERE,
    PASSWORD,
    THERE,
    CountingHasher,
    fail,
    sign_in,
    verified,
)

LOGGER = "handoff.store.redis_outage"

Replica = Callable[..., LoginGuard]


@pytest.fixture
async def agents(tmp_path: Path) -> AsyncIterator[HandoffStore]:
    """The store both replicas share (PostgreSQL in production; SQLite does here)."""
    store = await SQLiteStore.open(tmp_path / "db.sqlite3")
    agents = HandoffStore(store.connection, CountingHasher())
    await agents.upsert_agent("mina", PASSWORD, ["ko"], [], 2)
    yield agents
    await store.close()
    agents.hasher.close()


@pytest.fixture
def prefix() -> str:
    return f"test:login:{secrets.token_hex(4)}:"  # nothing from another test


@pytest.fixture
async def replica(redis_url: str, agents: HandoffStore, prefix: str) -> AsyncIterator[Replica]:
    """replica(in_flight_seconds=30, **policy): a gateway's guard, with its own Redis
    client, counting in the Redis the others use."""
    clients: list[redis_asyncio.Redis] = []
    made: list[RedisLoginCounters] = []

    def make(in_flight_seconds: float = 30.0, **policy: Any) -> LoginGuard:
        client = redis_asyncio.Redis.from_url(redis_url)
        clients.append(client)
        counters = RedisLoginCounters(client, prefix=prefix, in_flight_seconds=in_flight_seconds)
        made.append(counters)
        return LoginGuard(LoginPolicy(**policy), agents, counters=counters)

    yield make
    for client in clients:
        await client.aclose()
    assert not any(counters.degraded for counters in made)  # Redis really counted


@pytest.fixture
async def redis_client(redis_url: str) -> AsyncIterator[redis_asyncio.Redis]:
    client = redis_asyncio.Redis.from_url(redis_url)
    yield client
    await client.aclose()


async def test_free_failures_split_over_two_replicas_close_both(
    replica: Replica, agents: HandoffStore
) -> None:
    first, second = replica(lockout_failures=100), replica(lockout_failures=100)
    for n in range(5):  # 3 + 2: free on each alone, and together
        await fail(first if n % 2 else second, "mina")
        assert await first.wait("mina") == 0.0 and await second.wait("mina") == 0.0
    assert await first.failures("mina") == await second.failures("mina") == 5
    await fail(first, "mina")  # the 6th: closed for 1 s, on both
    assert 0.5 < await second.wait("mina") <= 1.0
    refusal = await sign_in(second, agents, "mina", PASSWORD)
    assert isinstance(refusal, Refusal) and refusal.code == "too_many_attempts"
    assert verified(agents) == 0  # refused before any hashing
    assert await first.failures("mina") == 7  # the refusal counted, for both


async def test_failures_spread_over_two_replicas_lock_the_username(
    replica: Replica, agents: HandoffStore
) -> None:
    # back-off 5 s: every attempt after the 6th failure comes while it is closed
    guards = [replica(lockout_failures=10, backoff_seconds=5.0) for _ in range(2)]
    answers = [await sign_in(guards[n % 2], agents, "mina", "wrong") for n in range(14)]
    codes = [a.code if isinstance(a, Refusal) else a for a in answers]
    assert codes[:6] == [None] * 6
    assert codes[6:9] == ["too_many_attempts"] * 3
    assert codes[9:] == ["locked"] * 5  # the 10th failure, whichever replica saw it
    assert verified(agents) == 6  # two replicas counting alone would have hashed 12
    assert await agents.login_locked("mina")
    for guard in guards:
        locked = await sign_in(guard, agents, "mina", PASSWORD)
        assert isinstance(locked, Refusal) and locked.code == "locked"
    # unlocked: the username starts afresh on both
    assert await agents.unlock_login("mina")
    assert await sign_in(guards[1], agents, "mina", PASSWORD) is not None
    assert await guards[0].failures("mina") == 0


async def test_the_address_budget_is_shared(replica: Replica, agents: HandoffStore) -> None:
    guards = [replica(address_free_failures=4, backoff_seconds=5.0) for _ in range(2)]
    for n in range(5):  # one failure per username, from one address, over both replicas
        await fail(guards[n % 2], f"user{n}", HERE)
    assert await guards[0].failures("user0") == 1  # no username is throttled
    for guard in guards:
        assert await guard.address_failures(HERE) >= 5
        refusal = await sign_in(guard, agents, "mina", PASSWORD, HERE)
        assert isinstance(refusal, Refusal) and refusal.code == "too_many_attempts"
        assert 4.0 < await guard.wait("mina", HERE) <= 5.0
    assert verified(agents) == 0
    # another address is not affected
    assert await sign_in(guards[1], agents, "mina", PASSWORD, THERE) is not None


async def test_a_success_on_one_replica_resets_the_username_on_both(
    replica: Replica, agents: HandoffStore
) -> None:
    first, second = replica(backoff_seconds=0.2), replica(backoff_seconds=0.2)
    for n in range(6):
        await fail(first if n % 2 else second, "mina")
    assert await first.wait("mina") > 0.0
    await asyncio.sleep(0.25)
    assert await sign_in(first, agents, "mina", PASSWORD) is not None
    assert await second.failures("mina") == 0 and await second.wait("mina") == 0.0
    for _ in range(5):  # the free failures are free again, on the other replica too
        await fail(second, "mina")
    assert await first.wait("mina") == 0.0


async def test_attempts_in_flight_count_across_replicas_and_a_dead_one_s_are_reclaimed(
    replica: Replica, agents: HandoffStore
) -> None:
    # free 2: two attempts in flight at most; a replica's check takes 0.5 s at most
    dead = replica(in_flight_seconds=0.5, free_failures=2, lockout_failures=100)
    alive = replica(in_flight_seconds=0.5, free_failures=2, lockout_failures=100)
    for address in (HERE, THERE):
        assert isinstance(await dead.admit("mina", address), Attempt)
    # ...and that replica dies mid-check: its attempts are never reported
    refusal = await alive.admit("mina", HERE)
    assert isinstance(refusal, Refusal) and refusal.code == "too_many_attempts"
    assert await alive.failures("mina") == 1  # refused: counted (limit now max(1, 2-1))
    await asyncio.sleep(0.6)
    admitted = await alive.admit("mina", HERE)
    assert isinstance(admitted, Attempt)  # the dead replica's slots are gone
    await admitted.succeeded()
    assert await alive.failures("mina") == 0


async def test_counter_keys_expire(
    replica: Replica, agents: HandoffStore, redis_client: redis_asyncio.Redis, prefix: str
) -> None:
    # The production numbers: kept a window (or the back-off) long, no longer.
    guard = replica(free_failures=1)
    await fail(guard, "mina")
    await fail(guard, "mina")  # closed 1 s
    in_flight = await guard.admit("nobody", THERE)  # left in flight
    assert isinstance(in_flight, Attempt)
    keys = sorted(
        k.decode() if isinstance(k, bytes) else k for k in await redis_client.keys(prefix + "*")
    )
    assert keys == [
        f"{prefix}{{account:mina}}",
        f"{prefix}{{account:nobody}}:flight",
        f"{prefix}{{address:{HERE}}}",
        f"{prefix}{{address:{THERE}}}:flight",
    ]
    ttl = {key: await redis_client.pttl(key) for key in keys}
    assert 86_399_000 < ttl[keys[0]] <= 86_401_000  # account_window_seconds
    assert 899_000 < ttl[keys[2]] <= 901_000  # address_window_seconds
    assert 29_000 < ttl[keys[1]] <= 31_000 and 29_000 < ttl[keys[3]] <= 31_000  # in flight
    # Short windows: everything is gone soon after.
    quick = replica(
        in_flight_seconds=0.2,
        free_failures=1,
        backoff_seconds=0.2,
        account_window_seconds=0.2,
        address_window_seconds=0.2,
    )
    await redis_client.delete(*keys)
    await fail(quick, "mina")
    await fail(quick, "mina")
    assert isinstance(await quick.admit("nobody", THERE), Attempt)
    assert len(await redis_client.keys(prefix + "*")) == 4
    deadline = time.monotonic() + 5
    while await redis_client.keys(prefix + "*"):
        assert time.monotonic() < deadline, await redis_client.keys(prefix + "*")
        await asyncio.sleep(0.1)


# -- Redis away ---------------------------------------------------------------------------


@pytest.fixture
def own_redis() -> Iterator[RedisServer]:
    """A Redis this test may stop (the session's is shared)."""
    with RedisServer() as server:
        yield server


async def test_without_redis_sign_in_works_on_local_counters_and_says_so_once(
    own_redis: RedisServer, agents: HandoffStore, caplog: pytest.LogCaptureFixture
) -> None:
    client = redis_asyncio.Redis.from_url(own_redis.url, socket_connect_timeout=0.5)
    counters = RedisLoginCounters(client, retry_seconds=0.0)  # tries Redis at every step
    guard = LoginGuard(LoginPolicy(lockout_failures=100), agents, counters=counters)
    try:
        await fail(guard, "mina")
        assert await client.exists("assistant:login:{account:mina}")
        admitted = await guard.admit("mina", HERE)  # in flight in Redis when it goes
        assert isinstance(admitted, Attempt)
        own_redis.stop()
        with caplog.at_level(logging.INFO, logger=LOGGER):
            await admitted.failed()  # no error: counted in this process
            assert await sign_in(guard, agents, "mina", PASSWORD) is not None
            assert counters.degraded
            for _ in range(6):  # this process's counters hold the back-off meanwhile
                await fail(guard, "mina")
            refusal = await sign_in(guard, agents, "mina", PASSWORD)
            assert isinstance(refusal, Refusal) and refusal.code == "too_many_attempts"
            assert await guard.failures("mina") == 7
            warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
            assert (
                len(warnings) == 1 and "counts sign-in failures alone" in warnings[0].getMessage()
            )

            own_redis.start()  # back (empty): the replicas count there together again
            assert await sign_in(guard, agents, "mina", "wrong", THERE) is None
            assert not counters.degraded
            assert await client.hget("assistant:login:{account:mina}", "failures") == b"1"
            assert any("Redis back" in r.getMessage() for r in caplog.records)
            assert len([r for r in caplog.records if r.levelno == logging.WARNING]) == 1
    finally:
        await client.aclose()
