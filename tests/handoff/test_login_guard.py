"""Sign-in throttling (handoff/agent/login_guard.py) and off-loop hashing (handoff/agent/passwords.py).

The guard's tests run on both counter tables: in memory, and in Redis (the test run's,
tests/conftest.py) on the test's clock (tests/handoff/test_login_guard_redis.py has
what only Redis does: replicas sharing the counters)."""

from __future__ import annotations

import asyncio
import hashlib
import os
import secrets
import threading
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from redis import asyncio as redis_asyncio

import handoff.agent.passwords as passwords
from handoff.__main__ import main
from handoff.agent.login_counters_redis import RedisLoginCounters
from handoff.agent.login_guard import (
    Attempt,
    LoginCounters,
    LoginGuard,
    LoginPolicy,
    Refusal,
    address_key,
)
from handoff.agent.passwords import HashingBusy, PasswordHasher
from handoff.store.sqlite import SQLiteStore
from handoff.store.sqlite_handoffs import HandoffStore
from stack.settings import Settings

PASSWORD = "right-password-1"
HERE = "192.0.2.1"
THERE = "198.51.100.7"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class CountingHasher(PasswordHasher):
    def __init__(self) -> None:
        super().__init__(slots=1, queue=8)
        self.verified = 0

    async def verify(self, password: str, stored: str | None) -> bool:
        self.verified += 1
        return await super().verify(password, stored)


@pytest.fixture
async def agents(tmp_path: Path) -> AsyncIterator[HandoffStore]:
    store = await SQLiteStore.open(tmp_path / "db.sqlite3")
    agents = HandoffStore(store.connection, CountingHasher())
    await agents.upsert_agent("mina", PASSWORD, ["ko"], [], 2)
    yield agents
    await store.close()
    agents.hasher.close()


GuardMaker = Callable[..., LoginGuard]


@pytest.fixture(params=["memory", "redis"])
async def make_guard(
    request: pytest.FixtureRequest, agents: HandoffStore
) -> AsyncIterator[GuardMaker]:
    """make_guard(clock, **policy): a guard counting in memory, or in Redis on `clock`
    (guards made by one test share the counters, as a restarted gateway would)."""
    client = None
    if request.param == "redis":
        client = redis_asyncio.Redis.from_url(request.getfixturevalue("redis_url"))
    prefix = f"test:login:{secrets.token_hex(4)}:"
    made: list[RedisLoginCounters] = []

    def make(clock: Clock, **policy: Any) -> LoginGuard:
        counters: LoginCounters | None = None
        if client is not None:
            counters = RedisLoginCounters(client, prefix=prefix, clock=clock)
            made.append(counters)
        return LoginGuard(LoginPolicy(**policy), agents, clock, counters)

    yield make
    if client is not None:
        await client.aclose()
    assert not any(counters.degraded for counters in made)  # Redis really counted


async def sign_in(
    guard: LoginGuard, agents: HandoffStore, username: str, password: str, address: str = HERE
) -> object:
    """What the login route does: the store's login behind the guard."""
    return await guard.attempt(username, address, lambda: agents.login(username, password))


async def fail(guard: LoginGuard, username: str, address: str = HERE) -> None:
    async def wrong() -> None:
        return None

    assert await guard.attempt(username, address, wrong) is None


def verified(agents: HandoffStore) -> int:
    hasher = agents.hasher
    assert isinstance(hasher, CountingHasher)
    return hasher.verified


def test_backoff_numbers() -> None:
    policy = LoginPolicy(free_failures=5, backoff_seconds=1.0, backoff_max_seconds=60.0)
    delays = [policy.backoff(n, 5) for n in range(1, 14)]
    assert delays == [0, 0, 0, 0, 0, 1, 2, 4, 8, 16, 32, 60, 60]
    assert policy.backoff(10**6, 5) == 60.0  # no overflow, still the cap


async def test_backoff_doubles_after_the_free_failures_and_is_capped(
    agents: HandoffStore,
    make_guard: GuardMaker,
) -> None:
    clock = Clock()
    guard = make_guard(clock, backoff_max_seconds=8.0, lockout_failures=100)
    for _ in range(5):
        await fail(guard, "mina")
        assert await guard.wait("mina") == 0.0
    for expected in (1.0, 2.0, 4.0, 8.0, 8.0):
        await fail(guard, "mina")
        assert await guard.wait("mina") == expected
        clock.advance(expected)
    assert await guard.failures("mina") == 10


async def test_a_throttled_attempt_is_refused_without_hashing(
    agents: HandoffStore, make_guard: GuardMaker
) -> None:
    clock = Clock()
    guard = make_guard(clock, lockout_failures=100)
    for _ in range(6):
        assert await sign_in(guard, agents, "mina", "wrong") is None
    assert verified(agents) == 6
    refusal = await sign_in(guard, agents, "mina", PASSWORD)  # even the right password
    assert isinstance(refusal, Refusal)
    assert (refusal.code, refusal.retry_after) == ("too_many_attempts", 1)
    assert verified(agents) == 6  # nothing was hashed
    assert await guard.failures("mina") == 7  # hammering counts
    response = refusal.response()
    assert response.status == 429 and response.headers["Retry-After"] == "1"
    assert response.text is not None and '"code": "too_many_attempts"' in response.text
    clock.advance(60)
    assert await sign_in(guard, agents, "mina", PASSWORD) is not None


async def test_lockout_survives_a_restart_until_unlocked(
    agents: HandoffStore, make_guard: GuardMaker
) -> None:
    clock = Clock()
    guard = make_guard(clock, lockout_failures=10)
    answers = [await sign_in(guard, agents, "mina", "wrong") for _ in range(30)]
    codes = [a.code if isinstance(a, Refusal) else a for a in answers]
    assert codes[:6] == [None] * 6
    assert codes[6:9] == ["too_many_attempts"] * 3
    assert codes[9:] == ["locked"] * 21  # the 10th failure locked it
    assert verified(agents) == 6
    assert await agents.login_locked("mina")
    clock.advance(3600)
    locked = await sign_in(guard, agents, "mina", PASSWORD)
    assert isinstance(locked, Refusal) and locked.code == "locked"
    assert locked.retry_after >= 1
    restarted = make_guard(Clock(), lockout_failures=10)  # a restart: only the lock is kept
    assert isinstance(await sign_in(restarted, agents, "mina", PASSWORD), Refusal)
    assert verified(agents) == 6
    assert await agents.unlock_login("mina")
    assert not await agents.unlock_login("mina")
    assert await sign_in(restarted, agents, "mina", PASSWORD) is not None
    # the running guard sees the unlock too, and starts the username afresh
    assert await sign_in(guard, agents, "mina", PASSWORD) is not None
    assert await guard.failures("mina") == 0


async def test_unknown_usernames_are_throttled_and_locked_alike(
    agents: HandoffStore, make_guard: GuardMaker
) -> None:
    guard = make_guard(Clock(), lockout_failures=10)
    known = [await sign_in(guard, agents, "mina", "wrong", HERE) for _ in range(12)]
    unknown = [await sign_in(guard, agents, "nobody", "wrong", THERE) for _ in range(12)]
    assert known == unknown
    assert await agents.login_locked("nobody")


async def test_success_resets_the_username(agents: HandoffStore, make_guard: GuardMaker) -> None:
    clock = Clock()
    guard = make_guard(clock)
    for _ in range(6):
        await fail(guard, "mina")
    clock.advance(1)
    assert await sign_in(guard, agents, "mina", PASSWORD) is not None
    assert await guard.failures("mina") == 0 and await guard.wait("mina") == 0.0
    for _ in range(5):  # the free failures are free again
        await fail(guard, "mina")
    assert await guard.wait("mina") == 0.0


async def test_failures_are_forgotten_after_the_window(
    agents: HandoffStore, make_guard: GuardMaker
) -> None:
    clock = Clock()
    guard = make_guard(clock, account_window_seconds=600.0)
    for _ in range(5):
        await fail(guard, "mina")
    clock.advance(601)
    await fail(guard, "mina")
    assert await guard.failures("mina") == 1


async def test_one_address_trying_many_usernames_is_throttled(
    agents: HandoffStore, make_guard: GuardMaker
) -> None:
    clock = Clock()
    guard = make_guard(clock, address_free_failures=10)
    for n in range(11):  # one failure per username: no username is throttled
        await fail(guard, f"user{n}")
    assert await guard.address_failures(HERE) == 11
    refusal = await sign_in(guard, agents, "mina", PASSWORD, HERE)
    assert isinstance(refusal, Refusal) and refusal.code == "too_many_attempts"
    assert verified(agents) == 0
    # another address is not affected, nor is the username
    assert await sign_in(guard, agents, "mina", PASSWORD, THERE) is not None
    assert await guard.failures("mina") == 0
    clock.advance(1)
    assert await sign_in(guard, agents, "mina", PASSWORD, HERE) is not None


async def test_address_failures_are_forgotten_after_the_window(
    agents: HandoffStore, make_guard: GuardMaker
) -> None:
    clock = Clock()
    guard = make_guard(clock, address_free_failures=3, address_window_seconds=900.0)
    for n in range(4):
        await fail(guard, f"user{n}")
    assert await guard.wait("x", HERE) == 1.0
    clock.advance(901)
    await fail(guard, "other")
    assert await guard.address_failures(HERE) == 1


async def test_a_concurrent_burst_cannot_outrun_the_count(
    agents: HandoffStore, make_guard: GuardMaker
) -> None:
    guard = make_guard(Clock(), lockout_failures=100)
    release = asyncio.Event()
    running = 0

    async def slow_wrong() -> None:
        nonlocal running
        running += 1
        await release.wait()
        return None

    tasks = [asyncio.create_task(guard.attempt("mina", HERE, slow_wrong)) for _ in range(30)]
    async with asyncio.timeout(10):  # every attempt checked or refused
        while running + sum(task.done() for task in tasks) < 30:
            await asyncio.sleep(0.01)
    assert running == 5  # as many as may still fail for free
    release.set()
    answers = await asyncio.gather(*tasks)
    refused = [a for a in answers if isinstance(a, Refusal)]
    assert len(refused) == 25 and {r.code for r in refused} == {"too_many_attempts"}
    assert running == 5


async def test_concurrent_right_passwords_pass(
    agents: HandoffStore, make_guard: GuardMaker
) -> None:
    guard = make_guard(Clock())
    answers = await asyncio.gather(*(sign_in(guard, agents, "mina", PASSWORD) for _ in range(5)))
    assert all(isinstance(a, tuple) for a in answers)


async def test_unknown_and_known_users_cost_one_scrypt_each_off_the_loop(
    agents: HandoffStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    real_scrypt = hashlib.scrypt

    def counting_scrypt(*args: Any, **kwargs: Any) -> bytes:
        calls.append(threading.current_thread().name)
        return real_scrypt(*args, **kwargs)

    monkeypatch.setattr(hashlib, "scrypt", counting_scrypt)
    assert await agents.login("nobody", "wrong-password") is None
    assert await agents.login("mina", "wrong-password") is None
    assert await agents.login("mina", PASSWORD) is not None
    assert len(calls) == 3  # one each: the unknown user's dummy hash was made at start-up
    assert all(name.startswith("scrypt") for name in calls)  # never the event loop's thread


async def test_a_full_hashing_queue_is_refused_at_once(
    agents: HandoffStore, monkeypatch: pytest.MonkeyPatch, make_guard: GuardMaker
) -> None:
    gate = threading.Event()
    real_verify: Callable[[str, str], bool] = passwords.verify_password

    def blocked_verify(password: str, stored: str) -> bool:
        gate.wait(10)
        return real_verify(password, stored)

    monkeypatch.setattr(passwords, "verify_password", blocked_verify)
    hasher = PasswordHasher(slots=1, queue=1)
    running = asyncio.create_task(hasher.verify("a", None))
    waiting = asyncio.create_task(hasher.verify("b", None))
    await asyncio.sleep(0.05)
    assert hasher.waiting == 1
    with pytest.raises(HashingBusy):
        await hasher.verify("c", None)
    # behind the guard: a 429 `busy` that counts as nothing
    guard = make_guard(Clock())
    refusal = await guard.attempt("mina", HERE, lambda: hasher.verify("d", None))
    assert isinstance(refusal, Refusal) and refusal.code == "busy"
    assert await guard.failures("mina") == 0 and await guard.address_failures(HERE) == 0
    gate.set()
    assert await running is False and await waiting is False
    hasher.close()


async def test_an_abandoned_attempt_counts_for_nothing(
    agents: HandoffStore, make_guard: GuardMaker
) -> None:
    guard = make_guard(Clock())
    admitted = await guard.admit("mina", HERE)
    assert isinstance(admitted, Attempt)
    await admitted.abandon()
    await admitted.failed()  # reported once only: ignored after abandon
    assert await guard.failures("mina") == 0


def test_address_keys() -> None:
    assert address_key("192.0.2.1") == "192.0.2.1"
    assert address_key("::ffff:192.0.2.1") == "192.0.2.1"
    assert address_key("2001:db8:1:2:3:4:5:6") == address_key("2001:db8:1:2:ffff::1")
    assert address_key("2001:db8:1:2::1") != address_key("2001:db8:1:3::1")
    assert address_key("") == ""


def test_the_command_line_lifts_a_lock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "db.sqlite3"

    async def lock() -> None:
        store = await SQLiteStore.open(db)
        agents = HandoffStore(store.connection)
        await agents.upsert_agent("mina", PASSWORD, ["ko"], [], 2)
        await agents.lock_login("mina", 20)
        await store.close()
        agents.hasher.close()

    asyncio.run(lock())
    monkeypatch.setenv("ASSISTANT_DB_PATH", str(db))
    assert Settings.from_env().db_path == db
    umask = os.umask(0o022)
    os.umask(umask)
    try:
        assert main(["agents", "list"]) == 0
        listed = capsys.readouterr().out
        assert "sign-in locked since" in listed
        # each agent with their own setting of online / away / busy
        assert listed.splitlines()[0].split()[-2:] == ["agent", "online"]
        assert main(["agents", "unlock", "mina"]) == 0
        assert "mina unlocked" in capsys.readouterr().out
        assert main(["agents", "unlock", "mina"]) == 0
        assert "mina was not locked" in capsys.readouterr().out
    finally:
        os.umask(umask)  # main() tightens the process umask for the files it writes
